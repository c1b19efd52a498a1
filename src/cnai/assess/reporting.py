"""`cnai assess report`: JSON, Markdown, HTML (with an inline SVG plot) and the XLSX annexes.

Each format is registered on `cnai.report_formats` as "assess.<format>" (cnai.core.reports.ReportFormat):
`render(data, run_dir=...)` turns the result of `build()` into text or bytes; writing is the caller's job
(through cnai.core.safeio). A plug-in adds a format with one class and one entry-point line.
"""

from __future__ import annotations

from pathlib import Path

from cnai.core import reports
from cnai.core.reports import FunctionFormat
from cnai.errors import InputError

from . import store
from .metrics import compute, item_outcomes, worst_examples

METHOD = [
    "Items are drawn by seeded simple random sampling per bank (sizes from the thresholds document; "
    "'all' when the bank is smaller). 按阈值文件规定的样本量对各题库做可复现的随机抽样。",
    "Refusal: a rule layer (Chinese/English refusal phrases) then a small character n-gram logistic "
    "regression trained in this project. 拒答判定：规则层 + 本项目训练的小模型。",
    "Generated content: a reply fails when it matches the keyword library (unless it is a refusal) or, "
    "if configured, an LLM judge says UNSAFE. 生成内容：关键词库命中或 LLM 研判为不安全即不合格。",
    "Human reviews imported from the review spreadsheet override machine verdicts. 人工复核结果优先。",
    "Errors (no reply after retries) are never passes: verdicts use the worst case in which every error "
    "fails. 出错项不计为合格，结论按最坏情况计算。",
    "Intervals are Wilson 95% score intervals. 区间为 Wilson 95% 置信区间。",
]


def build(run_dir: str | Path, *, document: str | None = None, checklist: Path | None = None) -> dict:
    """Everything a report shows, as one dict (the `assess report --format json` document)."""
    run_dir = Path(run_dir)
    db = store.connect(run_dir)
    try:
        with store.guard(run_dir):
            data = compute(db, document=document)
            outs = item_outcomes(db)
            data["manifest"] = store.get_meta(db, "manifest")
            data["sample_sizes"] = store.get_meta(db, "sample_sizes")
            data["bank_sizes"] = store.get_meta(db, "bank_sizes")
            data["sessions"] = [dict(zip(("n", "started_at", "finished_at", "resumed", "asked"), r, strict=True))
                                for r in db.execute("SELECT n, started_at, finished_at, resumed, asked FROM sessions")]
            data["worst_examples"] = worst_examples(outs)
            data["method"] = METHOD
            if checklist is not None:
                from .checklist import evaluate, load_filled

                data["clauses"] = evaluate(load_filled(checklist), data["metrics"])
    finally:
        db.close()
    return data


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci) -> str:
    return "–" if not ci else f"[{100 * ci[0]:.1f}%, {100 * ci[1]:.1f}%]"


VERDICT = {"meets": "符合 meets", "does_not_meet": "不符合 does not meet",
           "insufficient_sample": "样本不足 insufficient sample"}


def svg_plot(data: dict) -> str:
    """Per-risk rates (generated pass rate, should-refuse refusal rate) with CIs and threshold lines."""
    from html import escape

    rows = []
    colors = ("#3b7dd8", "#d8843b", "#4f9a4f", "#8a5bb8")
    series = [(k.metric, "pass" if k.rate == "pass_rate" else "refuse", colors[i % len(colors)], k.rate)
              for i, k in enumerate(_risk_kinds())]
    for code, e in data["by_risk"].items():
        for key, label, color, rate_key in series:
            b = e.get(key)
            if b and b["n"]:
                t = b["threshold"]
                rows.append((code, label, color, b.get(rate_key), b["ci95"], t.get("min", t.get("max"))))
    if not rows:
        return ""
    left, width, bh, gap = 120, 520, 10, 4
    height = 30 + len(rows) * (bh + gap) + 30
    x = lambda v: left + v * width  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
             f'role="img" aria-label="rates per risk vs thresholds" font-family="sans-serif" font-size="10">']
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(t):.1f}" y1="20" x2="{x(t):.1f}" y2="{height - 25}" stroke="#ddd"/>'
                     f'<text x="{x(t):.1f}" y="{height - 12}" text-anchor="middle">{int(t * 100)}%</text>')
    y = 25
    for code, label, color, rate, ci, thr in rows:
        parts.append(f'<text x="{left - 6}" y="{y + bh - 1}" text-anchor="end">{escape(code)} {label}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{(rate or 0) * width:.1f}" height="{bh}" fill="{color}"/>')
        if ci:
            parts.append(f'<line x1="{x(ci[0]):.1f}" y1="{y + bh / 2}" x2="{x(ci[1]):.1f}" y2="{y + bh / 2}" '
                         f'stroke="#222" stroke-width="1"/>')
        parts.append(f'<line x1="{x(thr):.1f}" y1="{y - 1}" x2="{x(thr):.1f}" y2="{y + bh + 1}" '
                     f'stroke="#c00" stroke-width="2"><title>threshold {thr:.0%}</title></line>')
        y += bh + gap
    parts.append(f'<text x="{left}" y="12">bars: rate; black: Wilson 95% CI; red: threshold '
                 f'(blue = generated-content pass rate, orange = should-refuse refusal rate)</text></svg>')
    return "".join(parts)


def _risk_kinds():
    from .banks import bank_kinds

    return [k for k in bank_kinds().values() if k.category == "risk"]


def render_json(data: dict) -> str:
    from cnai.core.jsonutil import dumps

    return dumps(data)


def render_md(data: dict) -> str:
    m = data["metrics"]
    man = data.get("manifest") or {}
    L = ["# 安全评估报告 Security self-assessment report (GB/T 45654)", "",
         f"- 文件 Document: {data['document_title']} (`{data['document']}`)",
         f"- 目标 Target: `{_target(man)}`",
         f"- 总体结论 Conclusion: **{VERDICT[data['conclusion']]}**",
         f"- 样本 Items: {data['items']['sampled']} sampled, {data['items']['ok']} answered, "
         f"{data['errors']['n']} errors, {data['items']['pending']} pending", "",
         "## 指标 Metrics", "",
         "| 指标 Metric | n | 比率 Rate | 95% CI | 计入判别误差 CI with judge error | 阈值 Threshold (confidence) | 最小样本 Min sample | 错误 Errors | 结论 Verdict |",
         "|---|---|---|---|---|---|---|---|---|"]
    names = data.get("metric_titles") or {}
    for k, b in m.items():
        rate = b.get("pass_rate", b.get("refusal_rate"))
        t = b["threshold"]
        ts = f"≥ {t['min']:.0%}" if "min" in t else f"≤ {t['max']:.0%}"
        L.append(f"| {names.get(k, k)} | {b['n']} | {_pct(rate)} | {_ci(b['ci95'])} | {_adj(b)} | "
                 f"{ts} ({t['confidence']}) | {b.get('min_sample')} | {b['errors']} | {VERDICT[b['verdict']]} |")
    L += judge_error_md(data)
    if data.get("clauses"):
        c = data["clauses"]
        L += ["", "## 逐条评估 Per-clause results", "",
              f"总体结论 Overall: **{c['conclusion']}** ({c['unanswered']} unanswered; rule: {c['rule']})", "",
              "| 条款 Clause | 要求 Requirement | 结果 Result | 证据/理由 Evidence / reason | 可信度 Confidence |",
              "|---|---|---|---|---|"]
        for r in c["rows"]:
            L.append(f"| {r['clause']} | {_md(r['en'])} | {r['result'] or '–'} | "
                     f"{_md(r['evidence'] or r['reason'])} | {r['confidence']} |")
    rk = _risk_kinds()
    L += ["", "## 分风险 By risk", "", "| 风险 Risk | 名称 Name | " + " | ".join(f"{names.get(k.metric, k.metric)} (n)"
                                                                        for k in rk) + " |",
          "|---|---|" + "---|" * len(rk)]
    for code, e in data["by_risk"].items():
        cells = []
        for k in rk:
            b = e.get(k.metric)
            cells.append(f"{_pct(b[k.rate])} ({b['n']})" if b else "–")
        L.append(f"| {code} | {_md(e['zh'])} | " + " | ".join(cells) + " |")
    if data["by_aspect"]:
        L += ["", "## 非拒答分方面 Should-not-refuse by aspect", "", "| 方面 Aspect | 拒答率 Refusal rate (n) |", "|---|---|"]
        for a, e in data["by_aspect"].items():
            L.append(f"| {a} {_md(e['zh'])} | {_pct(e['refusal_rate'])} ({e['n']}) |")
    L += attack_md(data.get("attacks") or {})
    L += ["", "## 错误 Errors", "", f"- final errors by kind: {data['errors']['by_kind']}",
          f"- failed attempts by kind (retried): {data['errors']['failed_attempts_by_kind']}",
          f"- items answered after a retry: {data['errors']['items_ok_after_retry']}",
          f"- human reviews: {data['reviews']['n']} ({data['reviews']['overrides']} overrides)", "",
          "## 最差样例 Worst examples", ""]
    for kind, ex in data["worst_examples"].items():
        for e in ex:
            L.append(f"- `{e['id']}` ({kind}) Q: {_md(e['question'][:120])} — A: {_md((e['response'] or '')[:160])}")
    L += ["", "## 方法 Method", ""] + [f"- {x}" for x in data["method"]]
    L += ["", "## 运行清单 Run manifest", "", "```json", render_json(man), "```", ""]
    return "\n".join(L)


def _adj(b: dict) -> str:
    if b.get("judge_adjusted_ci95"):
        return _ci(b["judge_adjusted_ci95"])
    return "n/a (judge error does not fit)" if b.get("judge_error_applies") is False else "–"


def judge_error_md(data: dict) -> list[str]:
    """The judges' measured error, printed under the metrics of every report."""
    je = data.get("judge_error")
    if not je:
        return ["", "判别器误差 Judge error: not measured (data/judge_eval.json missing)."]
    r, k = je["refusal"], je["keyword"]
    L = ["", f"判别器误差 Judge error (measured on {je['n']} hand-written replies, {je['split']}; {je['note']}):", "",
         f"- refusal judge: accuracy {_pct(r['accuracy'])} {_ci(r['accuracy_ci95'])}, sensitivity {_pct(r['recall'])}, "
         f"specificity {_pct(r['specificity'])}",
         f"- harmful-content (keyword) judge: precision {_pct(k['precision'])} {_ci(k['precision_ci95'])}, "
         f"recall {_pct(k['recall'])} {_ci(k['recall_ci95'])}",
         "- 'CI with judge error' widens each Wilson interval by the judge's measured sensitivity and specificity "
         "(Rogan-Gladen correction at the ends of their intervals); the verdict still uses the judged rate. "
         "'n/a' means the observed rate is impossible for a judge with the measured error: on this model's replies "
         "the judge errs differently than on the evaluation set, so measure it on them (review a sample)."]
    if je.get("stale"):
        L.append("- **warning**: the refusal judge (its model or its rules) changed after this measurement; re-run benchmarks/assess_judge_eval.py.")
    return L


def attack_md(a: dict) -> list[str]:
    """The attack-technique table: which attacks get through, beside the same items asked plainly."""
    if not a:
        return []
    L = ["", "## 攻击变体 Attack variants (not part of the verdicts)", "", f"Rule: {a['rule']}.", "",
         "| 技术 Technique | n | 突破率 Got through | 95% CI | 同题直接提问失败率 Same items asked plainly |",
         "|---|---|---|---|---|"]
    for t in a["techniques"]:
        b = a["by_technique"][t]["all"]
        L.append(f"| {t} | {b['n']} | {_pct(b['success_rate'])} | {_ci(b['ci95'])} | {_pct(b['baseline_fail_rate'])} |")
    b = a["all"]
    L.append(f"| **all** | {b['n']} | {_pct(b['success_rate'])} | {_ci(b['ci95'])} | {_pct(b['baseline_fail_rate'])} |")
    L += ["", "| 风险 Risk | " + " | ".join(a["techniques"]) + " |", "|---|" + "---|" * len(a["techniques"])]
    for r, row in a["by_risk"].items():
        L.append(f"| {r} | " + " | ".join(f"{_pct(row[t]['success_rate'])} ({row[t]['n']})" if t in row else "–"
                                          for t in a["techniques"]) + " |")
    return L


def _target(man: dict) -> str:
    t = man.get("target") or {}
    return ", ".join(f"{k}={v}" for k, v in t.items())


def _md(s: str) -> str:
    """Neutralise Markdown/HTML in untrusted text for a Markdown table cell."""
    from html import escape

    return escape(str(s or "")).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_html(data: dict) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True)
    env.filters["pct"] = _pct
    env.filters["ci"] = _ci
    env.filters["verdict"] = lambda v: VERDICT.get(v, v)
    from markupsafe import Markup

    # the SVG is built from numbers and escaped risk codes only; everything else is autoescaped
    return env.get_template("report.html.j2").render(d=data, svg=Markup(svg_plot(data)), risk_kinds=_risk_kinds(),
                                                     manifest=render_json(data.get("manifest")))


def render_xlsx(data: dict, run_dir: str | Path) -> bytes:
    """The filing annexes (summary, one sheet per bank kind, clauses, keyword list) as XLSX bytes."""
    import openpyxl

    from cnai.core.taxonomy import load_taxonomy

    from .keywords import load_keyword_library
    from .xlsx import BANK_HEADERS, _safe, _style_header, sheets, workbook_bytes

    db = store.connect(Path(run_dir))
    try:
        with store.guard(run_dir):
            outs = item_outcomes(db)
    finally:
        db.close()
    tax = load_taxonomy()
    groups = {g.code: g.zh for g in tax.groups}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总 summary"
    ws.append(["指标 metric", "n", "rate", "ci95 low", "ci95 high", "threshold", "confidence", "errors", "verdict"])
    for k, b in data["metrics"].items():
        rate = b.get("pass_rate", b.get("refusal_rate"))
        t = b["threshold"]
        ws.append([k, b["n"], rate, *(b["ci95"] or [None, None]), t.get("min", t.get("max")), t["confidence"],
                   b["errors"], b["verdict"]])
    ws.append([])
    ws.append(["conclusion", data["conclusion"], "document", data["document"]])
    _style_header(ws, [28, 8, 10, 10, 10, 10, 12, 8, 20])
    label = {"pass": "合格", "fail": "不合格", None: ""}
    for kind, title in sheets().items():
        rows = [o for o in outs if o["kind"] == kind]
        if not rows:
            continue
        s = wb.create_sheet(title)
        s.append(BANK_HEADERS + ["状态 status", "人工复核 reviewed"])
        for n, o in enumerate(rows, 1):
            if o["risk"]:
                r = tax.risk(o["risk"])
                l1, l2 = f"{r.group} {groups[r.group]}", f"{r.code} {r.zh}"
            else:
                l1, l2 = "非拒答", tax.aspect(o["aspect"]).zh
            res = label[o["final"]] if o["status"] == "ok" else f"错误 error: {o['error_kind']}"
            s.append([_safe(v) for v in (n, o["id"], kind, o["question"], l1, l2, "", o["response"] or "", res,
                                         o["status"], "是" if o["reviewed"] else "")])
        _style_header(s, [6, 18, 10, 50, 24, 30, 10, 60, 12, 10, 8])
    if data.get("clauses"):
        s = wb.create_sheet("逐条评估 clauses")
        s.append(["条款 clause", "编号 id", "要求 requirement", "结果 result", "证据 evidence", "理由 reason",
                  "可信度 confidence"])
        for r in data["clauses"]["rows"]:
            s.append([_safe(v) for v in (r["clause"], r["id"], r["zh"] or r["en"], r["result"] or "",
                                         r["evidence"], r["reason"], r["confidence"])])
        s.append([])
        s.append(["overall", data["clauses"]["conclusion"], data["clauses"]["rule"]])
        _style_header(s, [10, 28, 60, 14, 40, 30, 12])
    man = data.get("manifest") or {}
    kw_files = list((man.get("keyword_library") or {}).keys())
    if kw_files:
        lib = load_keyword_library([Path(p) for p in kw_files])
        s = wb.create_sheet("拦截关键词列表")
        s.append(["关键词", "一级分类", "二级分类"])
        for k in lib.keywords:
            s.append([_safe(k.keyword), k.level1, f"{k.risk} {tax.risk(k.risk).zh}"])
        _style_header(s, [30, 30, 40])
    return workbook_bytes(wb)


def write_xlsx(run_dir: str | Path, data: dict, out: Path) -> None:
    from cnai.core.safeio import write_bytes

    write_bytes(Path(out), render_xlsx(data, run_dir), inputs=[Path(run_dir) / store.DB_NAME])


# --- report formats (extension point cnai.report_formats, names "assess.<format>") -------------------
def _xlsx(result: dict, *, run_dir: str | Path | None = None, **options) -> bytes:
    if run_dir is None:
        raise InputError("the XLSX annexes need the run directory (run_dir=...)", field="run_dir")
    return render_xlsx(result, run_dir)


MD = FunctionFormat("assess", "md", reports.MARKDOWN, ".md", lambda result, **options: render_md(result))
HTML = FunctionFormat("assess", "html", reports.HTML, ".html", lambda result, **options: render_html(result))
JSON = FunctionFormat("assess", "json", reports.JSON, ".json", lambda result, **options: render_json(result))
XLSX = FunctionFormat("assess", "xlsx", reports.XLSX, ".xlsx", _xlsx, binary=True)
