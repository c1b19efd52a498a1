"""Helpers for golden tests: run the engine on an example profile, find duties by citation or id."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import yaml

from cnai.scope.engine import Engine
from cnai.scope.profile import parse_profile

ROOT = Path(__file__).resolve().parents[2]
_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def example(name: str) -> dict:
    return yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8"))


def run(name: str, as_of: str = "2026-11-28", drop: tuple[str, ...] = (), set_: dict | None = None) -> dict:
    data = copy.deepcopy(example(name))
    for path in drop:
        *parents, leaf = path.split(".")
        node = data
        for p in parents:
            node = node[p]
        del node[leaf]
    for path, value in (set_ or {}).items():
        *parents, leaf = path.split(".")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    profile = parse_profile(data, source=name)
    return engine().run(profile, dt.date.fromisoformat(as_of)).to_dict()


def cites(result: dict, citation: str) -> list[dict]:
    """Obligations that cite `citation` (an article, optionally with paragraph/item) on the as-of date."""
    out = []
    for o in result["obligations"]:
        for c in o["citations"]:
            if c == citation or c.startswith(citation + "("):
                out.append(o)
                break
    return out


def statuses(result: dict, citation: str) -> set[str]:
    return {o["status"] for o in cites(result, citation)}


def ob(result: dict, oid: str) -> dict | None:
    return next((o for o in result["obligations"] if o["id"] == oid), None)


def status(result: dict, oid: str) -> str | None:
    o = ob(result, oid)
    return o["status"] if o else None


def upcoming_instruments(result: dict) -> dict[str, str]:
    return {u["instrument"]: u["effective"] for u in result["upcoming"]}
