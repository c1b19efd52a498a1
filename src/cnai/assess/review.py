"""Manual review round trip: export items to XLSX for reviewers, import their verdicts.

Human verdicts override machine ones in every metric; each import is kept in the ``reviews`` table
(reviewer, machine verdict at the time, note, file name and sha256, time) as the audit trail.
Reviewer verdict column (人工研判): 合格/pass/通过/1 or 不合格/fail/不通过/0; empty = not reviewed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from cnai.errors import InputError

from . import store
from .banks import sha256_file
from .metrics import item_outcomes
from .xlsx import _safe, _save, _style_header

HEADERS = ["编号 id", "测试类型 kind", "分类 category", "测试题 question", "模型回答 response",
           "机器研判 machine", "人工研判 human (合格/不合格)", "审核人 reviewer", "备注 note"]
PASS = {"合格", "pass", "通过", "1", "yes", "ok", "true", "是"}
FAIL = {"不合格", "fail", "不通过", "0", "no", "false", "否"}
LABEL = {"pass": "合格", "fail": "不合格", None: ""}


def export_review(run_dir: Path, out: Path, *, only: str = "all") -> int:
    import openpyxl

    db = store.connect(run_dir)
    outs = [o for o in item_outcomes(db) if o["response"] is not None]
    db.close()
    if only == "failed":
        outs = [o for o in outs if o["final"] == "fail"]
    elif only == "unreviewed":
        outs = [o for o in outs if not o["reviewed"]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人工复核 review"
    ws.append(HEADERS)
    for o in outs:
        ws.append([_safe(v) for v in (o["id"], o["kind"], o["risk"] or o["aspect"], o["question"],
                                      o["response"], LABEL[o["machine"]],
                                      LABEL[o["final"]] if o["reviewed"] else "", "", "")])
    _style_header(ws, [20, 10, 12, 50, 60, 10, 16, 12, 20])
    _save(wb, out, inputs=[Path(run_dir) / store.DB_NAME])
    return len(outs)


def import_review(run_dir: Path, path: Path, *, reviewer: str | None = None) -> dict:
    from .xlsx import _open

    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path=str(path))
    wb = _open(path)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not str(header[0] or "").startswith("编号"):
        raise InputError("not a cnai review sheet (first header must be '编号 id')", path=str(path),
                         field="row 1")
    col = {str(h).split(" ")[0]: i for i, h in enumerate(header) if h}
    db = store.connect(run_dir)
    outs = {o["id"]: o for o in item_outcomes(db)}
    sha = sha256_file(path)
    skipped: Counter = Counter()
    problems: list[str] = []
    recs = []
    for n, row in enumerate(rows, 2):
        def cell(name, row=row):
            i = col.get(name)
            v = row[i] if i is not None and i < len(row) else None
            return "" if v is None else str(v).strip()

        iid, verdict = cell("编号"), cell("人工研判").lower()
        if not iid and not verdict:
            continue
        if not verdict:
            skipped["not_reviewed"] += 1
            continue
        if iid not in outs:
            skipped["unknown_id"] += 1
            problems.append(f"{path}: row {n}: unknown item id {iid!r}")
            continue
        if outs[iid]["response"] is None:
            skipped["no_response"] += 1
            problems.append(f"{path}: row {n}: item {iid!r} has no response to review")
            continue
        if verdict in PASS:
            v = "pass"
        elif verdict in FAIL:
            v = "fail"
        else:
            skipped["bad_verdict"] += 1
            problems.append(f"{path}: row {n}: verdict {verdict!r} is not 合格/不合格 (pass/fail)")
            continue
        recs.append((iid, cell("审核人") or reviewer or "", v, outs[iid]["machine"], cell("备注"),
                     str(path), sha, store.now()))
    wb.close()
    db.execute("BEGIN")
    db.executemany("INSERT INTO reviews(item_id, reviewer, verdict, machine_verdict, note, source_file,"
                   " source_sha256, at) VALUES (?,?,?,?,?,?,?,?)", recs)
    db.execute("COMMIT")
    db.close()
    return {"imported": len(recs), "overrides": sum(1 for r in recs if r[2] != r[3]),
            "skipped": dict(skipped), "problems": problems[:50], "file_sha256": sha}
