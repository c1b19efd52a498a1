"""XLSX import/export in the filing layout (附件: 拦截关键词列表, 评估测试题).

Bank sheets: 序号 | 编号(ID) | 测试类型 | 测试题 | 一级分类 | 二级分类 | 参考答案 | 模型回答 | 研判结果
Keyword sheet: 关键词 | 一级分类 | 二级分类
Headers may also be English (no., id, kind, question, category, subcategory, reference answer, response,
result). On import, 二级分类 may be a risk code (A.1.a) or the risk's Chinese/English name; for
should-not-refuse sheets it is the aspect (e.g. 历史 / history).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cnai.core.taxonomy import load_taxonomy
from cnai.errors import InputError


def sheets() -> dict[str, str]:
    """kind name -> sheet title of the filing layout (from the registered bank kinds)."""
    from .banks import bank_kinds

    return {k.name: k.sheet for k in bank_kinds().values()}

BANK_HEADERS = ["序号", "编号", "测试类型", "测试题", "一级分类", "二级分类", "参考答案", "模型回答", "研判结果"]
KEY = {
    "序号": "no", "no.": "no", "no": "no",
    "编号": "id", "id": "id",
    "测试类型": "kind", "kind": "kind", "type": "kind",
    "测试题": "question", "问题": "question", "题目": "question", "题目-拒答题": "question", "question": "question",
    "一级分类": "level1", "category": "level1", "类别": "level1",
    "二级分类": "level2", "subcategory": "level2", "语料及生成内容的主要安全风险项": "level2", "risk": "level2",
    "参考答案": "reference_answer", "reference answer": "reference_answer", "答案": "reference_answer",
    "模型回答": "response", "回答": "response", "response": "response",
    "研判结果": "result", "是否合格": "result", "result": "result",
    "关键词": "keyword", "keyword": "keyword", "level-1": "level1", "level-2": "level2",
    "aspect": "level2",
}


def _open(path: Path):
    try:
        import openpyxl
    except ImportError:  # pragma: no cover
        raise InputError("XLSX needs openpyxl: pip install 'cnai[assess]'", path=str(path)) from None
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"cannot read as XLSX ({type(exc).__name__}: {exc})", path=str(path)) from None


def _rows(ws, path: Path) -> Iterable[tuple[int, dict]]:
    it = ws.iter_rows(values_only=True)
    header = None
    for n, row in enumerate(it, 1):
        if header is None:
            if row and any(c is not None for c in row):
                header = [KEY.get(str(c).strip().lower(), KEY.get(str(c).strip(), None)) if c is not None else None
                          for c in row]
                if "question" not in header and "keyword" not in header:
                    raise InputError("header row needs 测试题/question or 关键词/keyword", path=str(path),
                                     field=f"sheet {ws.title!r} row {n}")
            continue
        if not row or all(c is None or str(c).strip() == "" for c in row):
            continue
        rec = {}
        for k, v in zip(header, row, strict=False):
            if k and v is not None:
                rec[k] = str(v).strip() if not isinstance(v, (int, float)) else v
        yield n, rec


def _kind_for(ws_title: str, rec: dict) -> str | None:
    """The kind from the row's kind column, else the sheet title (longest known spelling it contains)."""
    from .banks import kind_aliases

    aliases = kind_aliases()
    if rec.get("kind"):
        raw = str(rec["kind"]).strip()
        return aliases.get(raw.lower(), raw)
    title = ws_title.strip().lower()
    for alias in sorted(aliases, key=len, reverse=True):
        if alias in title:
            return aliases[alias]
    return None


def read_bank_rows(path: Path) -> Iterable[tuple[str, dict, str | None]]:
    wb = _open(path)
    for ws in wb.worksheets:
        for n, rec in _rows(ws, path):
            kind = _kind_for(ws.title, rec)
            label = f"sheet {ws.title!r} row {n}"
            out = {"kind": kind, "question": rec.get("question"),
                   "id": rec.get("id") or f"{ws.title}-{rec.get('no', n)}",
                   "reference_answer": rec.get("reference_answer", "")}
            cat = rec.get("level2") or rec.get("level1")
            if _category(kind) == "aspect":
                out["aspect"] = cat
            else:
                out["risk"] = cat
            yield label, out, kind
    wb.close()


def _category(kind: str | None) -> str:
    from .banks import bank_kinds

    k = bank_kinds().get(kind or "")
    return k.category if k else "risk"


def read_keyword_rows(path: Path) -> Iterable[tuple[str, dict]]:
    wb = _open(path)
    for ws in wb.worksheets:
        for n, rec in _rows(ws, path):
            yield f"sheet {ws.title!r} row {n}", {"keyword": rec.get("keyword"), "risk": rec.get("level2"),
                                                  "level1": rec.get("level1")}
    wb.close()


def workbook_bytes(wb) -> bytes:
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _save(wb, out: Path, *, inputs: Iterable[str | Path] = ()) -> None:
    """Write a workbook through the safe output layer (atomic, never over an input or a link)."""
    from cnai.core.safeio import write_bytes

    write_bytes(Path(out), workbook_bytes(wb), inputs=inputs)


def _safe(v):
    """Neutralise spreadsheet formula injection from model/file text."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def _style_header(ws, widths: list[int]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for c in ws[1]:
        c.font = Font(bold=True)
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"


def bank_rows(items, results: dict | None = None) -> dict[str, list[list]]:
    """Rows per sheet; results maps item id -> (response, result text)."""
    tax = load_taxonomy()
    groups = {g.code: g.zh for g in tax.groups}
    by_kind: dict[str, list[list]] = {k: [] for k in sheets()}
    for it in items:
        if _category(it.kind) == "risk":
            r = tax.risk(it.risk)
            l1, l2 = f"{r.group} {groups[r.group]}", f"{r.code} {r.zh}"
        else:
            a = tax.aspect(it.aspect)
            l1, l2 = "非拒答", f"{a.zh}"
        resp, res = (results or {}).get(it.id, ("", ""))
        rows = by_kind[it.kind]
        rows.append([len(rows) + 1, it.id, it.kind, it.question, l1, l2, it.reference_answer, resp, res])
    return by_kind


def write_bank_xlsx(items, out: Path, results: dict | None = None, *, inputs: Iterable[str | Path] = ()) -> int:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    n = 0
    titles = sheets()
    for kind, rows in bank_rows(items, results).items():
        if not rows:
            continue
        ws = wb.create_sheet(titles[kind])
        ws.append(BANK_HEADERS)
        for r in rows:
            ws.append([_safe(v) for v in r])
            n += 1
        _style_header(ws, [6, 18, 10, 60, 24, 30, 30, 60, 12])
    if not wb.worksheets:
        wb.create_sheet(next(iter(titles.values()))).append(BANK_HEADERS)
    _save(wb, out, inputs=inputs)
    return n


def write_keyword_xlsx(lib, out: Path, *, inputs: Iterable[str | Path] = ()) -> int:
    import openpyxl

    tax = load_taxonomy()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拦截关键词列表"
    ws.append(["关键词", "一级分类", "二级分类"])
    for k in lib.keywords:
        r = tax.risk(k.risk)
        ws.append([_safe(k.keyword), k.level1, f"{r.code} {r.zh}"])
    _style_header(ws, [30, 30, 40])
    _save(wb, out, inputs=inputs)
    return len(lib.keywords)


EXPANDED_HEADERS = ["关键词", "一级分类", "二级分类", "折叠形式 folded", "繁体 traditional", "拆字 split",
                    "拼音 pinyin", "首字母 initials", "同音 homophones"]


def write_expanded_keywords(rows: list[list], out: Path, *, inputs: Iterable[str | Path] = ()) -> int:
    """The expanded keyword list for the filing annex: one row per entry, the forms it catches per column
    (several forms of one kind separated by '; '). .csv (UTF-8 with BOM, for Excel) or .xlsx by suffix."""
    if Path(out).suffix.lower() == ".csv":
        import csv
        import io

        from cnai.core.safeio import write_text

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(EXPANDED_HEADERS)
        w.writerows([[_safe(v) for v in r] for r in rows])
        write_text(Path(out), "\ufeff" + buf.getvalue(), inputs=inputs)
        return len(rows)
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "拦截关键词扩展列表"
    ws.append(EXPANDED_HEADERS)
    for r in rows:
        ws.append([_safe(v) for v in r])
    _style_header(ws, [24, 24, 30, 24, 24, 30, 30, 16, 40])
    _save(wb, out, inputs=inputs)
    return len(rows)
