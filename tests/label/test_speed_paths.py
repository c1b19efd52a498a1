"""Issue 19 round 3 (new copies within reach of `cp`): early write-out on a helper thread, and the cached
entry-point scan that every command's start-up goes through. The outputs must not change: same label
readings, same media bytes, same atomic group commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.label.conftest import PRODUCER

from cnai.core import plugins
from cnai.label import inplace
from cnai.label.api import content_digest, read_file
from cnai.label.verbs import embed

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "tests" / "plugins" / "site"


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _inputs(sample_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for name in ("sample.jpg", "sample.png", "sample.mp4", "sample-end.mp4", "sample.wav"):
        if (sample_dir / name).exists():
            for i in range(3):
                shutil.copy(sample_dir / name, d / f"{i}-{name}")
    return d


def _readings(folder: Path) -> dict[str, tuple]:
    """name -> (label without ProduceID, essence digest, size) for every labelled output."""
    out = {}
    for p in sorted(folder.iterdir()):
        rec = read_file(str(p))
        lab = dict(rec["label"])
        lab.pop("ProduceID")
        out[p.name] = (
            json.dumps(lab, sort_keys=True),
            content_digest(str(p), rec["format"]).hex(),
            p.stat().st_size,
            rec["found_in"],
        )
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux only")
def test_early_writeback_changes_no_byte_and_leaks_no_descriptor(sample_dir, tmp_path, monkeypatch):
    src = _inputs(sample_dir, tmp_path)
    calls = []
    real = inplace.writeback.submit
    monkeypatch.setattr(
        inplace.writeback,
        "submit",
        lambda fd, size=None, owned=False: (calls.append(fd), real(fd, size, owned=owned)),
    )
    fds = _open_fds()
    with_wb = embed([str(src)], producer=PRODUCER, out=str(tmp_path / "a"), produce_id="x-{n}")
    inplace.writeback.drain()
    assert with_wb.exit_code == 0 and len(calls) == len(with_wb.records)  # every new copy was handed over
    assert _open_fds() <= fds  # the helper closed every duplicated descriptor
    monkeypatch.setenv("CNAI_NO_EARLY_WRITEBACK", "1")
    without = embed([str(src)], producer=PRODUCER, out=str(tmp_path / "b"), produce_id="x-{n}")
    assert without.exit_code == 0
    # byte for byte the same outputs (same ProduceIDs), hence the same label readings and media
    a, b = tmp_path / "a", tmp_path / "b"
    assert sorted(os.listdir(a)) == sorted(os.listdir(b)) == sorted(os.listdir(src))  # no temporary files
    for name in os.listdir(a):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra = _readings(a)
    for name, (_lab, digest, _size, _where) in ra.items():  # media unchanged against the input
        fmt = read_file(str(src / name))["format"]
        assert digest == content_digest(str(src / name), fmt).hex(), name


def test_workers_write_the_same_outputs_as_one_process(sample_dir, tmp_path):
    """-j2: each forked worker starts its own write-out thread; the outputs equal the -j1 ones."""
    src = _inputs(sample_dir, tmp_path)
    one = embed([str(src)], producer=PRODUCER, out=str(tmp_path / "one"), produce_id="w-{n}")
    two = embed([str(src)], producer=PRODUCER, out=str(tmp_path / "two"), produce_id="w-{n}", workers=2)
    assert one.exit_code == two.exit_code == 0
    assert [r["path"] for r in one.records] == [r["path"] for r in two.records]
    for name in os.listdir(tmp_path / "one"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_writeback_without_sync_file_range_is_a_no_op(tmp_path):
    wb = inplace._Writeback()
    wb.fn = False  # as on a libc without sync_file_range
    p = tmp_path / "f"
    p.write_bytes(b"x" * 10000)
    fds = _open_fds()
    with open(p, "rb") as f:
        wb.submit(f.fileno())
    wb.drain()
    assert _open_fds() == fds and wb.q is None


def test_crash_after_write_out_before_commit_leaves_only_hidden_temporaries(sample_dir, tmp_path):
    """A process that dies after its outputs were written (and their write-out started) but before the group
    commit leaves no file under a final name: only hidden .name.*.tmp files that readers skip."""
    out = tmp_path / "out"
    code = (
        "import os, sys\n"
        "from cnai.label import inplace\n"
        "from cnai.label.api import embed_file\n"
        "inplace.staging(True)\n"
        f"for n in ('sample.jpg', 'sample.png'):\n"
        f"    r = embed_file(os.path.join({str(sample_dir)!r}, n), os.path.join({str(out)!r}, n), "
        f"producer={PRODUCER!r})\n"
        "    assert not r['error'], r\n"
        "inplace.writeback.drain()\n"
        "os._exit(9)  # no commit: what a crash or kill -9 at this point leaves\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    left = sorted(os.listdir(out))
    assert len(left) == 2 and all(n.startswith(".") and n.endswith(".tmp") for n in left), left
    assert embed([str(out)], producer=PRODUCER, in_place=True).records == []  # hidden files are not inputs


# ------------------------------------------------------------------ the cached entry-point scan
def _env(cache: Path, **extra) -> dict:
    env = dict(os.environ, CNAI_CACHE_DIR=str(cache))
    env.pop("CNAI_PLUGIN_CACHE", None)
    env.update(extra)
    return env


_PROBE = (
    "import json, sys\n"
    "from cnai.core import plugins\n"
    "regs = plugins.registrations('carriers')\n"
    "print(json.dumps({'metadata_imported': 'importlib.metadata' in sys.modules,\n"
    "                  'regs': [[r.name, r.value, r.provider, r.version, r.error] for r in regs]}))\n"
)


def _probe(env: dict, extra_path: Path | None = None) -> dict:
    if extra_path is not None:
        env = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")])))
    r = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_entry_point_cache_gives_the_same_registrations_without_the_scan(tmp_path):
    cache = tmp_path / "cache"
    uncached = _probe(_env(cache, CNAI_PLUGIN_CACHE="0"))
    assert uncached["metadata_imported"] and not cache.exists()  # turned off: scanned, nothing written
    first = _probe(_env(cache))
    assert first["metadata_imported"] and len(list(cache.glob("entry-points-*.json"))) == 1
    second = _probe(_env(cache))
    assert not second["metadata_imported"]  # read back from the cache: importlib.metadata never imported
    assert uncached["regs"] == first["regs"] == second["regs"]
    names = {r[0] for r in second["regs"]}
    assert {"jpeg", "png", "mp4", "flv"} <= names and all(r[2] == "cnai" for r in second["regs"])


def test_entry_point_cache_sees_a_newly_installed_plugin_and_ignores_a_broken_cache(tmp_path):
    cache = tmp_path / "cache"
    site = tmp_path / "site"
    site.mkdir()
    before = _probe(_env(cache), site)
    assert "cntx" not in {r[0] for r in before["regs"]}
    # "install" the test plug-in into a folder already on sys.path: a new *.dist-info appears
    for p in SITE.iterdir():
        shutil.copytree(p, site / p.name)
    after = _probe(_env(cache), site)
    assert after["metadata_imported"]  # the key changed: rescanned
    got = {r[0]: r for r in after["regs"]}
    assert got["cntx"][2] == "cnai-testplugin" and got["cntx"][4] is None
    # a cache file that is not JSON (or of another version) is ignored, never trusted
    for f in cache.glob("entry-points-*.json"):
        f.write_text("{not json")
    again = _probe(_env(cache), site)
    assert again["regs"] == after["regs"] and again["metadata_imported"]
    # valid JSON with the right key but a broken layout: ignored too (never a crash of every command)
    for f in cache.glob("entry-points-*.json"):
        data = json.loads(f.read_text())
        data["groups"] = {"cnai.carriers": [["only-two", "fields"]]}
        f.write_text(json.dumps(data))
    odd = _probe(_env(cache), site)
    assert odd["regs"] == after["regs"] and odd["metadata_imported"]
    # "uninstall": the plug-in's dist-info goes away, so does its registration
    shutil.rmtree(next(site.glob("*.dist-info")))
    gone = _probe(_env(cache), site)
    assert "cntx" not in {r[0] for r in gone["regs"]}


def test_entry_point_cache_notices_an_edited_entry_points_file(tmp_path):
    cache = tmp_path / "cache"
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    first = _probe(_env(cache), site)
    assert "cntx" in {r[0] for r in first["regs"]}
    ep = next(site.glob("*.dist-info")) / "entry_points.txt"
    text = ep.read_text()
    assert "cntx" in text
    ep.write_text(text.replace("cntx", "cnty"))
    st = ep.stat()
    os.utime(ep, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a visible change even on coarse clocks
    second = _probe(_env(cache), site)
    names = {r[0] for r in second["regs"]}
    assert "cnty" in names and "cntx" not in names


def test_dist_names_come_from_the_metadata_header(tmp_path):
    """The provider shown by `cnai plugins` is the distribution's Name (not the folder's normalised name)."""
    plugins.reset()
    try:
        dist = type(
            "D",
            (),
            {
                "_path": tmp_path,
                "read_text": lambda self, f: (
                    "Metadata-Version: 2.1\nName: My-Plugin\nVersion: 1.2\n\nName: not this\n"
                    if f == "METADATA"
                    else None
                ),
            },
        )()
        assert plugins._dist_id(dist) == ("My-Plugin", "1.2")
    finally:
        plugins.reset()


# ------------------------------------------------------------------ worker threads (embed -j N)
def test_threads_keep_input_order_and_stop_cleanly_on_a_signal(sample_dir, tmp_path):
    import random
    import signal
    import threading
    import time

    from cnai.label.api import embed_file
    from cnai.label.batch import Interrupted, run

    src = tmp_path / "in"
    src.mkdir()
    for i in range(40):
        shutil.copy(sample_dir / "sample.jpg", src / f"{i:02d}.jpg")
    items = sorted(src.iterdir())
    threads_seen = set()

    def one(p):
        threads_seen.add(threading.get_ident())
        time.sleep(random.random() / 200)  # finish out of order
        if p.name == "10.jpg":
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the batch
        return embed_file(str(p), str(tmp_path / "out" / p.name), producer=PRODUCER)

    got = []
    with pytest.raises(Interrupted):
        for rec in run(items, one, workers=2, threads=True):
            got.append(rec)
    assert len(threads_seen) == 2
    names = [os.path.basename(r["path"]) for r in got]
    assert names == [p.name for p in items[: len(names)]]  # input order, no gaps
    assert 11 <= len(names) < 40 and all(r["status"] == "labelled" for r in got)
    # every reported output is in place and labelled; nothing else is there (no temporary files either)
    assert sorted(os.listdir(tmp_path / "out")) == names
    assert all(read_file(str(tmp_path / "out" / n))["label"] for n in names)


def test_signing_keeps_worker_processes(monkeypatch, tmp_path, sample_dir):
    """Threads only for plain labelling: with a signing key the batch uses processes (library thread safety)."""
    from cnai.label import verbs

    seen = {}
    real = verbs.run

    def spy(items, fn, **kw):
        seen["threads"] = kw.get("threads")
        return real(items, fn, **kw)

    monkeypatch.setattr(verbs, "run", spy)
    verbs.embed([str(sample_dir / "sample.jpg")], producer=PRODUCER, out=str(tmp_path / "a"), workers=2)
    assert seen["threads"] is True
    monkeypatch.setattr(verbs, "_priv", lambda sign, load=False: None)
    verbs.embed(
        [str(sample_dir / "sample.jpg")], producer=PRODUCER, out=str(tmp_path / "b"), workers=2, sign=True
    )
    assert seen["threads"] is False


# ------------------------------------------------------------------ the JPEG header memo
def test_a_labelled_copy_reads_the_input_header_once(sample_dir, tmp_path, monkeypatch):
    from cnai.label.api import embed_file
    from cnai.label.formats import images

    images.header_memo.clear()
    reads = []
    real = images._jpeg_header
    monkeypatch.setattr(images, "_jpeg_header", lambda f, size: (reads.append(f.name), real(f, size))[1])
    rec = embed_file(str(sample_dir / "sample.jpg"), str(tmp_path / "o.jpg"), producer=PRODUCER)
    assert rec["status"] == "labelled", rec
    # scan, damage check, plan and write share one read of the input; the output is read back from disk
    assert [os.path.basename(n) for n in reads].count("sample.jpg") == 1
    assert len(reads) == 2 and os.path.basename(reads[1]).lstrip(".").startswith(
        "o.jpg"
    )  # (or its temp file)


def test_in_place_read_back_never_trusts_the_memo(sample_dir, tmp_path, monkeypatch):
    """A same-size header edit in place, with a file-system clock too coarse to change the stamps (simulated:
    the memo key ignores times): the read-back still sees the new label, so the edit is kept (header-only)."""
    from cnai.label.api import embed_file
    from cnai.label.formats import images

    path = tmp_path / "x.jpg"
    assert (
        embed_file(str(sample_dir / "sample.jpg"), str(path), producer=PRODUCER, produce_id="a" * 20)["error"]
        is None
    )
    monkeypatch.setattr(
        images._HeaderMemo, "key", staticmethod(lambda st: (st.st_dev, st.st_ino, st.st_size))
    )
    images.header_memo.clear()
    ino = path.stat().st_ino
    rec = embed_file(str(path), str(path), producer=PRODUCER, produce_id="b" * 20, in_place=True)
    assert rec["status"] == "relabelled", rec
    assert path.stat().st_ino == ino  # header-only: the verification after the edit passed
    assert read_file(str(path))["label"]["ProduceID"] == "b" * 20


def test_header_memo_sees_an_outside_change(sample_dir, tmp_path):
    from cnai.label.formats import images

    p = tmp_path / "y.jpg"
    shutil.copy(sample_dir / "sample.jpg", p)
    head, sos, size = images.header_memo.get(str(p))
    data = bytearray(p.read_bytes())
    data[sos - 10 : sos] = b"\x00" * 10  # change header bytes only (same size)
    tmp = tmp_path / "y.new"
    tmp.write_bytes(bytes(data))
    os.replace(tmp, p)  # a new inode under the same name
    assert images.header_memo.get(str(p))[0] == bytes(data[:sos]) != head


# ------------------------------------------------------------------ start-up of a JPEG batch (issue 19 round 6)
def test_jpeg_batch_does_not_import_what_it_does_not_use(sample_dir, tmp_path):
    """`cnai label embed DIR -o OUT` on JPEGs takes the one-descriptor route: tempfile (with random, shutil),
    hashlib and zipfile stay unimported once the entry points are cached; the outputs are still labelled (the route ran, not a skip)."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        shutil.copy(sample_dir / "sample.jpg", src / f"{i}.jpg")
    out = tmp_path / "out"
    code = (
        "import json, sys\n"
        "from cnai.cli import main\n"
        f"argv = ['label', 'embed', {str(src)!r}, '--producer', 'p', '-o', {str(out)!r}, '--no-progress']\n"
        "try:\n    main(argv)\nexcept SystemExit:\n    pass\n"
        "mods = ['tempfile', 'random', 'shutil', 'hashlib', 'zipfile']\n"
        "print(json.dumps({m: m in sys.modules for m in mods}))\n"
    )
    env = _env(
        tmp_path / "cache"
    )  # entry points read from the cache (the first run fills it; a scan needs zipfile)
    for _run in range(2):
        shutil.rmtree(out, ignore_errors=True)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
        assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1]) == dict.fromkeys(
        ["tempfile", "random", "shutil", "hashlib", "zipfile"], False
    )
    assert sorted(os.listdir(out)) == ["0.jpg", "1.jpg"]
    assert all(read_file(str(out / n))["label"] for n in ("0.jpg", "1.jpg"))
