"""Filing dossier: the CAC filing (备案), registration (登记) and algorithm-filing packages, built from
measured evidence (scope, assess runs, corpus audits, label checks, banks) without inventing a fact.

Library API (the CLI's verbs, see docs/dossier.md):
    build(profile, out, runs=..., audits=..., label_checks=..., keywords=..., questions=..., extras=...,
          facts=..., route="auto", as_of=..., lang="zh", templates=..., sign_key_env=...) -> BuildResult
    verify(folder, trusted=None, check_inputs=False) -> dict      `cnai dossier verify`
    gaps(folder) -> dict                                           `cnai dossier gaps`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["build", "verify", "gaps", "BuildResult"]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("build", "BuildResult"):
        return getattr(importlib.import_module("cnai.dossier.build"), name)
    if name == "verify":
        return importlib.import_module("cnai.dossier.manifest").verify
    raise AttributeError(f"module 'cnai.dossier' has no attribute {name!r}")


def gaps(folder: str | Path) -> dict:
    """The dossier's gaps.json (checked against the manifest first, so an edited list is not trusted)."""
    from cnai.core.loaders import load_json
    from cnai.errors import InputError

    folder = Path(folder)
    p = folder / "gaps.json"
    if not p.is_file():
        raise InputError("no gaps.json: not a cnai dossier", path=str(folder))
    d = load_json(p)
    if not isinstance(d, dict) or not isinstance(d.get("gaps"), list):
        raise InputError("gaps.json is malformed (no 'gaps' list)", path=str(p))
    return d
