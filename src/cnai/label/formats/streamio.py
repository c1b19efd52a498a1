"""Streaming copy helpers: large media are never loaded whole (a 2 GB MP4 is copied in 1 MiB pieces)."""

from __future__ import annotations

import errno
import os
from typing import BinaryIO

CHUNK = 1 << 20
WRITEOUT_EVERY = 16 << 20  # in-kernel copies go in pieces this size, each handed to the early write-out


def copy_range(src: BinaryIO, dst: BinaryIO, start: int, length: int,
               patches: list[tuple[int, bytes]] | None = None) -> None:
    """Copy src[start:start+length] to dst, replacing bytes at absolute offsets given in patches."""
    patches = sorted(p for p in (patches or []) if start <= p[0] < start + length)
    if not patches:
        dst.flush()
        try:  # in-kernel copy when both are real files
            dst_pos = dst.tell()
            done = copy_fds(src.fileno(), dst.fileno(), start, dst_pos, length, writeout=True)
            dst.seek(dst_pos + done)
            if done == length:
                return
            start, length = start + done, length - done
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


# errors that mean "no in-kernel copy here" (another file system, an old kernel, a pipe): copy by hand instead
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def copy_fds(
    src_fd: int, dst_fd: int, start: int, dst_pos: int, length: int, *, writeout: bool = False, src_dev: int | None = None
) -> int:
    """The in-kernel part of a copy, on descriptors and explicit offsets (neither file position is used or
    moved): src[start:start+length] to dst at dst_pos, block clone where possible, else copy_file_range.
    Returns the bytes done; fewer than `length` when the kernel cannot copy here (the caller copies the rest
    by hand). Other errors (ENOSPC, EIO) raise. `writeout`: hand each 16 MiB piece of a large copy to the
    early write-out (a large media copy lets the disk start on it while the copy goes on). `src_dev`: the input's
    device when the caller has it (spares a stat per file on a file system known to refuse clones)."""
    done = _clone_aligned(src_fd, dst_fd, start, dst_pos, length, src_dev)
    try:
        while done < length:
            n = os.copy_file_range(src_fd, dst_fd, min(length - done, WRITEOUT_EVERY), start + done, dst_pos + done)
            if n == 0:
                break
            done += n
            if writeout and length > WRITEOUT_EVERY:
                from cnai.label.inplace import writeback

                writeback.submit(dst_fd)
    except OSError as e:
        if e.errno not in _NO_KERNEL_COPY:
            raise
    return done


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


BLOCK = 4096
FICLONERANGE = 0x4020940D  # _IOW(0x94, 13, struct file_clone_range), linux/fs.h
_no_reflink: set[int] = set()  # devices that refused a clone (ext4, tmpfs): not asked again


def _clone_aligned(src_fd: int, dst_fd: int, start: int, dst_pos: int, length: int, src_dev: int | None = None) -> int:
    """Share blocks instead of copying them (FICLONERANGE, as `cp --reflink=auto` does) when source and
    destination offsets have the same position inside a 4 KiB block -- the carriers arrange that by padding
    the metadata (JPEG) -- and the file system can. Copies the unaligned head with copy_file_range, then
    clones the rest. Returns how many bytes were done (0: nothing, the caller copies it all)."""
    import fcntl
    import struct

    if length < 4 * BLOCK or (start - dst_pos) % BLOCK or src_dev in _no_reflink:
        return 0  # (a clone needs one device: the input's refused before, so does any pair with it)
    try:
        dev = os.fstat(dst_fd).st_dev
        if dev in _no_reflink or os.fstat(src_fd).st_dev != dev:
            return 0
        head = (-start) % BLOCK
        end = start + length
        src_size = os.fstat(src_fd).st_size
        body = (end - start - head) if end == src_size else (end - start - head) // BLOCK * BLOCK
        done = 0
        while done < head:
            n = os.copy_file_range(src_fd, dst_fd, head - done, start + done, dst_pos + done)
            if n == 0:
                return 0
            done += n
        arg = struct.pack("=qQQQ", src_fd, start + head, body, dst_pos + head)
        fcntl.ioctl(dst_fd, FICLONERANGE, arg)
        return head + body
    except OSError:
        _no_reflink.add(dev)
        # the head already copied is rewritten by the caller's plain copy
        return 0


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
