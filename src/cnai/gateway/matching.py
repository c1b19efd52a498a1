"""The one adapter between the gateway and cnai's detection engines.

Keywords: today cnai.assess.keywords.Matcher (Aho-Corasick, same folding as the bank). When
cnai.core.matcher lands, switching is the one line marked SWITCH below. PI: the corpus detector's public
Detector.detect (check digits for IDs and cards, formats for phones).
"""

from __future__ import annotations

from cnai.assess.keywords import KeywordLibrary, fold, load_keyword_library
from cnai.assess.keywords import Matcher as _Engine  # SWITCH: from cnai.core.matcher import ... when it lands

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
