"""The watermark signal: a periodic, key-derived pattern of +/-1 cells added to the luminance.

Why this design (measured in benchmarks/watermark_bench.py, see docs/label-watermark.md):
- The pattern is a square tile of N x N cells repeated over the picture, TILES tiles across the shorter side.
  Because the tile is tied to the picture's own size, a resize leaves it in the same place relative to the
  content, and a detector that knows nothing about the original still finds it.
- A crop (or a border added by a screenshot) moves the tile grid and changes the shorter side. The detector
  folds the picture into one tile (summing all repeats, so every copy adds up) and finds the offset by
  correlating with a sync pattern (a quarter of the cells carry known signs); it searches the unknown
  crop/pad factor over a grid of scales.
- Cells are a few pixels wide and smoothly interpolated: low enough in frequency to survive JPEG and
  downscaling, without hard edges that would be visible.
- The other three quarters of the cells carry the 140 bits of the convolutionally coded payload, each spread
  over 5-6 cells per tile (and every tile repeats them) with a pseudo-random sign; the cell layout and the
  signs come from the key.

Everything here is numpy + Pillow; no wavelet or DCT transform is needed because the mark lives in the
spatial domain at a scale chosen relative to the picture.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

N = 32                 # cells per tile side
TILES = 4              # tiles across the shorter side when embedding
R = 3                  # detector pixels per cell (3 finds the offset to a third of a cell; 2 is kept for the
R_COARSE = 2           # coarse scale search, where speed matters more)
NSYNC = 256            # cells with known signs (for finding the offset)
NBITS = 140            # coded bits carried: (48 payload + 16 CRC + 6 tail) x 2, see payload.py
MIN_EMBED_SIDE = 256   # below this a cell is under 2 pixels and JPEG removes it
MIN_DETECT_SIDE = 96
TARGET_RMS = 2.3       # luminance change (0-255 scale) at strength 1.0: PSNR about 40.8 dB

# Scale search for the crop/pad factor f = (shorter side now) / (shorter side the tiles were laid on).
F_MIN, F_MAX = 0.74, 1.26
COARSE_STEP = 0.01
FINE_STEP = 0.002
SYNC_MIN_Z = 4.5       # a sync peak below this is noise; saves decoding work (the CRC decides)
REFINE_MIN_Z = 5.0     # coarse peaks refined besides the best one (measured: unmarked pictures peak at 4.4 +- 0.3,
                       # marked and cropped ones at 6-15)
TOP_DECODES = 4        # candidate scales decoded; each failed CRC costs 2^-16 false-positive risk


@dataclass(frozen=True)
class Layout:
    sync_cells: np.ndarray   # indices of sync cells (flat, N*N)
    data_cells: np.ndarray   # indices of data cells
    sign: np.ndarray         # +/-1 per cell
    bit_of: np.ndarray       # bit index per data cell (aligned with data_cells)
    sync_grid: np.ndarray    # N x N: the sync signs, 0 on data cells


@functools.lru_cache(maxsize=8)
def layout(key: bytes = b"") -> Layout:
    seed = int.from_bytes(hashlib.sha256(b"cnai-watermark-v1|" + key).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(N * N)
    sync, data = np.sort(perm[:NSYNC]), perm[NSYNC:]
    sign = rng.choice(np.array([-1.0, 1.0]), N * N)
    bit_of = np.arange(len(data)) % NBITS
    grid = np.zeros(N * N)
    grid[sync] = sign[sync]
    return Layout(sync, data, sign, bit_of, grid.reshape(N, N))


@functools.lru_cache(maxsize=16)
def _template_fft(key: bytes, r: int) -> np.ndarray:
    return np.conj(np.fft.fft2(np.kron(layout(key).sync_grid, np.ones((r, r)))))


def tile(bits: np.ndarray, lay: Layout) -> np.ndarray:
    v = np.zeros(N * N)
    v[lay.sync_cells] = lay.sign[lay.sync_cells]
    b = 2.0 * np.asarray(bits, dtype=float) - 1.0
    v[lay.data_cells] = lay.sign[lay.data_cells] * b[lay.bit_of]
    return v.reshape(N, N)


def pattern(h: int, w: int, bits: np.ndarray, lay: Layout) -> np.ndarray:
    """The additive luminance pattern (unit RMS) for an h x w picture."""
    cs = min(h, w) / (TILES * N)                  # cell size in pixels
    ny, nx = math.ceil(h / cs) + 2, math.ceil(w / cs) + 2
    g = np.tile(tile(bits, lay), (ny // N + 1, nx // N + 1))[:ny, :nx].astype(np.float32)
    # bilinear interpolation of the cell grid: cell j covers pixels [j*cs, (j+1)*cs)
    p = np.asarray(Image.fromarray(g, "F").resize((w, h), Image.Resampling.BILINEAR, box=(0, 0, w / cs, h / cs)))
    return p / max(float(np.sqrt(np.mean(p * p))), 1e-9)


def luma(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        return arr.astype(np.float32)
    a = arr[..., :3].astype(np.float32)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def embed_array(arr: np.ndarray, bits: np.ndarray, *, strength: float = 1.0, key: bytes = b"") -> np.ndarray:
    """arr: uint8 (h, w) or (h, w, 3|4). Returns a new uint8 array with the mark added to the luminance
    (the same change on R, G and B, so colours do not shift; alpha is untouched)."""
    h, w = arr.shape[:2]
    # a uniform amplitude: measured, it beat activity masking at the same PSNR (the detector's local
    # normalisation already gives flat areas, where the mark is clearest, their weight)
    d = pattern(h, w, bits, layout(key)) * (TARGET_RMS * strength)
    out = arr.astype(np.float32)
    if arr.ndim == 2:
        out += d
    else:
        out[..., :3] += d[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _box(a: np.ndarray, k: int) -> np.ndarray:
    """k x k mean filter (edges replicated): separable running sums, float32 (one axis at a time keeps the
    sums small enough for float32 precision)."""
    p = k // 2
    out = np.asarray(a, dtype=np.float32)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (p + 1, p)
        c = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis, dtype=np.float32)
        hi = c[k:] if axis == 0 else c[:, k:]
        lo = c[:-k] if axis == 0 else c[:, :-k]
        out = (hi - lo) / k
    return out


def _residual(y: np.ndarray) -> np.ndarray:
    """The picture less its local mean, divided by the local activity and clipped: edges and texture would
    otherwise swamp the faint mark (measured: +2-3 points of raw bit accuracy over plain high-pass)."""
    r = y - _box(y, 5)
    r /= _box(np.abs(r), 9) + 1.0
    return np.clip(r, -3.0, 3.0, out=r)


def _fold(r: np.ndarray, t: int) -> np.ndarray:
    h, w = r.shape
    ph, pw = -h % t, -w % t
    r = np.pad(r, ((0, ph), (0, pw)))
    return r.reshape((h + ph) // t, t, (w + pw) // t, t).sum(axis=(0, 2))


@dataclass
class Candidate:
    f: float
    z: float
    dy: int
    dx: int
    folded: np.ndarray
    r: int


def _try(y: np.ndarray, f: float, key: bytes, r: int = R) -> Candidate:
    h, w = y.shape
    t = N * r
    g = TILES * t * f / min(h, w)                # detector pixels per input pixel
    hc, wc = max(int(h * g), 8), max(int(w * g), 8)
    yc = np.asarray(Image.fromarray(y, "F").resize((wc, hc), Image.Resampling.BILINEAR,
                                                    box=(0, 0, wc / g, hc / g)))
    folded = _fold(_residual(yc), t)
    c = np.real(np.fft.ifft2(np.fft.fft2(folded) * _template_fft(key, r)))
    k = int(np.argmax(c))
    z = (float(c.flat[k]) - float(c.mean())) / (float(c.std()) + 1e-12)
    return Candidate(f, z, k // t, k % t, folded, r)


def soft_bits(cand: Candidate, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per-bit soft values and an estimate of the probability that each hard bit is right."""
    a = np.roll(cand.folded, (-cand.dy, -cand.dx), axis=(0, 1))
    v = a.reshape(N, cand.r, N, cand.r).sum(axis=(1, 3)).ravel()
    prod = lay.sign[lay.data_cells] * v[lay.data_cells]
    s = np.bincount(lay.bit_of, weights=prod, minlength=NBITS)
    cnt = np.bincount(lay.bit_of, minlength=NBITS)
    hard = np.where(s >= 0, 1.0, -1.0)
    resid = prod * hard[lay.bit_of] - (np.abs(s) / cnt)[lay.bit_of]
    sigma = float(resid.std()) * np.sqrt(cnt) + 1e-12
    zbit = np.abs(s) / sigma
    p_right = 1.0 - 0.5 * np.vectorize(math.erfc)(zbit / math.sqrt(2))
    return s, p_right


def candidates(y: np.ndarray, *, key: bytes = b"", fast_first: bool = True):
    """Yield candidate alignments, most promising first: f = 1 (no crop) first, then the best of a coarse
    scale search refined on a fine grid. The caller stops at the first one whose CRC checks."""
    y = y.astype(np.float32)
    # shrink once so each scale trial works on a small picture (the detector never needs more detail)
    ms = min(y.shape)
    target = int(TILES * N * R * F_MAX * 1.5)
    if ms > target:
        s = target / ms
        y = np.asarray(Image.fromarray(y, "F").resize((max(int(y.shape[1] * s), 1), max(int(y.shape[0] * s), 1)),
                                                      Image.Resampling.BILINEAR))
    tried: set[float] = set()
    if fast_first:
        c = _try(y, 1.0, key)
        tried.add(1.0)
        yield c
    coarse = [_try(y, float(f), key, R_COARSE) for f in np.arange(F_MIN, F_MAX + 1e-9, COARSE_STEP)]
    coarse.sort(key=lambda c: -c.z)
    fine: list[Candidate] = []
    for c0 in [c for i, c in enumerate(coarse[:3]) if i == 0 or c.z >= REFINE_MIN_Z]:
        for f in np.arange(c0.f - COARSE_STEP, c0.f + COARSE_STEP + 1e-9, FINE_STEP):
            f = round(float(f), 4)
            if f not in tried:
                tried.add(f)
                fine.append(_try(y, f, key))
    fine.sort(key=lambda c: -c.z)
    n = 0
    for c in fine:
        if c.z < SYNC_MIN_Z or n >= TOP_DECODES:
            break
        n += 1
        yield c
