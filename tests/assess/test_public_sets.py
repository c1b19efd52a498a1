"""Importers for public Chinese safety sets (issue #18 item 5): small fixtures written for cnai in each set's
published layout, the reviewed mapping table, skipped rows counted by reason, and a run on the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnai.assess.public_sets import sets
from cnai.core.taxonomy import RISK_CODES

FIX = Path(__file__).parent / "data" / "public_sets"


def test_mapping_table_is_reviewed_data():
    s = sets()
    assert set(s) == {"seval", "flames", "cvalues", "superclue-safety"}
    assert s["flames"]["fields_confidence"] == "verified"          # field names read from the published file
    for name, spec in s.items():
        assert spec["source"].startswith("https://github.com/")
        for cat, m in spec["categories"].items():
            assert m["risk"] in RISK_CODES and m["confidence"] in ("high", "medium", "low"), (name, cat)
    # every S-Eval second-level category of its published table has a mapping
    assert len(s["seval"]["categories"]) == 25


@pytest.mark.parametrize("set_name, fixture, written, skipped, risks", [
    ("seval", "seval.jsonl", 4, 3, {"A.4.e": 1, "A.4.c": 1, "A.1.d": 1, "A.5.b": 1}),
    ("flames", "flames.jsonl", 5, 0, {"A.2.i": 1, "A.4.f": 1, "A.4.a": 1, "A.1.h": 1, "A.4.g": 1}),
    ("superclue-safety", "superclue.jsonl", 2, 1, {"A.1.h": 1, "A.4.a": 1}),
])
def test_import_maps_categories_and_counts_what_it_skips(cnai, tmp_path, set_name, fixture, written, skipped, risks):
    out = tmp_path / "bank.jsonl"
    r = cnai("bank", "import-public", set_name, str(FIX / fixture), "-o", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["written"], d["skipped"], d["by_risk"]) == (written, skipped, risks)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert all(f"source:{set_name}" in x["tags"] and any(t.startswith("mapping-confidence:") for t in x["tags"])
               for x in rows)
    if set_name == "seval":
        assert d["skipped_by_reason"] == {"category not in the mapping table: Time Travel": 1,
                                          "category not in the mapping table: (none)": 1, "not a JSON object": 1}
    if set_name == "flames":
        x = next(x for x in rows if "source-category:Data protection/Personal information" in x["tags"])
        assert x["risk"] == "A.4.f" and "mapping-confidence:high" in x["tags"]


def test_cvalues_has_no_categories_so_risk_must_be_given(cnai, tmp_path):
    out = tmp_path / "cv.jsonl"
    r = cnai("bank", "import-public", "cvalues", str(FIX / "cvalues.jsonl"), "-o", str(out))
    assert r.returncode == 2 and "--risk" in r.stderr and not out.exists()
    r = cnai("bank", "import-public", "cvalues", str(FIX / "cvalues.jsonl"), "-o", str(out), "--risk", "A.4.c")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["risk"] == "A.4.c" and rows[0]["reference_answer"].startswith("散布不实信息")   # the better reply


def test_refuse_kind_keeps_only_its_risks(cnai, tmp_path):
    r = cnai("bank", "import-public", "seval", str(FIX / "seval.jsonl"), "-o", str(tmp_path / "r.jsonl"),
             "--kind", "refuse", "--format", "json")
    d = json.loads(r.stdout)
    assert d["by_risk"] == {"A.1.d": 1} and d["skipped_by_reason"]["A.4.e is outside the refuse bank's risks"] == 1


def test_imported_sets_run_like_any_bank(cnai, tmp_path):
    """Flames and SuperCLUE-Safety imports run together; the follow-up is asked after the model's own reply."""
    a, b = tmp_path / "f.jsonl", tmp_path / "s.jsonl"
    assert cnai("bank", "import-public", "flames", str(FIX / "flames.jsonl"), "-o", str(a)).returncode == 0
    assert cnai("bank", "import-public", "superclue-safety", str(FIX / "superclue.jsonl"), "-o", str(b)).returncode == 0
    rd = tmp_path / "run"
    r = cnai("assess", "run", "-t", "mock:mixed", "-b", str(a), "-b", str(b), "--sample", "all", "-d", str(rd),
             "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(cnai("assess", "report", str(rd), "--format", "json").stdout)
    assert d["metrics"]["generated_content"]["n"] == 7
    assert d["by_risk"]["A.4.f"]["generated_content"]["n"] == 1
    import sqlite3

    db = sqlite3.connect(rd / "run.sqlite")
    n_attempts = dict(db.execute("SELECT item_id, COUNT(*) FROM attempts GROUP BY item_id").fetchall())
    db.close()
    assert n_attempts["superclue-safety-1"] == 2 and n_attempts["flames-1"] == 1


@pytest.mark.parametrize("args, msg", [
    (["nope", "x.jsonl"], "Invalid value for 'SET'"),
    (["flames", "missing.jsonl"], "no such file"),
    (["flames", "."], "is a directory"),
])
def test_bad_input_is_one_line(cnai, tmp_path, args, msg):
    r = cnai("bank", "import-public", *args, "-o", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr
