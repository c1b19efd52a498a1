"""AVI carrier: a LIST/INFO sub-chunk "AIGC" holding the JSON (TC260-PG-20257A Annex D as summarised in
reference 2.3; secondary). Stock ffmpeg neither writes nor reads it (the guide patches riff.c).

Streaming and offset-safe: the new LIST INFO is appended at the end of the (only) RIFF chunk; an older AIGC
sub-chunk elsewhere is renamed to JUNK and blanked in place (OpenDML indexes hold absolute offsets, so
nothing before the end may move), or truncated away when it is our own trailing LIST."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cnai.label.formats.base import Found, FunctionCarrier, Scan, WriteOpts, bad
from cnai.label.formats.riff import riff_chunk
from cnai.label.formats.streamio import splice, stream_ranges

MAX_INFO = 16 << 20


def _chunks(f: BinaryIO, size: int):
    """(riff_end, [(id, start, data_len, list_type or None)]) for the first RIFF 'AVI ' chunk."""
    f.seek(0)
    h = f.read(12)
    if len(h) < 12 or h[:4] != b"RIFF" or h[8:12] != b"AVI ":
        raise bad("not an AVI file (RIFF/AVI header missing)", 0)
    riff_end = 8 + struct.unpack("<I", h[4:8])[0]
    if riff_end > size:
        raise bad(f"AVI RIFF size runs past the end of the file ({riff_end} > {size})", 4)
    out, p = [], 12
    while p + 8 <= riff_end:
        f.seek(p)
        hh = f.read(12)
        cid, ln = hh[:4], struct.unpack("<I", hh[4:8])[0]
        if p + 8 + ln > riff_end:
            raise bad(f"AVI chunk {cid!r} length {ln} runs past the RIFF chunk", p)
        out.append((cid, p, ln, hh[8:12] if cid == b"LIST" else None))
        p += 8 + ln + (ln & 1)
    return riff_end, out


def _info_items(body: bytes) -> list[tuple[bytes, int, int]]:
    """Sub-chunks of a LIST INFO body (after the 'INFO' type): (id, start, data_len) relative to body."""
    out, p = [], 4
    while p + 8 <= len(body):
        cid, ln = body[p:p + 4], struct.unpack_from("<I", body, p + 4)[0]
        if p + 8 + ln > len(body):
            raise bad(f"AVI INFO item {cid!r} runs past its list")
        out.append((cid, p, ln))
        p += 8 + ln + (ln & 1)
    return out


def read_path(path: str) -> Scan:
    scan = Scan()
    with open(path, "rb") as f:
        _end, chunks = _chunks(f, os.path.getsize(path))
        for s, p, il, body in _aigc_items(f, chunks):
            scan.found.append(Found("avi-info", body[p + 8:p + 8 + il].decode("utf-8", "replace")
                                    .rstrip("\x00"), s + 8 + p))
    return scan


def _aigc_items(f: BinaryIO, chunks) -> Iterator[tuple[int, int, int, bytes]]:
    """(LIST start, item offset in body, item length, body) of every AIGC item in the INFO lists."""
    for _cid, s, ln, lt in chunks:
        if lt == b"INFO" and ln <= MAX_INFO:
            f.seek(s + 8)
            body = f.read(ln)
            for iid, p, il in _info_items(body):
                if iid == b"AIGC":
                    yield s, p, il, body


def write_path(src: str, dst: BinaryIO, label_json: str, opts: WriteOpts) -> None:
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        riff_end, chunks = _chunks(f, size)
        f.seek(riff_end)
        if riff_end + 12 <= size and f.read(12)[8:12] == b"AVIX":
            raise bad("OpenDML AVI (RIFF AVIX extensions, files over 1 GB) is not supported for writing")
        cut = riff_end
        if chunks and chunks[-1][3] == b"INFO" and chunks[-1][1] + 8 + chunks[-1][2] + (chunks[-1][2] & 1) == \
                riff_end:
            f.seek(chunks[-1][1] + 8)
            body = f.read(chunks[-1][2])
            if [i for i, _p, _l in _info_items(body)] == [b"AIGC"]:  # our own trailing list: drop it
                cut = chunks[-1][1]
                chunks = chunks[:-1]
        patches: list[tuple[int, bytes]] = []
        for s, p, il, _body in _aigc_items(f, chunks):
            patches.append((s + 8 + p, b"JUNK"))
            patches.append((s + 16 + p, b" " * il))
        lst = riff_chunk(b"LIST", b"INFO" + riff_chunk(b"AIGC", label_json.encode("utf-8")))
        new_riff = cut - 8 + len(lst)
        if new_riff > 0xFFFFFFFF:
            raise bad("AVI would exceed 4 GiB")
        patches.append((4, struct.pack("<I", new_riff)))
        splice(f, dst, size, cut, lst, riff_end, patches)


def _essence_ranges(f: BinaryIO, size: int):
    _end, chunks = _chunks(f, size)
    return [(s + 12, ln - 4) for _cid, s, ln, lt in chunks if lt in (b"movi", b"hdrl")]  # stream headers, data


def essence_path(path: str):
    return stream_ranges(path, _essence_ranges)


# ---------------------------------------------------------------- carrier (registered on cnai.carriers)

AVI = FunctionCarrier(
    "avi", sniff=lambda h, p: h[:4] == b"RIFF" and h[8:12] == b"AVI ", extensions=(".avi",),
    media_types=("video/x-msvideo",), where="avi-info", standard="LIST/INFO sub-chunk 'AIGC' (video guide Annex D)",
    visible="video", read_path=read_path, write_path=write_path, essence_path=essence_path)
