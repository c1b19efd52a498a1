"""Streaming copy helpers: large media are never loaded whole (a 2 GB MP4 is copied in 1 MiB pieces)."""

from __future__ import annotations

import os
from typing import BinaryIO

CHUNK = 1 << 20


def copy_range(src: BinaryIO, dst: BinaryIO, start: int, length: int,
               patches: list[tuple[int, bytes]] | None = None) -> None:
    """Copy src[start:start+length] to dst, replacing bytes at absolute offsets given in patches."""
    patches = sorted(p for p in (patches or []) if start <= p[0] < start + length)
    if not patches:
        dst.flush()
        try:  # in-kernel copy when both are real files
            src_fd, dst_fd = src.fileno(), dst.fileno()
            dst_pos = dst.tell()
            os.lseek(dst_fd, dst_pos, os.SEEK_SET)
            done = 0
            while done < length:
                n = os.copy_file_range(src_fd, dst_fd, min(length - done, 1 << 30), start + done)
                if n == 0:
                    break
                done += n
            if done == length:
                dst.seek(dst_pos + length)
                return
            start, length = start + done, length - done
            dst.seek(dst_pos + done)
        except (AttributeError, OSError, ValueError):
            pass
    src.seek(start)
    pos, end = start, start + length
    while pos < end:
        buf = bytearray(src.read(min(CHUNK, end - pos)))
        if not buf:
            raise EOFError(f"file ended at byte {pos}, expected {end}")
        for off, rep in patches:
            lo, hi = max(off, pos), min(off + len(rep), pos + len(buf))
            if lo < hi:
                buf[lo - pos:hi - pos] = rep[lo - off:hi - off]
        dst.write(buf)
        pos += len(buf)


def splice(src: BinaryIO, dst: BinaryIO, size: int, cut: int, insert: bytes, resume: int,
           patches: list[tuple[int, bytes]] | None = None) -> None:
    """dst = src[:cut] (with `patches` applied) + insert + src[resume:size]: how the streamed carriers put a new
    metadata element in place of an old one without reading the media into memory."""
    patches = [p for p in (patches or []) if p[0] < cut]
    pe = min(cut, max((o + len(b) for o, b in patches), default=0))
    copy_range(src, dst, 0, pe, patches)
    copy_range(src, dst, pe, cut - pe)
    dst.write(insert)
    if resume < size:
        copy_range(src, dst, resume, size - resume)


def iter_range(src: BinaryIO, start: int, length: int):
    src.seek(start)
    left = length
    while left > 0:
        b = src.read(min(CHUNK, left))
        if not b:
            return
        left -= len(b)
        yield b


def stream_ranges(path: str, ranges):
    """Yield the bytes of the (start, length) ranges that `ranges(f, size)` picks from the file's layout: the
    essence of a streamed container (AVI, MKV), read in CHUNK pieces."""
    with open(path, "rb") as f:
        for start, length in ranges(f, os.path.getsize(path)):
            yield from iter_range(f, start, length)
