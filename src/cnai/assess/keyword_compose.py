"""The composed part of the built-in keyword library: hand-written seed lexicons per risk, combined.

data/banks/keyword_seeds.yaml gives, per A.1/A.2 risk, compositions such as ``{act}{obj}`` with a hand-written
list for each slot; every combination is one entry ("制作" + "雷管" -> 制作雷管). Entries already in the
hand-written keywords.yaml, or folding to the same form within a risk, are dropped, so the library never counts
a spelling twice. Evasion spellings are not stored: normalisation (cnai.core.normalize) catches them.

    composed_keywords() -> list[Keyword]      # source "keyword_seeds.yaml:<risk>#<composition>"
"""

from __future__ import annotations

import itertools
import re
import string
from functools import lru_cache
from pathlib import Path

from .keywords import Keyword, fold

SEEDS_PATH = Path(__file__).parent / "data" / "banks" / "keyword_seeds.yaml"


def _slots(pattern: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(pattern) if f]


@lru_cache(maxsize=1)
def composed_keywords(path: Path = SEEDS_PATH) -> tuple[Keyword, ...]:
    from cnai.core.loaders import load_yaml
    from cnai.core.taxonomy import normalize_risk_code
    from cnai.errors import InputError

    data = load_yaml(path) or {}
    out: list[Keyword] = []
    for risk, comps in data.items():
        code = normalize_risk_code(str(risk))
        seen: set[str] = set()
        for i, comp in enumerate(comps or []):
            pattern = comp.get("pattern") if isinstance(comp, dict) else None
            slots = _slots(pattern or "")
            if not slots or any(not isinstance(comp.get(s), list) or not comp[s] for s in slots):
                raise InputError(f"composition {i} needs a pattern and a non-empty list for each of its slots",
                                 path=str(path), field=f"{risk}[{i}]")
            for combo in itertools.product(*(comp[s] for s in slots)):
                kw = pattern.format(**dict(zip(slots, map(str, combo), strict=True)))
                f = re.sub(r"\s+", " ", fold(kw)).strip()
                if f and f not in seen:
                    seen.add(f)
                    out.append(Keyword(kw, code, source=f"{path.name}:{code}#{i}"))
    return tuple(out)
