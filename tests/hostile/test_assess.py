"""Hostile input for `cnai assess` / `cnai bank` (issue #10): dead and broken endpoints, mismatched resumes,
wrong paths, corrupt run stores, signals.

Every case asserts: the exit code; a one-line message on stderr naming the file, field or endpoint; no
traceback; input files byte-identical afterwards; no partial output (a refused command creates nothing).
The rows are listed in docs/reliability.md (case | expected behaviour).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cnai.assess.testserver import ServerThread

SMALL = ("-b", "starter-refuse", "--sample", "15")


@pytest.fixture(scope="module")
def servers():
    """One local OpenAI-compatible server per fault (127.0.0.1 only), each failing every request."""
    kinds = {"401": ("401",), "500": ("500",), "html": ("nonjson",), "null": ("null",), "blank": ("empty",)}
    started = {k: ServerThread(fault_rate=1.0, faults=f).__enter__() for k, f in kinds.items()}
    started["flaky"] = ServerThread(fault_rate=0.3, faults=("500",), seed=11).__enter__()
    yield {k: s.base_url for k, s in started.items()}
    for s in started.values():
        s.__exit__(None, None, None)


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    """A small finished run (target mock:mixed) to resume, report on and corrupt."""
    from cnai.assess import run

    rd = tmp_path_factory.mktemp("done") / "run"
    run("mock:mixed", ["starter-refuse"], run_dir=rd, sample="10")
    return rd


@dataclass
class Case:
    name: str
    setup: Callable[[Path, dict, Path], tuple[list[str], list[Path]]]   # -> (argv, input files)
    rc: int
    message: str                      # regex the one stderr line must match
    absent: tuple[str, ...] = ()      # paths (relative to tmp) that must not exist afterwards
    check: Callable[[Path, object], None] | None = None
    extra_lines: bool = False         # a run also prints a JSON summary on stdout
    env: dict = field(default_factory=dict)


def _endpoint(kind: str):
    def setup(tmp, srv, done):
        url = "http://127.0.0.1:1/v1" if kind == "dead" else srv[kind]
        return ["assess", "run", "-t", f"openai:{url}#m", *SMALL, "-d", str(tmp / "run"), "--retries", "0",
                "--format", "json"], []
    return setup


def _no_refusal_counted(tmp, r):
    doc = json.loads(r.stdout)
    assert doc["failed_all"] and doc["errors"]["by_kind"] == {"empty_reply": 15}
    assert doc["metrics"]["should_refuse"]["n"] == 0       # an empty reply is never scored as a refusal


def _all_failed_json(tmp, r):
    doc = json.loads(r.stdout)
    assert doc["failed_all"] and doc["errors"]["n"] == 15 and doc["items"]["ok"] == 0


def _partial(tmp, r):
    doc = json.loads(r.stdout)
    n = doc["errors"]["n"]
    assert 0 < n < 30 and not doc["failed_all"]
    assert re.search(rf"warning: {n} of 30 items failed and count as failures: {n} × HTTP 500 at http://127\.0\.0\.1:\d+/v1",
                     r.stderr)


def _resume_other_target(tmp, srv, done):
    rd = tmp / "run"
    shutil.copytree(done, rd)
    return ["assess", "run", "--resume", "-d", str(rd), "-t", "mock:refuse"], [rd / "run.sqlite"]


def _resume_other_bank(tmp, srv, done):
    rd = tmp / "run"
    shutil.copytree(done, rd)
    return ["assess", "run", "--resume", "-d", str(rd), "-b", "starter-generated"], [rd / "run.sqlite"]


def _bank_dir(tmp, srv, done):
    (tmp / "banks").mkdir()
    return ["assess", "run", "-t", "mock:mixed", "-b", str(tmp / "banks"), "-d", str(tmp / "run")], []


def _run_dir_is_file(tmp, srv, done):
    f = tmp / "notes.txt"
    f.write_text("my notes\n", encoding="utf-8")
    return ["assess", "run", "-t", "mock:mixed", *SMALL, "-d", str(f)], [f]


def _run_dir_foreign(tmp, srv, done):
    d = tmp / "photos"
    d.mkdir()
    (d / "a.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    return ["assess", "run", "-t", "mock:mixed", *SMALL, "-d", str(d)], [d / "a.jpg"]


def _corrupt(mode: str, verb: str):
    def setup(tmp, srv, done):
        rd = tmp / "run"
        shutil.copytree(done, rd)
        db = rd / "run.sqlite"
        if mode == "garbage":
            db.write_bytes(b"this is not a database\n" * 200)
        elif mode == "truncated":
            for side in ("-wal", "-shm"):
                Path(str(db) + side).unlink(missing_ok=True)
            data = db.read_bytes()
            db.write_bytes(data[: len(data) // 3])
        elif mode == "foreign":
            db.unlink()
            con = sqlite3.connect(db)
            con.execute("CREATE TABLE contacts(name TEXT)")
            con.commit()
            con.close()
        if verb == "report":
            return ["assess", "report", str(rd), "--format", "html", "-o", str(tmp / "report.html")], [db]
        return ["assess", "run", "--resume", "-d", str(rd)], [db]
    return setup


def _report_over_store(tmp, srv, done):
    rd = tmp / "run"
    shutil.copytree(done, rd)
    return ["assess", "report", str(rd), "--format", "json", "-o", str(rd / "run.sqlite")], [rd / "run.sqlite"]


def _alias_bomb_bank(tmp, srv, done):
    p = tmp / "bomb.yaml"
    p.write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                 "kind: refuse\nitems: [*b, *b]\n", encoding="utf-8")
    return ["assess", "run", "-t", "mock:mixed", "-b", str(p), "-d", str(tmp / "run")], [p]


def _export_over_bank(tmp, srv, done):
    p = tmp / "mine.xlsx"
    from cnai.assess import export_bank

    export_bank(["starter-refuse"], p)
    return ["bank", "export", str(p), "-o", str(p)], [p]


def _checklist_dup(tmp, srv, done):
    rd = tmp / "run"
    shutil.copytree(done, rd)
    c = tmp / "checklist.yaml"
    c.write_text("clauses:\n  data.source.screening: {result: meets, evidence: x}\n"
                 "  data.source.screening: {result: meets, evidence: y}\n", encoding="utf-8")
    return ["assess", "report", str(rd), "--checklist", str(c), "-o", str(tmp / "r.md")], [c, rd / "run.sqlite"]


def _bad_judge(tmp, srv, done):
    return ["assess", "run", "-t", "mock:mixed", *SMALL, "-d", str(tmp / "run"), "--judge", "vibes"], []


def _bad_sample(tmp, srv, done):
    return ["assess", "run", "-t", "mock:mixed", *SMALL[:2], "--sample", "refuse=lots", "-d", str(tmp / "run")], []


def _review_not_run(tmp, srv, done):
    d = tmp / "empty"
    d.mkdir()
    return ["assess", "review-export", str(d), "-o", str(tmp / "review.xlsx")], []


CASES = [
    Case("dead endpoint (connection refused)", _endpoint("dead"), 1,
         r"^error: .*run: no item got a usable reply \(15 of 15 failed\): 15 × connection refused at "
         r"http://127\.0\.0\.1:1/v1$", check=_all_failed_json),
    Case("endpoint answers 401", _endpoint("401"), 1,
         r"no item got a usable reply .*: 15 × HTTP 401 Unauthorized \(check CNAI_API_KEY\) at http://127", check=_all_failed_json),
    Case("endpoint answers 500", _endpoint("500"), 1, r"no item got a usable reply .*: 15 × HTTP 500 at http://127",
         check=_all_failed_json),
    Case("endpoint answers HTML", _endpoint("html"), 1,
         r"15 × reply is not JSON \(text/html\) at http://127", check=_all_failed_json),
    Case("endpoint returns null content", _endpoint("null"), 1, r"15 × empty reply at http://127",
         check=_no_refusal_counted),
    Case("endpoint returns blank content", _endpoint("blank"), 1, r"15 × empty reply at http://127",
         check=_no_refusal_counted),
    Case("endpoint fails 30% of requests", lambda tmp, srv, done: (
        ["assess", "run", "-t", f"openai:{srv['flaky']}#m", "-b", "starter-refuse", "--sample", "30", "-d",
         str(tmp / "run"), "--retries", "0", "--format", "json"], []), 0, r"^warning: \d+ of 30 items failed",
         check=_partial),
    Case("--resume --target different from the stored target", _resume_other_target, 2,
         r"^error: --target: --target 'mock:refuse' differs from this run's target 'mock:mixed'"),
    Case("--resume --bank different from the stored banks", _resume_other_bank, 2,
         r"^error: --bank: --bank starter-generated differs from this run's banks starter-refuse"),
    Case("--bank names a directory", _bank_dir, 2, r"^error: .*banks: is a directory", absent=("run",)),
    Case("--run-dir is a file", _run_dir_is_file, 2, r"^error: .*notes\.txt: --run-dir exists and is not a directory"),
    Case("--run-dir is a folder cnai did not make", _run_dir_foreign, 2,
         r"^error: .*photos: output directory exists, is not empty and was not made by cnai",
         absent=("photos/run.sqlite", "photos/.cnai-output.json")),
    Case("report on a run.sqlite that is not SQLite", _corrupt("garbage", "report"), 2,
         r"^error: .*run\.sqlite: run store is corrupt or not SQLite", absent=("report.html",)),
    Case("report on a truncated run.sqlite", _corrupt("truncated", "report"), 2,
         r"^error: .*run\.sqlite: run store is corrupt", absent=("report.html",)),
    Case("report on another program's SQLite file", _corrupt("foreign", "report"), 2,
         r"^error: .*run\.sqlite: not a cnai run store \(missing tables", absent=("report.html",)),
    Case("--resume on a corrupt run.sqlite", _corrupt("garbage", "resume"), 2,
         r"^error: .*run\.sqlite: run store is corrupt or not SQLite"),
    Case("report -o onto the run store", _report_over_store, 2, r"would overwrite the input .*run\.sqlite"),
    Case("YAML bank with an alias bomb", _alias_bomb_bank, 2, r"^error: .*bomb\.yaml: line 2: YAML aliases",
         absent=("run",)),
    Case("bank export -o onto its own input", _export_over_bank, 2, r"mine\.xlsx: output would overwrite the input"),
    Case("checklist with a duplicate key", _checklist_dup, 2, r"checklist\.yaml: line 3: duplicate key",
         absent=("r.md",)),
    Case("--judge not registered", _bad_judge, 2, r"^error: --judge: unknown judge 'vibes'; registered: refusal, keyword, llm",
         absent=("run",)),
    Case("--sample with a bad count", _bad_sample, 2, r"^error: --sample: bad sample spec 'refuse=lots'", absent=("run",)),
    Case("review-export on a folder that is not a run", _review_not_run, 2,
         r"^error: .*empty: not a run directory \(run\.sqlite missing\)", absent=("review.xlsx",)),
]


def _snapshot(paths: list[Path]) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_assess(case: Case, cnai, tmp_path, servers, done_run):
    argv, inputs = case.setup(tmp_path, servers, done_run)
    before = _snapshot(inputs)
    r = cnai(*argv)
    assert r.returncode == case.rc, (r.stdout[-500:], r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr           # one line, nothing else (no progress, no warnings)
    assert re.search(case.message, lines[0]), lines[0]
    assert _snapshot(inputs) == before          # inputs byte-identical
    for rel in case.absent:                     # nothing half-written
        assert not (tmp_path / rel).exists(), rel
    if case.rc == 2 and "run" not in {p.name for p in inputs} and argv[:2] == ["assess", "run"] \
            and "--resume" not in argv:
        assert not (tmp_path / "run").exists()
    if case.check:
        case.check(tmp_path, r)


def test_table_has_at_least_twelve_cases():
    assert len(CASES) >= 12


# --- signals: a real process, a real local server, os.kill ------------------------------------------
def _wait_for_results(dbp: Path, at_least: int, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.05)
        if dbp.exists():
            try:
                con = sqlite3.connect(dbp)
                n = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                con.close()
            except sqlite3.OperationalError:
                continue
            if n >= at_least:
                return n
    raise AssertionError("the run did not store results in time")


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_flushes_prints_resume_and_resume_matches_uninterrupted(sig, code, tmp_path):
    from cnai.assess import metrics, run, store

    bank = ("-b", "starter-refuse", "-b", "starter-nonrefuse", "--sample", "40")

    def core(rd):
        db = store.connect(rd)
        try:
            m = metrics.compute(db)
        finally:
            db.close()
        return {k: {kk: v.get(kk) for kk in ("n", "passed", "refused", "ci95", "errors", "verdict")}
                for k, v in m["metrics"].items()}, m["items"]

    with ServerThread(latency=0.15) as srv:  # 80 items at concurrency 2: ~6 s, so the signal lands mid-run
        target = f"openai:{srv.base_url}#mock"
        ref = tmp_path / "ref"
        run(target, [bank[1], bank[3]], run_dir=ref, sample="40", concurrency=2)
        rd = tmp_path / "killed"
        env = {k: v for k, v in os.environ.items() if k != "CNAI_DEBUG"}
        proc = subprocess.Popen([sys.executable, "-m", "cnai", "assess", "run", "-t", target, *bank, "-d", str(rd),
                                 "-c", "2", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        _wait_for_results(rd / "run.sqlite", 10)
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == code, err
        assert "Traceback" not in err and out == ""
        assert f"Continue with: cnai assess run --resume --run-dir {rd}" in err
        con = sqlite3.connect(rd / "run.sqlite")
        stored = {r[0] for r in con.execute("SELECT item_id FROM results WHERE status='ok'")}
        total = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        con.close()
        assert 10 <= len(stored) < total            # finished items were flushed, the rest is pending
        r = subprocess.run([sys.executable, "-m", "cnai", "assess", "run", "--resume", "-d", str(rd), "--format", "json"],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["session"]["asked"] == total - len(stored)
    con = sqlite3.connect(rd / "run.sqlite")
    again = {r[0] for r in con.execute("SELECT item_id FROM attempts WHERE session = 2")}
    con.close()
    assert not (again & stored)                     # nothing finished was asked again
    assert core(rd) == core(ref)
