"""The `cnai.recognizers` extension point: an outside package's recognizer is used by `cnai corpus scan` and
`audit` with no edit to cnai, listed by `cnai plugins`, and switched off by a recognizer config file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parents[1] / "plugins" / "site"


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")])}
    env.pop("CNAI_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "cnai", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


def test_outside_recognizer_is_registered_used_and_can_be_disabled(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "工号EMP-004211的员工，手机13800138000"}, ensure_ascii=False) + "\n"
                    + json.dumps({"id": "b", "text": "编号XEMP-0042110不是工号"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    plugins = json.loads(run("plugins", "--format", "json").stdout)
    recs = next(p for p in plugins["points"] if p["point"] == "recognizers")["registered"]
    outside = [(r["name"], r["provider"], r["loaded"]) for r in recs if r["provider"] != "cnai"]
    assert outside == [("employee_id", "cnai-testplugin", True)]
    r = run("corpus", "scan", str(data), "--format", "jsonl", "--workers", "1")
    assert r.returncode == 0, r.stderr
    docs = {d["doc"]: d for d in map(json.loads, r.stdout.splitlines())}
    emp = [f for f in docs["a"]["findings"] if f["type"] == "employee_id"]
    assert [(f["start"], f["end"]) for f in emp] == [(2, 12)]
    assert not [f for f in docs["b"]["findings"] if f["type"] == "employee_id"]
    # the audit counts it like any type; a config file turns it off
    r = run("corpus", "audit", str(data), "--out", str(tmp_path / "o"), "--sample", "0", "--workers", "1")
    assert json.loads(r.stdout)["findings"]["by_type"]["employee_id"] == 1
    cfg = tmp_path / "rec.yaml"
    cfg.write_text("recognizers:\n  employee_id: {enabled: false}\n")
    r = run("corpus", "scan", str(data), "--recognizers", str(cfg), "--workers", "1")
    assert "employee_id" not in r.stdout
    cfg.write_text("recognizers:\n  nope: {enabled: false}\n")
    r = run("corpus", "scan", str(data), "--recognizers", str(cfg))
    assert r.returncode == 2 and "unknown recognizer(s) nope" in r.stderr
    cfg.write_text("recognizers:\n  employee_id: {min_confidence: 3}\n")
    r = run("corpus", "scan", str(data), "--recognizers", str(cfg))
    assert r.returncode == 2 and "min_confidence" in r.stderr and "Traceback" not in r.stderr


def test_without_the_plugin_nothing_extra_runs(tmp_path, cnai):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "工号EMP-004211"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = cnai("corpus", "scan", str(data), "--workers", "1")
    assert r.returncode == 0 and "employee_id" not in r.stdout
