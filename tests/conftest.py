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


def json_out(proc: subprocess.CompletedProcess):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)
