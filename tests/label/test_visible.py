"""Explicit labels, measured from the output: text height from pixels, tone durations from the waveform,
label present in the first 2 s of decoded video frames and gone afterwards."""

from __future__ import annotations

import math
import shutil
import subprocess
import wave

import numpy as np
import pytest
from PIL import Image
from tests.label.conftest import PRODUCER

from cnai.label.api import embed_file, read_file
from cnai.label.visible import check_text, visible_file

pytestmark = pytest.mark.skipif(not shutil.which("fc-list"), reason="fontconfig missing")


def _text_rows(orig: np.ndarray, out: np.ndarray) -> tuple[int, tuple[int, int, int, int]]:
    """Height of the white label text and the label box (x0, y0, x1, y1), measured from pixels."""
    diff = np.abs(out.astype(int) - orig.astype(int)).sum(-1) > 60
    ys, xs = np.nonzero(diff)
    box = (xs.min(), ys.min(), xs.max(), ys.max())
    region = out[box[1]:box[3] + 1, box[0]:box[2] + 1]
    white = (region > 200).all(-1)
    rows = np.nonzero(white.any(1))[0]
    return int(rows.max() - rows.min() + 1), box


@pytest.mark.parametrize("size,bg", [((640, 400), None), ((1000, 300), (255, 255, 255)), ((300, 900), (0, 0, 0))])
def test_image_label_height_and_position(tmp_path, size, bg):
    from cnai.label.samples import image

    im = image(*size) if bg is None else Image.new("RGB", size, bg)
    src = tmp_path / "in.png"
    im.save(src)
    for pos in ("bottom-right", "top-left"):
        out = tmp_path / f"{pos}.png"
        rec = visible_file((str(src), str(out)), text="AI生成", position=pos)
        assert rec["error"] is None, rec
        a, b = np.asarray(Image.open(src).convert("RGB")), np.asarray(Image.open(out).convert("RGB"))
        h, box = _text_rows(a, b)
        assert h >= math.ceil(0.05 * min(size)), (h, size)
        w_, h_ = size
        x0, y0, bw, bh = rec["visible"]["box"]
        if pos == "bottom-right":
            assert x0 + bw == w_ and y0 + bh == h_  # touches the corner
            assert box[2] < w_ and box[3] < h_ and box[0] >= x0 and box[1] >= y0  # measured ink inside it
        else:
            assert x0 == 0 and y0 == 0 and box[2] < bw and box[3] < bh
        # legible on any background: white text on a dark box (contrast ratio > 4.5)
        region = b[box[1]:box[3] + 1, box[0]:box[2] + 1].astype(float)
        lum = region.mean(-1)
        assert lum.max() > 200 and np.percentile(lum, 10) < 100


def test_image_keeps_implicit_label_and_format(sample_dir, tmp_path):
    src = tmp_path / "l.jpg"
    Image.open(sample_dir / "sample.jpg").resize((400, 300)).save(src, quality=90)
    embed_file(str(src), str(src), producer=PRODUCER, produce_id="keep-me", in_place=True)
    out = tmp_path / "o" / "l.jpg"
    rec = visible_file((str(src), str(out)), text="AI生成")
    assert rec["visible"]["implicit_label_kept"]
    assert Image.open(out).format == "JPEG"
    assert read_file(str(out))["label"]["ProduceID"] == "keep-me"


def _segments(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(start_ms, duration_ms) of tone bursts from a 2 ms RMS envelope."""
    win = int(rate * 0.002)
    n = len(samples) // win
    env = np.sqrt((samples[:n * win].astype(float).reshape(n, win) ** 2).mean(1))
    on = env > 0.25 * env.max()
    segs, start = [], None
    for i, v in enumerate(on):
        if v and start is None:
            start = i
        elif not v and start is not None:
            segs.append((start * 2.0, (i - start) * 2.0))
            start = None
    if start is not None:
        segs.append((start * 2.0, (n - start) * 2.0))
    return segs


def test_wav_rhythm_durations(sample_dir, tmp_path):
    out = tmp_path / "o.wav"
    rec = visible_file((str(sample_dir / "sample.wav"), str(out)), text="AI生成", audio_where="start")
    assert rec["error"] is None
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        s = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    with wave.open(str(sample_dir / "sample.wav")) as w:
        orig = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    rhythm = s[:len(s) - len(orig)]
    assert np.array_equal(s[len(rhythm):], orig)  # the original samples follow untouched
    segs = _segments(rhythm, rate)
    durs = [d for _s, d in segs]
    assert len(durs) == 4
    for got, want in zip(durs, [120, 360, 120, 120], strict=True):
        assert abs(got - want) <= 10, durs
    gaps = [segs[i + 1][0] - (segs[i][0] + segs[i][1]) for i in range(3)]
    assert all(abs(g - 120) <= 10 for g in gaps), gaps
    # the tone is ~800 Hz (zero crossings)
    a, d = int(segs[1][0] * rate / 1000), int(segs[1][1] * rate / 1000)
    burst = rhythm[a:a + d].astype(float)
    zc = np.count_nonzero(np.diff(np.signbit(burst))) / 2 / (d / rate)
    assert 760 < zc < 840


def test_mp3_rhythm_after_reencode(sample_dir, tmp_path):
    if not shutil.which("ffmpeg") or not (sample_dir / "sample.mp3").exists():
        pytest.skip("needs ffmpeg")
    out = tmp_path / "o.mp3"
    rec = visible_file((str(sample_dir / "sample.mp3"), str(out)), text="AI生成", audio_where="end")
    assert rec["error"] is None
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
                         capture_output=True, check=True).stdout
    s = np.frombuffer(pcm, "<i2")
    tail = s[-int(16000 * 1.6):]  # rhythm is ~1.44 s incl. padding, at the end
    durs = [d for _s, d in _segments(tail, 16000)][-4:]
    for got, want in zip(durs, [120, 360, 120, 120], strict=True):
        assert abs(got - want) <= 30, durs


def test_video_opening_label(tmp_path):
    if not shutil.which("ffmpeg"):
        pytest.skip("needs ffmpeg")
    src = tmp_path / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=4",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src)], check=True)
    out = tmp_path / "o" / "v.mp4"
    rec = visible_file((str(src), str(out)), text="AI生成", seconds=2.0)
    assert rec["error"] is None, rec

    def frame(p, t):
        raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(t), "-i", str(p), "-frames:v", "1", "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
        return np.frombuffer(raw, np.uint8).reshape(240, 320, 3)

    for t in (0.0, 0.5, 1.0, 1.5, 1.9):
        a, b = frame(src, t), frame(out, t)
        corner = np.abs(b[180:, 200:].astype(int) - a[180:, 200:].astype(int)).sum(-1) > 80
        assert corner.sum() > 300, t  # label present
        h, _box = _text_rows(a, b)
        assert h >= math.ceil(0.05 * 240), h
    a, b = frame(src, 3.0), frame(out, 3.0)
    assert (np.abs(b.astype(int) - a.astype(int)).sum(-1) > 80).sum() < 100  # gone after the opening


def test_text_prefix_suffix(tmp_path):
    src = tmp_path / "a.md"
    src.write_text("---\ntitle: t\n---\nHello\n", encoding="utf-8")
    out = tmp_path / "o" / "a.md"
    visible_file((str(src), str(out)), text="AI生成", text_mode="both")
    assert out.read_text(encoding="utf-8") == "---\ntitle: t\n---\n【AI生成】\nHello\n【AI生成】\n"
    visible_file((str(out), str(tmp_path / "o2.md")), text="AI生成", text_mode="both")
    assert (tmp_path / "o2.md").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")  # idempotent


def test_text_elements_required(cnai, sample_dir, tmp_path):
    assert check_text("AI生成") == [] and check_text("人工智能合成") == []
    assert len(check_text("Made by robots")) == 2
    r = cnai("label", "visible", str(sample_dir / "sample.png"), "--text", "机器人", "-o", str(tmp_path))
    assert r.returncode == 2 and "AI element" in r.stderr


def test_spoken_prompt_rate(sample_dir, tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed")
    out = tmp_path / "v.wav"
    text = "本内容由人工智能生成"
    rec = visible_file((str(sample_dir / "sample.wav"), str(out)), text="AI生成", audio_mode="voice",
                       voice_text=text)
    assert rec["error"] is None, rec
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        s = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    with wave.open(str(sample_dir / "sample.wav")) as w:
        orig = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert np.array_equal(s[-len(orig):], orig)
    prompt = s[:len(s) - len(orig)].astype(float)
    win = int(rate * 0.01)
    n = len(prompt) // win
    env = np.sqrt((prompt[:n * win].reshape(n, win) ** 2).mean(1))
    on = np.nonzero(env > 0.05 * env.max())[0]
    span_s = (on[-1] - on[0] + 1) * 0.01
    per_min = len(text) / span_s * 60
    assert 120 <= per_min <= 160, per_min  # normal Chinese speech rate (reference 1, secondary)
    # speech, not a tone: energy spread over many 10 ms frames with varying loudness
    assert len(on) > 100 and env[on].std() / env[on].mean() > 0.3


def test_docx_text_label(sample_dir, tmp_path):
    import xml.etree.ElementTree as ET
    import zipfile

    out = tmp_path / "o" / "d.docx"
    rec = visible_file((str(sample_dir / "sample.docx"), str(out)), text="AI生成", text_mode="both")
    assert rec["error"] is None, rec
    z = zipfile.ZipFile(out)
    assert z.testzip() is None
    root = ET.fromstring(z.read("word/document.xml"))
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    paras = ["".join(t.text or "" for t in p.iter(f"{{{ns['w']}}}t")) for p in root.iter(f"{{{ns['w']}}}p")]
    assert paras == ["【AI生成】", "Hello from cnai", "【AI生成】"]
    again = tmp_path / "again.docx"
    visible_file((str(out), str(again)), text="AI生成", text_mode="both")
    assert zipfile.ZipFile(again).read("word/document.xml") == z.read("word/document.xml")


def test_rhythm_is_detected_by_classify(sample_dir, tmp_path):
    from cnai.label.api import classify_file

    out = tmp_path / "r.wav"
    visible_file((str(sample_dir / "sample.wav"), str(out)), text="AI生成", audio_where="end")
    c = classify_file(str(out))
    assert c["category"] == "suspected" and any("rhythm" in r for r in c["reasons"]), c
    assert classify_file(str(sample_dir / "sample.wav"))["category"] == "none"  # a plain 440 Hz tone
    # a long-short-short-short pattern (Morse 'B') is not the AI rhythm
    from cnai.label import visible as V

    rate = 16000
    tone = (np.sin(2 * np.pi * 800 * np.arange(int(rate * 0.36)) / rate) * 16000).astype("<i2")
    dot = tone[:int(rate * 0.12)]
    gap = np.zeros(int(rate * 0.12), "<i2")
    b = np.concatenate([gap, tone, gap, dot, gap, dot, gap, dot, gap])
    assert not V.detect_rhythm(b, rate)
    ai = np.concatenate([gap, dot, gap, tone, gap, dot, gap, dot, gap])
    assert V.detect_rhythm(ai, rate)
