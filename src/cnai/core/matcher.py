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

    # ---------------------------------------------------------------- streams (additive API)
    def stream(self) -> StreamScan:
        """An incremental scanner over a text that arrives in pieces (see StreamScan)."""
        return StreamScan(self)

    def _python(self) -> _PythonAutomaton:
        if self._py is None:
            self._py = _PythonAutomaton(self.words)
        return self._py


def _py_holds(py: _PythonAutomaton, ascii_flags: list[bool]) -> list[int]:
    """Per state of the Python automaton: the hold-back StreamScan reports (the compiled twin's `hold`):
    the deepest state on the failure chain that is a proper prefix of some word (it has children) or where a
    whole-word-rule ASCII word ends (the next character may still extend it into a longer word)."""
    n = len(py.goto)
    depth = [0] * n
    hold = [0] * n
    q = deque(py.goto[0].values())
    for t in q:
        depth[t] = 1
    while q:
        s = q.popleft()
        ends_ascii = any(ascii_flags[i] and py.lens[i] == depth[s] for i in py.out[s])
        hold[s] = depth[s] if py.goto[s] or ends_ascii else hold[py.fail[s]]
        for t in py.goto[s].values():
            depth[t] = depth[s] + 1
            q.append(t)
    return hold


class StreamScan:
    """KeywordAutomaton.find over a text fed in pieces, each piece costing O(its length), not a rescan.

    The automaton state is carried from one `feed` to the next (compiled: `Scanner.feed`; otherwise the
    pure-Python twin, with the same results), so a word split across pieces is found when its last character
    arrives. `feed(piece)` returns the matches confirmed by this piece as (word index, start, end) offsets in
    the whole text; an ASCII whole-word match that ends exactly at the end of the text so far waits for the
    next character (or `end()`), which decides whether it was a whole word. Every chunking of a text yields
    the same matches as `find(text)` on the whole (tests/gateway/test_matcher_stream.py), except that a capital
    sigma is folded on its own (σ, never the final form ς, which depends on what follows).
    `hold`: the length of the longest suffix of the text so far that could still grow into a match — what a
    stream must hold back before it can release text.
    """

    def __init__(self, auto: KeywordAutomaton):
        self._a = auto
        self.pos = 0  # characters fed so far
        self.hold = 0
        self._state = 0
        fast = auto._fast
        self._fast = fast if fast is not None and hasattr(fast, "feed") else None  # an older build: no feed
        lens = auto.__dict__.get("_lens")
        if lens is None:  # once per automaton, not per stream
            lens = auto._lens = [len(w) for w in auto.words]
            auto._keep = max(lens, default=0) + 1
        self._lens = lens
        self._keep = auto._keep  # tail kept: left neighbour of a match, state rebuild
        self._tail = ""
        self._pending: list[tuple[int, int, int]] = []

    def _py_feed(self, piece: str):
        from cnai.assess.keywords import fold

        py = self._a._python()
        holds = getattr(py, "hold", None)
        if holds is None:
            holds = py.hold = _py_holds(py, self._a._ascii)
        # a lone capital sigma folds to σ; fold() of a longer text might pick ς from its neighbours
        ft = fold(piece) if "\u03a3" not in piece else "".join(fold(c) for c in piece)
        goto, fail, out = py.goto, py.fail, py.out
        s = self._state
        hits = []
        for i, ch in enumerate(ft):
            while s and ch not in goto[s]:
                s = fail[s]
            s = goto[s].get(ch, 0)
            for idx in out[s]:
                hits.append((idx, i + 1))
        hits.sort(key=lambda h: (h[1], h[0]))
        return s, holds[s], hits

    def _to_python(self) -> None:
        """The compiled scanner left a character to Python: go on with the twin from here, its state rebuilt
        from the last characters (a state is determined by the last max-word-length characters)."""
        self._fast = None
        self._state = 0
        if self._tail:
            self._state = self._py_feed(self._tail[-(self._keep - 1) :])[0]

    def feed(self, piece: str) -> list[tuple[int, int, int]]:
        base = self.pos
        self.pos = base + len(piece)
        if not piece or not self._lens:
            return []
        hits = None
        if self._fast is not None:
            r = self._fast.feed(piece, self._state)
            if r is None:
                self._to_python()
            else:
                self._state, self.hold, hits = r
                if not hits and not self._pending:  # the common case, kept lean (streams call this per delta)
                    t = self._tail + piece
                    self._tail = t[-self._keep :] if len(t) > self._keep else t
                    return hits
        if hits is None:
            self._state, self.hold, hits = self._py_feed(piece)
        out = []
        if self._pending:  # the first character of this piece decides the waiting whole-word matches
            if not _word_char_raw(piece[0]):
                out.extend(self._pending)
            self._pending = []
        if hits:
            asc, lens = self._a._ascii, self._lens
            window, wbase = self._tail + piece, base - len(self._tail)
            n = len(piece)
            for idx, end in hits:
                e = base + end
                s = e - lens[idx]
                if asc[idx]:
                    if s > 0 and _word_char_raw(window[s - 1 - wbase]):
                        continue
                    if end == n:
                        self._pending.append((idx, s, e))
                        continue
                    if _word_char_raw(piece[end]):
                        continue
                out.append((idx, s, e))
            if len(out) > 1:
                out.sort()
        keep = self._keep
        self._tail = piece[-keep:] if len(piece) >= keep else (self._tail + piece)[-keep:]
        return out

    def end(self) -> list[tuple[int, int, int]]:
        """The text is complete: whole-word matches that ended at its end are confirmed."""
        out, self._pending = sorted(self._pending), []
        return out


def _word_char_raw(c: str) -> bool:
    """Is the character, once folded, an ASCII word character (the whole-word rule's test)."""
    if c.isascii():
        return c.isalnum() or c == "_"
    from cnai.assess.keywords import fold

    return _is_word_char(fold(c))
