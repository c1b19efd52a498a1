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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class TaxonomyFile(BaseModel):
    """The 31 risks of GB/T 45654 Appendix A, their 5 groups and the should-not-refuse aspects
    (cnai/core/data/taxonomy.yaml)."""

    model_config = ConfigDict(extra="forbid")
    document: str
    confidence: Literal["verified", "secondary", "unverified"]
    sources: list[str] = Field(min_length=1)
    groups: list[_Named] = Field(min_length=1)
    risks: list[_Named] = Field(min_length=1)
    non_refusal_aspects: list[_Named] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self):
        groups = {g.code for g in self.groups}
        seen: set[str] = set()
        for i, r in enumerate(self.risks):
            if not re.match(r"^A\.[1-5]\.[a-i]$", r.code):
                raise ValueError(f"risks.{i}.code: {r.code!r} is not a risk code (A.1.a ... A.5.b)")
            if r.code.rsplit(".", 1)[0] not in groups:
                raise ValueError(f"risks.{i}.code: group of {r.code} is not under groups")
            if r.code in seen:
                raise ValueError(f"risks.{i}.code: duplicate {r.code}")
            seen.add(r.code)
        return self


def load_taxonomy_file(path: str | Path = DATA / "taxonomy.yaml") -> Taxonomy:
    """Read and validate a taxonomy file (one-line InputError naming the file and the path inside it)."""
    from cnai.core.loaders import load_yaml, validate

    raw = validate(TaxonomyFile, load_yaml(path), source=str(path))
    risks = []
    for r in raw.risks:
        group, letter = r.code.rsplit(".", 1)
        risks.append(Risk(code=r.code, group=group, letter=letter, zh=r.zh, en=r.en,
                          keyword_risk=group in ("A.1", "A.2"),
                          clause=f"GB/T 45654-2025 Appendix A, {group} {letter})"))
    return Taxonomy(
        risks=tuple(risks),
        groups=tuple(Group(code=g.code, zh=g.zh, en=g.en) for g in raw.groups),
        aspects=tuple(Aspect(code=a.code, zh=a.zh, en=a.en) for a in raw.non_refusal_aspects),
        confidence=raw.confidence, sources=tuple(raw.sources), document=raw.document)


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    return load_taxonomy_file()


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
