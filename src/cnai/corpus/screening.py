"""Risk screening: keyword libraries per GB/T 45654 risk code, and a classifier plug-in interface.

Keyword libraries are loaded and matched with the shared library of the self-assessment
(`cnai.assess.keywords`: one Aho-Corasick automaton over all risks, full-width/case folding).
Anything with `find_all(text) -> [(start, end, keyword, risk_code)]` can stand in (RiskScreener).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from cnai.core.taxonomy import RISK_CODES as TAXONOMY_RISK_CODES
from cnai.errors import InputError

RISK_CODE_RE = re.compile(r"^A\.[1-5]\.[a-i]$")
RISK_CODES = list(TAXONOMY_RISK_CODES)  # the 31 risks, from their one home (cnai/core/data/taxonomy.yaml)


@runtime_checkable
class RiskScreener(Protocol):
    """Anything that finds risk keywords: `find_all(text) -> [(start, end, keyword, risk_code)]`."""

    def find_all(self, text: str) -> list[tuple[int, int, str, str]]: ...


@runtime_checkable
class RiskClassifier(Protocol):
    """Optional plug-in: `classify(text) -> [(risk_code, score)]` for a whole document."""

    def __call__(self, text: str) -> list[tuple[str, float]]: ...


@dataclass
class KeywordList:
    """The risk keywords in use: the shared library (cnai.assess.keywords) plus where it came from."""

    entries: dict[str, set[str]] = field(default_factory=dict)
    source: str = "none"
    library: object = None  # cnai.assess.keywords.KeywordLibrary

    def add(self, keyword: str, code: str) -> None:
        self.entries.setdefault(keyword, set()).add(code)

    def __len__(self) -> int:
        return len(self.entries)

    def by_code(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for codes in self.entries.values():
            for c in codes:
                out[c] = out.get(c, 0) + 1
        return dict(sorted(out.items()))

    def screener(self) -> RiskScreener | None:
        """The shared Aho-Corasick matcher (folds full-width/case; whole words for ASCII keywords)."""
        if self.library is not None:
            return self.library.matcher()
        if not self.entries:
            return None
        from cnai.assess.keywords import Matcher

        return Matcher((kw, c) for kw, codes in self.entries.items() for c in sorted(codes))


def load_keywords(path: str | Path | None) -> KeywordList:
    """Load a keyword library with the shared loader (issue 4): None or 'starter' = the built-in starter
    library; else .yaml/.yml/.jsonl/.txt/.xlsx (see cnai.assess.keywords); 'none' = no risk screening."""
    from cnai.assess.keywords import load_keyword_library

    if path is not None and str(path) == "none":
        return KeywordList(source="none")
    if path is not None and not Path(path).is_file() and str(path) != "starter":
        raise InputError("keyword library not found", path=str(path))
    lib = load_keyword_library(path)
    kl = KeywordList(source=", ".join(lib.sources) if lib.sources else str(path or "starter"), library=lib)
    for k in lib.keywords:
        kl.add(k.keyword, k.risk)
    return kl


def load_classifier(spec: str | None) -> Callable[[str], list[tuple[str, float]]] | None:
    """`python:MODULE:FUNCTION` -> a callable(text) -> [(risk_code, score)]."""
    if not spec:
        return None
    if not spec.startswith("python:") or spec.count(":") != 2:
        raise InputError("expected python:MODULE:FUNCTION", field="--classifier")
    _, mod, fn = spec.split(":")
    try:
        obj = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load {mod}:{fn}: {exc}", field="--classifier") from None
    if not callable(obj):
        raise InputError(f"{mod}:{fn} is not callable", field="--classifier")
    return obj


def iter_codes(codes: Iterable[str]) -> list[str]:
    return sorted(codes, key=lambda c: RISK_CODES.index(c) if c in RISK_CODES else 99)
