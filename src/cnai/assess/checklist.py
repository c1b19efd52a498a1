"""Per-clause checklist (chapters 5-8) and the overall conclusion (§9.1 as summarised, unverified).

`cnai assess checklist -o checklist.yaml` writes a template; fill `result` with meets | does_not_meet |
not_applicable plus `evidence` / `reason`, then `cnai assess report RUN --checklist checklist.yaml`.
The test clauses (§9.3 generated content, §9.4 refusal) come from the run's metrics.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cnai.errors import InputError

PATH = Path(__file__).parent / "data" / "checklist.yaml"
RESULTS = ("meets", "does_not_meet", "not_applicable")


@lru_cache(maxsize=1)
def items() -> list[dict]:
    from cnai.core.loaders import load_yaml, validate

    from .schemas import Checklist

    data = load_yaml(PATH)
    validate(Checklist, data, source=str(PATH))
    return data["items"]


def template() -> str:
    lines = ["# cnai self-assessment checklist. For each clause set result: meets | does_not_meet | not_applicable.",
             "# meets needs evidence; does_not_meet and not_applicable need a reason (and a remediation plan",
             "# or an equivalent measure where relevant). Clause summaries are this project's, confidence shown.",
             "clauses:"]
    for it in items():
        lines += [f"  {it['id']}:  # {it['clause']} ({it['confidence']}) {it['en']}",
                  "    result:", "    evidence: ''", "    reason: ''"]
    return "\n".join(lines) + "\n"


def load_filled(path: Path) -> dict:
    from cnai.core.loaders import load_yaml

    p = Path(path)
    data = load_yaml(p, max_bytes=1024 * 1024, what="checklist")
    clauses = (data or {}).get("clauses") if isinstance(data, dict) else None
    if not isinstance(clauses, dict):
        raise InputError("expected a mapping 'clauses: {id: {result, evidence, reason}}'", path=str(p))
    known = {it["id"]: it for it in items()}
    out = {}
    for cid, v in clauses.items():
        if cid not in known:
            raise InputError(f"unknown clause id (known: {', '.join(known)})", path=str(p), field=f"clauses.{cid}")
        v = v or {}
        res = v.get("result")
        if res is not None and res not in RESULTS:
            raise InputError(f"result must be one of {', '.join(RESULTS)} or empty, got {res!r}", path=str(p),
                             field=f"clauses.{cid}.result")
        if res == "meets" and not str(v.get("evidence") or "").strip():
            raise InputError("'meets' needs evidence", path=str(p), field=f"clauses.{cid}.evidence")
        if res in ("does_not_meet", "not_applicable") and not str(v.get("reason") or "").strip():
            raise InputError(f"'{res}' needs a reason", path=str(p), field=f"clauses.{cid}.reason")
        out[cid] = {"result": res, "evidence": str(v.get("evidence") or ""), "reason": str(v.get("reason") or "")}
    return out


def evaluate(filled: dict, metrics: dict) -> dict:
    """Rows for every clause (checklist + test clauses) and the overall conclusion."""
    rows = []
    for it in items():
        f = filled.get(it["id"], {})
        rows.append({**it, "result": f.get("result"), "evidence": f.get("evidence", ""),
                     "reason": f.get("reason", ""), "source": "checklist"})
    from .banks import bank_kinds

    titles = {k.metric: k.title for k in bank_kinds().values()}
    for k in metrics:
        v = metrics[k]["verdict"]
        # title "生成内容合格率 Generated-content pass rate": the English half for `en`
        en = titles.get(k, k).partition(" ")[2] or k
        rows.append({"id": f"test.{k}", "clause": metrics[k].get("clause", "").lstrip("§"), "en": en,
                     "zh": "", "confidence":
                     metrics[k]["threshold"]["confidence"], "source": "run",
                     "result": {"meets": "meets", "does_not_meet": "does_not_meet"}.get(v),
                     "evidence": f"rate {metrics[k].get('pass_rate', metrics[k].get('refusal_rate'))}, n={metrics[k]['n']}",
                     "reason": "insufficient sample" if v == "insufficient_sample" else ""})
    from .metrics import first_rule

    results = [r["result"] for r in rows]
    conclusion = first_rule(results, [("any", None, "incomplete"), ("all", "does_not_meet", "non_compliant"),
                                      ("any", "does_not_meet", "partially_compliant")], "compliant")
    return {"rows": rows, "conclusion": conclusion, "confidence": "unverified",
            "rule": "all meets/not_applicable -> compliant; some does_not_meet -> partially compliant; "
                    "all does_not_meet -> non-compliant (TC260-003 §9.1 as summarised; unverified)",
            "unanswered": sum(1 for r in results if r is None)}
