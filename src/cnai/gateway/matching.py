"""The one adapter between the gateway and cnai's detection engines.

Keywords: cnai.core.matcher (the one keyword engine: compiled automaton, pure-Python fallback) over the
bank's folded terms, with the bank's (keyword, risk) pairs; the line marked SWITCH picks the engine. PI: the corpus detector's public
Detector.detect (check digits for IDs and cards, formats for phones).
"""

from __future__ import annotations

import re

from cnai.assess.keywords import KeywordLibrary, KeywordMatch, fold, load_keyword_library


class _CoreMatcher:
    """cnai.core.matcher's automaton (compiled, folds on the fly; whole-word rule for ASCII) with the bank's
    (keyword, risk) pairs attached: same results as cnai.assess.keywords.Matcher.find_all."""

    def __init__(self, pairs):
        from cnai.core.matcher import KeywordAutomaton
        table: dict[str, list[tuple[str, str]]] = {}
        for kw, risk in pairs:
            f = fold(kw)
            if f.strip() and (kw, risk) not in table.setdefault(f, []):
                table[f].append((kw, risk))
        self._vals = list(table.values())
        self._auto = KeywordAutomaton(list(table))
        self.engine = f"cnai.core.matcher ({self._auto.engine})"

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, risk) of every match, sorted: find_all without building match objects."""
        hits = self._auto.find(text)
        if not hits:
            return []
        vals = self._vals
        out = [(s, e, risk) for i, s, e in hits for _kw, risk in vals[i]]
        if len(out) > 1:
            out = sorted(set(out))
        return out

    def find_all(self, text: str) -> list[KeywordMatch]:
        out = [KeywordMatch(s, e, kw, risk) for i, s, e in self._auto.find(text) for kw, risk in self._vals[i]]
        out.sort(key=lambda m: (m.start, m.end, m.risk_code))
        return out

    def stream(self) -> KeywordStream:
        return KeywordStream(self._auto.stream(), self._vals)


class KeywordStream:
    """Keyword spans over a streamed text, each delta scanned once (cnai.core.matcher.StreamScan: the automaton
    state carries over from one delta to the next): (start, end, risk) in whole-text offsets, and `hold`, the
    longest suffix that could still grow into a term."""

    __slots__ = ("scan", "_vals")

    def __init__(self, scan, vals):
        self.scan, self._vals = scan, vals     # scan: the StreamScan (a stream guard calls it per delta)

    @property
    def hold(self) -> int:
        return self.scan.hold

    def spans(self, hits) -> list[tuple[int, int, str]]:
        """StreamScan hits -> (start, end, risk)."""
        vals = self._vals
        return [(s, e, risk) for i, s, e in hits for _kw, risk in vals[i]]

    def feed(self, delta: str) -> list[tuple[int, int, str]]:
        hits = self.scan.feed(delta)
        return self.spans(hits) if hits else []

    def end(self) -> list[tuple[int, int, str]]:
        return self.spans(self.scan.end())


_Engine = _CoreMatcher  # SWITCH: the keyword engine the gateway uses (the bank's own: _BankMatcher)

Span = tuple[int, int, str, str]  # (start, end, kind, category): kind "pi" or "kw", category = PI type / risk


class KeywordScanner:
    """Keyword matches plus what streaming needs: the longest suffix that could still grow into a term."""

    def __init__(self, lib: KeywordLibrary):
        self.library = lib
        self.engine = _Engine((k.keyword, k.risk) for k in lib.keywords)
        self._spans = getattr(self.engine, "spans", None)
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
        if self._spans is not None:
            return [(s, e, "kw", r) for s, e, r in self._spans(text)]
        return [(m.start, m.end, "kw", m.risk_code) for m in self.engine.find_all(text)]

    def stream(self) -> KeywordStream | None:
        """An incremental scan for one streamed text, or None when the engine has none (rescan instead)."""
        mk = getattr(self.engine, "stream", None)
        return mk() if mk is not None else None

    def holdback(self, text: str, limit: int | None = None) -> int:
        """Length of the longest suffix of text that is a prefix of some term (0 if none), looking at most
        `limit` characters back (a stream guard passes what is not released yet: released text was not a
        term prefix when it was released, so no longer suffix can be one now)."""
        n = min(len(text), self.max_len, len(text) if limit is None else limit)
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


# PI types whose every match holds decimal digits (IDs, phone numbers, cards, IP addresses): a text without
# any (Unicode) decimal digit cannot hold one, so the detector is not run on it (most prompts and replies)
DIGIT_ONLY_PI = frozenset({"cn_resident_id", "cn_mobile", "cn_landline", "bank_card", "ip_address"})
_ANY_DIGIT = re.compile(r"\d").search


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
        self._digits_only = bool(types) and types <= DIGIT_ONLY_PI

    def find(self, text: str) -> list[Span]:
        if self._det is None or not text or (self._digits_only and not _ANY_DIGIT(text)):
            return []
        return [(s, e, "pi", t) for t, s, e, _c, _r in self._det.detect(text)]
