"""Header-only in-place labelling, patched clones and the batch group commit: the label changes, the essence
digest does not, only metadata bytes move, and every fallback leaves a complete file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from tests.label.conftest import PRODUCER, decoded_md5, ffprobe_tags, needs_ffmpeg

from cnai.label import inplace
from cnai.label.api import content_digest, embed_file, read_file, write_label
from cnai.label.formats.base import WriteOpts
from cnai.label.model import AIGCLabel


def _labelled(sample_dir, tmp_path, name: str):
    src = sample_dir / name
    if not src.exists():
        pytest.skip(f"{name} needs ffmpeg")
    out = tmp_path / f"l-{name}"
    rec = embed_file(str(src), str(out), producer=PRODUCER, produce_id="first-id-0000000000000000000000")
    assert rec["error"] is None, rec
    return out, rec["format"]


def _relabel_in_place(path, pid: str) -> dict:
    rec = embed_file(str(path), str(path), producer=PRODUCER, produce_id=pid, in_place=True)
    assert rec["error"] is None, rec
    return rec


def _changed(a: bytes, b: bytes) -> tuple[int, int]:
    assert len(a) == len(b)
    lo = next(i for i in range(len(a)) if a[i] != b[i])
    hi = len(a) - next(i for i in range(len(a)) if a[-1 - i] != b[-1 - i])
    return lo, hi


@pytest.mark.parametrize("name", ["sample.jpg", "sample.png"])
def test_image_relabel_rewrites_only_the_xmp_packet(sample_dir, tmp_path, name):
    path, fmt = _labelled(sample_dir, tmp_path, name)
    before, ino, digest = path.read_bytes(), path.stat().st_ino, content_digest(str(path), fmt)
    _relabel_in_place(path, "second-id-111111111111111111111")
    after = path.read_bytes()
    assert path.stat().st_ino == ino  # the same file was edited, not replaced
    lo, hi = _changed(before, after)
    assert lo // 4096 == (hi - 1) // 4096  # one write inside one block
    assert after[lo:lo + 6] == b"second"  # it starts at the label ...
    if name.endswith(".jpg"):
        assert hi - lo < 40  # ... and ends with it
    else:  # ... and ends with the iTXt chunk's CRC; the padding between is unchanged
        assert hi - lo < 4096 and before[hi:hi + 4] == after[hi:hi + 4]
    assert content_digest(str(path), fmt) == digest
    assert read_file(str(path))["label"]["ProduceID"] == "second-id-111111111111111111111"
    if shutil.which("exiftool"):
        out = subprocess.run(["exiftool", "-j", "-XMP-TC260:all", str(path)], capture_output=True, text=True)
        assert "second-id" in out.stdout and "Warning" not in out.stdout


def test_longer_label_uses_the_padding(sample_dir, tmp_path):
    path, fmt = _labelled(sample_dir, tmp_path, "sample.jpg")
    ino, size = path.stat().st_ino, path.stat().st_size
    rec = embed_file(str(path), str(path), producer=PRODUCER, produce_id="z" * 300, in_place=True)
    assert rec["error"] is None
    assert path.stat().st_ino == ino and path.stat().st_size == size  # absorbed by the 2 KiB XMP padding
    assert read_file(str(path))["label"]["ProduceID"] == "z" * 300


def test_no_room_falls_back_to_the_atomic_rewrite(sample_dir, tmp_path):
    path = tmp_path / "plain.jpg"
    shutil.copy(sample_dir / "sample.jpg", path)  # no XMP packet at all: nowhere to write in place
    ino = path.stat().st_ino
    digest = content_digest(str(path), "jpeg")
    _relabel_in_place(path, "pid")
    assert path.stat().st_ino != ino  # replaced by rename
    assert content_digest(str(path), "jpeg") == digest and read_file(str(path))["label"]["ProduceID"] == "pid"


def test_edit_across_a_block_boundary_is_not_done_in_place(sample_dir, tmp_path):
    path, _fmt = _labelled(sample_dir, tmp_path, "sample.jpg")
    data = path.read_bytes()
    at = data.index(b"first-id")
    # a comment segment before everything else moves the ProduceID across the 4096-byte boundary
    pad = 4088 - at  # a segment of 4 + pad bytes: the id's bytes then sit at 4092..4123
    com = b"\xff\xfe" + (pad + 2).to_bytes(2, "big") + b"c" * pad
    path.write_bytes(data[:2] + com + data[2:])
    assert path.read_bytes().index(b"first-id") < 4096 < path.read_bytes().index(b"first-id") + 32
    ino = path.stat().st_ino
    _relabel_in_place(path, "second-id-111111111111111111111")
    assert path.stat().st_ino != ino  # not atomic as one block -> the normal rewrite
    assert read_file(str(path))["label"]["ProduceID"] == "second-id-111111111111111111111"


def test_failed_verification_restores_the_bytes_and_rewrites(sample_dir, tmp_path, monkeypatch):
    path, fmt = _labelled(sample_dir, tmp_path, "sample.png")
    before, ino = path.read_bytes(), path.stat().st_ino
    seen = {}

    def fake_verify(car, p, js):  # pretend the read-back failed, and look at the file at that moment
        seen["during"] = open(p, "rb").read()
        return False

    monkeypatch.setattr(inplace, "_verify", fake_verify)
    _relabel_in_place(path, "second-id-111111111111111111111")
    assert seen["during"] != before  # the patch had been written ...
    assert path.stat().st_ino != ino  # ... was undone, and the rewrite replaced the file
    assert read_file(str(path))["label"]["ProduceID"] == "second-id-111111111111111111111"
    assert content_digest(str(path), fmt) == content_digest(str(tmp_path / "l-sample.png"), fmt)


@needs_ffmpeg
def test_mp4_with_moov_last_appends_and_flips(sample_dir, tmp_path):
    path, fmt = _labelled(sample_dir, tmp_path, "sample-end.mp4")
    before, ino, digest = path.read_bytes(), path.stat().st_ino, content_digest(str(path), fmt)
    frames = decoded_md5(path)
    _relabel_in_place(path, "second-id-111111111111111111111")
    after = path.read_bytes()
    assert path.stat().st_ino == ino and len(after) > len(before)
    assert after[:len(before)].count(b"moov") == before.count(b"moov") - 1  # the old moov is now 'free'
    lo, hi = _changed(before, after[:len(before)])
    assert after[lo:hi] == b"free" and before[lo:hi] == b"moov"  # one 4-byte switch; mdat untouched
    assert json.loads(ffprobe_tags(path)["AIGC"])["ProduceID"] == "second-id-111111111111111111111"
    assert decoded_md5(path) == frames and content_digest(str(path), fmt) == digest


@needs_ffmpeg
def test_mp4_crash_between_append_and_flip_keeps_the_old_label(sample_dir, tmp_path):
    path, fmt = _labelled(sample_dir, tmp_path, "sample-end.mp4")
    frames = decoded_md5(path)
    p = inplace.plan(fmt, str(path), AIGCLabel(ContentProducer=PRODUCER, ProduceID="new").to_json(), WriteOpts())
    assert p is not None and p.safe and p.flip is not None
    with open(path, "r+b") as f:  # step 1 only, as if the machine stopped before the switch
        f.seek(0, os.SEEK_END)
        f.write(p.append)
    assert json.loads(ffprobe_tags(path)["AIGC"])["ProduceID"] == "first-id-0000000000000000000000"
    assert decoded_md5(path) == frames
    assert read_file(str(path))["label"]["ProduceID"] == "first-id-0000000000000000000000"


@needs_ffmpeg
def test_faststart_mp4_without_room_is_rewritten(sample_dir, tmp_path):
    path, fmt = _labelled(sample_dir, tmp_path, "sample.mp4")
    ino = path.stat().st_ino
    _relabel_in_place(path, "a-much-longer-produce-id-than-before-" * 3)
    assert path.stat().st_ino != ino and decoded_md5(path) == decoded_md5(sample_dir / "sample.mp4")


@pytest.mark.parametrize("name", ["sample.jpg", "sample.png", "sample-end.mp4"])
def test_new_copy_is_a_patched_clone(sample_dir, tmp_path, name):
    path, fmt = _labelled(sample_dir, tmp_path, name)
    out = tmp_path / "copy" / name
    how = write_label(str(path), str(out), fmt, AIGCLabel(ContentProducer=PRODUCER, ProduceID="c" * 31),
                      WriteOpts())
    assert how in ("reflink+patch", "copy_file_range+patch", "read/write+patch")
    assert read_file(str(out))["label"]["ProduceID"] == "c" * 31
    assert content_digest(str(out), fmt) == content_digest(str(path), fmt)
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_staged_outputs_appear_only_at_commit(sample_dir, tmp_path):
    from cnai.label.registry import get

    out = tmp_path / "o" / "x.png"
    inplace.staging(True)
    try:
        written, _how = inplace.write_output(get("png"), "png", str(sample_dir / "sample.png"), str(out),
                                             AIGCLabel(ContentProducer=PRODUCER, ProduceID="p").to_json(),
                                             WriteOpts())
        staged = inplace.take_pending()
    finally:
        inplace.staging(False)
    # before the commit: only a hidden temporary file (what a crash would leave), never a partial x.png
    assert not out.exists() and os.path.basename(written).startswith(".x.png.")
    assert inplace.commit(staged) == {}
    assert out.exists() and not os.path.exists(written) and read_file(str(out))["label"]["ProduceID"] == "p"


def test_batch_in_place_and_copy_through_the_cli(sample_dir, tmp_path, cnai):
    d = tmp_path / "in"
    d.mkdir()
    for i in range(5):
        shutil.copy(sample_dir / "sample.jpg", d / f"{i}.jpg")
    r = cnai("label", "embed", str(d), "--producer", PRODUCER, "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(recs) == 5 and all(x["status"] == "labelled" for x in recs)
    assert sorted(os.listdir(tmp_path / "out")) == [f"{i}.jpg" for i in range(5)]  # no temporary files left
    inodes = {p.name: p.stat().st_ino for p in (tmp_path / "out").iterdir()}
    r = cnai("label", "embed", str(tmp_path / "out"), "--producer", PRODUCER, "--in-place", "--produce-id",
             "again-{n}")
    assert r.returncode == 0, r.stderr
    assert {p.name: p.stat().st_ino for p in (tmp_path / "out").iterdir()} == inodes  # header-only, in place
    assert all(read_file(str(p))["label"]["ProduceID"].startswith("again-") for p in (tmp_path / "out").iterdir())


def test_media_moves_by_whole_blocks(sample_dir, tmp_path):
    """A first label moves the image data (JPEG) or mdat (MP4, moov first) by a multiple of 4096 bytes, so the
    copy of the media is block-aligned on both sides (what a reflink needs)."""
    src = sample_dir / "sample.jpg"
    out = tmp_path / "a.jpg"
    assert embed_file(str(src), str(out), producer=PRODUCER)["error"] is None
    a, b = src.read_bytes(), out.read_bytes()
    shift = len(b) - len(a)
    assert shift > 0 and shift % 4096 == 0 and b[-1000:] == a[-1000:]
    mp4 = sample_dir / "sample.mp4"
    if mp4.exists():
        out = tmp_path / "a.mp4"
        assert embed_file(str(mp4), str(out), producer=PRODUCER)["error"] is None
        a, b = mp4.read_bytes(), out.read_bytes()
        ma, mb = a.index(b"mdat"), b.index(b"mdat")
        assert (mb - ma) % 4096 == 0 and b[mb:] == a[ma:]
        assert decoded_md5(out) == decoded_md5(mp4)
        # the free box left after moov takes the next relabel without moving mdat again
        again = tmp_path / "b.mp4"
        assert embed_file(str(out), str(again), producer=PRODUCER, produce_id="x" * 40)["error"] is None
        assert again.read_bytes().index(b"mdat") == mb and decoded_md5(again) == decoded_md5(mp4)


@pytest.mark.skipif(not os.environ.get("CNAI_REFLINK_TEST_DIR"),
                    reason="set CNAI_REFLINK_TEST_DIR to a folder on Btrfs/XFS to test reflinks")
def test_copies_share_blocks_on_a_reflink_file_system(sample_dir):
    """On a file system with reflinks, labelled copies of large files cost metadata, not data."""
    import tempfile

    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory(dir=os.environ["CNAI_REFLINK_TEST_DIR"]) as d:
        src = os.path.join(d, "big.jpg")
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)).save(
            src, quality=95)
        size = os.path.getsize(src)
        os.sync()
        free0 = os.statvfs(d).f_bfree * os.statvfs(d).f_frsize
        for i in range(10):
            rec = embed_file(src, os.path.join(d, f"out{i}.jpg"), producer=PRODUCER)
            assert rec["error"] is None
        os.sync()
        used = free0 - os.statvfs(d).f_bfree * os.statvfs(d).f_frsize
        assert used < size  # ten labelled copies take less room than one plain copy would
        assert content_digest(os.path.join(d, "out9.jpg"), "jpeg") == content_digest(src, "jpeg")
