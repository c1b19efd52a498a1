"""Large MP4s are streamed: peak memory stays far below the file size, and chunk offsets stay right."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys

import pytest
from tests.label.conftest import PRODUCER, decoded_md5, ffprobe_tags


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg")
@pytest.mark.slow  # a real process is the point (its own peak RSS); 600 MB file
def test_big_mp4_peak_memory(sample_dir, tmp_path):
    big = tmp_path / "big.mp4"
    shutil.copy(sample_dir / "sample.mp4", big)  # moov before mdat (faststart)
    pad = 600 * 1024 * 1024
    with open(big, "ab") as f:  # a 600 MB top-level 'free' box after the media (sparse on disk)
        f.write(struct.pack(">I4sQ", 1, b"free", pad))
        f.truncate(f.tell() + pad - 16)
    # Peak RSS of this process's own address space (VmHWM). ru_maxrss is not used: on Linux it also counts
    # the forked copy of the parent (the pytest process) from before exec, which grows with earlier tests.
    code = ("import sys\nfrom cnai.cli import main\ntry:\n main(sys.argv[1:])\nexcept SystemExit as e:\n"
            " hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            " print('RSS_KB', hwm, file=sys.stderr); raise\n")
    r = subprocess.run([sys.executable, "-c", code, "label", "embed", str(big), "--producer", PRODUCER, "-o",
                        str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rss_mb = int(next(x.split()[1] for x in r.stderr.splitlines() if x.startswith("RSS_KB"))) / 1024
    assert rss_mb < 200, rss_mb
    out = tmp_path / "out" / "big.mp4"
    assert out.stat().st_size > pad
    assert "AIGC" in ffprobe_tags(out)
    assert decoded_md5(out) == decoded_md5(sample_dir / "sample.mp4")
    out.unlink()  # do not leave 600 MB behind in pytest's kept temp dirs
    big.unlink()


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg")
def test_free_box_after_moov_absorbs_growth(sample_dir, tmp_path):
    from cnai.label.api import embed_file
    from cnai.label.formats.mp4 import _walk_shift, top_boxes

    src = sample_dir / "sample.mp4"  # ftyp, moov, (free), mdat -- moov first
    data = src.read_bytes()
    with open(src, "rb") as f:
        boxes = top_boxes(f, len(data))
    moov = next(b for b in boxes if b[0] == b"moov")
    pad = 4096
    m = bytearray(data[moov[1]:moov[1] + moov[3]])
    _walk_shift(m, 0, len(m), moov[1] + moov[3], pad)  # media will sit 4096 bytes later
    padded = data[:moov[1]] + bytes(m) + struct.pack(">I4s", pad, b"free") + b"\0" * (pad - 8) + \
        data[moov[1] + moov[3]:]
    p = tmp_path / "padded.mp4"
    p.write_bytes(padded)
    assert decoded_md5(p) == decoded_md5(src)  # our padded test file is itself valid
    out = tmp_path / "out.mp4"
    rec = embed_file(str(p), str(out), producer=PRODUCER)
    assert rec["error"] is None
    new = out.read_bytes()
    assert len(new) == len(padded)  # the free box absorbed the growth ...
    mdat_at = padded.find(b"mdat")
    assert new[mdat_at - 4:] == padded[mdat_at - 4:]  # ... so mdat did not move
    assert decoded_md5(out) == decoded_md5(src)
    assert "AIGC" in ffprobe_tags(out)
