"""Hostile input for `cnai label` (issue #10): truncated and structurally broken media, oversized fields, outputs
that would replace an input or follow a link, empty and mixed batches, signals.

Every table case asserts: the exit code; a one-line message on stderr naming the file or field; no traceback;
input files byte-identical afterwards; no partial output (no temporary file, no output for a refused file).
The rows are listed in docs/reliability.md (case | expected behaviour).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

PRODUCER = "001191110102MACQD9K64010000"  # Doubao's code (reference 2.2): valid GB 32100 check character
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- media makers (in memory, no ffmpeg)
def _image_bytes(fmt: str) -> bytes:
    from cnai.label.samples import image

    buf = io.BytesIO()
    image(64, 48).save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def jpeg() -> bytes:
    return _image_bytes("JPEG")


def jpeg_no_eoi() -> bytes:
    d = jpeg()
    return d[:len(d) - 200]  # cut inside the entropy-coded data: no FFD9


def png() -> bytes:
    return _image_bytes("PNG")


def png_no_iend() -> bytes:
    d = png()
    return d[:d.rindex(b"IEND") - 4]


def png_bad_crc() -> bytes:
    d = bytearray(png())
    i = d.index(b"IDAT")
    ln = struct.unpack(">I", d[i - 4:i])[0]
    d[i + 4 + ln] ^= 0xFF  # first CRC byte of the first IDAT
    return bytes(d)


def _box(typ: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + typ + body


def mp4_short_mdat() -> bytes:
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    moov = _box(b"moov", _box(b"mvhd", b"\x00" * 100))
    return ftyp + moov + struct.pack(">I4s", 100_000, b"mdat") + b"\x00" * 64  # declares 100 kB, holds 64 B


def wav_short_data() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 10_000) + b"\x00" * 10
    return b"RIFF" + struct.pack("<I", len(body)) + body


def md_alias_bomb() -> bytes:
    return b"---\nAIGC: &a\n  Label: '1'\n  X: [*a, *a]\n---\ntext\n"


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the table
@dataclass
class Case:
    name: str
    files: dict[str, Callable[[], bytes]]   # input files written under tmp/in
    args: Callable[[Path], list[str]]       # argv after "label"
    rc: int
    message: str                            # regex one stderr line must match (names the file or field)
    made: tuple[str, ...] = ()              # outputs (relative to tmp) that must exist
    absent: tuple[str, ...] = ("out",)      # paths (relative to tmp) that must not exist afterwards
    check: Callable[[Path, object], None] | None = None


def embed(*extra: str) -> Callable[[Path], list[str]]:
    return lambda t: ["embed", str(t / "in"), "--producer", PRODUCER, "-o", str(t / "out"), "--format", "json",
                      *extra]


def _damage_recorded(t: Path, r) -> None:
    rec = json.loads(r.stdout)[0]
    assert rec["status"] == "labelled" and rec["damage"] and "no EOI" in rec["damage"][0]


def _mixed_counts(t: Path, r) -> None:
    assert "skips by reason: damaged file: 1" in r.stderr and "1 labelled" in r.stderr


def _symlink_untouched(t: Path, r) -> None:
    assert (t / "target.jpg").read_bytes() == b"not yours"


def _link_out(t: Path) -> list[str]:
    (t / "out").mkdir()
    (t / "target.jpg").write_bytes(b"not yours")
    (t / "out" / "a.jpg").symlink_to(t / "target.jpg")
    return embed()(t)


CASES = [
    Case("jpeg-without-eoi", {"cut.jpg": jpeg_no_eoi}, embed(), 1,
         r"^error: .*cut\.jpg: damaged jpeg: image data truncated: no EOI marker .*--allow-damaged"),
    Case("jpeg-without-eoi-allowed", {"cut.jpg": jpeg_no_eoi}, embed("--allow-damaged"), 0,
         r"^summary: embed: 1 files: 1 labelled$", made=("out/cut.jpg",), absent=(), check=_damage_recorded),
    Case("png-without-iend", {"cut.png": png_no_iend}, embed(), 1,
         r"^error: .*cut\.png: damaged png: no IEND chunk"),
    Case("png-bad-crc", {"crc.png": png_bad_crc}, embed(), 1,
         r"^error: .*crc\.png: damaged png: chunk 'IDAT' at byte \d+ has a bad CRC"),
    Case("mp4-mdat-shorter-than-declared", {"short.mp4": mp4_short_mdat}, embed(), 1,
         r"^error: .*short\.mp4: byte \d+: MP4 box b'mdat' size 100000 runs past the end of the file"),
    Case("mp4-short-mdat-even-when-allowed", {"short.mp4": mp4_short_mdat}, embed("--allow-damaged"), 1,
         r"^error: .*short\.mp4: byte \d+: MP4 box b'mdat' size 100000 runs past the end"),
    Case("wav-data-chunk-past-end", {"short.wav": wav_short_data}, embed(), 1,
         r"^error: .*short\.wav: byte \d+: WAV chunk b'data' length 10000 runs past the end of the file"),
    Case("producer-5000-characters", {"a.jpg": jpeg},
         lambda t: ["embed", str(t / "in"), "--producer", "P" * 5000, "-o", str(t / "out")], 2,
         r"^error: --producer: is 5000 characters long \(limit 4096"),
    Case("produce-id-5000-characters", {"a.jpg": jpeg}, embed("--produce-id", "x{n}" + "y" * 5000), 2,
         r"^error: --produce-id: is 5004 characters long \(limit 4096"),
    Case("label-value-out-of-range", {"a.jpg": jpeg}, embed("--label", "7"), 2, r"^error: --label: must be 1"),
    Case("empty-file", {"empty.png": lambda: b""}, embed(), 1, r"^error: .*empty\.png: file is empty \(0 bytes\)"),
    Case("unknown-format", {"blob.bin": lambda: os.urandom(64)}, embed(), 1,
         r"^error: .*blob\.bin: unrecognised or unsupported file format"),
    Case("output-is-the-input", {"a.jpg": jpeg},
         lambda t: ["embed", str(t / "in" / "a.jpg"), "--producer", PRODUCER, "-o", str(t / "in")], 1,
         r"^error: .*a\.jpg: output is the input file; pass --in-place", absent=()),
    Case("output-is-a-symlink", {"a.jpg": jpeg}, _link_out, 1,
         r"^error: .*a\.jpg: .*output is a symbolic link", absent=(), check=_symlink_untouched),
    Case("mixed-batch-goes-on", {"good.png": png, "cut.jpg": jpeg_no_eoi}, embed(), 1,
         r"^error: .*cut\.jpg: damaged jpeg", made=("out/good.png",), absent=("out/cut.jpg",), check=_mixed_counts),
    Case("every-file-failed", {"a.png": png_no_iend, "b.jpg": jpeg_no_eoi}, embed(), 1,
         r"^summary: embed: 2 files: 2 errors \(skips by reason: damaged file: 2\)$"),
    Case("empty-folder", {}, embed(), 1, r"^error: no files to process"),
    Case("front-matter-alias-bomb", {"a.md": md_alias_bomb},
         lambda t: ["read", str(t / "in"), "--format", "json"], 1,
         r"^error: .*a\.md: .*front matter AIGC block is not valid YAML: .*alias"),
    Case("out-and-in-place", {"a.jpg": jpeg}, embed("--in-place"), 2, r"^error: -o/--in-place: give exactly one"),
    Case("resume-with-in-place", {"a.jpg": jpeg},
         lambda t: ["embed", str(t / "in"), "--producer", PRODUCER, "--in-place", "--resume"], 2,
         r"^error: --resume: works only with -o OUTDIR"),
    Case("check-damaged-file-reports-damage", {"cut.jpg": jpeg_no_eoi},
         lambda t: ["check", str(t / "in"), "--format", "json"], 1, r"^summary: check: 1 files: 1 failed$",
         check=lambda t, r: json.loads(r.stdout)[0]["damage"]),
    Case("propagate-damaged", {"crc.png": png_bad_crc},
         lambda t: ["propagate", str(t / "in"), "--propagator", PRODUCER, "--declared", "*", "-o", str(t / "out")],
         1, r"^error: .*crc\.png: damaged png: chunk 'IDAT'"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_label(case: Case, tmp_path, cnai):
    src = tmp_path / "in"
    src.mkdir()
    for name, make in case.files.items():
        (src / name).write_bytes(make())
    argv = case.args(tmp_path)
    before = {p: sha(p) for p in src.rglob("*") if p.is_file()}
    r = cnai("label", *argv)
    assert r.returncode == case.rc, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.splitlines()
    assert any(re.search(case.message, ln) for ln in lines), r.stderr
    assert len(lines) <= 1 + len(case.files) + 1, r.stderr  # one line per failed file + summary (+ no-files line)
    assert {p: sha(p) for p in src.rglob("*") if p.is_file()} == before, "an input file changed"
    for rel in case.made:
        assert (tmp_path / rel).is_file(), rel
    for rel in case.absent:
        assert not (tmp_path / rel).exists(), rel
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".cnai-tmp")]
    assert not leftovers, leftovers
    if case.check:
        case.check(tmp_path, r)


def test_new_outputs_get_the_umask_mode(tmp_path, cnai):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(png())
    os.chmod(tmp_path / "in" / "a.png", 0o600)
    old = os.umask(0o027)
    try:
        r = cnai("label", "embed", str(tmp_path / "in"), "--producer", PRODUCER, "-o", str(tmp_path / "out"))
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "a.png").stat().st_mode & 0o777 == 0o640  # not the input's 0600, not always 0600


# ---------------------------------------------------------------- signals (a real process is the point)
def _start_batch(tmp_path: Path, n: int) -> tuple[subprocess.Popen, Path]:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    data = png()
    for i in range(n):
        (src / f"p{i:04d}.png").write_bytes(data)
    env = {k: v for k, v in os.environ.items() if k != "CNAI_DEBUG"}
    p = subprocess.Popen([sys.executable, "-m", "cnai", "label", "embed", str(src), "--producer", PRODUCER, "-o",
                          str(out), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline and not (out.is_dir() and len(os.listdir(out)) >= 5):
        time.sleep(0.005)
    return p, out


@pytest.mark.slow  # two real processes over 600 files
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_batch_cleanly_and_resume_finishes(tmp_path, sig, code):
    n = 600
    p, out = _start_batch(tmp_path, n)
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == code, stderr
    assert "Traceback" not in stderr
    done = sorted(os.listdir(out))
    assert 5 <= len(done) < n
    assert not [f for f in done if f.endswith(".tmp") or f.startswith(".")], "half-written output left behind"
    assert len(stdout.splitlines()) == len(done)  # one record per finished file, each complete JSON
    assert all(json.loads(x)["status"] == "labelled" for x in stdout.splitlines())
    m = re.search(r"Resume with: (cnai .*)$", stderr, re.M)
    assert m and m.group(1).endswith("--resume"), stderr
    args = m.group(1).split()[1:]
    r = subprocess.run([sys.executable, "-m", "cnai", *args, "--format", "json"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert sum(x["status"] == "done earlier" for x in recs) == len(done)
    assert sum(x["status"] == "labelled" for x in recs) == n - len(done)
    assert len(os.listdir(out)) == n
