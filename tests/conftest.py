"""Shared test helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `cnai` command in a subprocess (what users and scripts do)."""
    e = dict(os.environ)
    e.pop("CNAI_DEBUG", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "cnai", *args], input=input, capture_output=True,
                          text=True, cwd=cwd, env=e, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


class Result:
    """What an in-process run returned: the same fields a subprocess.CompletedProcess has."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self) -> str:
        return f"Result(rc={self.returncode}, stderr={self.stderr[-300:]!r})"


def invoke(*args: str, input: str | bytes | None = None, env: dict | None = None) -> Result:
    """Run `cnai ARGS` in this process through the real entry point (error mapping and exit codes
    included), with Click's CliRunner isolation. Use run_cli when a real process is the point
    (signals, stdout pipes, start-up time, environment of a fresh interpreter)."""
    from click.testing import CliRunner

    from cnai.cli import main

    runner = CliRunner()
    env = {"CNAI_DEBUG": None, **(env or {})}
    with runner.isolation(input=input, env=env) as streams:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return Result(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


@pytest.fixture
def cnai():
    """In-process `cnai` (fast): cnai("scope", "p.yaml") -> Result(returncode, stdout, stderr)."""
    return invoke


def json_out(proc: subprocess.CompletedProcess):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)
