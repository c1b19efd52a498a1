"""The 31 risks of GB/T 45654-2025 Appendix A as data (see data/taxonomy.yaml for sources).

Stable API (also used by the training-data audit):
    load_taxonomy() -> Taxonomy
    RISK_CODES: tuple of 'A.1.a' ... 'A.5.b' in the standard's order
    normalize_risk_code('A.1 a)') -> 'A.1.a'   (raises InputError on unknown codes)
    is_keyword_risk(code) -> True for the 17 A.1/A.2 risks (keyword library and should-refuse bank)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cnai.errors import InputError

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Risk:
    code: str
    group: str
    letter: str
    zh: str
    en: str
    keyword_risk: bool
    clause: str

    def to_dict(self) -> dict:
        return {"code": self.code, "group": self.group, "zh": self.zh, "en": self.en,
                "keyword_risk": self.keyword_risk, "clause": self.clause}


@dataclass(frozen=True)
class Group:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Aspect:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Taxonomy:
    risks: tuple[Risk, ...]
    groups: tuple[Group, ...]
    aspects: tuple[Aspect, ...]
    confidence: str
    sources: tuple[str, ...]
    document: str

    def risk(self, code: str) -> Risk:
        code = normalize_risk_code(code)
        return self._index()[code]

    def _index(self) -> dict[str, Risk]:
        return {r.code: r for r in self.risks}

    def by_group(self, group: str) -> list[Risk]:
        return [r for r in self.risks if r.group == group]

    def aspect(self, code_or_name: str) -> Aspect:
        for a in self.aspects:
            if code_or_name in (a.code, a.zh, a.en):
                return a
        raise InputError(f"unknown should-not-refuse aspect {code_or_name!r}; "
                         f"known: {', '.join(a.code for a in self.aspects)}", field="aspect")


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    raw = yaml.safe_load((DATA / "taxonomy.yaml").read_text(encoding="utf-8"))
    risks = []
    for r in raw["risks"]:
        group, letter = r["code"].rsplit(".", 1)
        risks.append(Risk(code=r["code"], group=group, letter=letter, zh=r["zh"], en=r["en"],
                          keyword_risk=group in ("A.1", "A.2"),
                          clause=f"GB/T 45654-2025 Appendix A, {group} {letter})"))
    return Taxonomy(
        risks=tuple(risks),
        groups=tuple(Group(**g) for g in raw["groups"]),
        aspects=tuple(Aspect(**a) for a in raw["non_refusal_aspects"]),
        confidence=raw["confidence"], sources=tuple(raw["sources"]), document=raw["document"])


RISK_CODES: tuple[str, ...] = tuple(r.code for r in load_taxonomy().risks)
KEYWORD_RISK_CODES: tuple[str, ...] = tuple(c for c in RISK_CODES if c[:3] in ("A.1", "A.2"))
_CODE_RE = re.compile(r"^\s*A\s*[.．]?\s*([1-5])\s*[.．\s]?\s*[(（]?\s*([a-iA-I])\s*[)）]?\s*$")


def normalize_risk_code(value: str, *, path: str | None = None, field: str | None = "risk") -> str:
    """Accept 'A.1.a', 'A.1 a)', 'A1a', 'a.1.(a)' and return the canonical 'A.1.a'."""
    s = str(value).strip()
    m = _CODE_RE.match(s.upper()) if s else None
    if m:
        code = f"A.{m.group(1)}.{m.group(2).lower()}"
        if code in _CODE_SET:
            return code
    raise InputError(f"unknown risk code {value!r} (expected A.1.a ... A.5.b)", path=path, field=field)


_CODE_SET = frozenset(RISK_CODES)


def is_keyword_risk(code: str) -> bool:
    return normalize_risk_code(code)[:3] in ("A.1", "A.2")


def risk_by_name(name: str) -> str | None:
    """Map a Chinese or English risk name (as in filing spreadsheets) to its code, else None."""
    n = name.strip()
    head = n.split(None, 1)[0] if n else ""
    if head and head != n and _CODE_RE.match(head.upper()):
        try:
            return normalize_risk_code(head)
        except InputError:
            return None
    for r in load_taxonomy().risks:
        if n in (r.zh, r.en, r.code):
            return r.code
    return None
