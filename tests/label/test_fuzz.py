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
