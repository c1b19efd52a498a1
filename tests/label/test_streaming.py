"""Large MP4s are streamed: peak memory stays far below the file size, and chunk offsets stay right."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys

import pytest
from tests.label.conftest import PRODUCER, decoded_md5, ffprobe_tags


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg")
def test_big_mp4_peak_memory(sample_dir, tmp_path):
    big = tmp_path / "big.mp4"
    shutil.copy(sample_dir / "sample.mp4", big)  # moov before mdat (faststart)
    pad = 600 * 1024 * 1024
    with open(big, "ab") as f:  # a 600 MB top-level 'free' box after the media (sparse on disk)
        f.write(struct.pack(">I4sQ", 1, b"free", pad))
        f.truncate(f.tell() + pad - 16)
    code = ("import resource,sys\nfrom cnai.cli import main\ntry:\n main(sys.argv[1:])\nexcept SystemExit as e:\n"
            " print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); raise\n")
    r = subprocess.run([sys.executable, "-c", code, "label", "embed", str(big), "--producer", PRODUCER, "-o",
                        str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rss_mb = int(next(x.split()[1] for x in r.stderr.splitlines() if x.startswith("RSS_KB"))) / 1024
    assert rss_mb < 200, rss_mb
    out = tmp_path / "out" / "big.mp4"
    assert out.stat().st_size > pad
    assert "AIGC" in ffprobe_tags(out)
    assert decoded_md5(out) == decoded_md5(sample_dir / "sample.mp4")
