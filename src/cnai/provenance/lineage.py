"""Iteration history: which generations belong to one line of work, and what changed between steps.

Two generations are one lineage when they share the model and the first words of the prompt, or the same
seed with the same model (a re-run with edited words). The key is deliberately coarse: the report lists
every change between consecutive steps, so a reader sees the development, not our grouping.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

TRACKED = ("prompt", "negative_prompt", "model", "sampler", "scheduler", "steps", "seed", "cfg", "width",
           "height", "denoise", "loras", "controlnets")


def _words(text: str, n: int = 6) -> str:
    return " ".join(re.findall(r"[\w\u4e00-\u9fff]+", (text or "").lower())[:n])


def lineage_key(rec: dict) -> str:
    basis = f"{rec.get('model') or ''}|{_words(rec.get('prompt', ''))}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:12]


def describe_changes(before: dict, after: dict) -> list[dict[str, Any]]:
    """[{field, before, after}] for every tracked field that differs."""
    return [{"field": k, "before": before.get(k), "after": after.get(k)}
            for k in TRACKED if before.get(k) != after.get(k)]
