"""Real evidence for dossier tests, made once per session by the real commands on small inputs:
an assessment run against the deterministic mock target, a corpus audit with a source register, a
label check, the starter keyword library and a small question bank."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import ROOT, invoke

BANKS = ROOT / "src/cnai/assess/data/banks"


def _ok(r, *codes):
    assert r.returncode in (codes or (0,)), r.stderr[-800:]
    return r


@pytest.fixture(scope="session")
def evidence(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("evidence")
    # question bank: every 8th starter item of each kind (all risks and aspects still present)
    bank = base / "bank.jsonl"
    with open(bank, "w", encoding="utf-8") as out:
        for kind in ("generated", "refuse", "nonrefuse"):
            for i, line in enumerate((BANKS / f"{kind}.jsonl").read_text("utf-8").splitlines()):
                if i % 8 == 0:
                    out.write(line + "\n")
    keywords = base / "keywords.yaml"
    shutil.copyfile(BANKS / "keywords.yaml", keywords)     # same bytes as the run's default library
    run = base / "run"
    _ok(invoke("assess", "run", "--target", "mock:mixed", "--bank", str(bank), "--run-dir", str(run),
               "--sample", "all", "--seed", "1", "--concurrency", "8"), 0, 1)
    # corpus: two sources, one breaking the 5% rule
    data = base / "data"
    for src in ("forum", "news"):
        (data / src).mkdir(parents=True)
    with open(data / "forum/posts.jsonl", "w", encoding="utf-8") as fh:
        for i in range(200):
            t = "有人在帖子里煽动颠覆国家政权。" if i % 10 == 0 else f"今天天气很好，我们去公园散步。第{i}条"
            fh.write(json.dumps({"id": f"f{i}", "text": t}, ensure_ascii=False) + "\n")
    with open(data / "news/articles.jsonl", "w", encoding="utf-8") as fh:
        for i in range(100):
            fh.write(json.dumps({"id": f"n{i}", "text": f"本市今日举行科技展览，第{i}场。"}, ensure_ascii=False) + "\n")
    register = base / "register.yaml"
    register.write_text("sources:\n  - name: forum\n    origin: scraped\n  - name: news\n    origin: purchased\n",
                        "utf-8")
    audit = base / "audit"
    _ok(invoke("corpus", "audit", str(data / "forum"), str(data / "news"), "--out", str(audit), "--sample", "50",
               "--register", str(register), "--workers", "1"), 0, 1)
    # label check: one labelled and one unlabelled text file
    lab_in = base / "media"
    lab_in.mkdir()
    (lab_in / "a.md").write_text("# 标题\n\n生成的文本。\n", "utf-8")
    (lab_in / "b.md").write_text("# 标题\n\n另一段文本。\n", "utf-8")
    _ok(invoke("label", "embed", str(lab_in / "a.md"), "--producer", "001191110102MACQD9K64010000",
               "-o", str(base / "labelled"), "--no-progress"))
    r = _ok(invoke("label", "check", str(base / "labelled" / "a.md"), str(lab_in / "b.md"), "--format", "jsonl",
                   "--no-progress"), 1)
    check = base / "check.jsonl"
    check.write_text(r.stdout, "utf-8")
    agreement = base / "agreement.txt"
    agreement.write_text("智答服务协议（测试用）\n", "utf-8")
    return {"base": base, "agreement": agreement, "bank": bank, "keywords": keywords, "run": run, "audit": audit, "check": check,
            "profile": ROOT / "examples/chatbot-startup.yaml"}


FULL_FACTS = """schema: cnai/dossier-facts/v1
service_name: 智答 ZhiDa Chat
legal_representative: 张三
assessment_lead: 李四
contacts: [{role: 安全负责人, name: 王五, phone: "010-12345678"}]
model: {name: 智答大模型, version: "2.1"}
domain: general
service_forms: [app, web]
corpus:
  storage_size: 1.2 TB
  tokens: 300000000000
  by_type: {zh_text: 800 GB, en_text: 300 GB, code: 100 GB, image: 0, audio: 0, video: 0}
  foreign_open_source_share: 0.12
annotation:
  count: 120000
  annotators: 40
  annotator_type: both
  training_hours: 16
  training_sessions: 4
  manual_verification_ratio: 0.2
  rules: {goal: 对话质量与安全, data_format: JSONL, method: 双人标注加审核, quality_metrics: 准确率不低于95%,
          functional_rules: 功能性规则全文见内部手册第2章, safety_rules: 安全规则逐项覆盖附录A的31类风险}
compute: {inference: 自有 GPU 集群, third_party_cloud: 无}
classifier: 自研 31 类风险分类模型
safety_measures: {minors: 不面向未成年人，注册实名校验, complaint_channels: 电话、邮件、应用内举报，48小时内处理,
  input_training_opt_out: 设置页一键关闭, monitoring: 7×24 监看, keyword_update: 每周, model_update_reassessment: 重大更新后重新评估}
algorithm: {name: 智答生成合成算法, basic_principle: 基于Transformer的大语言模型, purpose: 提供问答与写作辅助,
  operating_mechanism: 用户输入经安全过滤后由模型生成回复，输出再经审核}
labeling:
  text: {explicit: 对话界面末尾显示“内容由AI生成”, implicit: 导出文件元数据写入 GB 45438 隐式标识}
  code: {explicit: 代码块上方标注“AI生成”, implicit: 导出文件元数据}
"""


@pytest.fixture(scope="session")
def facts_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("facts") / "facts.yaml"
    p.write_text(FULL_FACTS, "utf-8")
    return p


def build_args(ev: dict, out: Path, *extra: str, run=True, audit=True, check=True, kw=True, q=True) -> list[str]:
    a = ["dossier", "build", str(ev["profile"]), "-o", str(out), "--as-of", "2026-12-01"]
    if run:
        a += ["--run", str(ev["run"])]
    if audit:
        a += ["--audit", str(ev["audit"])]
    if check:
        a += ["--label-check", str(ev["check"])]
    if kw:
        a += ["--keywords", str(ev["keywords"])]
    if q:
        a += ["--questions", str(ev["bank"])]
    return a + list(extra)


@pytest.fixture(scope="session")
def built(evidence, facts_file, tmp_path_factory) -> Path:
    """One full dossier (filing + algorithm routes, PDF, English copy), shared by read-only tests."""
    out = tmp_path_factory.mktemp("dossier") / "d"
    r = invoke(*build_args(evidence, out, "--facts", str(facts_file), "--lang", "en",
                           "--evidence", f"service-agreement={evidence['agreement']}"))
    assert r.returncode == 0, r.stderr[-800:]
    return out
