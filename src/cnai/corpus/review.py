"""Human review of the random sample: export to XLSX, import the verdicts, qualified rate + interval.

The standard's corpus check by people: draw at least 4,000 items at random from all training data;
the qualified rate must be at least 96% (sample size: secondary sources; 96%: recalled, unverified).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from cnai.core.stats import wilson
from cnai.errors import InputError

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")
MANUAL_THRESHOLD = 0.96
MANUAL_MINIMUM = 4000
THRESHOLD_SOURCE = ("TC260-003 §9.2 / GB/T 45654 Appendix B as summarised in "
                    "shared/reference/gbt-45654-security-assessment.md: sample >= 4,000 [secondary], "
                    "qualified rate >= 96% [unverified]")
HEADERS = ["n", "doc", "source", "auto_findings", "text", "truncated", "verdict", "risk_code", "reviewer", "notes"]
QUALIFIED = {"qualified", "pass", "ok", "yes", "y", "合格", "是", "1", "true"}
UNQUALIFIED = {"unqualified", "fail", "no", "n", "不合格", "否", "0", "false"}


def _source_verdict(q: int, u: int) -> dict:
    """The 5% source rule on a source's reviewed items, with the Wilson interval of its unqualified rate."""
    n = q + u
    lo, hi = wilson(u, n)  # n > 0: callers pass sources with reviewed items
    rate = u / n
    if lo > 0.05:
        verdict = "unusable"  # even the optimistic bound is above 5%
    elif hi <= 0.05:
        verdict = "usable"
    else:
        verdict = "unusable_estimate" if rate > 0.05 else "usable_estimate"  # interval straddles 5%
    return {"qualified": q, "unqualified": u, "unqualified_rate": round(rate, 6),
            "ci95": [round(lo, 6), round(hi, 6)], "verdict": verdict}


def _clean_cell(s: str) -> str:
    # openpyxl refuses control characters; a spreadsheet must not execute text as a formula
    s = _CONTROL.sub("\ufffd", s)
    if s[:1] in ("=", "+", "-", "@"):
        s = "'" + s
    return s[:32000]


def export_xlsx(sample_jsonl: Path, out: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook(write_only=True)  # streams rows to the file: about 40% less CPU than a full workbook
    ws = wb.create_sheet("review")
    ws.column_dimensions["E"].width = 100
    dv = DataValidation(type="list", formula1='"qualified,unqualified"', allow_blank=True)
    ws.data_validations.append(dv)
    ws.append(HEADERS)
    n = 0
    with open(sample_jsonl, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            n += 1
            ws.append([r["n"], _clean_cell(str(r["doc"])), _clean_cell(str(r["source"])),
                       ", ".join(r.get("auto", [])), _clean_cell(r["text"]), bool(r.get("truncated")), None, None,
                       None, None])
    if n:
        dv.add(f"G2:G{n + 1}")
    info = wb.create_sheet("instructions")
    for row in (
        ["Mark column G (verdict) 'qualified' or 'unqualified' for every row."],
        ["Unqualified = contains illegal or harmful content (any of the 31 risks of GB/T 45654 Appendix A)."],
        ["Optionally put the risk code (e.g. A.1.c) in column H."],
        ["Then: cnai corpus review import THIS_FILE"],
        [f"Threshold: {THRESHOLD_SOURCE}"],
    ):
        info.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    wb.save(tmp)
    tmp.replace(out)
    return n


def import_xlsx(path: Path, threshold: float = MANUAL_THRESHOLD, minimum: int = MANUAL_MINIMUM) -> dict:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise InputError("no such file", path=str(path))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable .xlsx workbook: {exc}", path=str(path)) from None
    if "review" not in wb.sheetnames:
        raise InputError("no sheet named 'review'", path=str(path))
    ws = wb["review"]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
    if "verdict" not in header:
        raise InputError("no 'verdict' column in the header row", path=str(path), field="review")
    vi = header.index("verdict")
    ri = header.index("risk_code") if "risk_code" in header else None
    si = header.index("source") if "source" in header else None
    total = qualified = unqualified = 0
    blank = 0
    invalid: list[dict] = []
    by_risk: dict[str, int] = {}
    by_source: dict[str, list[int]] = {}
    for rown, row in enumerate(rows, start=2):
        if row is None or all(c is None for c in row):
            continue
        total += 1
        raw = row[vi] if vi < len(row) else None
        v = str(raw).strip().lower() if raw is not None else ""
        src = str(row[si]) if si is not None and si < len(row) and row[si] is not None else ""
        if not v:
            blank += 1
            continue
        if v in QUALIFIED:
            qualified += 1
            by_source.setdefault(src, [0, 0])[0] += 1
        elif v in UNQUALIFIED:
            unqualified += 1
            by_source.setdefault(src, [0, 0])[1] += 1
            code = row[ri] if ri is not None and ri < len(row) else None
            if code:
                by_risk[str(code).strip()] = by_risk.get(str(code).strip(), 0) + 1
        else:
            if len(invalid) < 20:
                invalid.append({"row": rown, "value": str(raw)[:50]})
            else:
                invalid.append({"row": rown})
    reviewed = qualified + unqualified
    rate = qualified / reviewed if reviewed else 0.0
    ci = wilson(qualified, reviewed)  # None when nothing was reviewed: no interval, not [0, 1]
    if reviewed == 0:
        verdict = "not_reviewed"
    elif reviewed < minimum:
        verdict = "insufficient_sample"
    elif rate >= threshold:
        verdict = "pass"
    else:
        verdict = "fail"
    return {
        "file": str(path), "rows": total, "reviewed": reviewed, "qualified": qualified,
        "unqualified": unqualified, "unreviewed": blank, "invalid_verdicts": len(invalid),
        "invalid_examples": invalid[:20], "qualified_rate": round(rate, 6),
        "ci95": [round(x, 6) for x in ci] if ci else None, "ci_method": "Wilson score",
        "threshold": threshold, "minimum_sample": minimum, "verdict": verdict,
        "lower_bound_meets_threshold": ci is not None and ci[0] >= threshold,
        "by_risk": dict(sorted(by_risk.items())),
        "by_source": {s: _source_verdict(q, u) for s, (q, u) in sorted(by_source.items())},
        "threshold_source": THRESHOLD_SOURCE,
    }
