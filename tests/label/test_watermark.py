"""The invisible image watermark (cnai label watermark): round trip, the four attacks of issue 19 at a realistic
strength with a bit-accuracy floor, no false mark on unmarked pictures, one-line errors, classify evidence."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from cnai.label import watermark as wm
from cnai.label.watermark import dsp, payload

PRODUCER = "001191110102MACQD9K64010000"   # Doubao's code from the reference (check character valid)


def natural(h: int, w: int, seed: int) -> np.ndarray:
    """A photo-like test picture: 1/f colour noise (the power spectrum of natural images) plus shapes."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    f[0, 0] = 1
    chans = []
    for _ in range(3):
        x = np.fft.irfft2((rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** 1.1, s=(h, w))
        chans.append((x - x.mean()) / x.std())
    img = np.stack(chans, -1) @ (rng.normal(size=(3, 3)) * 0.3 + np.eye(3))
    im = Image.fromarray(np.clip(128 + 45 * img / img.std(), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0, s = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(20, w // 3))
        d.ellipse([x0, y0, x0 + s, y0 + s], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return np.asarray(im.filter(ImageFilter.GaussianBlur(0.8)))


def jpeg(a: np.ndarray, q: int) -> np.ndarray:
    b = io.BytesIO()
    Image.fromarray(a).save(b, "JPEG", quality=q)
    return np.asarray(Image.open(b).convert("RGB"))


def resize(a: np.ndarray, s: float) -> np.ndarray:
    im = Image.fromarray(a)
    return np.asarray(im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.BICUBIC))


def bit_accuracy(a: np.ndarray, want: int) -> float:
    got = wm.read_bits(dsp.luma(a))["bits"]
    return float(np.mean(got == payload.encode(want)))


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    d = tmp_path_factory.mktemp("wm")
    src = d / "photo.png"
    Image.fromarray(natural(512, 640, 7)).save(src)
    out = d / "out" / "photo.png"
    rec = wm.embed(str(src), str(out), produce_id="img-0007", producer=PRODUCER)
    want = payload.make_payload(label="1", producer=PRODUCER, produce_id="img-0007")
    return src, out, rec, want


def test_roundtrip_png_psnr_payload_and_metadata(marked):
    src, out, rec, want = marked
    assert rec["status"] == "watermarked" and rec["verified"] is True
    assert rec["psnr_db"] >= 40.0
    assert rec["payload"] == f"{want:012x}"
    got = wm.detect(str(out))
    assert got["found"] is True and got["payload"] == f"{want:012x}" and got["label"] == "1"
    # the metadata label written alongside is what the payload resolves to
    assert got["matches"] == {"against": "metadata label", "producer": True, "produce_id": True}
    assert got["resolves_to"] == {"Label": "1", "ContentProducer": PRODUCER, "ProduceID": "img-0007"}
    # the source is untouched and carries no mark
    assert wm.detect(str(src))["found"] is False


def test_payload_does_not_match_other_fields(marked):
    _src, out, _rec, _want = marked
    got = wm.detect(str(out), producer="001191440300MA5G49LC9K1YO01", produce_id="img-0008")
    assert got["found"] is True
    assert got["matches"] == {"against": "given", "producer": False, "produce_id": False}
    assert "resolves_to" not in got


@pytest.mark.parametrize("attack", ["jpeg75", "resize50", "crop10", "screenshot"])
def test_attacks_keep_the_payload(marked, attack):
    _src, out, _rec, want = marked
    a = np.asarray(Image.open(out).convert("RGB"))
    if attack == "jpeg75":
        b = jpeg(a, 75)
    elif attack == "resize50":
        b = resize(a, 0.5)
    elif attack == "crop10":      # 10% off each side's length, off-centre: 81% of the area is left
        h, w = a.shape[:2]
        b = a[int(h * 0.07): int(h * 0.07) + int(h * 0.9), int(w * 0.03): int(w * 0.03) + int(w * 0.9)]
    else:                         # screenshot: RGBA PNG, shown at 80% scale, saved again as JPEG 85
        rgba = Image.fromarray(a).convert("RGBA")
        buf = io.BytesIO()
        rgba.resize((round(rgba.width * 0.8), round(rgba.height * 0.8)), Image.Resampling.BILINEAR).save(buf, "PNG")
        b = jpeg(np.asarray(Image.open(buf).convert("RGB")), 85)
    assert bit_accuracy(b, want) >= 0.95
    assert wm.read_bits(dsp.luma(b))["payload"] == want


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unmarked_pictures_say_no_mark(tmp_path, seed):
    p = tmp_path / "plain.jpg"
    Image.fromarray(natural(384, 384, 100 + seed)).save(p, quality=85)
    got = wm.detect(str(p))
    assert got["found"] is False and "payload" not in got


def test_periodic_and_flat_pictures_say_no_mark(tmp_path):
    grid = np.zeros((400, 400), np.uint8)
    grid[::8, :] = 255
    grid[:, ::8] = 255                           # a strongly periodic picture, the sync search's worst case
    flat = np.full((300, 300, 3), 200, np.uint8)
    for name, a in (("grid.png", grid), ("flat.png", flat)):
        Image.fromarray(a).save(tmp_path / name)
        assert wm.detect(str(tmp_path / name))["found"] is False


def test_crc_rejects_a_corrupted_word():
    want = payload.make_payload(label="1", producer=PRODUCER, produce_id="x")
    bits = payload.encode(want)
    assert payload.decode(bits) == want
    bits[10] ^= 1
    assert payload.decode(bits) is None


def test_convolutional_code_corrects_noise():
    rng = np.random.default_rng(0)
    info = payload.encode(payload.make_payload(label="2", producer="p", produce_id="q"))
    soft = (2.0 * payload.conv_encode(info) - 1) + rng.normal(0, 0.8, payload.CODED_BITS)
    assert np.mean((soft > 0) != payload.conv_encode(info)) > 0.05     # the channel did flip bits
    assert np.array_equal(payload.viterbi(soft), info)


# ------------------------------------------------------------------ bad input
def test_bad_inputs_are_records_not_crashes(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    (tmp_path / "in" / "empty.jpg").write_bytes(b"")
    Image.fromarray(natural(120, 160, 1)).save(tmp_path / "in" / "tiny.png")
    Image.fromarray(natural(300, 300, 2)).save(tmp_path / "in" / "ok.png")
    res = wm.embed_batch([str(tmp_path / "in")], out=str(tmp_path / "out"), producer=PRODUCER)
    by = {r["path"].rsplit("/", 1)[-1]: r for r in res.records}
    assert by["broken.png"]["skip_reason"] == "corrupt or unsupported structure"
    assert by["empty.jpg"]["skip_reason"] == "empty file"
    assert by["tiny.png"]["skip_reason"] == "too small" and "256" in by["tiny.png"]["error"]
    assert by["ok.png"]["status"] == "watermarked"
    assert res.exit_code == 1 and res.tally.status["watermarked"] == 1


def test_output_that_is_the_input_is_refused(tmp_path):
    p = tmp_path / "a.png"
    Image.fromarray(natural(300, 300, 3)).save(p)
    before = p.read_bytes()
    from cnai.core.safeio import OutputError

    with pytest.raises(OutputError, match="overwrite the input"):
        wm.embed(str(p), str(p), produce_id="x", producer=PRODUCER)
    assert p.read_bytes() == before


def test_cli_errors_are_one_line_naming_the_file(cnai, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really")
    r = cnai("label", "watermark", "detect", str(bad))
    assert r.returncode == 1
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert err and str(bad) in err[0] and "Traceback" not in r.stderr
    r = cnai("label", "watermark", "embed", str(bad), "--producer", "", "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "--producer" in r.stderr and "Traceback" not in r.stderr
    # a 27-character code whose embedded USCC check character is wrong (last USCC char 0 -> 1)
    r = cnai("label", "watermark", "embed", str(bad), "--producer", "001191110102MACQD9K64110000", "-o",
             str(tmp_path / "o"))
    assert r.returncode == 2 and "check character" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_json_is_one_document(cnai, marked, tmp_path):
    _src, out, _rec, want = marked
    r = cnai("label", "watermark", "detect", str(out), "--format", "json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc[0]["found"] is True and doc[0]["payload"] == f"{want:012x}"


# ------------------------------------------------------------------ classify
def test_classify_confirms_from_the_watermark_when_metadata_is_gone(cnai, marked, tmp_path):
    _src, out, _rec, want = marked
    stripped = tmp_path / "reupload.jpg"
    Image.open(out).convert("RGB").save(stripped, quality=80)     # a platform re-encode drops the XMP
    unmarked = tmp_path / "other.jpg"
    Image.fromarray(natural(400, 400, 55)).save(unmarked, quality=80)
    r = cnai("label", "classify", str(stripped), str(unmarked), "--format", "json")
    recs = {d["path"]: d for d in json.loads(r.stdout)}
    got = recs[str(stripped)]
    assert got["label"] is None and got["category"] == "confirmed"
    assert any("watermark" in x and f"{want:012x}" in x for x in got["reasons"])
    assert recs[str(unmarked)]["category"] == "none"
    # a platform that opts out of the pixel search sees only what the metadata says
    off = json.loads(cnai("label", "classify", str(stripped), "--no-watermark", "--format", "json").stdout)
    assert off[0]["category"] == "none" and not any("watermark" in x for x in off[0]["reasons"])


def test_classify_uses_the_label_value_in_the_payload(tmp_path):
    from cnai.label.api import classify_file

    src = tmp_path / "s.png"
    Image.fromarray(natural(320, 320, 9)).save(src)
    out = tmp_path / "o.png"
    wm.embed(str(src), str(out), produce_id="x", producer=PRODUCER, label="3", metadata=False)
    got = classify_file(str(out))
    assert got["category"] == "suspected" and "watermark" in got["reasons"][0]


def _png_claiming(w: int, h: int) -> bytes:
    """A PNG whose header claims w x h pixels (a decompression-bomb shape) with almost no data."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\x00" * 16)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(idat) - 4) + idat + struct.pack(">I", zlib.crc32(idat))
            + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))


@pytest.mark.parametrize("lenient_pillow", [False, True])
def test_hostile_pictures_are_refused_cleanly(tmp_path, monkeypatch, lenient_pillow):
    from PIL import ImageFile

    # WeasyPrint (dossier, provenance reports) switches Pillow to lenient decoding for the whole process
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient_pillow)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(30000, 30000))
    full = tmp_path / "full.jpg"
    Image.fromarray(natural(300, 300, 4)).save(full, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])     # truncated mid-scan
    res = wm.detect_batch([str(bomb), str(cut), str(full)])
    by = {r["path"]: r for r in res.records}
    assert by[str(bomb)]["skip_reason"] == "too large"
    assert by[str(cut)]["skip_reason"] == "corrupt or unsupported structure"
    assert by[str(full)]["found"] is False and by[str(full)]["error"] is None
    assert res.exit_code == 1


def test_strict_decoding_is_per_thread(tmp_path, monkeypatch):
    """The watermark's strict decoding must not change what another thread's Pillow does: one thread decodes a
    truncated JPEG strictly (refused every time) while another decodes it with the process-wide lenient
    setting WeasyPrint makes (padded and accepted every time), at the same moment, many times over."""
    import threading

    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as after `import weasyprint`
    full = tmp_path / "full.jpg"
    Image.fromarray(natural(400, 400, 5)).save(full, quality=92)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    rounds, errors = 150, {"strict_accepted": 0, "lenient_refused": 0}
    go = threading.Barrier(2)

    def strict():
        go.wait()
        for _ in range(rounds):
            try:
                wm._open(str(cut))
                errors["strict_accepted"] += 1
            except wm.WatermarkError:
                pass

    def lenient():
        go.wait()
        for _ in range(rounds):
            try:
                with Image.open(cut) as im:
                    im.load()
            except OSError:
                errors["lenient_refused"] += 1

    ts = [threading.Thread(target=strict), threading.Thread(target=lenient)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == {"strict_accepted": 0, "lenient_refused": 0}
    assert bool(ImageFile.LOAD_TRUNCATED_IMAGES) is True  # the process-wide setting is what it was
    with pytest.raises(wm.WatermarkError):  # and the strict path still refuses afterwards, on this thread
        wm._open(str(cut))
