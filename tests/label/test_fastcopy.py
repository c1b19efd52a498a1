"""Issue 19 round 5: a batch's new copy of a JPEG on one input descriptor (cnai.label.fastcopy). The outputs
and records must be those of the general route byte for byte; damage and a bad copy must still be caught; a
failure leaves no output and no temporary file."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
from tests.label.conftest import PRODUCER

from cnai.label import api, fastcopy
from cnai.label.api import read_file
from cnai.label.verbs import embed


def _app(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def _with_segments(jpg: bytes, *segs: bytes) -> bytes:
    """The JPEG with extra segments right after SOI."""
    return jpg[:2] + b"".join(segs) + jpg[2:]


@pytest.fixture()
def inputs(sample_dir, tmp_path) -> Path:
    """JPEGs covering both write routes and the header reads: unlabelled (rewrite), labelled by cnai before
    (header-only patch on the copy), a header larger than the first 64 KiB read, an AIGC JSON comment (blanked
    by the writer), a JPEG named .png (extension warning)."""
    d = tmp_path / "in"
    d.mkdir()
    jpg = (sample_dir / "sample.jpg").read_bytes()
    (d / "a-plain.jpg").write_bytes(jpg)
    big = _with_segments(jpg, *[_app(0xE2, b"ICC_PROFILE\x00" + bytes(60000)) for _ in range(3)])
    (d / "b-big-header.jpg").write_bytes(big)
    com = _with_segments(jpg, _app(0xFE, b'{"AIGC":{"Label":"1","ContentProducer":"x","ProduceID":"y"}}'))
    (d / "c-comment-json.jpg").write_bytes(com)
    (d / "d-named.png").write_bytes(jpg)
    lab = tmp_path / "lab"
    r = embed([str(d / "a-plain.jpg")], producer=PRODUCER, out=str(lab), produce_id="old-1")
    assert r.records[0]["status"] == "labelled"
    shutil.copy(lab / "a-plain.jpg", d / "e-labelled.jpg")
    return d


def _run(src: Path, out: Path, monkeypatch, fast: bool, **kw):
    monkeypatch.setenv("CNAI_LABEL_FASTCOPY", "1" if fast else "0")
    return embed([str(src)], producer=PRODUCER, out=str(out), produce_id="id-{n}", **kw)


def _strip(rec: dict) -> dict:
    r = dict(rec)
    r["output"] = os.path.basename(r["output"] or "")
    return r


def test_same_bytes_and_records_as_the_general_route(inputs, tmp_path, monkeypatch):
    used = []
    real = fastcopy.Source.write
    monkeypatch.setattr(fastcopy.Source, "write", lambda self, *a: used.append(self.path) or real(self, *a))
    slow = _run(inputs, tmp_path / "slow", monkeypatch, fast=False)
    assert used == []
    quick = _run(inputs, tmp_path / "fast", monkeypatch, fast=True)
    assert len(used) == 5  # every input took the new route
    assert [_strip(r) for r in quick.records] == [_strip(r) for r in slow.records]
    assert all(r["error"] is None for r in quick.records)
    assert any(
        "extension .png says png, content is jpeg" in w for r in quick.records for w in r.get("warnings", [])
    )
    for p in sorted((tmp_path / "slow").iterdir()):
        q = tmp_path / "fast" / p.name
        assert q.read_bytes() == p.read_bytes(), p.name
        assert read_file(str(q))["label"]["ProduceID"].startswith("id-")
    assert sorted(os.listdir(tmp_path / "fast")) == sorted(
        os.listdir(tmp_path / "slow")
    )  # no temporary files


def test_image_data_is_the_inputs(inputs, tmp_path, monkeypatch):
    _run(inputs, tmp_path / "fast", monkeypatch, fast=True)
    for p in inputs.iterdir():
        src, out = p.read_bytes(), (tmp_path / "fast" / p.name).read_bytes()
        sos_in, sos_out = src.index(b"\xff\xda"), out.index(b"\xff\xda")
        assert out[sos_out:] == src[sos_in:]


def test_relabel_route_is_the_header_patch(inputs, tmp_path, monkeypatch):
    """An input cnai labelled before keeps its size: only bytes inside the XMP packet (before its trailer) change."""
    _run(inputs, tmp_path / "fast", monkeypatch, fast=True)
    a, b = (inputs / "e-labelled.jpg").read_bytes(), (tmp_path / "fast" / "e-labelled.jpg").read_bytes()
    assert len(a) == len(b)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert diff and a.index(b"<x:xmpmeta") < diff[0] and diff[-1] < a.index(b"<?xpacket end")


def test_damaged_input_is_refused_then_labelled_when_allowed(sample_dir, tmp_path, monkeypatch):
    d = tmp_path / "in"
    d.mkdir()
    jpg = (sample_dir / "sample.jpg").read_bytes()
    (d / "cut.jpg").write_bytes(jpg[: len(jpg) - 200])  # no EOI marker
    r = _run(d, tmp_path / "o1", monkeypatch, fast=True)
    assert r.records[0]["skip_reason"] == "damaged file"
    assert "no EOI marker" in r.records[0]["error"]
    assert not (tmp_path / "o1" / "cut.jpg").exists()
    r = _run(d, tmp_path / "o2", monkeypatch, fast=True, allow_damaged=True)
    assert r.records[0]["status"] == "labelled" and r.records[0]["damage"]
    slow = _run(d, tmp_path / "o3", monkeypatch, fast=False, allow_damaged=True)
    assert (tmp_path / "o2" / "cut.jpg").read_bytes() == (tmp_path / "o3" / "cut.jpg").read_bytes()
    assert _strip(slow.records[0]) == _strip(r.records[0])


def _broken(monkeypatch, how: str):
    real = fastcopy._copy

    def copy(src_fd, dst_fd, start, dst_pos, length, src_dev=None):
        if how == "short":
            return real(src_fd, dst_fd, start, dst_pos, length - 1, src_dev)
        real(src_fd, dst_fd, start, dst_pos, length, src_dev)
        if how == "tail":
            os.pwrite(dst_fd, b"\x00", dst_pos + length - 2)
        elif how == "header":
            os.pwrite(dst_fd, b"X", 40)

    monkeypatch.setattr(fastcopy, "_copy", copy)


@pytest.mark.parametrize(
    "how,msg",
    [("short", "bytes on read-back"), ("tail", "does not end as the input"), ("header", "header differs")],
)
def test_a_bad_copy_is_caught_and_leaves_nothing(inputs, tmp_path, monkeypatch, how, msg):
    _broken(monkeypatch, how)
    r = _run(inputs / "a-plain.jpg", tmp_path / "o", monkeypatch, fast=True)
    rec = r.records[0]
    assert rec["skip_reason"] == "verification failed" and msg in rec["error"]
    assert os.listdir(tmp_path / "o") == []  # no output, no temporary file


def test_a_dropped_label_is_caught(inputs, tmp_path, monkeypatch):
    """The read-back parses the written header with the reader: a writer that loses the label is an error."""
    from cnai.label.formats import images

    real = images.jpeg_write
    monkeypatch.setattr(
        images, "jpeg_write", lambda data, js, opts: real(data, js.replace("id-1", "id-X"), opts)
    )
    r = _run(inputs / "a-plain.jpg", tmp_path / "o", monkeypatch, fast=True)
    assert r.records[0]["skip_reason"] == "verification failed"
    assert "label not found" in r.records[0]["error"]
    assert os.listdir(tmp_path / "o") == []


def test_other_cases_take_the_general_route(sample_dir, tmp_path, monkeypatch):
    """PNG, an existing output, signing/hashing, a single-file API call: the general route."""
    opened = []
    real = fastcopy.open_source
    monkeypatch.setattr(fastcopy, "open_source", lambda p: opened.append(p) or real(p))
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(sample_dir / "sample.png", d / "x.png")
    shutil.copy(sample_dir / "sample.jpg", d / "y.jpg")
    out = tmp_path / "o"
    out.mkdir()
    (out / "y.jpg").write_bytes(b"old")
    r = _run(d, out, monkeypatch, fast=True)
    assert [x["status"] for x in r.records] == ["labelled", "labelled"]
    assert opened == [str(d / "x.png")]  # sniffed, handed back; y.jpg's output existed
    assert read_file(str(out / "y.jpg"))["label"]["ProduceID"] == "id-2"
    opened.clear()
    r = _run(d / "y.jpg", tmp_path / "o2", monkeypatch, fast=True, hash=True)
    assert r.records[0]["status"] == "labelled" and opened == []
    rec = api.embed_file(str(d / "y.jpg"), str(tmp_path / "single.jpg"), producer=PRODUCER)
    assert rec["status"] == "labelled" and opened == []


def test_bad_inputs_give_the_same_errors(tmp_path, monkeypatch):
    d = tmp_path / "in"
    d.mkdir()
    (d / "empty.jpg").write_bytes(b"")
    (d / "notjpeg.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")  # header cut before SOS
    os.mkfifo(d / "pipe.jpg")
    (d / "gone.jpg").symlink_to(d / "nowhere.jpg")
    paths = [str(d / n) for n in ("empty.jpg", "notjpeg.jpg", "pipe.jpg", "gone.jpg")]
    recs = {}
    for fast in (True, False):
        monkeypatch.setenv("CNAI_LABEL_FASTCOPY", "1" if fast else "0")
        r = embed(paths, producer=PRODUCER, out=str(tmp_path / f"o{fast}"))
        recs[fast] = [(x["skip_reason"], x["error"]) for x in r.records]
    assert recs[True] == recs[False]
    assert [x[0] for x in recs[True]] == [
        "empty file",
        "corrupt or unsupported structure",
        "not a file",
        "not found",
    ]
    assert not (tmp_path / "oTrue").exists() or os.listdir(tmp_path / "oTrue") == []


def test_nested_output_folders_are_made(sample_dir, tmp_path, monkeypatch):
    d = tmp_path / "in"
    (d / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(sample_dir / "sample.jpg", d / "sub" / "deeper" / "a.jpg")
    shutil.copy(sample_dir / "sample.jpg", d / "b.jpg")
    r = _run(d, tmp_path / "o", monkeypatch, fast=True)
    assert [x["status"] for x in r.records] == ["labelled", "labelled"]
    assert read_file(str(tmp_path / "o" / "sub" / "deeper" / "a.jpg"))["label"]["ProduceID"] == "id-2"
    assert sorted(os.listdir(tmp_path / "o" / "sub" / "deeper")) == ["a.jpg"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
@pytest.mark.parametrize("early_writeback", [True, False])
def test_mode_follows_the_umask_and_no_descriptor_leaks(inputs, tmp_path, monkeypatch, mask, early_writeback):
    """The fast route sets the mode on the temporary file's descriptor (staged with mode None) and hands that
    descriptor to the write-out; the final mode is the general route's (0o666 & ~umask) and no descriptor is
    left open, with the early write-out on or off."""
    if not early_writeback:
        monkeypatch.setenv("CNAI_NO_EARLY_WRITEBACK", "1")
    used = []
    real = fastcopy.Source.write
    monkeypatch.setattr(fastcopy.Source, "write", lambda self, *a: (used.append(1), real(self, *a))[1])
    fds = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    old = os.umask(mask)
    try:
        fast = _run(inputs, tmp_path / "f", monkeypatch, fast=True)
        slow = _run(inputs, tmp_path / "s", monkeypatch, fast=False)
    finally:
        os.umask(old)
    from cnai.label import inplace

    inplace.writeback.drain()
    assert fast.exit_code == slow.exit_code == 0 and used  # the fast route ran
    for name in os.listdir(inputs):
        mf = (tmp_path / "f" / name).stat().st_mode & 0o777
        ms = (tmp_path / "s" / name).stat().st_mode & 0o777
        assert mf == ms == 0o666 & ~mask, (name, oct(mf), oct(ms))
    if fds is not None:
        assert set(os.listdir("/proc/self/fd")) <= fds
