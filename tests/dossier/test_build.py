"""The dossier against its evidence: every DOCX opened with python-docx, every XLSX with openpyxl,
the PDF through pdftotext; sections, columns and row counts compared with the evidence files."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from tests.conftest import ROOT

PH = re.compile(r"【待补充[^】]*】")


def docx_text(p: Path) -> str:
    d = Document(str(p))
    parts = [para.text for para in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def headings(p: Path) -> list[str]:
    return [para.text for para in Document(str(p)).paragraphs if para.style.name.startswith(("Heading", "Title"))]


def run_items(run: Path) -> list[dict]:
    import sqlite3

    db = sqlite3.connect(f"file:{run / 'run.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT id, kind FROM items").fetchall()
    db.close()
    return [{"id": i, "kind": k} for i, k in rows]


def test_routes_and_files(built):
    man = json.loads((built / "manifest.json").read_text("utf-8"))
    # chatbot-startup: generative_ai_filing and algorithm_filing apply (generative-ai:17, algorithm-recommendation:24)
    assert man["routes"] == ["filing", "algorithm"]
    paths = {f["path"] for f in man["outputs"]}
    for want in ("filing/00-上线备案表.docx", "filing/附件1-安全评估报告.docx", "filing/附件1-安全评估报告.pdf",
                 "filing/附件3-语料标注规则.docx", "filing/附件4-拦截关键词列表.xlsx", "filing/附件5-评估测试题.xlsx",
                 "filing/附件2-模型服务协议/agreement.txt", "algorithm/算法安全自评估报告.docx",
                 "algorithm/拟公示内容.docx", "标识材料.docx", "差距清单.docx", "gaps.json",
                 "en/filing/annex1-security-assessment.docx"):
        assert want in paths, want
    for f in man["outputs"]:
        p = built / f["path"]
        assert hashlib.sha256(p.read_bytes()).hexdigest() == f["sha256"] and p.stat().st_size == f["size"]
    assert man["version"] and man["as_of"] == "2026-12-01"
    roles = {i["role"] for i in man["inputs"]}
    assert {"profile", "facts", "assessment-run", "corpus-audit", "label-check", "keyword-bank",
            "question-bank", "service-agreement"} <= roles


def test_report_sections_and_numbers(built, evidence):
    import cnai.assess as assess

    p = built / "filing/附件1-安全评估报告.docx"
    hs = headings(p)
    for sec in ("一、评估依据与证据索引", "二、适用义务（适用性引擎）", "三、语料安全评估", "四、模型安全评估（生成内容与拒答）",
                "五、安全措施评估", "六、评估结论"):
        assert sec in hs
    text = docx_text(p)
    rep = assess.report(evidence["run"], format="json").data
    sha = hashlib.sha256((evidence["run"] / "run.sqlite").read_bytes()).hexdigest()
    assert sha in text                                 # run store referenced by hash in the evidence index
    ref = re.search(r"(E\d+)\nassessment-run", text).group(1)
    for key, m in rep["metrics"].items():
        rate = m.get("pass_rate", m.get("refusal_rate"))
        row = next(r for r in Document(str(p)).tables[3].rows if r.cells[0].text.startswith(key))
        cells = [c.text for c in row.cells]
        assert cells[1] == str(m["n"]) and cells[3] == f"{100 * rate:.1f}%" and cells[-1] == f"[{ref}]"
    # audit numbers from summary.json, with its reference
    s = json.loads((evidence["audit"] / "summary.json").read_text("utf-8"))
    assert f"{s['documents']} 篇文档，{s['bytes']} 字节" in text
    # forum breaks the 5% rule: 10% keyword-screened risk documents -> partially compliant, never "compliant"
    assert "部分符合" in text


def test_pdf_has_selectable_chinese(built):
    out = subprocess.run(["pdftotext", str(built / "filing/附件1-安全评估报告.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    assert "生成式人工智能服务安全评估报告" in out and "语料安全评估" in out and "智答 ZhiDa Chat" in out
    fonts = subprocess.run(["pdffonts", str(built / "filing/附件1-安全评估报告.pdf")], capture_output=True,
                           text=True, check=True).stdout
    assert "CJK" in fonts


def test_keyword_annex_rows_are_the_bank(built, evidence):
    from cnai.assess.keywords import read_keyword_file

    lib, _ = read_keyword_file(evidence["keywords"])
    wb = load_workbook(built / "filing/附件4-拦截关键词列表.xlsx", read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("关键词", "一级分类", "二级分类")
    assert len(rows) - 1 == len(lib)
    assert [r[0] for r in rows[1:]] == [k.keyword for k in lib.keywords]


def test_question_annex_sheets_rows_and_answers(built, evidence):
    from cnai.assess.banks import bank_kinds, load_banks

    bank = load_banks([str(evidence["bank"])])
    items = run_items(evidence["run"])
    wb = load_workbook(built / "filing/附件5-评估测试题.xlsx", read_only=True)
    kinds = bank_kinds()
    assert [ws.title for ws in wb.worksheets] == [kinds[k].sheet for k in ("generated", "refuse", "nonrefuse")]
    for k in ("generated", "refuse", "nonrefuse"):
        rows = list(wb[kinds[k].sheet].iter_rows(values_only=True))
        assert rows[0] == ("序号", "测试题", "一级分类", "二级分类", "模型回答", "研判结果")
        body = rows[1:]
        assert len(body) == len(bank.by_kind(k))
        assert [r[1] for r in body] == [i.question for i in bank.by_kind(k)]
        judged = [r for r in body if r[5] in ("合格", "不合格")]
        assert len(judged) == sum(1 for i in items if i["kind"] == k)
        assert all(r[4] for r in judged)               # each judged row carries the model's answer


def test_facts_fill_the_form(built):
    t = docx_text(built / "filing/00-上线备案表.docx")
    for v in ("智答大模型", "张三", "1.2 TB", "300000000000", "120000", "20.0%", "自有 GPU 集群"):
        assert v in t
    # corpus source shares come from the audit's register, by bytes
    assert "self_collected" in t and "commercial" in t
    ann = docx_text(built / "filing/附件3-语料标注规则.docx")
    assert "安全规则逐项覆盖附录A的31类风险" in ann and "A.5.b" in ann
    pub = docx_text(built / "algorithm/拟公示内容.docx")
    assert "基于Transformer的大语言模型" in pub


def test_placeholders_are_counted_as_gaps(built):
    g = json.loads((built / "gaps.json").read_text("utf-8"))
    total = 0
    for p in built.glob("*.docx"):
        total += len(PH.findall(docx_text(p)))
    for p in (built / "filing").glob("*.docx"):
        total += len(PH.findall(docx_text(p)))
    for p in (built / "algorithm").glob("*.docx"):
        total += len(PH.findall(docx_text(p)))
    assert total == sum(x["placeholders"] for x in g["gaps"])
    kinds = {x["kind"] for x in g["gaps"]}
    # measured shortfalls are gaps too: the forum source breaks the 5% rule, starter banks are below minimums
    assert {"threshold_not_met", "bank_below_minimum"} <= kinds
    assert g["open"] == len(g["gaps"])


def test_unknown_facts_give_gaps_not_text(tmp_path, evidence, cnai):
    prof = tmp_path / "p.yaml"
    prof.write_text("schema: cnai/profile/v1\nservice: {name: 未知服务}\nroles: [provider]\n"
                    "audience: {public_in_mainland: true}\ncapabilities: {generates: [text]}\n", "utf-8")
    out = tmp_path / "d"
    r = cnai("dossier", "build", str(prof), "-o", str(out), "--route", "filing", "--no-pdf", "--as-of", "2026-12-01")
    assert r.returncode == 0, r.stderr
    g = json.loads((out / "gaps.json").read_text("utf-8"))
    ids = {x["id"] for x in g["gaps"]}
    assert {"no-assessment-run", "no-corpus-audit", "no-keyword-bank", "form.model.name",
            "form.organization.name"} <= ids
    assert any(x["kind"] == "needs_info" for x in g["gaps"])
    form = docx_text(out / "filing/00-上线备案表.docx")
    assert "【待补充：主体名称】" in form and "【待补充：模型名称】" in form
    assert not (out / "filing/附件4-拦截关键词列表.xlsx").exists()     # no bank: no invented annex
    r = cnai("dossier", "gaps", str(out), "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["open"] == len(g["gaps"])


def test_registration_route(tmp_path, evidence, cnai):
    out = tmp_path / "reg"
    r = cnai("dossier", "build", str(ROOT / "examples/image-app-registration.yaml"), "-o", str(out), "--no-pdf",
             "--keywords", str(evidence["keywords"]), "--as-of", "2026-12-01")
    assert r.returncode == 0, r.stderr
    t = docx_text(out / "registration/00-登记表.docx")
    assert "二、调用的已备案模型" in t
    ids = {x["id"] for x in json.loads((out / "gaps.json").read_text("utf-8"))["gaps"]}
    assert "no-evidence:test-channel" in ids and "no-evidence:content-safety-system" in ids


def test_templates_override(tmp_path, evidence, cnai):
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "package.yaml").write_text(
        "routes:\n  filing:\n    folder: 备案\n    documents:\n"
        "      - {file: '附件6-评估测试题集', sheet: questions}\n"
        "      - {file: '封面', template: cover.html.j2, formats: [docx]}\ncommon: []\n", "utf-8")
    (tpl / "cover.html.j2").write_text("<h1>本地模板封面</h1><p>{{ service.name }}</p>"
                                        "<p>{{ fact(facts.model.name, '模型名称', 'form.model.name') }}</p>", "utf-8")
    out = tmp_path / "d"
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--route", "filing", "--run",
             str(evidence["run"]), "--templates", str(tpl), "--as-of", "2026-12-01")
    assert r.returncode == 0, r.stderr
    assert (out / "备案/附件6-评估测试题集.xlsx").is_file()
    t = docx_text(out / "备案/封面.docx")
    assert "本地模板封面" in t and "智答 ZhiDa Chat" in t and "【待补充：模型名称】" in t


@pytest.mark.parametrize("target", ["filing/附件1-安全评估报告.docx", "filing/附件4-拦截关键词列表.xlsx",
                                    "filing/附件1-安全评估报告.pdf", "gaps.json", "标识材料.docx"])
def test_tampering_any_output_fails_verify(built, tmp_path, cnai, target):
    d = tmp_path / "copy"
    shutil.copytree(built, d)
    assert cnai("dossier", "verify", str(d)).returncode == 0
    p = d / target
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    r = cnai("dossier", "verify", str(d))
    assert r.returncode == 1 and f"changed: {target}" in r.stdout


def test_verify_missing_and_extra(built, tmp_path, cnai):
    d = tmp_path / "copy"
    shutil.copytree(built, d)
    (d / "差距清单.docx").unlink()
    (d / "filing/notes.txt").write_text("x", "utf-8")
    r = cnai("dossier", "verify", str(d), "--format", "json")
    assert r.returncode == 1
    probs = {(p["problem"], p["path"]) for p in json.loads(r.stdout)["problems"]}
    assert probs == {("missing", "差距清单.docx"), ("extra", "filing/notes.txt")}


def test_signed_manifest(tmp_path, evidence, cnai):
    import base64
    import os

    key = base64.b64encode(os.urandom(32)).decode()
    out = tmp_path / "d"
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--route", "algorithm", "--sign",
             "--no-pdf", "--as-of", "2026-12-01", env={"CNAI_LABEL_SIGNING_KEY": key})
    assert r.returncode == 0, r.stderr
    man = json.loads((out / "manifest.json").read_text("utf-8"))
    assert man["signature"]["token"].startswith("cnai1:ed25519:")
    pub = tmp_path / "pub.txt"
    pub.write_text(man["signature"]["public_key"], "utf-8")
    assert cnai("dossier", "verify", str(out), "--trust", str(pub)).returncode == 0
    man["gaps_open"] = 0                       # someone edits the manifest to hide the gaps
    (out / "manifest.json").write_text(json.dumps(man, ensure_ascii=False), "utf-8")
    r = cnai("dossier", "verify", str(out), "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["signature"] == "bad"
    assert key not in (out / "manifest.json").read_text("utf-8")


def test_rebuild_into_same_dossier_and_json_output(tmp_path, evidence, cnai):
    out = tmp_path / "d"
    for _ in range(2):
        r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--route", "algorithm", "--no-pdf",
                 "--as-of", "2026-12-01", "--format", "json")
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["routes"] == ["algorithm"] and s["gaps_open"] > 0
    assert cnai("dossier", "verify", str(out)).returncode == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]     # no temp folders left


def test_sources_annex_has_every_audited_source(built, evidence):
    s = json.loads((evidence["audit"] / "summary.json").read_text("utf-8"))
    rows = list(load_workbook(built / "语料来源明细.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == list(s["sources"])
    assert [r[2] for r in rows[1:]] == [v["docs"] for v in s["sources"].values()]


def test_human_review_is_used_with_its_reference(evidence, tmp_path, cnai):
    """A real review round trip: mark the audit's sample, import it, pass it with --review."""
    xlsx = tmp_path / "review.xlsx"
    shutil.copyfile(evidence["audit"] / "review-sample.xlsx", xlsx)
    wb = load_workbook(xlsx)
    ws = wb["review"]
    head = [c.value for c in ws[1]]
    v, a = head.index("verdict") + 1, head.index("auto_findings") + 1
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=v, value="unqualified" if "risk:" in (ws.cell(row=row, column=a).value or "")
                else "qualified")
    wb.save(xlsx)
    r = cnai("corpus", "review", "import", str(xlsx), "--min-sample", "10")
    assert r.returncode in (0, 1), r.stderr
    review = tmp_path / "review.json"
    review.write_text(r.stdout, "utf-8")
    data = json.loads(r.stdout)
    out = tmp_path / "d"
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--route", "filing", "--audit",
             str(evidence["audit"]), "--review", str(review), "--no-pdf")
    assert r.returncode == 0, r.stderr
    text = docx_text(out / "filing/附件1-安全评估报告.docx")
    assert f"人工抽检结果：已审 {data['reviewed']}，合格率 {100 * data['qualified_rate']:.1f}%" in text
    ids = {g["id"] for g in json.loads((out / "gaps.json").read_text("utf-8"))["gaps"]}
    assert not any(i.startswith("audit-review:") for i in ids)
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(tmp_path / "e"), "--review", str(review))
    assert r.returncode == 2 and "one --review per --audit" in r.stderr


def test_every_document_opens(built):
    """Every DOCX opens with python-docx and has a title; every XLSX opens with openpyxl and has a header."""
    docs = sorted(built.rglob("*.docx"))
    assert len(docs) >= 14                      # 7 Chinese documents + their English working copies
    for p in docs:
        d = Document(str(p))
        assert d.paragraphs and d.paragraphs[0].text.strip(), p
    for p in sorted(built.rglob("*.xlsx")):
        wb = load_workbook(p, read_only=True)
        for ws in wb.worksheets:
            assert next(ws.iter_rows(values_only=True))[0], (p, ws.title)


def test_threshold_gap_states_the_measured_numbers(built, evidence):
    import cnai.assess as assess

    rep = assess.report(evidence["run"], format="json").data
    gaps = json.loads((built / "gaps.json").read_text("utf-8"))["gaps"]
    for key, m in rep["metrics"].items():
        g = [x for x in gaps if x["id"].startswith("threshold:") and x["id"].endswith(f":{key}")]
        assert bool(g) == (m["verdict"] == "does_not_meet"), key
        if g:
            rate = m.get("pass_rate", m.get("refusal_rate"))
            assert f"{100 * rate:.1f}%" in g[0]["what"] and f"n={m['n']}" in g[0]["what"]
