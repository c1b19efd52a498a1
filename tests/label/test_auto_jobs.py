"""`cnai label embed -j auto` (the default, issue #19 round 7): two worker threads for plain labelling of
several files on a machine with 2+ cores, one worker when signing or for a single file; outputs byte-identical to
one worker, in input order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.label.conftest import PRODUCER

from cnai.label import verbs


def _batch(sample_dir: Path, tmp_path: Path, n: int = 4) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(n):
        shutil.copy(sample_dir / "sample.jpg", d / f"{i}.jpg")
    shutil.copy(sample_dir / "sample.png", d / "z.png")
    return d


@pytest.fixture
def seen(monkeypatch):
    """The worker count and mode that embed hands to the batch runner."""
    got = {}
    real = verbs._collect

    def spy(verb, items, fn, **kw):
        got.update(workers=kw["workers"], threads=kw["threads"], n=len(items))
        return real(verb, items, fn, **kw)

    monkeypatch.setattr(verbs, "_collect", spy)
    monkeypatch.setattr(verbs.os, "cpu_count", lambda: 2)
    return got


def test_auto_is_the_cli_default_and_uses_two_threads(sample_dir, tmp_path, seen, cnai):
    src = _batch(sample_dir, tmp_path)
    r = cnai("label", "embed", str(src), "--producer", PRODUCER, "-o", str(tmp_path / "a"), "--produce-id", "T-{n}",
             "--no-progress")
    assert r.returncode == 0, r
    assert seen == {"workers": 2, "threads": True, "n": 5}
    paths = [line.split('"path": "')[1].split('"')[0] for line in r.stdout.splitlines() if '"path"' in line]
    assert [Path(p).name for p in paths] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "z.png"]  # input order
    # the same bytes as one worker
    r1 = cnai("label", "embed", str(src), "--producer", PRODUCER, "-o", str(tmp_path / "b"), "--produce-id",
              "T-{n}", "--no-progress", "-j", "1")
    assert r1.returncode == 0 and seen["workers"] == 1
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_auto_is_one_worker_for_one_file_or_one_core(sample_dir, tmp_path, seen, monkeypatch):
    one = tmp_path / "one.jpg"
    shutil.copy(sample_dir / "sample.jpg", one)
    assert verbs.embed([str(one)], producer=PRODUCER, out=str(tmp_path / "o1"), workers=None).exit_code == 0
    assert seen["workers"] == 1
    monkeypatch.setattr(verbs.os, "cpu_count", lambda: 1)
    assert verbs.embed([str(_batch(sample_dir, tmp_path))], producer=PRODUCER, out=str(tmp_path / "o2"),
                       workers=None).exit_code == 0
    assert seen["workers"] == 1


@pytest.mark.parametrize("value,ok", [("auto", True), ("3", True), ("0", False), ("-3", False), ("x", False), ("65", False)])
def test_jobs_option_values(sample_dir, tmp_path, value, ok, cnai):
    one = tmp_path / "one.jpg"
    shutil.copy(sample_dir / "sample.jpg", one)
    r = cnai("label", "embed", str(one), "--producer", PRODUCER, "-o", str(tmp_path / "o"), "-j", value,
             "--no-progress")
    assert (r.returncode == 0) is ok, r
    if not ok:
        assert r.returncode == 2 and "-j" in r.stderr
