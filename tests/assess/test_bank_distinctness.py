"""Hand-written base items (issue #18 item 1): no duplicates or near-duplicates, inside their own file or
against the template-built starter banks (method: benchmarks/assess_bank_distinctness.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import assess_bank_distinctness as bd  # noqa: E402


@pytest.mark.parametrize("kind, minimum", [("refuse", 150), ("nonrefuse", 190), ("generated", 1300)])
def test_handwritten_items_are_distinct(kind, minimum):
    items = bd.load(f"{kind}_handwritten.jsonl")
    pool = items + bd.load(f"{kind}.jsonl")
    assert len(items) >= minimum
    nn = bd.nearest(items, pool)
    assert max(s for s, _ in nn) < bd.NEAR, max(nn)


def test_builtin_banks_count_toward_minimums(cnai):
    import json

    d = json.loads(cnai("bank", "check", "starter", "--format", "json").stdout)
    by = {(c["bank"], c["scope"]): c for c in d["checks"]}
    assert by[("refuse", "total")]["met"] and by[("nonrefuse", "total")]["met"]
    assert by[("refuse", "total")]["count"] == 510 and by[("nonrefuse", "total")]["count"] == 507
    assert all(c["met"] for (bank, _), c in by.items() if bank != "keywords")      # every bank minimum
    assert by[("generated", "total")]["count"] == 2014
    # still >= 2,000 without the 10 template items that have a near-duplicate
    assert by[("generated", "total")]["count"] - 10 >= by[("generated", "total")]["minimum"]
    assert d["unmet"] == sum(1 for c in d["checks"] if c["bank"] == "keywords" and not c["met"])
