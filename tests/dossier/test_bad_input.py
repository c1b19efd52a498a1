"""Hostile and mismatched evidence: refused with one line (exit 2) or recorded as a gap -- never silently
used. Each row: (case, how to make the bad input, expected exit, text expected on stderr or gap id)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from tests.conftest import ROOT
from tests.dossier.conftest import build_args


def _copy_run(ev, tmp: Path) -> Path:
    d = tmp / "run-copy"
    shutil.copytree(ev["run"], d)
    return d


def corrupt_run(ev, tmp):
    d = _copy_run(ev, tmp)
    (d / "run.sqlite").write_bytes(b"this is not sqlite" * 100)
    for extra in ("run.sqlite-wal", "run.sqlite-shm"):
        (d / extra).unlink(missing_ok=True)
    return ["--run", str(d)]


def half_finished_run(ev, tmp):
    d = _copy_run(ev, tmp)
    db = sqlite3.connect(d / "run.sqlite")
    db.execute("DELETE FROM results WHERE item_id IN (SELECT id FROM items ORDER BY seq LIMIT 5)")
    db.commit()
    db.close()
    return ["--run", str(d)]


def missing_run(ev, tmp):
    return ["--run", str(tmp / "nope")]


def run_is_a_file(ev, tmp):
    f = tmp / "run.txt"
    f.write_text("x")
    return ["--run", str(f)]


def other_bank(ev, tmp):
    b = tmp / "other.jsonl"
    b.write_text(ev["bank"].read_text("utf-8").splitlines()[0] + "\n", "utf-8")
    return ["--run", str(ev["run"]), "--questions", str(b)]


def other_service_facts(ev, tmp):
    f = tmp / "facts.yaml"
    f.write_text("schema: cnai/dossier-facts/v1\nservice_name: 另一个服务\n", "utf-8")
    return ["--facts", str(f)]


def unknown_facts_key(ev, tmp):
    f = tmp / "facts.yaml"
    f.write_text("schema: cnai/dossier-facts/v1\nmodel: {nmae: x}\n", "utf-8")
    return ["--facts", str(f)]


def audit_half_finished(ev, tmp):
    d = tmp / "audit"
    shutil.copytree(ev["audit"], d)
    (d / "summary.json").unlink()
    return ["--audit", str(d)]


def audit_corrupt_summary(ev, tmp):
    d = tmp / "audit"
    shutil.copytree(ev["audit"], d)
    (d / "summary.json").write_text('{"documents": 3', "utf-8")
    return ["--audit", str(d)]


def audit_other_corpus(ev, tmp):
    f = tmp / "facts.yaml"
    f.write_text("schema: cnai/dossier-facts/v1\ncorpus_sources: [wiki, books]\n", "utf-8")
    return ["--audit", str(ev["audit"]), "--facts", str(f)]


def label_check_garbage(ev, tmp):
    f = tmp / "check.jsonl"
    f.write_text("not json\n{also not\n", "utf-8")
    return ["--label-check", str(f)]


def label_check_binary(ev, tmp):
    f = tmp / "check.jsonl"
    f.write_bytes(b'{"path": "a", "ok": true}\n\xff\xfe\n')
    return ["--label-check", str(f)]


def bad_role(ev, tmp):
    f = tmp / "x.pdf"
    f.write_bytes(b"%PDF")
    return ["--evidence", f"secret-sauce={f}"]


def role_without_path(ev, tmp):
    return ["--evidence", "service-agreement"]


def keyword_bad_row(ev, tmp):
    f = tmp / "kw.jsonl"
    f.write_text('{"keyword": "甲", "risk": "A.1.a"}\n{"keyword": "乙", "risk": "Z.9"}\n', "utf-8")
    return ["--keywords", str(f)]


def same_run_twice(ev, tmp):
    return ["--run", str(ev["run"]), "--run", str(ev["run"])]


def bad_template_dir(ev, tmp):
    return ["--templates", str(tmp / "none")]


def broken_template(ev, tmp):
    t = tmp / "tpl"
    t.mkdir()
    (t / "gaps.html.j2").write_text("<h1>{{ broken( }}</h1>", "utf-8")
    return ["--templates", str(t)]


def sign_without_key(ev, tmp):
    return ["--sign"]


# case | args maker | exit | stderr must contain
REFUSED = [
    ("corrupt run.sqlite", corrupt_run, "corrupt or not SQLite"),
    ("half-finished run", half_finished_run, "run is unfinished: 5 of"),
    ("run directory missing", missing_run, "not a run directory (missing)"),
    ("run directory is a file", run_is_a_file, "not a run directory (a file)"),
    ("question bank other than the run's", other_bank, "was made with another question bank"),
    ("facts for another service", other_service_facts, "facts are for service '另一个服务'"),
    ("unknown key in facts", unknown_facts_key, "model.nmae"),
    ("audit without summary.json (half-finished)", audit_half_finished, "corpus audit is half-finished"),
    ("audit summary truncated JSON", audit_corrupt_summary, "summary.json"),
    ("audit of another corpus", audit_other_corpus, "an audit of another corpus"),
    ("label-check file with no records", label_check_garbage, "no label-check records"),
    ("label-check file not UTF-8", label_check_binary, "not UTF-8 at byte"),
    ("unknown evidence role", bad_role, "unknown evidence role 'secret-sauce'"),
    ("evidence without =PATH", role_without_path, "expected ROLE=PATH"),
    ("keyword bank with a bad risk code", keyword_bad_row, "kw.jsonl"),
    ("the same run given twice", same_run_twice, "run given twice"),
    ("--templates not a folder", bad_template_dir, "not a directory"),
    ("template with a syntax error", broken_template, "template error"),
    ("--sign without a key in the environment", sign_without_key, "CNAI_LABEL_SIGNING_KEY is not set"),
]


@pytest.mark.parametrize("case,make,msg", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_one_line(case, make, msg, evidence, tmp_path, cnai):
    out = tmp_path / "out"
    args = ["dossier", "build", str(evidence["profile"]), "-o", str(out), "--no-pdf", *make(evidence, tmp_path)]
    r = cnai(*args, env={"CNAI_LABEL_SIGNING_KEY": None})
    assert r.returncode == 2, (case, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and msg in lines[0], (case, r.stderr)
    assert "Traceback" not in r.stderr
    assert not out.exists() or not any(out.iterdir()) or not (out / "manifest.json").exists()


# case | args maker | gap id prefix expected in gaps.json (the build succeeds, the problem is visible)
def keyword_other_than_runs(ev, tmp):
    f = tmp / "kw.yaml"
    f.write_text("keywords:\n  - {keyword: 甲乙丙, risk: A.1.a}\n", "utf-8")
    return ["--run", str(ev["run"]), "--keywords", str(f)]


def label_check_some_bad_lines(ev, tmp):
    f = tmp / "check.jsonl"
    f.write_text(ev["check"].read_text("utf-8") + "garbage line\n", "utf-8")
    return ["--label-check", str(f)]


def audit_sources_partly_declared(ev, tmp):
    f = tmp / "facts.yaml"
    f.write_text("schema: cnai/dossier-facts/v1\ncorpus_sources: [forum, books]\n", "utf-8")
    return ["--audit", str(ev["audit"]), "--facts", str(f)]


def route_forced(ev, tmp):
    return ["--route", "registration"]


GAPPED = [
    ("keyword library other than the run's", keyword_other_than_runs, "keyword-library-mismatch:"),
    ("label-check with unreadable lines", label_check_some_bad_lines, "label-bad-lines:"),
    ("declared corpus source not audited", audit_sources_partly_declared, "audit-sources-missing:"),
    ("route forced against the scope engine", route_forced, "route-forced:registration"),
]


@pytest.mark.parametrize("case,make,gap", GAPPED, ids=[r[0] for r in GAPPED])
def test_recorded_as_gap(case, make, gap, evidence, tmp_path, cnai):
    out = tmp_path / "out"
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--no-pdf", *make(evidence, tmp_path))
    assert r.returncode == 0, (case, r.stderr)
    ids = [g["id"] for g in json.loads((out / "gaps.json").read_text("utf-8"))["gaps"]]
    assert any(i.startswith(gap) for i in ids), (case, ids)


def test_output_dir_not_made_by_cnai_is_untouched(evidence, tmp_path, cnai):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("precious", "utf-8")
    r = cnai(*build_args(evidence, out, "--no-pdf"))
    assert r.returncode == 2 and "not made by cnai" in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text("utf-8") == "precious"


def test_output_dir_is_an_input(evidence, tmp_path, cnai):
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(evidence["run"]), "--run",
             str(evidence["run"]), "--no-pdf")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error:")
    assert (evidence["run"] / "run.sqlite").is_file()


def test_no_route_applies(tmp_path, cnai):
    p = tmp_path / "p.yaml"
    p.write_text("schema: cnai/profile/v1\nservice: {name: 内部工具}\nroles: [user]\n"
                 "audience: {public_in_mainland: false, research_or_internal_only: true}\n", "utf-8")
    r = cnai("dossier", "build", str(p), "-o", str(tmp_path / "d"), "--no-pdf")
    assert r.returncode == 2 and "force one with --route" in r.stderr


def test_hostile_text_stays_text(evidence, tmp_path, cnai):
    """A bank question that looks like a formula or markup stays literal text in XLSX and DOCX."""
    from docx import Document
    from openpyxl import load_workbook

    kw = tmp_path / "kw.jsonl"
    kw.write_text(json.dumps({"keyword": "=HYPERLINK(\"http://x\")", "risk": "A.1.a"}) + "\n"
                  + json.dumps({"keyword": "<script>alert(1)</script>", "risk": "A.1.b"}, ensure_ascii=False)
                  + "\n", "utf-8")
    out = tmp_path / "d"
    r = cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--keywords", str(kw), "--route",
             "filing", "--no-pdf")
    assert r.returncode == 0, r.stderr
    ws = load_workbook(out / "filing/附件4-拦截关键词列表.xlsx").worksheets[0]
    assert ws["A2"].value == "=HYPERLINK(\"http://x\")" and ws["A2"].data_type == "s"
    assert ws["A3"].value == "<script>alert(1)</script>"
    assert len(Document(str(out / "filing/附件1-安全评估报告.docx")).paragraphs) > 5


def test_verify_and_gaps_on_non_dossier(tmp_path, cnai):
    (tmp_path / "x").mkdir()
    for cmd in ("verify", "gaps"):
        r = cnai("dossier", cmd, str(tmp_path / "x"))
        assert r.returncode == 2 and "not a cnai dossier" in r.stderr


def test_manifest_path_escape_is_a_problem(evidence, tmp_path, cnai):
    out = tmp_path / "d"
    assert cnai("dossier", "build", str(evidence["profile"]), "-o", str(out), "--route", "algorithm",
                "--no-pdf").returncode == 0
    man = json.loads((out / "manifest.json").read_text("utf-8"))
    man["outputs"].append({"path": "../../etc/passwd", "sha256": "0" * 64, "size": 1, "role": "x"})
    (out / "manifest.json").write_text(json.dumps(man), "utf-8")
    r = cnai("dossier", "verify", str(out))
    assert r.returncode == 1 and "path outside the dossier" in r.stdout


def test_examples_all_build(tmp_path, cnai):
    """Every example profile builds on auto route (or is refused in one line when nothing applies)."""
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        r = cnai("dossier", "build", str(p), "-o", str(tmp_path / p.stem), "--no-pdf", "--as-of", "2026-12-01")
        assert r.returncode in (0, 2), (p, r.stderr)
        assert "Traceback" not in r.stderr
