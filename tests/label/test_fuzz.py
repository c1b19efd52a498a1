"""Fuzzing the byte-level parsers with hypothesis (mutations of real sample files), plus the regression
corpus of crashers found so far (tests/label/corpus/<format>-*.bin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.label.fuzzutil import exercise

SEEDS = {"jpeg": "sample.jpg", "png": "sample.png", "gif": "sample.gif", "webp": "sample-lossless.webp",
         "tiff": "sample.tif", "wav": "sample.wav", "mp3": "sample.mp3", "flac": "sample.flac", "ogg": "sample.ogg",
         "mp4": "sample.mp4", "mkv": "sample.mkv", "avi": "sample.avi", "heif": "sample.heic", "pdf": "sample.pdf", "ooxml": "sample.docx", "text": "sample.md"}
CORPUS = Path(__file__).parent / "corpus"


@st.composite
def mutated(draw, seed: bytes):
    data = bytearray(seed[:200_000])
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup", "zero"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "dup":
            data[i:i] = data[i:i + draw(st.integers(1, 64))]
        else:
            data[i:i + 4] = b"\xff\xff\xff\xff"
    return bytes(data)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_fuzz_parsers(sample_dir, fmt):
    seed_path = sample_dir / SEEDS[fmt]
    if not seed_path.exists():
        pytest.skip("needs ffmpeg")
    seed = seed_path.read_bytes()

    @settings(max_examples=60, deadline=3000, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(mutated(seed))
    def run(data):
        exercise(fmt, data)

    run()


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.bin")), ids=lambda p: p.name)
def test_corpus_regressions(path):
    exercise(path.name.split("-", 1)[0], path.read_bytes())


# Property: any bytes after a format's magic -> a reading or the documented error (CnaiError with the offset),
# never another exception. Every registered carrier, including read-only ones and plug-ins on the path.
MAGIC = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n", "webp": b"RIFF\x00\x10\x00\x00WEBP",
         "wav": b"RIFF\x00\x10\x00\x00WAVE", "avi": b"RIFF\x00\x10\x00\x00AVI ", "tiff": b"II*\x00",
         "gif": b"GIF89a", "flac": b"fLaC", "mp3": b"ID3\x04\x00\x00", "ogg": b"OggS\x00\x02", "mkv": b"\x1a\x45\xdf\xa3",
         "heif": b"\x00\x00\x00\x18ftypheic", "mp4": b"\x00\x00\x00\x18ftypisom", "pdf": b"%PDF-1.7\n",
         "ooxml": b"PK\x03\x04", "zip": b"PK\x03\x04", "flv": b"FLV\x01", "text": b"---\nAIGC:\n  Label: "}


def test_every_carrier_has_a_property_test():
    from cnai.label.registry import carriers

    assert set(carriers()) <= set(MAGIC)


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_any_bytes_give_a_reading_or_the_documented_error(fmt):
    @settings(max_examples=40, deadline=3000, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.binary(max_size=600))
    def run(tail):
        exercise(fmt, MAGIC[fmt] + tail)

    run()
