"""Long jobs (assessment runs, corpus audits) as child processes of the `cnai` CLI, recorded in SQLite.

A job row is written before the process starts and updated when it ends, so a job never vanishes: if the
server stops while a job runs, the next start finds the row still 'running', stops the orphan if it is
still alive, and ends the job as 'failed' with the reason (an assessment can then be resumed: finished
items are stored in its run store and are never asked again). API keys go to the child in its environment
only; they are never written to the database or a log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .db import TERMINAL, Workspace
from .services import run_progress


def _alive(pid: int | None, marker: str) -> bool:
    if not pid:
        return False
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return marker.encode() in cmd


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errs = [ln for ln in lines if ln.startswith("error:")]
    return (errs[-1] if errs else (lines[-1] if lines else ""))[:500]


class JobManager:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self._procs: dict[str, subprocess.Popen] = {}
        self._secrets: dict[str, dict[str, str]] = {}  # job id -> env (API keys), memory only
        self._lock = threading.Lock()

    # -- recovery -----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """End jobs a previous server left running: never silently lost, always a reason."""
        ended = []
        for job in self.ws.list_jobs(limit=100000):
            if job["status"] in TERMINAL:
                continue
            marker = str(self.job_dir(job))
            if _alive(job["pid"], marker):
                # an orphan of the previous server: stop it (it flushes finished items) before anyone resumes
                try:
                    os.kill(job["pid"], signal.SIGTERM)
                except OSError:
                    pass
                for _ in range(100):
                    if not _alive(job["pid"], marker):
                        break
                    time.sleep(0.1)
            prog = self._progress(job)
            reason = "the server stopped while this job was running"
            if job["kind"] == "assess":
                reason += (f"; {prog.get('done', 0)} of {prog.get('total', '?')} items were stored and are kept —"
                           " resume to continue" if prog else "; resume to start it again")
            self.ws.update_job(job["id"], status="failed", error=reason, pid=None, progress=prog or None)
            ended.append(job["id"])
        return ended

    # -- paths --------------------------------------------------------------------------------
    def job_dir(self, job: dict) -> Path:
        sub = {"assess": "runs", "corpus": "audits", "dossier": "dossiers"}[job["kind"]]
        return self.ws.root / sub / job["id"]

    # -- start / cancel / resume --------------------------------------------------------------
    def start(self, job: dict, env_secrets: dict[str, str] | None = None, resume: bool = False) -> None:
        d = self.job_dir(job)
        d.parent.mkdir(exist_ok=True)
        argv = self._argv(job, d, resume)
        if env_secrets:
            self._secrets[job["id"]] = dict(env_secrets)
        env = {k: v for k, v in os.environ.items() if k not in ("CNAI_TOKEN",)}
        env.update(self._secrets.get(job["id"], {}))
        logs = self.ws.root / "outputs" / job["id"]
        logs.mkdir(parents=True, exist_ok=True)
        with self._lock:
            out = open(logs / "stdout.json", "wb")  # noqa: SIM115 - handed to the child
            err = open(logs / "stderr.log", "ab")  # noqa: SIM115
            try:
                proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                        cwd=str(self.ws.root))
            except OSError as exc:  # the job row stays, ended with the reason
                self.ws.update_job(job["id"], status="failed", error=f"could not start: {exc.strerror or exc}")
                self._secrets.pop(job["id"], None)
                return
            finally:
                out.close()
                err.close()
            self._procs[job["id"]] = proc
            self.ws.update_job(job["id"], status="running", pid=proc.pid, error=None)
        threading.Thread(target=self._watch, args=(job["id"], proc), daemon=True).start()

    def _argv(self, job: dict, d: Path, resume: bool) -> list[str]:
        p = job["params"]
        base = [sys.executable, "-m", "cnai"]
        if job["kind"] == "assess":
            if resume:
                return [*base, "assess", "run", "--resume", "--run-dir", str(d), "--format", "json"]
            argv = [*base, "assess", "run", "--target", p["target"], "--run-dir", str(d), "--format", "json",
                    "--sample", p.get("sample", "standard"), "--seed", str(int(p.get("seed", 0))),
                    "--concurrency", str(int(p.get("concurrency", 16)))]
            for b in p.get("banks") or ["starter"]:
                argv += ["--bank", b]
            return argv
        if job["kind"] == "corpus":
            upload = self.ws.get_upload(p["upload"])
            src = self.ws.root / "uploads" / upload["stored"]
            argv = [*base, "corpus", "audit", str(src), "--out", str(d), "--format", "json",
                    "--text-field", p.get("text_field", "text"), "--sample", str(int(p.get("sample", 50))),
                    "--workers", "1"]
            if p.get("source_field"):
                argv += ["--source-field", p["source_field"]]
            return argv
        if job["kind"] == "dossier":
            profile = self.ws.root / "outputs" / job["id"] / "profile.yaml"
            argv = [*base, "dossier", "build", str(profile), "-o", str(d), "--format", "json", "--no-pdf"]
            for rid in p.get("runs", []):
                argv += ["--run", str(self.ws.root / "runs" / rid)]
            for aid in p.get("audits", []):
                argv += ["--audit", str(self.ws.root / "audits" / aid)]
            return argv
        raise ValueError(f"unknown job kind {job['kind']!r}")

    def cancel(self, jid: str) -> dict:
        job = self.ws.get_job(jid)
        if job["status"] in TERMINAL:
            return job
        proc = self._procs.get(jid)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the CLI flushes finished items and exits 143
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        elif proc is None and _alive(job["pid"], str(self.job_dir(job))):
            os.kill(job["pid"], signal.SIGTERM)  # started by another server process
        self.ws.update_job(jid, status="cancelled", error="cancelled by a user", pid=None)
        return self.ws.get_job(jid)

    def resume(self, jid: str, env_secrets: dict[str, str] | None = None) -> dict:
        job = self.ws.get_job(jid)
        if job["status"] not in ("failed", "cancelled"):
            raise ValueError(f"job {jid} is {job['status']}; only failed or cancelled jobs can be resumed")
        if job["kind"] != "assess":
            self.start(job, env_secrets)  # an audit restarts; completed shards are reused by the CLI
        else:
            resumable = (self.job_dir(job) / "run.sqlite").exists()
            self.start(job, env_secrets, resume=resumable)
        return self.ws.get_job(jid)

    # -- watching -----------------------------------------------------------------------------
    def _watch(self, jid: str, proc: subprocess.Popen) -> None:
        rc = proc.wait()
        with self._lock:
            self._procs.pop(jid, None)
        job = self.ws.get_job(jid)
        if job["status"] == "cancelled":
            return
        logs = self.ws.root / "outputs" / jid
        result = None
        try:
            text = (logs / "stdout.json").read_text(encoding="utf-8")
            result = json.loads(text) if text.strip() else None
        except (OSError, ValueError):
            result = None
        prog = self._progress(job)
        if rc in (130, 143, -signal.SIGTERM, -signal.SIGINT):
            self.ws.update_job(jid, status="cancelled", error="stopped by a signal; resume to continue",
                               pid=None, progress=prog)
        elif rc == 0 or (rc == 1 and result is not None and not _failed_all(job, result)):
            # exit 1 = findings (thresholds not met, sources unusable): the job itself worked
            self.ws.update_job(jid, status="done", result=_slim(result, self.ws.root), pid=None, progress=prog)
        else:
            reason = _unroot(_last_line(logs / "stderr.log"), self.ws.root) or f"exited with code {rc}"
            self.ws.update_job(jid, status="failed", error=reason, result=_slim(result, self.ws.root), pid=None,
                               progress=prog)
        self._secrets.pop(jid, None)

    def _progress(self, job: dict) -> dict | None:
        d = self.job_dir(job)
        if job["kind"] == "assess":
            return run_progress(d)
        if job["kind"] == "corpus":
            log = self.ws.root / "outputs" / job["id"] / "stderr.log"
            import re

            try:
                hits = re.findall(r"^\[(\d+)/(\d+)\]", log.read_text(encoding="utf-8", errors="replace"), re.M)
            except OSError:
                return None
            if hits:
                return {"done": int(hits[-1][0]), "total": int(hits[-1][1])}
        return None

    def progress(self, jid: str) -> dict:
        job = self.ws.get_job(jid)
        if job["status"] == "running":
            job["progress"] = self._progress(job) or job["progress"]
        return job

    def shutdown(self) -> None:
        for jid, proc in list(self._procs.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                self.ws.update_job(jid, status="failed", pid=None,
                                   error="the server was stopped while this job was running; resume to continue")


def _failed_all(job: dict, result: dict) -> bool:
    if job["kind"] == "assess":
        return bool(result.get("failed_all"))
    if job["kind"] == "corpus":
        return result.get("documents", 1) == 0
    return False


def _unroot(text: str, root: Path) -> str:
    """Server paths inside the workspace, shown relative to it (clients do not need the server's layout)."""
    for prefix in {str(root) + os.sep, str(root.resolve()) + os.sep}:
        text = text.replace(prefix, "")
    return text


def _slim(result: dict | None, root: Path) -> dict | None:
    """The job summary as stored and shown: small, and with server paths made relative to the workspace."""
    if not isinstance(result, dict):
        return None
    def rel(v):
        if isinstance(v, str):
            return _unroot(v, root)
        if isinstance(v, dict):
            return {k: rel(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rel(x) for x in v]
        return v

    return rel({k: v for k, v in result.items() if k not in ("skipped_examples",)})
