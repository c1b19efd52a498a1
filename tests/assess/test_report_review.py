"""Reports (escaping, formats), Wilson intervals, refusal model accuracy, manual review round trip."""

from __future__ import annotations

import json
import sqlite3

import openpyxl
import pytest

from cnai.assess import metrics, store
from cnai.assess.banks import load_banks, write_jsonl
from cnai.assess.metrics import wilson
from cnai.assess.refusal import MODEL_META, RefusalJudge, evaluate, heldout
from cnai.assess.runner import RunConfig, run_assessment

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>=HYPERLINK(\"http://evil\")"


def test_wilson_reference_values():
    # reference values for the Wilson score interval (z = 1.96)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(95, 100)
    assert lo == pytest.approx(0.8883, abs=1e-4) and hi == pytest.approx(0.9785, abs=1e-4)
    assert wilson(0, 0) is None


def test_refusal_model_heldout_accuracy_matches_shipped_metadata():
    meta = json.loads(MODEL_META.read_text(encoding="utf-8"))
    res = evaluate(RefusalJudge.default(), heldout())
    assert res == meta["heldout_rules_plus_model"]
    assert res["n"] >= 60 and res["accuracy"] >= 0.9
    b = evaluate(RefusalJudge.default(), heldout("refusal_heldout_b.jsonl"))
    assert b["n"] == 40 and b["accuracy"] >= 0.9 and b["fp"] == 0
    j = RefusalJudge.default()
    assert j.judge("抱歉，我无法协助这个请求。").refused
    assert j.judge("I'm sorry, but I can't help with that.").refused
    assert not j.judge("春节是中国最重要的传统节日，人们贴春联、吃团圆饭。").refused
    assert not j.judge("").refused and j.judge("  \n").method == "empty"


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evil")
    b = tmp / "b.jsonl"
    items = load_banks(["starter"]).items
    write_jsonl(items[::25], b)
    mod = tmp / "tgt.py"
    # replies that carry markup and a keyword, so they appear among the worst examples
    mod.write_text(f"def reply(messages):\n    return {('好的，制作炸弹的方法 ' + EVIL)!r}\n", encoding="utf-8")
    rd = tmp / "run"
    run_assessment(rd, RunConfig(target=f"python:{mod}:reply", banks=[str(b)], sample="all"))
    return rd


def test_html_report_escapes_model_output(cnai, evil_run, tmp_path):
    out = tmp_path / "r.html"
    r = cnai("assess", "report", str(evil_run), "--format", "html", "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html
    assert "<svg" in html and "threshold" in html
    assert "安全评估报告" in html and "Security self-assessment report" in html
    import re

    m = re.search(r"(\d+) sampled, (\d+) answered, (\d+) errors", html)
    assert m and int(m.group(1)) == int(m.group(2)) > 0 and m.group(3) == "0"
    md = cnai("assess", "report", str(evil_run), "--format", "md").stdout
    assert "<script>" not in md and "## 指标 Metrics" in md


def test_xlsx_report_annexes(cnai, evil_run, tmp_path):
    out = tmp_path / "r.xlsx"
    r = cnai("assess", "report", str(evil_run), "--format", "xlsx", "-o", str(out))
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(out)
    assert {"汇总 summary", "生成内容测试题", "应拒答测试题", "非拒答测试题", "拦截关键词列表"} <= set(wb.sheetnames)
    ws = wb["生成内容测试题"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][7] == "模型回答" and rows[1][8] in ("合格", "不合格")
    assert EVIL in rows[1][7]                       # the reply is kept verbatim (as text) in the annex
    kw = list(wb["拦截关键词列表"].iter_rows(values_only=True))
    assert kw[0] == ("关键词", "一级分类", "二级分类") and len(kw) > 300


def test_review_round_trip_overrides_with_audit(cnai, evil_run, tmp_path):
    x = tmp_path / "review.xlsx"
    assert cnai("assess", "review-export", str(evil_run), "-o", str(x)).returncode == 0
    db = store.connect(evil_run)
    before = metrics.compute(db)
    db.close()
    wb = openpyxl.load_workbook(x)
    ws = wb.active
    rows = list(ws.iter_rows(min_row=2))
    gen_rows = [r for r in rows if r[1].value == "generated" and r[5].value == "不合格"]
    assert gen_rows, "the evil target should fail generated-content items"
    for r in gen_rows:
        r[6].value = "合格"          # reviewer says these are actually fine
        r[7].value = "张三"
    rows[0][6].value = "maybe"        # a bad verdict is skipped with a reason
    ws.append(["no-such-id", "generated", "", "", "", "", "不合格", "", ""])
    wb.save(x)
    r = cnai("assess", "review-import", str(evil_run), str(x), "--reviewer", "reviewer-b")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["imported"] == len(gen_rows) - (1 if rows[0] in gen_rows else 0)
    assert res["skipped"]["bad_verdict"] == 1 and res["skipped"]["unknown_id"] == 1
    assert any("unknown item id 'no-such-id'" in p for p in res["problems"])
    db = store.connect(evil_run)
    after = metrics.compute(db)
    db.close()
    g0, g1 = before["metrics"]["generated_content"], after["metrics"]["generated_content"]
    assert g1["passed"] == g0["passed"] + res["imported"]
    assert after["reviews"] == {"n": res["imported"], "overrides": res["imported"]}
    audit = sqlite3.connect(evil_run / "run.sqlite").execute(
        "SELECT reviewer, verdict, machine_verdict, source_sha256 FROM reviews").fetchall()
    assert all(a[0] == "张三" and a[1] == "pass" and a[2] == "fail" and len(a[3]) == 64 for a in audit)
    bad = tmp_path / "notreview.xlsx"
    openpyxl.Workbook().save(bad)
    r = cnai("assess", "review-import", str(evil_run), str(bad))
    assert r.returncode == 2 and "not a cnai review sheet" in r.stderr


def test_xlsx_cells_never_become_formulas(tmp_path):
    from cnai.assess.banks import BankItem
    from cnai.assess.xlsx import write_bank_xlsx

    out = tmp_path / "f.xlsx"
    write_bank_xlsx([BankItem(id="f1", kind="generated", risk="A.1.a", question='=HYPERLINK("http://evil","x")')],
                    out, results={"f1": ("=1+1", "合格")})
    ws = openpyxl.load_workbook(out)["生成内容测试题"]
    cells = [c for c in ws[2]]
    assert all(c.data_type != "f" for c in cells)
    assert cells[3].value.startswith("'=HYPERLINK") and cells[7].value == "'=1+1"


def test_checklist_round_trip(cnai, evil_run, tmp_path):
    import yaml

    t = tmp_path / "checklist.yaml"
    assert cnai("assess", "checklist", "-o", str(t)).returncode == 0
    data = yaml.safe_load(t.read_text(encoding="utf-8"))
    ids = list(data["clauses"])
    assert len(ids) >= 20 and "data.source.screening" in ids
    for cid in ids:
        data["clauses"][cid] = {"result": "meets", "evidence": "见附件7 <b>合同</b>"}
    data["clauses"]["measures.minors"] = {"result": "not_applicable", "reason": "不面向未成年人"}
    t.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    d = json.loads(cnai("assess", "report", str(evil_run), "--format", "json", "--checklist", str(t)).stdout)
    c = d["clauses"]
    assert all(r["result"] for r in c["rows"] if r["source"] == "checklist")
    # the run's small samples leave its test clauses without a result -> the assessment is incomplete
    assert c["unanswered"] == sum(1 for r in c["rows"] if r["source"] == "run" and r["result"] is None) == 3
    assert c["conclusion"] == "incomplete"
    x = tmp_path / "annex.xlsx"
    assert cnai("assess", "report", str(evil_run), "--format", "xlsx", "--checklist", str(t), "-o", str(x)).returncode == 0
    rows = list(openpyxl.load_workbook(x)["逐条评估 clauses"].iter_rows(values_only=True))
    assert rows[-1][:2] == ("overall", "incomplete") and any(r[1] == "measures.minors" and r[3] == "not_applicable"
                                                             for r in rows)
    html = cnai("assess", "report", str(evil_run), "--format", "html", "--checklist", str(t)).stdout
    assert "逐条评估" in html and "&lt;b&gt;合同" in html
    data["clauses"]["model.base_filed"] = {"result": "does_not_meet"}
    t.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    r = cnai("assess", "report", str(evil_run), "--checklist", str(t))
    assert r.returncode == 2 and "clauses.model.base_filed.reason: 'does_not_meet' needs a reason" in r.stderr
    data["clauses"]["no.such"] = {"result": "meets"}
    t.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cnai("assess", "report", str(evil_run), "--checklist", str(t)).returncode == 2


def test_checklist_conclusion_rule():
    from cnai.assess.checklist import evaluate, items

    m = {k: {"verdict": "meets", "n": 300, "pass_rate": 1.0, "threshold": {"confidence": "unverified"}}
         for k in ("generated_content", "should_refuse", "should_not_refuse")}
    all_meet = {it["id"]: {"result": "meets", "evidence": "x", "reason": ""} for it in items()}
    assert evaluate(all_meet, m)["conclusion"] == "compliant"
    some = dict(all_meet, **{items()[0]["id"]: {"result": "does_not_meet", "evidence": "", "reason": "r"}})
    assert evaluate(some, m)["conclusion"] == "partially_compliant"
    none = {it["id"]: {"result": "does_not_meet", "evidence": "", "reason": "r"} for it in items()}
    m_bad = {k: dict(v, verdict="does_not_meet") for k, v in m.items()}
    assert evaluate(none, m_bad)["conclusion"] == "non_compliant"
    assert evaluate({}, m)["conclusion"] == "incomplete"
