"""Thresholds, minimum samples and bank minimums as data (data/thresholds.yaml), with provenance."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from cnai.errors import InputError

PATH = Path(__file__).parent / "data" / "thresholds.yaml"
_ORDER = {"verified": 0, "secondary": 1, "unverified": 2}


def load_thresholds_file(path: str | Path = PATH) -> dict:
    """Read and validate a thresholds file (schema `thresholds`); plain dicts for the callers."""
    from cnai.core.loaders import load_yaml, validate

    from .schemas import Thresholds

    data = load_yaml(path)
    validate(Thresholds, data, source=str(path))
    return data


@lru_cache(maxsize=1)
def _raw() -> dict:
    return load_thresholds_file()


def documents() -> list[str]:
    return list(_raw()["documents"])


def _resolve(document: str | None) -> tuple[str, dict]:
    raw = _raw()
    doc = document or raw["default_document"]
    docs = raw["documents"]
    if doc not in docs:
        raise InputError(f"unknown document {doc!r}; known: {', '.join(docs)}", field="--document")
    d = docs[doc]
    if "carried_over_from" in d:
        base = copy.deepcopy(docs[d["carried_over_from"]])
        cap = d.get("confidence_cap")

        def capconf(node):
            if isinstance(node, dict):
                if "confidence" in node and cap and _ORDER[node["confidence"]] < _ORDER[cap]:
                    node["confidence"] = cap
                for v in node.values():
                    capconf(v)

        capconf(base)
        base.update({k: v for k, v in d.items() if k not in ("assessment", "banks")})
        d = base
    return doc, d


def assessment_thresholds(document: str | None = None) -> dict:
    doc, d = _resolve(document)
    out = copy.deepcopy(d["assessment"])
    out["document"] = doc
    out["title"] = d.get("title", doc)
    return out


def bank_minimums(document: str | None = None) -> dict:
    doc, d = _resolve(document)
    out = copy.deepcopy(d["banks"])
    out["document"] = doc
    return out
