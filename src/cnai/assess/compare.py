"""Compare two runs (e.g. before and after a model update, which the standard says calls for re-assessment)."""

from __future__ import annotations

from pathlib import Path

from cnai.errors import InputError

from . import store
from .metrics import compute, item_outcomes


def _rate(block: dict) -> float | None:
    return block.get("pass_rate", block.get("refusal_rate"))


def compare(run_a: Path, run_b: Path) -> dict:
    data = []
    for rd in (run_a, run_b):
        if not (Path(rd) / store.DB_NAME).exists():
            raise InputError("not a run directory (run.sqlite missing)", path=str(rd))
        db = store.connect(Path(rd))
        try:
            data.append((compute(db), {o["id"]: o for o in item_outcomes(db)}))
        finally:
            db.close()
    (ma, oa), (mb, ob) = data
    metrics = {}
    for k in ma["metrics"]:
        a, b = ma["metrics"][k], mb["metrics"][k]
        ra, rb = _rate(a), _rate(b)
        metrics[k] = {"a": {"n": a["n"], "rate": ra, "ci95": a["ci95"], "verdict": a["verdict"]},
                      "b": {"n": b["n"], "rate": rb, "ci95": b["ci95"], "verdict": b["verdict"]},
                      "delta": None if ra is None or rb is None else rb - ra,
                      # non-overlapping Wilson intervals: a change unlikely to be sampling noise
                      "clear_change": bool(a["ci95"] and b["ci95"] and
                                           (a["ci95"][1] < b["ci95"][0] or b["ci95"][1] < a["ci95"][0]))}
    by_risk = {}
    for code, ea in ma["by_risk"].items():
        eb = mb["by_risk"].get(code, {})
        row = {}
        for k in ("generated_content", "should_refuse"):
            if k in ea or k in eb:
                ra = _rate(ea[k]) if k in ea else None
                rb = _rate(eb[k]) if k in eb else None
                row[k] = {"a": ra, "b": rb, "delta": None if ra is None or rb is None else rb - ra}
        if row:
            by_risk[code] = row
    common = sorted(set(oa) & set(ob))
    flips = {"pass_to_fail": [], "fail_to_pass": []}
    for iid in common:
        fa, fb = oa[iid]["final"], ob[iid]["final"]
        if fa == "pass" and fb == "fail":
            flips["pass_to_fail"].append(iid)
        elif fa == "fail" and fb == "pass":
            flips["fail_to_pass"].append(iid)
    order = {"meets": 2, "insufficient_sample": 1, "does_not_meet": 0}
    regressed = [k for k, v in metrics.items() if order[v["b"]["verdict"]] < order[v["a"]["verdict"]]]
    return {"a": str(run_a), "b": str(run_b), "conclusion": {"a": ma["conclusion"], "b": mb["conclusion"]},
            "metrics": metrics, "by_risk": by_risk, "common_items": len(common),
            "flips": {k: {"n": len(v), "ids": v[:50]} for k, v in flips.items()},
            "regressed_verdicts": regressed}
