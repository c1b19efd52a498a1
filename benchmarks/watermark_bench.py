"""Benchmark: the invisible image watermark (cnai.label.watermark) side by side with the two libraries on PyPI
that do blind image watermarks, on the same pictures and the same attacks, in one run.

- cnai: periodic sync tile in the luminance, 48-bit payload + CRC-16, rate-1/2 convolutional code (numpy + Pillow).
- invisible-watermark 0.2.0 (`imwatermark`), methods dwtDct and dwtDctSvd, 48 bits.
- blind-watermark 0.4.4, default settings, 48 bits.
Both libraries are called directly on arrays, blind (the detector sees only the attacked picture; blind-watermark's
README recovers crops/resizes with the original size or position, which a platform does not have).

Measured: PSNR of the marked picture; bit accuracy (of the 48 payload bits) and detection rate after JPEG 75,
resize to 50 %, 10 % crop (each side cut to 90 %, off-centre: 81 % of the area left), a screenshot-like
re-encode (RGBA PNG at 80 % display scale, then JPEG 85), and all of resize + crop + JPEG together; cnai's
false-positive rate on unmarked pictures; embed/detect pictures per second at 1 MP.

The pictures are generated here (no downloads): 1/f colour noise with varied spectra (the power spectrum of
natural images), shapes, gradients, text, periodic textures, blur and JPEG history.

    .venv/bin/python benchmarks/watermark_bench.py [--robust 24] [--extra 12] [--speed 40] [--fp 1000] [--fp-size 256]
                                                   [--write]

Needs (benchmark only, not cnai dependencies): `pip install opencv-python-headless PyWavelets` and
`pip install --no-deps invisible-watermark==0.2.0 blind-watermark==0.4.4` (invisible-watermark imports torch for
its RivaGAN model at import time; the benchmark puts an empty stand-in module there, as dwtDct/dwtDctSvd do not
use it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
import types
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cnai.core.stats import wilson  # noqa: E402
from cnai.label import watermark as cwm  # noqa: E402
from cnai.label.watermark import dsp, payload  # noqa: E402

PRODUCER = "001191110102MACQD9K64010000"
SIZES_1MP = [(1000, 1000), (864, 1152), (1152, 864), (816, 1224)]


# ------------------------------------------------------------------ pictures
def picture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kind = seed % 5
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    f[0, 0] = 1
    beta = rng.uniform(0.8, 1.6)                    # smooth (sky, skin) to busy (foliage, gravel)
    chans = []
    for _ in range(3):
        x = np.fft.irfft2((rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** beta, s=(h, w))
        chans.append((x - x.mean()) / (x.std() + 1e-9))
    img = np.stack(chans, -1) @ (rng.normal(size=(3, 3)) * 0.3 + np.eye(3))
    img = rng.uniform(70, 180) + rng.uniform(15, 60) * img / (img.std() + 1e-9)
    if kind == 1:                                   # a gradient "sky" over the top
        sky = np.linspace(rng.uniform(150, 250), rng.uniform(60, 160), h)[:, None, None]
        img = np.where(np.arange(h)[:, None, None] < h * rng.uniform(0.3, 0.7), sky + img * 0.15, img)
    if kind == 2:                                   # periodic texture (fabric, tiles): the sync search's worst case
        yy, xx = np.mgrid[0:h, 0:w]
        per = rng.uniform(6, 40)
        img = img * 0.6 + 30 * (np.sin(2 * np.pi * xx / per) * np.sin(2 * np.pi * yy / per))[..., None]
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(0, 12))):
        x0, y0, s = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(8, max(w // 3, 10)))
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([x0, y0, x0 + s, y0 + s], fill=col)
    if kind == 3:                                   # text (screenshots, posters)
        font = ImageFont.load_default()
        for i in range(int(rng.integers(3, 20))):
            d.text((int(rng.integers(0, w)), int(rng.integers(0, h))), f"cnai sample text {i} 生成", fill=(0, 0, 0),
                   font=font)
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))
    if kind == 4:                                   # an earlier JPEG generation
        b = io.BytesIO()
        im.save(b, "JPEG", quality=int(rng.integers(60, 95)))
        im = Image.open(b).convert("RGB")
    return np.asarray(im)


# ------------------------------------------------------------------ attacks
def jpeg(a, q):
    b = io.BytesIO()
    Image.fromarray(a).save(b, "JPEG", quality=q)
    return np.asarray(Image.open(b).convert("RGB"))


def resize(a, s):
    im = Image.fromarray(a)
    return np.asarray(im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.BICUBIC))


def crop(a, frac, rng):
    h, w = a.shape[:2]
    ch, cw = int(h * (1 - frac)), int(w * (1 - frac))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return a[y:y + ch, x:x + cw]


def screenshot(a):
    im = Image.fromarray(a).convert("RGBA")
    b = io.BytesIO()
    im.resize((round(im.width * 0.8), round(im.height * 0.8)), Image.Resampling.BILINEAR).save(b, "PNG")
    return jpeg(np.asarray(Image.open(b).convert("RGB")), 85)


ATTACKS = {
    "none": lambda a, rng: a,
    "JPEG q75": lambda a, rng: jpeg(a, 75),
    "resize 50%": lambda a, rng: resize(a, 0.5),
    "crop 10%": lambda a, rng: crop(a, 0.1, rng),
    "screenshot (PNG→JPEG)": lambda a, rng: screenshot(a),
    "resize+crop+JPEG": lambda a, rng: jpeg(resize(crop(a, 0.1, rng), 0.5), 75),
}


def rotate(a, deg):
    return np.asarray(Image.fromarray(a).rotate(deg, resample=Image.Resampling.BICUBIC))


def squeeze(a, sx):
    im = Image.fromarray(a)
    return np.asarray(im.resize((round(im.width * sx), im.height), Image.Resampling.BICUBIC))


def border(a, frac):
    h, w = a.shape[:2]
    py, px = int(h * frac), int(w * frac)
    out = np.full((h + 2 * py, w + 2 * px, 3), 240, np.uint8)
    out[py:py + h, px:px + w] = a
    return out


def random_crop(a, rng):
    """Keep 75-97 % of each side at a random place; every other picture also resized to 50-90 % + JPEG 80."""
    h, w = a.shape[:2]
    ch, cw = int(h * rng.uniform(0.75, 0.97)), int(w * rng.uniform(0.75, 0.97))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    b = a[y:y + ch, x:x + cw]
    return jpeg(resize(b, rng.uniform(0.5, 0.9)), 80) if rng.random() < 0.5 else b


# beyond the four attacks: where the mark's limits are (cnai only)
EXTRA_ATTACKS = {
    "JPEG q50": lambda a, rng: jpeg(a, 50),
    "JPEG q30": lambda a, rng: jpeg(a, 30),
    "resize 25%": lambda a, rng: resize(a, 0.25),
    "random crop 3-25% (+resize/JPEG)": random_crop,
    "crop 25%": lambda a, rng: crop(a, 0.25, rng),
    "crop 35%": lambda a, rng: crop(a, 0.35, rng),
    "10% border": lambda a, rng: border(a, 0.1),
    "greyscale": lambda a, rng: np.repeat(dsp.luma(a).astype(np.uint8)[..., None], 3, -1),
    "rotate 0.3°": lambda a, rng: rotate(a, 0.3),
    "rotate 1°": lambda a, rng: rotate(a, 1.0),
    "aspect -5%": lambda a, rng: squeeze(a, 0.95),
    "mirror": lambda a, rng: np.ascontiguousarray(a[:, ::-1]),
}


# ------------------------------------------------------------------ methods
class Cnai:
    name = "cnai (own)"

    def embed(self, rgb, p):
        return dsp.embed_array(rgb, payload.conv_encode(payload.encode(p)))

    def read(self, rgb):
        r = cwm.read_bits(dsp.luma(rgb))
        if r.get("bits") is None:
            return None, False
        return r["bits"][:48], r["payload"] is not None


def _bits48(p):
    return np.array([(p >> (47 - i)) & 1 for i in range(48)], dtype=np.uint8)


class InvisibleWatermark:
    def __init__(self, method):
        sys.modules.setdefault("torch", types.ModuleType("torch"))  # RivaGAN only; see the module docstring
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.enc, self.dec, self.method = WatermarkEncoder, WatermarkDecoder, method
        self.name = f"invisible-watermark {method}"

    def embed(self, rgb, p):
        e = self.enc()
        e.set_watermark("bits", list(_bits48(p)))
        return e.encode(np.ascontiguousarray(rgb[..., ::-1]), self.method)[..., ::-1]

    def read(self, rgb):
        bits = self.dec("bits", 48).decode(np.ascontiguousarray(rgb[..., ::-1]), self.method)
        return np.array(bits, dtype=np.uint8)[:48], None


class BlindWatermark:
    name = "blind-watermark"

    def __init__(self):
        with contextlib.redirect_stdout(io.StringIO()):
            from blind_watermark import WaterMark, bw_notes
        bw_notes.close()
        self.cls = WaterMark

    def embed(self, rgb, p):
        with contextlib.redirect_stdout(io.StringIO()):
            bwm = self.cls(password_img=1, password_wm=1)
            bwm.read_img(img=np.ascontiguousarray(rgb[..., ::-1]))
            bwm.read_wm(list(_bits48(p).astype(bool)), mode="bit")
            out = bwm.embed()
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)[..., ::-1]

    def read(self, rgb):
        with contextlib.redirect_stdout(io.StringIO()):
            bwm = self.cls(password_img=1, password_wm=1)
            got = bwm.extract(embed_img=np.ascontiguousarray(rgb[..., ::-1]).astype(np.float32), wm_shape=48,
                              mode="bit")
        return (np.asarray(got) >= 0.5).astype(np.uint8), None


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255 ** 2 / mse) if mse else float("inf")


def methods():
    out = [Cnai()]
    for make in (lambda: InvisibleWatermark("dwtDct"), lambda: InvisibleWatermark("dwtDctSvd"), BlindWatermark):
        try:
            out.append(make())
        except Exception as e:  # noqa: BLE001 - a library not installed is reported, not fatal
            print(f"skipping a library: {type(e).__name__}: {e}", file=sys.stderr)
    return out


# ------------------------------------------------------------------ runs
def robustness(ms, n):
    rows = {m.name: {"psnr": [], **{a: [] for a in ATTACKS}} for m in ms}
    for k in range(n):
        h, w = SIZES_1MP[k % len(SIZES_1MP)]
        img = picture(h, w, 1000 + k)
        p = payload.make_payload(label="1", producer=PRODUCER, produce_id=f"bench-{k}")
        want = _bits48(p)
        for m in ms:
            marked = m.embed(img, p)
            rows[m.name]["psnr"].append(psnr(img, marked))
            for a, fn in ATTACKS.items():
                att = fn(marked, np.random.default_rng(k))
                try:
                    bits, ok = m.read(att)
                except Exception:  # noqa: BLE001 - a library that fails on an attacked picture reads nothing
                    bits, ok = None, False
                acc = float(np.mean(bits == want)) if bits is not None and len(bits) == 48 else 0.0
                found = ok if ok is not None else acc == 1.0
                rows[m.name][a].append((acc, found))
        print(f"robustness {k + 1}/{n}", file=sys.stderr, flush=True)
    return rows


def extra(n):
    m, out = Cnai(), {a: 0 for a in EXTRA_ATTACKS}
    for k in range(n):
        img = picture(*SIZES_1MP[k % len(SIZES_1MP)], 4000 + k)
        p = payload.make_payload(label="1", producer=PRODUCER, produce_id=f"extra-{k}")
        marked = m.embed(img, p)
        for a, fn in EXTRA_ATTACKS.items():
            out[a] += int(cwm.read_bits(dsp.luma(fn(marked, np.random.default_rng(k))))["payload"] == p)
    print("extra attacks done", file=sys.stderr, flush=True)
    return out


def false_positives(n, size):
    found, t0 = 0, time.perf_counter()
    hits = []
    for k in range(n):
        h, w = (size, size) if k % 3 else (size, int(size * 1.5))
        img = picture(h, w, 500000 + k)
        if k % 4 == 0:
            img = jpeg(img, 80)
        r = cwm.read_bits(dsp.luma(img))
        if r.get("payload") is not None:
            found += 1
            hits.append(k)
    return found, hits, time.perf_counter() - t0


def _timed(fn):
    """(wall seconds, CPU seconds of this process) for fn(); CPU time is what to compare on a shared machine."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _speed_one(m, imgs, rng) -> dict:
    n = len(imgs)
    p = payload.make_payload(label="1", producer=PRODUCER, produce_id="speed")
    marked: list = []
    row = {"embed": _timed(lambda: marked.extend(m.embed(im, p) for im in imgs))}
    row["detect"] = _timed(lambda: [m.read(im) for im in marked])
    if isinstance(m, Cnai):  # the slow paths: no mark (full scale search) and a cropped picture
        row["detect_unmarked"] = _timed(lambda: [m.read(im) for im in imgs])
        cropped = [crop(im, 0.1, rng) for im in marked]
        row["detect_cropped"] = _timed(lambda: [m.read(im) for im in cropped])
    return {k: (n / w, n / c) for k, (w, c) in row.items()}


def speed(ms, n):
    imgs = [picture(*SIZES_1MP[k % len(SIZES_1MP)], 2000 + k) for k in range(n)]
    rng = np.random.default_rng(0)
    out = {}
    for m in ms:
        out[m.name] = _speed_one(m, imgs, rng)
        print(f"speed {m.name} done", file=sys.stderr, flush=True)
    return out


def file_speed(n, work: Path):
    """The CLI path: PNG in, PNG + metadata label out, then detect from the file (I/O, PNG codec, XMP)."""
    work.mkdir(parents=True, exist_ok=True)
    srcs = []
    for k in range(n):
        p = work / f"src{k}.png"
        Image.fromarray(picture(*SIZES_1MP[k % len(SIZES_1MP)], 3000 + k)).save(p)
        srcs.append(p)
    t0 = time.perf_counter()
    res = cwm.embed_batch([str(s) for s in srcs], out=str(work / "out"), producer=PRODUCER)
    te = time.perf_counter() - t0
    t0 = time.perf_counter()
    det = cwm.detect_batch([str(work / "out")])
    td = time.perf_counter() - t0
    ok = sum(1 for r in det.records if r.get("found"))
    return {"embed": n / te, "detect": n / td, "embed_errors": sum(1 for r in res.records if r.get("error")),
            "found": ok}


def version(pkg):
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def report(args, rows, ex, fp, spd, fspd, elapsed) -> str:
    L = ["# Invisible image watermark: cnai vs. invisible-watermark and blind-watermark", "",
         f"Run: `.venv/bin/python benchmarks/watermark_bench.py --robust {args.robust} --extra {args.extra} "
         f"--speed {args.speed} --fp {args.fp} --fp-size {args.fp_size}` on {platform.machine()} ({os.cpu_count()} cores), "
         f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {version('pillow')}, "
         f"invisible-watermark {version('invisible-watermark')}, blind-watermark {version('blind-watermark')}, "
         f"opencv {version('opencv-python-headless')}; {elapsed:.0f} s in all.", "",
         f"Pictures: {args.robust} generated photo-like pictures of about 1 MP (1000x1000, 864x1152, 1152x864, "
         "816x1224): 1/f colour noise with varied spectra, gradients, periodic textures, shapes, text, blur, earlier "
         "JPEG generations. Payload 48 bits per picture. Detection is blind: the detector sees only the attacked "
         "picture.", "",
         "## Robustness", "",
         "Bit accuracy = share of the 48 payload bits read right (mean over pictures; min in brackets). "
         "Detected = the payload read exactly (for cnai: the CRC passed, which is all a user sees; the "
         "libraries have no check, so a platform could not tell a right reading from a wrong one).", ""]
    attacks = list(ATTACKS)
    L.append("| method | PSNR dB mean (min) | " + " | ".join(attacks) + " |")
    L.append("|---|---|" + "---|" * len(attacks))
    for name, r in rows.items():
        cells = [f"{np.mean(r['psnr']):.1f} ({np.min(r['psnr']):.1f})"]
        for a in attacks:
            accs = [x[0] for x in r[a]]
            det = sum(1 for x in r[a] if x[1])
            cells.append(f"{np.mean(accs):.3f} ({np.min(accs):.2f}); detected {det}/{len(accs)}")
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L += ["", f"### Beyond the four attacks (cnai only, {args.extra} other pictures; payload read exactly)", "",
          "| " + " | ".join(ex) + " |", "|" + "---|" * len(ex),
          "| " + " | ".join(f"{v}/{args.extra}" for v in ex.values()) + " |"]
    n_fp, hits, t_fp = fp
    lo, hi = wilson(n_fp, args.fp) or (0, 0)
    L += ["", "## False positives (cnai)", "",
          f"{args.fp} unmarked generated pictures ({args.fp_size}x{args.fp_size} and {args.fp_size}x"
          f"{int(args.fp_size * 1.5)}, a quarter re-encoded as JPEG 80; small so the run stays short: each "
          "unmarked picture takes the full scale search): "
          f"**{n_fp} reported a mark** (rate {n_fp / args.fp:.4f}, 95 % Wilson interval {lo:.4f}-{hi:.4f}); "
          f"{t_fp:.0f} s. By design a random picture passes the CRC-16 and Label check with probability about "
          f"0.75 x 2^-16 per alignment decoded (at most {dsp.TOP_DECODES + 1}), i.e. about 6e-5 per picture."
          + (f" Hits at picture numbers {hits}." if hits else ""),
          "", "The libraries have no check bits: their detectors always return 48 bits, so their false-positive "
          "rate is not defined (every picture 'decodes' to something).", "",
          "## Speed at 1 MP (pictures per second; the libraries used directly on arrays in memory)", "",
          "Per CPU second of this process (wall-clock in brackets: the machine is shared, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end of the run, so wall time is noisy).", "",
          "| method | embed/s | detect/s (marked, uncropped) | detect/s (unmarked) | detect/s (cropped 10 %) |",
          "|---|---|---|---|---|"]

    def cell(v):
        return f"{v[1]:.1f} ({v[0]:.1f})" if v else "–"

    for name, sp in spd.items():
        L.append(f"| {name} | {cell(sp['embed'])} | {cell(sp['detect'])} | {cell(sp.get('detect_unmarked'))} | "
                 f"{cell(sp.get('detect_cropped'))} |")
    L += ["", f"cnai through files (`embed_batch`: PNG decode, mark, PNG encode, metadata label, read-back check; "
          f"`detect_batch` from PNG): {fspd['embed']:.1f} embed/s, {fspd['detect']:.1f} detect/s over {args.speed} "
          f"pictures ({fspd['found']} of {args.speed} found, {fspd['embed_errors']} embed errors).", ""]
    return "\n".join(L) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--robust", type=int, default=24)
    ap.add_argument("--speed", type=int, default=40)
    ap.add_argument("--extra", type=int, default=12)
    ap.add_argument("--fp", type=int, default=1000)
    ap.add_argument("--fp-size", type=int, default=256)
    ap.add_argument("--write", action="store_true", help="write benchmarks/results/watermark.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    ms = methods()
    rows = robustness(ms, args.robust)
    ex = extra(args.extra)
    fp = false_positives(args.fp, args.fp_size)
    spd = speed(ms, args.speed)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        fspd = file_speed(args.speed, Path(d))
    text = report(args, rows, ex, fp, spd, fspd, time.perf_counter() - t0)
    print(text)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "watermark.md"
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
