"""One keyword-matching engine: the compiled Aho-Corasick automaton, with one pure-Python fallback.

`KeywordAutomaton(words)` takes keywords already folded (cnai.assess.keywords.fold: lower case, full-width
to ASCII, ideographic space to space) and `find(text)` returns every occurrence, overlapping, as
(word index, start, end) character offsets into `text`, with the whole-word rule for ASCII words (an
ASCII keyword does not match inside a longer ASCII word).

The compiled path is cnai.corpus._wordscan (a double-array automaton that folds each character on the
fly). It is imported lazily: core imports no capability at module level. When the extension is not built,
or for the two characters whose lower-casing depends on context (U+0130, U+03A3; the scanner returns None),
the pure-Python automaton below gives the same matches (tests/corpus/test_matcher.py checks parity).
"""

from __future__ import annotations

import os
from collections import deque


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _ascii_word(w: str) -> bool:
    return all(_is_word_char(c) or c == " " for c in w)


class _PythonAutomaton:
    """Pure-Python Aho-Corasick over code points: text -> [(index, start, end)], overlapping."""

    def __init__(self, words: list[str]):
        self.goto: list[dict[str, int]] = [{}]
        self.fail: list[int] = [0]
        self.out: list[list[int]] = [[]]
        self.lens = [len(w) for w in words]
        for i, w in enumerate(words):
            s = 0
            for ch in w:
                nxt = self.goto[s].get(ch)
                if nxt is None:
                    nxt = len(self.goto)
                    self.goto.append({})
                    self.fail.append(0)
                    self.out.append([])
                    self.goto[s][ch] = nxt
                s = nxt
            self.out[s].append(i)
        q = deque(self.goto[0].values())
        while q:
            s = q.popleft()
            for ch, t in self.goto[s].items():
                q.append(t)
                f = self.fail[s]
                while f and ch not in self.goto[f]:
                    f = self.fail[f]
                nxt = self.goto[f].get(ch, 0)
                self.fail[t] = nxt if nxt != t else 0
                self.out[t] = self.out[t] + self.out[self.fail[t]]

    def __call__(self, text: str) -> list[tuple[int, int, int]]:
        res = []
        s = 0
        goto, fail, out, lens = self.goto, self.fail, self.out, self.lens
        for i, ch in enumerate(text):
            while s and ch not in goto[s]:
                s = fail[s]
            s = goto[s].get(ch, 0)
            for idx in out[s]:
                res.append((idx, i + 1 - lens[idx], i + 1))
        return res


def _compiled(words: list[str], whole_words: bool = True):
    """cnai.corpus._wordscan.Scanner holding only the keywords (no name tables), or None."""
    if os.environ.get("CNAI_MATCHER", "") == "python":
        return None
    from importlib import import_module

    try:
        _wordscan = import_module("cnai.corpus._wordscan")
    except ImportError:
        return None
    flags = [_wordscan.F_VALS | (_wordscan.F_ASCII if whole_words and _ascii_word(w) else 0) for w in words]
    return _wordscan.Scanner(words, flags, "", [], "", "", "", [])


class KeywordAutomaton:
    """All occurrences of folded keywords in a text (see the module docstring)."""

    def __init__(self, words: list[str], *, whole_words: bool = True):
        """whole_words=False drops the ASCII whole-word rule (callers that apply their own boundaries)."""
        self.words = list(words)
        self.whole_words = whole_words
        self._ascii = [whole_words and _ascii_word(w) for w in self.words]
        self._fast = _compiled(self.words, whole_words) if self.words else None
        self._py: _PythonAutomaton | None = None
        self.engine = "compiled" if self._fast is not None else "python"

    def __len__(self) -> int:
        return len(self.words)

    # worker processes get a copy: the compiled automaton is rebuilt from the words, not pickled
    def __getstate__(self):
        return {"words": self.words, "engine": self.engine, "whole_words": self.whole_words}

    def __setstate__(self, state):
        self.__init__(state["words"], whole_words=state.get("whole_words", True))

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if not self.words or not text:
            return []
        if self._fast is not None:
            r = self._fast.scan(text)
            if r is not None:
                return sorted((idx, s, e) for kind, idx, s, e in r[0] if kind == 0)
        from cnai.assess.keywords import fold  # the one fold; lazy: core imports no capability at load

        return self.find_folded(fold(text))

    def find_folded(self, ft: str) -> list[tuple[int, int, int]]:
        """Pure-Python path on an already folded text (the reference for the compiled one)."""
        if self._py is None:
            self._py = _PythonAutomaton(self.words)
        n = len(ft)
        out = []
        for idx, s, e in self._py(ft):
            if self._ascii[idx] and ((s > 0 and _is_word_char(ft[s - 1])) or (e < n and _is_word_char(ft[e]))):
                continue
            out.append((idx, s, e))
        out.sort()
        return out
