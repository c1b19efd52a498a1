"""The one adapter between the gateway and cnai's detection engines.

Keywords: today the bank's own folding and whole-word rule (cnai.assess.keywords) over the Rust
Aho-Corasick DFA the corpus detector also uses (ahocorasick_rs, ~30x faster per reply than pyahocorasick
here), else cnai.assess.keywords.Matcher. When cnai.core.matcher lands, switching is the one line marked
SWITCH below. PI: the corpus detector's public
Detector.detect (check digits for IDs and cards, formats for phones).
"""

from __future__ import annotations

from cnai.assess.keywords import KeywordLibrary, KeywordMatch, fold, load_keyword_library
from cnai.assess.keywords import Matcher as _BankMatcher


class _RsMatcher:
    """Same results as cnai.assess.keywords.Matcher.find_all (folding, ASCII whole words), Rust DFA inside."""

    engine = "ahocorasick_rs"

    def __init__(self, pairs):
        import ahocorasick_rs as ars
        table: dict[str, list[tuple[str, str]]] = {}
        for kw, risk in pairs:
            f = fold(kw)
            if f.strip() and (kw, risk) not in table.setdefault(f, []):
                table[f].append((kw, risk))
        self._words = list(table)
        self._vals = [table[w] for w in self._words]
        self._ascii = [all(c.isascii() and (c.isalnum() or c in "_ ") for c in w) for w in self._words]
        self._ac = ars.AhoCorasick(self._words, implementation=ars.Implementation.DFA) if self._words else None

    def find_all(self, text: str) -> list[KeywordMatch]:
        if self._ac is None or not text:
            return []
        ft = fold(text)
        n = len(ft)
        out = []
        for i, s, e in self._ac.find_matches_as_indexes(ft, overlapping=True):
            if self._ascii[i] and ((s > 0 and _wc(ft[s - 1])) or (e < n and _wc(ft[e]))):
                continue
            out.extend(KeywordMatch(s, e, kw, risk) for kw, risk in self._vals[i])
        out.sort(key=lambda m: (m.start, m.end, m.risk_code))
        return out


def _wc(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _Engine(pairs):  # SWITCH: return cnai.core.matcher's engine here when it lands
    try:
        return _RsMatcher(pairs)
    except ImportError:
        return _BankMatcher(pairs)

Span = tuple[int, int, str, str]  # (start, end, kind, category): kind "pi" or "kw", category = PI type / risk


class KeywordScanner:
    """Keyword matches plus what streaming needs: the longest suffix that could still grow into a term."""

    def __init__(self, lib: KeywordLibrary):
        self.library = lib
        self.engine = _Engine((k.keyword, k.risk) for k in lib.keywords)
        words = {fold(k.keyword) for k in lib.keywords if fold(k.keyword).strip()}
        self.max_len = max((len(w) for w in words), default=0)
        # proper prefixes of every term; a whole ASCII-word term also counts (the next chunk may extend it
        # into a longer word, which the bank's whole-word rule would not match)
        pre: set[str] = set()
        for w in words:
            pre.update(w[:i] for i in range(1, len(w)))
            if w.isascii():
                pre.add(w)
        self._prefixes = pre

    def find(self, text: str) -> list[Span]:
        return [(m.start, m.end, "kw", m.risk_code) for m in self.engine.find_all(text)]

    def holdback(self, text: str) -> int:
        """Length of the longest suffix of text that is a prefix of some term (0 if none)."""
        n = min(len(text), self.max_len)
        if not n:
            return 0
        tail = fold(text[-n:])
        pre = self._prefixes
        for k in range(n, 0, -1):
            if tail[-k:] in pre:
                return k
        return 0


def load_keywords(sources: list[str], extra: list[str] | None = None) -> KeywordScanner:
    paths = list(sources) + list(extra or [])
    lib = load_keyword_library(paths) if paths else KeywordLibrary()
    return KeywordScanner(lib)


class PIScanner:
    def __init__(self, types: set[str]):
        from cnai.corpus.detect import PI_TYPES, Detector
        unknown = types - set(PI_TYPES)
        if unknown:
            from cnai.errors import InputError
            raise InputError(f"unknown PI type(s) {sorted(unknown)}; known: {', '.join(PI_TYPES)}",
                             field="pi")
        self.types = types
        self._det = Detector(types=types) if types else None

    def find(self, text: str) -> list[Span]:
        if self._det is None or not text:
            return []
        return [(s, e, "pi", t) for t, s, e, _c, _r in self._det.detect(text)]
