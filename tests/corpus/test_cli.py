"""The real `cnai corpus` command in a subprocess: scan, audit, resume, review round trip, register."""

from __future__ import annotations

import json
import random

import pytest
from tests.conftest import invoke, run_cli

from cnai.corpus import checks

BENIGN = ["今天天气不错，我们去公园散步。", "这本书讲述了一个关于成长的故事。", "会议将于下周三下午召开。",
          "新款手机的续航表现很好。", "请大家按时提交周报。"]


def make_id(rnd):
    body = "110105" + f"{rnd.randint(1960, 2005)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + checks.id_check_char(body)


def write_corpus(tmp_path, n_docs=300, harmful_share=0.0, name="forum", seed=1):
    rnd = random.Random(seed)
    p = tmp_path / f"{name}.jsonl"
    with open(p, "w", encoding="utf-8") as fh:
        for i in range(n_docs):
            r = rnd.random()
            if r < harmful_share:
                text = "有人在帖子里煽动颠覆国家政权。"
            elif r < harmful_share + 0.2:
                text = f"客户身份证号{make_id(rnd)}，手机1{rnd.choice('3589')}{rnd.randint(0, 999999999):09d}。"
            else:
                text = rnd.choice(BENIGN)
            fh.write(json.dumps({"id": f"{name}-{i}", "text": text}, ensure_ascii=False) + "\n")
    return p


def test_scan_jsonl_shape(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": "x", "text": "身份证号11010519491231002X"}\n{"id": "y", "text": "没有"}\nbroken\n',
                 encoding="utf-8")
    r = invoke("corpus", "scan", str(p), "--format", "jsonl", "--workers", "1")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["doc"] for x in lines] == ["x", "y"]
    f = lines[0]["findings"][0]
    assert (f["type"], f["start"], f["end"]) == ("cn_resident_id", 4, 22) and 0 < f["confidence"] <= 1
    assert "malformed_json: 1" in r.stderr
    assert "11010519491231002X" not in r.stdout  # no PI values unless --with-text


def test_scan_parallel_equals_serial(tmp_path):
    p = write_corpus(tmp_path, 2000)
    a = invoke("corpus", "scan", str(p), "--workers", "1")
    b = invoke("corpus", "scan", str(p), "--workers", "2")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and len(a.stdout.splitlines()) == 2000


def test_audit_rates_sample_rule_and_resume(tmp_path):
    good = write_corpus(tmp_path, 400, 0.0, "clean_src", seed=2)
    bad = write_corpus(tmp_path, 400, 0.10, "bad_src", seed=3)
    out = tmp_path / "out"
    args = ["corpus", "audit", str(good), str(bad), "--out", str(out), "--sample", "100", "--seed", "5",
            "--shard-mb", "0.01", "--workers", "2", "--format", "json"]
    r = invoke(*args)
    assert r.returncode == 1, r.stderr  # bad_src breaks the 5% rule
    s = json.loads(r.stdout)
    assert s["documents"] == 800 and s["shards"] > 4
    assert s["sources"]["clean_src"]["verdict"] == "usable"
    assert s["sources"]["bad_src"]["verdict"] == "unusable"
    assert 0.05 < s["sources"]["bad_src"]["risk_doc_rate"] < 0.2
    assert s["findings"]["by_type"]["cn_resident_id"] == s["findings"]["documents_with"]["cn_resident_id"] > 100
    assert s["review_sample"]["size"] == 100 and (out / "review-sample.xlsx").is_file()
    assert s["verdict"]["sources_unusable"] == ["bad_src"]
    # resume: every shard is skipped, same summary
    r2 = invoke(*args)
    s2 = json.loads(r2.stdout)
    assert s2["shards_resumed"] == s2["shards"]
    for k in ("documents", "findings", "sources", "review_sample"):
        assert s2[k] == s[k]
    # different sharding and 1 worker: identical counts and the identical review sample
    r3 = invoke(*args[:-6], "--shard-mb", "1", "--workers", "1", "--out", str(tmp_path / "o3"), "--format", "json")
    s3 = json.loads(r3.stdout)
    assert s3["findings"] == s["findings"] and s3["sources"] == s["sources"]
    ids = [json.loads(x)["doc"] for x in open(out / "review-sample.jsonl", encoding="utf-8")]
    ids3 = [json.loads(x)["doc"] for x in open(tmp_path / "o3" / "review-sample.jsonl", encoding="utf-8")]
    assert ids == ids3


def test_audit_clean_corpus_exit_0_and_redaction(tmp_path):
    p = write_corpus(tmp_path, 200, 0.0, "only", seed=4)
    with open(p, "a", encoding="utf-8") as fh:
        fh.write("this is not json\n")
    out = tmp_path / "o"
    r = invoke("corpus", "audit", str(p), "--out", str(out), "--sample", "20", "--redact", "drop")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    red = s["redaction"]
    assert red["dropped"] == s["findings"]["documents_with"]["cn_resident_id"]
    assert red["dropped_by_reason"]["pi:cn_resident_id"] == red["dropped"]
    clean = [json.loads(x) for f in (out / "clean").glob("*.jsonl") for x in open(f, encoding="utf-8")]
    rejected = [json.loads(x) for f in (out / "rejected").glob("*.jsonl") for x in open(f, encoding="utf-8")]
    assert len(clean) + red["dropped"] == 200
    assert any(x["reasons"] == ["skip:malformed_json"] for x in rejected)
    assert all("身份证" not in x["text"] for x in clean)
    # the input file is untouched
    assert sum(1 for _ in open(p, encoding="utf-8")) == 201


def test_audit_mask_mode_keeps_fields(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(json.dumps({"id": "k", "meta": {"lang": "zh"}, "text": "我叫王小明，手机13800138000"},
                            ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "o"
    r = invoke("corpus", "audit", str(p), "--out", str(out), "--sample", "0", "--redact", "mask")
    assert r.returncode == 0, r.stderr
    rec = json.loads(next((out / "clean").glob("*.jsonl")).read_text("utf-8"))
    assert rec == {"id": "k", "meta": {"lang": "zh"}, "text": "我叫***，手机***********"}


def test_review_roundtrip_wilson(tmp_path):
    from openpyxl import load_workbook

    p = write_corpus(tmp_path, 300, 0.0, "rv", seed=6)
    out = tmp_path / "o"
    invoke("corpus", "audit", str(p), "--out", str(out), "--sample", "200")
    xlsx = out / "review-sample.xlsx"
    wb = load_workbook(xlsx)
    ws = wb["review"]
    header = [c.value for c in ws[1]]
    vcol = header.index("verdict") + 1
    for i, row in enumerate(range(2, ws.max_row + 1)):
        ws.cell(row=row, column=vcol, value="unqualified" if i < 4 else "qualified")
    wb.save(xlsx)
    r = invoke("corpus", "review", "import", str(xlsx), "--min-sample", "100")
    res = json.loads(r.stdout)
    assert res["reviewed"] == 200 and res["unqualified"] == 4
    assert res["qualified_rate"] == 0.98
    lo, hi = res["ci95"]
    assert 0.94 < lo < 0.96 and 0.99 < hi < 1.0  # Wilson interval for 196/200
    assert res["verdict"] == "pass" and r.returncode == 0
    r = invoke("corpus", "review", "import", str(xlsx))  # 200 < 4000
    assert r.returncode == 1 and json.loads(r.stdout)["verdict"] == "insufficient_sample"


def test_register_check_and_template(tmp_path):
    r = invoke("corpus", "register", "template")
    reg = tmp_path / "reg.yaml"
    reg.write_text(r.stdout, encoding="utf-8")
    r = invoke("corpus", "register", "check", str(reg))
    res = json.loads(r.stdout)
    assert r.returncode == 0 and res["complete"], res
    assert any("30%" in w for w in res["warnings"])  # open_wiki is 40% foreign
    reg.write_text("sources:\n  - name: vendor\n    origin: purchased\n    collected_from: 2024-01-01\n",
                   encoding="utf-8")
    r = invoke("corpus", "register", "check", str(reg))
    res = json.loads(r.stdout)
    assert r.returncode == 1
    missing = {i["requirement"]: i["missing"] for i in res["sources"][0]["requirements"] if i["missing"]}
    assert missing["commercial_contract"] == ["contract_evidence", "supplier_commitments"]
    assert "collected_to" in missing["collection_dates"]


@pytest.mark.parametrize("args,needle", [
    (["corpus", "scan", "/nonexistent/x.jsonl"], "no such file"),
    (["corpus", "scan", "README.md", "--encoding", "klingon"], "unknown encoding"),
    (["corpus", "audit", "README.md", "--keywords", "/nonexistent.yaml"], "keyword library not found"),
    (["corpus", "audit", "README.md", "--classifier", "nope"], "python:MODULE:FUNCTION"),
])
def test_bad_usage_exit_2(args, needle, tmp_path):
    r = invoke(*args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


def test_bad_register_and_review_files(tmp_path):
    bad = tmp_path / "reg.yaml"
    bad.write_text("sources:\n  - name: x\n    origin: stolen\n", encoding="utf-8")
    r = invoke("corpus", "register", "check", str(bad))
    assert r.returncode == 2 and "sources[0].origin" in r.stderr
    notx = tmp_path / "r.xlsx"
    notx.write_text("plain text", encoding="utf-8")
    r = invoke("corpus", "review", "import", str(notx))
    assert r.returncode == 2 and "xlsx" in r.stderr and "Traceback" not in r.stderr


def test_sample_key_limit_gives_the_same_sample(tmp_path):
    from cnai.corpus.detect import Detector
    from cnai.corpus.pipeline import AuditConfig, merge, run_local, sample_key_limit
    from cnai.corpus.readers import ReadOptions, plan_shards

    p = write_corpus(tmp_path, 1500, 0.0, "lim", seed=8)
    opts = ReadOptions(shard_bytes=20_000)
    shards, skips = plan_shards([str(p)], opts)
    assert sum(sh.lines for sh in shards) == 1500
    det = Detector()
    samples = []
    for limit in (None, sample_key_limit(shards, 60)):
        assert limit is None or limit < 2**64
        cfg = AuditConfig(read=opts, sample=60, sample_key_limit=limit)
        out = tmp_path / f"o{limit is None}"
        stats = run_local(shards, cfg, det, out, f"h{limit}", 1)
        merge(stats, cfg, out, skips)
        samples.append([json.loads(x)["doc"] for x in open(out / "review-sample.jsonl", encoding="utf-8")])
    assert samples[0] == samples[1] and len(samples[0]) == 60


def test_short_sample_reruns_without_limit(tmp_path):
    p = tmp_path / "mostly_bad.jsonl"
    with open(p, "w", encoding="utf-8") as fh:
        for i in range(1000):
            fh.write(json.dumps({"id": i, "text": f"第{i}条"}, ensure_ascii=False) + "\n" if i % 10 == 0
                     else "not json\n")
    r = invoke("corpus", "audit", str(p), "--out", str(tmp_path / "o"), "--sample", "50")
    s = json.loads(r.stdout)
    assert s["documents"] == 100 and s["review_sample"]["size"] == 50
    assert s["skipped"]["by_reason"] == {"malformed_json": 900}
    assert "rerunning without the sample key limit" in r.stderr


def test_audit_parquet_csv_nested_fields_and_classifier(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["p1", "p2", "p3"], "body": ["手机13800138000", "普通文本", None]}),
                   tmp_path / "shop.parquet")
    (tmp_path / "forum.csv").write_bytes("id,body\nc1,姓名：李雷，车牌京A12345\nc2,这里有诽谤内容\n".encode("gbk"))
    nested = tmp_path / "chat.jsonl"
    nested.write_text(json.dumps({"id": "n1", "msg": {"body": "邮箱 a.b@example.com"}}, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    plug = tmp_path / "myclf.py"
    plug.write_text("def clf(text):\n    return [('A.4.c', 0.9)] if '诽谤' in text else []\n", encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path)}
    out = tmp_path / "o"
    r = run_cli("corpus", "audit", str(tmp_path / "shop.parquet"), str(tmp_path / "forum.csv"),
                "--text-field", "body", "--out", str(out), "--sample", "10", "--classifier", "python:myclf:clf",
                "--keywords", "none", env=env)
    s = json.loads(r.stdout)
    assert s["documents"] == 4 and s["skipped"]["by_reason"] == {"missing_field": 1}
    assert s["findings"]["by_type"] == {"cn_mobile": 1, "license_plate": 1, "person_name": 1}
    assert s["findings"]["by_risk"] == {"A.4.c": 1}
    assert s["sources"]["forum"]["risk_doc_rate"] == 0.5 and r.returncode == 1
    assert s["run"]["keywords"]["count"] == 0
    r = invoke("corpus", "scan", str(nested), "--text-field", "msg.body", "--types", "email", "--with-text")
    line = json.loads(r.stdout)
    assert line["doc"] == "n1" and [(f["type"], f["text"]) for f in line["findings"]] == [("email", "a.b@example.com")]


def test_scan_types_filter_and_min_confidence(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("电话0755-88886666，手机13800138000，患者确诊糖尿病", encoding="utf-8")
    r = invoke("corpus", "scan", str(p), "--types", "cn_mobile,sensitive:health")
    types = [f["type"] for f in json.loads(r.stdout)["findings"]]
    assert set(types) == {"cn_mobile", "sensitive:health"}
    r = invoke("corpus", "scan", str(p), "--min-confidence", "0.95")
    types = [f["type"] for f in json.loads(r.stdout)["findings"]]
    assert "sensitive:health" not in types and "cn_mobile" in types


def test_lone_surrogates_and_plugin_errors_do_not_stop_the_run(tmp_path):
    p = tmp_path / "odd.jsonl"
    p.write_text('{"id": "s1", "text": "坏字符\\ud800在这里，手机13800138000"}\n'
                 '{"id": "s2", "text": "触发插件错误"}\n{"id": "s3", "text": "正常"}\n', encoding="utf-8")
    (tmp_path / "badclf.py").write_text(
        "def clf(text):\n    if '插件错误' in text:\n        raise RuntimeError('boom')\n    return []\n", encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path)}
    out = tmp_path / "o"
    r = run_cli("corpus", "audit", str(p), "--out", str(out), "--sample", "5", "--redact", "mask",
                "--classifier", "python:badclf:clf", env=env)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["documents"] == 2 and s["skipped"]["by_reason"] == {"processing_error": 1}
    assert "RuntimeError: boom" in s["skipped"]["examples"][0]["detail"]
    assert s["review_sample"]["size"] == 2 and (out / "review-sample.xlsx").is_file()
    clean = [json.loads(x) for f in (out / "clean").glob("*.jsonl") for x in open(f, encoding="utf-8")]
    assert any(c["text"] == "坏字符\ud800在这里，手机***********" for c in clean)
    r = run_cli("corpus", "scan", str(p), "--classifier", "python:badclf:clf", "--workers", "1", env=env)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and [x["doc"] for x in lines] == ["s1", "s2", "s3"]
    assert "boom" in lines[1]["error"] and "processing_error: 1" in r.stderr


def test_review_per_source_verdicts():
    from cnai.corpus.review import _source_verdict

    assert _source_verdict(900, 100)["verdict"] == "unusable"  # 10% of 1,000: lower bound > 5%
    assert _source_verdict(990, 10)["verdict"] == "usable"  # 1% of 1,000: upper bound < 5%
    assert _source_verdict(18, 2)["verdict"] == "unusable_estimate"  # 10% of 20: too few to be sure
    assert _source_verdict(20, 0)["verdict"] == "usable_estimate"


def test_unwritable_out_and_nothing_readable(tmp_path):
    p = write_corpus(tmp_path, 5, 0.0, "x")
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    r = invoke("corpus", "audit", str(p), "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "--out" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n[]\n", encoding="utf-8")
    r = invoke("corpus", "audit", str(bad), "--out", str(tmp_path / "o"))
    s = json.loads(r.stdout)
    assert r.returncode == 1 and s["documents"] == 0 and s["verdict"]["compliant"] is False
    assert s["skipped"]["by_reason"] == {"malformed_json": 1, "not_an_object": 1}


def test_sample_per_source(tmp_path):
    from cnai.corpus.pipeline import sample_key

    a = write_corpus(tmp_path, 300, 0.0, "srca", seed=21)
    b = write_corpus(tmp_path, 40, 0.0, "srcb", seed=22)
    results = []
    for shard_mb in ("0.005", "4"):
        out = tmp_path / f"o{shard_mb}"
        r = invoke("corpus", "audit", str(a), str(b), "--out", str(out), "--sample", "20", "--sample-per-source",
                    "25", "--seed", "3", "--shard-mb", shard_mb)
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["review_sample_by_source"]["sizes"] == {"srca": 25, "srcb": 25}
        assert (out / "review-sample-by-source.xlsx").is_file()
        rows = [json.loads(x) for x in open(out / "review-sample-by-source.jsonl", encoding="utf-8")]
        results.append([(x["source"], x["doc"]) for x in rows])
    assert results[0] == results[1]
    expected = sorted((f"srcb-{i}" for i in range(40)), key=lambda d: sample_key(3, d))[:25]
    assert [d for src, d in results[0] if src == "srcb"] == expected


def test_markdown_summary_escapes_source_names(tmp_path):
    p = tmp_path / "src.jsonl"
    p.write_text(json.dumps({"text": "你好", "src": "a|b<script>"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = invoke("corpus", "audit", str(p), "--source-field", "src", "--out", str(tmp_path / "o"), "--format", "md")
    assert r.returncode == 0, r.stderr
    assert "| a\\|b\\<script\\> | 1 |" in r.stdout and "<script>" not in r.stdout
