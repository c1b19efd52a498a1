"""Perceptual hash (dHash, 64 bits) and thumbnails, with Pillow.

dHash compares each pixel of a 9x8 grey thumbnail with its right neighbour; the Hamming distance between
two hashes measures how far an edit moved the picture (0: same picture, > 20 of 64: a different one).
"""

from __future__ import annotations

import base64
import io
import os


def dhash_file(path: str | os.PathLike) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.draft("L", (64, 64))  # JPEG decodes at reduced size: far less work on large files
            g = im.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    except Exception:  # noqa: BLE001 - not an image Pillow can read: no perceptual hash
        return None
    px = g.tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (px[row * 9 + col] > px[row * 9 + col + 1])
    return f"{bits:016x}"


def distance(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def thumbnail_data_uri(path: str | os.PathLike, size: int = 160) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.thumbnail((size, size))
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "JPEG", quality=80)
    except Exception:  # noqa: BLE001
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
