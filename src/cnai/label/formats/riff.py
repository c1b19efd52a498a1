"""RIFF (WAV, WebP, AVI): one chunk walker and one chunk writer for the three carriers built on it."""

from __future__ import annotations

import struct

from cnai.label.formats.base import bad, u32le


def riff_chunks(data: bytes, forms: tuple[bytes, ...], what: str, *,
                strict_size: bool = False) -> list[tuple[bytes, int, int, int]]:
    """[(id, start, data_len, end)] of the top-level chunks of a RIFF file whose form type is in `forms`.

    A chunk that runs past the end of the file is a FormatError at its offset. `strict_size`: the RIFF size
    field must fit the file and bounds the chunks (WebP); otherwise (WAV) a wrong size field, common in
    files written by streaming recorders, is tolerated and only the file's end counts."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64") or data[8:12] not in forms:
        raise bad(f"not a {what} file (RIFF/{forms[0].decode().strip()} header missing)", 0)
    if data[:4] == b"RF64":
        raise bad(f"RF64 (>4 GiB {what}) is not supported")
    size = u32le(data, 4)
    if strict_size and size + 8 > len(data):
        raise bad(f"{what} RIFF size {size} runs past the end of the file", 4)
    n = min(len(data), size + 8)
    limit = n if strict_size else len(data)
    p, out = 12, []
    while p + 8 <= n:
        cid = data[p:p + 4]
        ln = u32le(data, p + 4)
        if p + 8 + ln > limit:
            raise bad(f"{what} chunk {cid!r} length {ln} runs past the end of the file", p)
        e = min(p + 8 + ln + (ln & 1), limit)
        out.append((cid, p, ln, e))
        p = e
    return out


def riff_chunk(cid: bytes, data: bytes) -> bytes:
    """One chunk: id, little-endian length, data, and the pad byte RIFF wants after odd-length data."""
    return cid + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")


def riff_file(form: bytes, body: bytes, what: str) -> bytes:
    """A whole RIFF file of `form` type around the concatenated chunks in `body`."""
    if len(body) + 4 > 0xFFFFFFFF:
        raise bad(f"{what} would exceed 4 GiB")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + form + body
