"""Fixtures: real sample media generated locally (Pillow, numpy, ffmpeg) once per test session."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cnai.label.samples import write_all

PRODUCER = "001191110102MACQD9K64010000"  # Doubao's real code (reference 2.2) -- valid GB 32100 check char
PLATFORM = "001191440300MA5G49LC9K2PLT1"

needs_exiftool = pytest.mark.skipif(not shutil.which("exiftool"), reason="exiftool not installed (make sysdeps)")
needs_ffmpeg = pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg not installed (make sysdeps)")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("samples")
    write_all(d, av=bool(shutil.which("ffmpeg")))
    return d


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def exiftool_json(p: Path) -> dict:
    out = subprocess.run(["exiftool", "-j", "-a", "-u", "-G1", "-b", str(p)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)[0]


def ffprobe_tags(p: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json",
                          str(p)], capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    tags = dict(d.get("format", {}).get("tags", {}))
    for s in d.get("streams", []):
        tags.update(s.get("tags", {}))
    return tags


def decoded_md5(p: Path) -> str:
    """MD5 of the decoded audio/video (what a player renders), via ffmpeg."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(p), "-map", "0", "-f", "md5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()
