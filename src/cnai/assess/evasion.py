"""Keyword-library matching with evasion normalisation (cnai.core.normalize) behind the library's matcher API.

`keyword_matcher(library, normalize=True)` returns an object with the same calls as
`KeywordLibrary.matcher()` (`find_all`, `risks_in`, `count`), so the keyword judge, `bank check` and the
training-data audit can switch normalisation on or off with one flag. Matches carry the view that caught
them (`how`: folded, split, sound, pinyin, initials) in `find_hits`.
"""

from __future__ import annotations

from typing import NamedTuple

from .keywords import KeywordLibrary, KeywordMatch


class EvasionHit(NamedTuple):
    start: int
    end: int
    keyword: str
    risk_code: str
    how: str


class EvasionKeywordMatcher:
    """All entries of a keyword library, matched through every evasion view (see cnai.core.normalize)."""

    def __init__(self, library: KeywordLibrary, **options):
        from cnai.core.normalize import EvasionMatcher

        self._risks: dict[str, list[str]] = {}
        for k in library.keywords:
            lst = self._risks.setdefault(k.keyword, [])
            if k.risk not in lst:
                lst.append(k.risk)
        self._m = EvasionMatcher(list(self._risks), **options)
        self.engine = f"normalised ({self._m.engine})"

    def __len__(self) -> int:
        return len(self._risks)

    def find_hits(self, text: str) -> list[EvasionHit]:
        return self.find_hits_many([text])[0]

    def find_hits_many(self, texts: list[str]) -> list[list[EvasionHit]]:
        return [[EvasionHit(h.start, h.end, h.keyword, r, h.how) for h in hs for r in self._risks[h.keyword]]
                for hs in self._m.find_many(texts)]

    def find_all(self, text: str) -> list[KeywordMatch]:
        return [KeywordMatch(h.start, h.end, h.keyword, h.risk_code) for h in self.find_hits(text)]

    def risks_in(self, text: str) -> set[str]:
        return {h.risk_code for h in self.find_hits(text)}

    def count(self, text: str) -> int:
        return len(self.find_hits(text))


def keyword_matcher(library: KeywordLibrary, *, normalize: bool = True):
    """The library's matcher: evasion-normalised (default) or the plain one (`normalize=False`)."""
    return EvasionKeywordMatcher(library) if normalize else library.matcher()


def normalised_duplicates(library: KeywordLibrary) -> list[tuple[str, str, str]]:
    """(risk, entry, earlier entry) for entries that fold to the same form as an earlier one of the same risk
    (e.g. a traditional or full-width spelling): with normalisation on they catch nothing more, so
    `bank check` does not count them toward the minimums."""
    from cnai.core.normalize import fold

    folded = fold("\0".join(k.keyword.replace("\0", " ") for k in library.keywords)).text.split("\0")
    seen: dict[tuple[str, str], str] = {}
    dups = []
    for k, f in zip(library.keywords, folded, strict=True):
        key = (k.risk, f)
        if key in seen:
            dups.append((k.risk, k.keyword, seen[key]))
        else:
            seen[key] = k.keyword
    return dups
