"""Invisible image watermark carrying a compact payload that resolves to the implicit label.

GB 45438 counts content watermarks as implicit labels (encouraged, not mandatory: Labeling Measures Art. 5;
reference gb-45438-labeling.md 2.5). Metadata labels vanish when a platform re-encodes an upload; this mark
lives in the pixels and survives JPEG, downscaling, a crop and a screenshot-like re-encode (measured in
benchmarks/watermark_bench.py). It carries 48 bits (payload.py): the Label value, a check byte over the
ContentProducer code and a 38-bit hash of the ProduceID, with a CRC and a convolutional code. A decode either
passes the CRC or the answer is "no mark".

    from cnai.label import watermark
    watermark.embed("in.png", "out.png", produce_id="img-0001", producer="001191110102MACQD9K64010000")
    watermark.detect("upload.jpg")   # {"found": True, "payload": "...", "matches": {...}, ...}
    watermark.embed_batch(["photos/"], out="marked/", producer=..., produce_id="{stem}")

numpy and Pillow are imported only when a picture is processed, so importing this package is cheap.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterable

from cnai.errors import CnaiError, InputError

MAX_PIXELS = 80_000_000          # a decompression bomb or a poster scan; refuse rather than use gigabytes
OUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
               ".bmp": "BMP"}
# image formats (cnai carrier names) worth a watermark look when classify finds no valid metadata label
CLASSIFY_FORMATS = {"jpeg", "png", "webp", "tiff", "heif"}


class WatermarkError(CnaiError):
    """A per-file problem (unreadable, too small, unsupported mode), with a reason category for skip counts."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class _PerThreadFlag:
    """Stands in for Pillow's process-wide `ImageFile.LOAD_TRUNCATED_IMAGES` so that strict decoding is a
    per-thread setting. Pillow only ever tests the flag for truth (`if LOAD_TRUNCATED_IMAGES:`), so every
    thread sees `default` -- the value the process set (WeasyPrint sets True on import) -- except a thread
    inside `_load_strict`, which sees False. Before, the watermark switched the global off around `load()`:
    another thread decoding at that moment lost its lenient setting (and the restore could undo a change
    made meanwhile)."""

    def __init__(self, default):
        self.default = bool(default)
        self.local = threading.local()

    def __bool__(self) -> bool:
        return False if getattr(self.local, "strict", False) else self.default

    def __eq__(self, other) -> bool:
        return bool(self) == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<per-thread LOAD_TRUNCATED_IMAGES: {bool(self)} here, {self.default} elsewhere>"


_flag_lock = threading.Lock()


def _strict_flag():
    from PIL import ImageFile

    with _flag_lock:
        cur = ImageFile.LOAD_TRUNCATED_IMAGES
        if not isinstance(cur, _PerThreadFlag):
            cur = _PerThreadFlag(cur)
            ImageFile.LOAD_TRUNCATED_IMAGES = cur
        return cur


def _load_strict(im) -> None:
    """Decode all pixels, refusing a truncated file even when another library in this process (WeasyPrint does,
    on import) has switched Pillow's global LOAD_TRUNCATED_IMAGES on: a half-grey picture must not be judged.
    Strict for this thread only (see _PerThreadFlag). Should the flag be reassigned while the pixels are decoded,
    the result is not trusted: OSError, reported as a corrupt file, rather than a possibly padded picture."""
    from PIL import ImageFile

    flag = _strict_flag()
    flag.local.strict = True
    try:
        im.load()
    finally:
        del flag.local.strict
    if ImageFile.LOAD_TRUNCATED_IMAGES is not flag:
        raise OSError("Pillow's LOAD_TRUNCATED_IMAGES was changed while the image was decoded; not trusted")
    if getattr(im, "_ended", False):  # Pillow's JPEG reader padded a premature end (lenient mode only)
        raise OSError("image file is truncated")


def _open(path: str):
    """(PIL image, loaded) or WatermarkError naming what is wrong."""
    from PIL import Image, UnidentifiedImageError

    from cnai.core.safeio import stat_input

    stat_input(path, WatermarkError)
    try:
        import pillow_heif  # noqa: F401 - registers the HEIF opener when installed

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    try:
        im = Image.open(path)
        if im.width * im.height > MAX_PIXELS:
            raise WatermarkError("too large", f"{im.width}x{im.height} pixels is over the {MAX_PIXELS:,} limit")
        _load_strict(im)
    except WatermarkError:
        raise
    except UnidentifiedImageError:
        raise WatermarkError("unsupported format", "not an image Pillow can read") from None
    except Image.DecompressionBombError as e:
        raise WatermarkError("too large", f"refused as a decompression bomb: {e}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise WatermarkError("corrupt or unsupported structure", f"cannot decode the image: {e}") from None
    return im


def _pixels(im):
    """uint8 array (h, w) or (h, w, 3|4) for embedding, and the mode to save back in."""
    import numpy as np

    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode == "LA":
        im, mode = im.convert("RGBA"), "RGBA"
    if mode not in ("L", "RGB", "RGBA"):
        raise WatermarkError("unsupported image mode", f"image mode {im.mode} is not supported for embedding "
                             "(8-bit grey, RGB, RGBA or palette only)")
    return np.asarray(im), mode


def _luma(im):
    import numpy as np

    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float32)
        return a * (255.0 / max(float(a.max()), 1.0))
    if im.mode == "F":
        a = np.asarray(im, dtype=np.float32)
        return a * (255.0 / max(float(a.max()), 1e-6))
    return np.asarray(im.convert("L"), dtype=np.float32)


def _check_fields(producer: str, produce_id: str | None, label: str) -> None:
    """The same field rules `cnai label embed` applies (provider code check, lengths, Annex E characters)."""
    from cnai.label.api import check_field, validate_code, validate_label_value

    validate_code(producer, "--producer")
    if produce_id is not None:
        if not produce_id:
            raise InputError("must not be empty", field="--produce-id")
        check_field(produce_id, "--produce-id")
    validate_label_value(str(label))


def embed(src: str, dst: str, *, produce_id: str | None, producer: str, label: str = "1", strength: float = 1.0,
          quality: int = 95, metadata: bool = True, key: bytes = b"") -> dict:
    """Write a watermarked copy of src to dst (format from dst's extension, else src's). `produce_id` None: a new
    unique ID (returned in the record). With `metadata`, the implicit metadata label with the same fields is
    written too (cnai.label.api.embed_file). Raises
    WatermarkError/OutputError for per-file problems and InputError for bad arguments."""
    import io

    import numpy as np
    from PIL import Image

    from cnai.core.safeio import check_output
    from cnai.label.watermark import dsp, payload

    _check_fields(producer, produce_id, label)
    if not (0.2 <= strength <= 4.0):
        raise InputError("must be between 0.2 and 4.0", field="--strength")
    check_output(dst, inputs=[src])               # refuse before any work: an output that is the input
    im = _open(src)
    fmt = OUT_FORMATS.get(os.path.splitext(dst)[1].lower()) or (im.format if im.format in OUT_FORMATS.values()
                                                                 else None)
    if fmt is None:
        raise WatermarkError("unsupported format", f"cannot write {im.format or 'this'} images; give the output a "
                             f"{'/'.join(sorted(OUT_FORMATS))} name")
    arr, mode = _pixels(im)
    h, w = arr.shape[:2]
    if min(h, w) < dsp.MIN_EMBED_SIDE:
        raise WatermarkError("too small", f"{w}x{h}: the shorter side must be at least {dsp.MIN_EMBED_SIDE} pixels "
                             "to carry a watermark that survives re-encoding")
    if produce_id is None:
        from cnai.label.codes import new_produce_id

        produce_id = new_produce_id()
    p = payload.make_payload(label=str(label), producer=producer, produce_id=produce_id)
    marked = dsp.embed_array(arr, payload.conv_encode(payload.encode(p)), strength=strength, key=key)
    out = Image.fromarray(marked, mode)
    if fmt == "JPEG" and mode == "RGBA":
        out = out.convert("RGB")                  # JPEG has no alpha
    opts: dict = {}
    for k in ("icc_profile", "exif", "dpi"):
        if im.info.get(k):
            opts[k] = im.info[k]
    if fmt in ("JPEG", "WEBP"):
        opts["quality"] = int(quality)
    if fmt == "BMP":
        opts.pop("exif", None)
        opts.pop("icc_profile", None)
    buf = io.BytesIO()
    out.save(buf, format=fmt, **opts)
    warnings = []
    if metadata and fmt == "BMP":
        warnings.append("BMP files cannot carry the metadata label; only the watermark was written")
    meta = _write(buf.getvalue(), src, dst, producer=producer, produce_id=produce_id, label=str(label),
                  metadata=metadata and fmt != "BMP", warnings=warnings)
    # what the file really holds (after JPEG/WebP quantisation): PSNR and a read-back
    colour = arr.ndim == 3
    back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB" if colour else "L"), dtype=np.float64)
    mse = float(np.mean((back - (arr[..., :3] if colour else arr)) ** 2))
    rec = {"path": str(src), "output": str(dst), "status": "watermarked", "format": fmt.lower(),
           "payload": f"{p:012x}", **payload.split_payload(p), "produce_id": produce_id, "producer": producer,
           "strength": strength, "psnr_db": round(10 * np.log10(255 ** 2 / mse), 2) if mse > 0 else None,
           "error": None}
    got = _detect_luma(_luma(Image.open(io.BytesIO(buf.getvalue()))), key=key)
    rec["verified"] = got.get("payload") == rec["payload"]
    rec["metadata_label"] = meta
    if not rec["verified"]:
        warnings.append("the watermark did not read back from the written file (a very flat or saturated "
                        "picture?); raise --strength")
    if warnings:
        rec["warnings"] = warnings
    return rec


def _write(data: bytes, src: str, dst: str, *, producer: str, produce_id: str, label: str, metadata: bool,
           warnings: list) -> str | None:
    """Write the marked picture to dst in one atomic replace; with `metadata`, the implicit label goes in on the
    way (the encoded picture is staged in a hidden temp file beside dst and labelled from there)."""
    import tempfile

    from cnai.core.safeio import atomic_writer

    if metadata:
        from cnai.label.api import embed_file

        folder = os.path.dirname(os.path.abspath(dst))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cnai-wm-", suffix=os.path.splitext(dst)[1] or ".img", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            m = embed_file(tmp, dst, producer=producer, produce_id=produce_id, label=label)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if not m.get("error"):
            return "written"
        warnings.append(f"metadata label not written: {m['error']}")
    with atomic_writer(dst, inputs=[src], binary=True) as fh:
        fh.write(data)
    return None


def read_bits(y, *, key: bytes = b"") -> dict:
    """The best reading of a luminance array: {"bits": the 64 decoded bits (payload + CRC) or None,
    "payload": int or None, ...}. The first alignment whose CRC checks wins; without one, the bits of the
    strongest sync peak are returned (for measuring bit accuracy) with payload None."""
    import numpy as np

    from cnai.label.watermark import dsp, payload

    if min(y.shape) < dsp.MIN_DETECT_SIDE:
        return {"bits": None, "payload": None, "too_small": True}
    lay = dsp.layout(key)
    best: dict | None = None
    for tried, cand in enumerate(dsp.candidates(y, key=key), 1):
        soft, p_right = dsp.soft_bits(cand, lay)
        info = payload.viterbi(soft / (float(np.std(soft)) + 1e-12))
        p = payload.decode(info)
        got = {"bits": info, "payload": p, "cand": cand, "soft": soft, "p_right": p_right, "tried": tried}
        if p is not None:
            return got
        if best is None or cand.z > best["cand"].z:
            best = got
    return best or {"bits": None, "payload": None}


def _detect_luma(y, *, key: bytes = b"") -> dict:
    import numpy as np

    from cnai.label.watermark import dsp, payload

    r = read_bits(y, key=key)
    if r.get("too_small"):
        return {"found": False, "note": f"too small to carry a watermark (shorter side under "
                                        f"{dsp.MIN_DETECT_SIDE} pixels)"}
    if r["payload"] is None:
        return {"found": False, "sync_score": round(r["cand"].z, 2) if r.get("cand") else None,
                "note": "no mark: no alignment decoded to a payload that passes the CRC"}
    p, cand = r["payload"], r["cand"]
    agree = float(np.mean((r["soft"] > 0) == payload.conv_encode(r["bits"])))
    return {"found": True, "payload": f"{p:012x}", **payload.split_payload(p),
            "bits_confidence": round(float(np.mean(r["p_right"])), 4), "bits_agreement": round(agree, 4),
            "sync_score": round(cand.z, 2), "scale": cand.f, "candidates_tried": r["tried"]}


def detect(path: str, *, producer: str | None = None, produce_id: str | None = None, key: bytes = b"",
           with_metadata: bool = True) -> dict:
    """Look for the watermark. The record says whether it was found, the payload and its parts, how sure the
    read was, and which label it resolves to: the producer/ProduceID given here, else the file's own metadata
    label if it still has one. Raises WatermarkError for unreadable files."""
    from cnai.label.watermark import payload

    im = _open(path)
    rec = {"path": str(path), "format": (im.format or "").lower() or None, **_detect_luma(_luma(im), key=key),
           "error": None}
    if not rec["found"]:
        return rec
    p = int(rec["payload"], 16)
    expect = {"source": "given", "ContentProducer": producer, "ProduceID": produce_id}
    if producer is None and produce_id is None and with_metadata:
        from cnai.label.api import read_file

        lab = read_file(path, with_c2pa=False).get("label") or {}
        expect = {"source": "metadata label", "ContentProducer": lab.get("ContentProducer") or None,
                  "ProduceID": lab.get("ProduceID") or None}
    if expect["ContentProducer"] is not None or expect["ProduceID"] is not None:
        m = payload.matches(p, producer=expect["ContentProducer"], produce_id=expect["ProduceID"])
        rec["matches"] = {"against": expect["source"], **m}
        if all(m.values()):
            rec["resolves_to"] = {"Label": rec["label"], "ContentProducer": expect["ContentProducer"],
                                  "ProduceID": expect["ProduceID"]}
    return rec


def classify_evidence(path: str, fmt: str | None) -> dict | None:
    """For `classify`: {"category", "reason"} when an image carries a valid watermark, else None. Never raises
    (a missing numpy/Pillow or an unreadable picture is simply no evidence)."""
    if fmt not in CLASSIFY_FORMATS:
        return None
    try:
        rec = detect(path, with_metadata=False)
    except ImportError:
        return None
    except Exception:  # noqa: BLE001 - evidence is optional; read_file already reports broken files
        return None
    if not rec.get("found"):
        return None
    from cnai.label.model import LABEL_VALUES

    return {"category": LABEL_VALUES[rec["label"]], "payload": rec["payload"],
            "reason": f"invisible watermark decodes to a valid payload {rec['payload']} (Label={rec['label']}, "
                      f"CRC ok, bit confidence {rec['bits_confidence']:.2f}); no valid metadata label"}


# ------------------------------------------------------------------ batches (the CLI verbs)
def _record_error(rec: dict, e: BaseException) -> dict:
    if isinstance(e, WatermarkError):
        rec["error"], rec["skip_reason"] = str(e), e.reason
        return rec
    from cnai.label.api import _classify_error

    rec["error"], rec["skip_reason"] = _classify_error(e)[1], _classify_error(e)[0]
    return rec


def _embed_one(item, *, producer, produce_id, label, strength, quality, metadata, many, resume):
    from cnai.label.verbs import _id_for, _pre

    n, (src, dst) = item
    pre = _pre(src, dst, resume)
    if pre:
        return pre
    rec = {"path": str(src), "output": str(dst), "status": "error", "error": None}
    try:
        return embed(src, dst, produce_id=_id_for(produce_id, n, src, many), producer=producer, label=label,
                     strength=strength, quality=quality, metadata=metadata)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - one bad file never stops the batch
        return _record_error(rec, e)


def embed_batch(paths: Iterable[str], *, out: str, producer: str, produce_id: str | None = None, label: str = "1",
                strength: float = 1.0, quality: int = 95, metadata: bool = True, resume: bool = False,
                workers: int = 1, progress: bool | None = False, on_record: Callable[[dict], None] | None = None):
    """Watermark every image under `paths` into the folder `out` (originals untouched). `produce_id`: None for a
    new unique ID per file, or a template with {n} or {stem}. Returns a cnai.label.verbs.BatchResult."""
    from cnai.label.batch import expand
    from cnai.label.verbs import _collect, _id_for

    if not out:
        raise InputError("an output folder is required", field="-o")
    _check_fields(producer, produce_id, label)
    if not (0.2 <= strength <= 4.0):
        raise InputError("must be between 0.2 and 4.0", field="--strength")
    items = list(enumerate(expand(paths, out), 1))
    if produce_id is not None:
        _id_for(produce_id, 1, "x", len(items) > 1)
    fn = functools.partial(_embed_one, producer=producer, produce_id=produce_id, label=str(label),
                           strength=strength, quality=quality, metadata=metadata, many=len(items) > 1, resume=resume)
    return _collect("watermark embed", items, fn, workers=workers, progress=progress, on_record=on_record)


def _detect_one(src, *, producer, produce_id):
    try:
        return detect(src, producer=producer, produce_id=produce_id)
    except Exception as e:  # noqa: BLE001
        return _record_error({"path": str(src), "found": None, "error": None}, e)


def _detect_status(rec: dict) -> None:
    rec["status"] = "found" if rec.get("found") else "no mark"


def detect_batch(paths: Iterable[str], *, producer: str | None = None, produce_id: str | None = None,
                 workers: int = 1, progress: bool | None = False,
                 on_record: Callable[[dict], None] | None = None):
    """Look for the watermark in every image under `paths`. A file without a mark is a result, not an error;
    exit_code is 1 only when a file could not be read (or there were none)."""
    from cnai.label.batch import expand
    from cnai.label.verbs import _collect

    items = [s for s, _ in expand(paths)]
    fn = functools.partial(_detect_one, producer=producer, produce_id=produce_id)
    return _collect("watermark detect", items, fn, workers=workers, progress=progress, on_record=on_record,
                    post=_detect_status)


__all__ = ["WatermarkError", "classify_evidence", "detect", "detect_batch", "embed", "embed_batch", "read_bits"]
