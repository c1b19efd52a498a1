"""A labelled new copy of a JPEG on one input descriptor (issue 19 round 5: per-file CPU next to `cp`).

The general route (cnai.label.inplace.write_output) opens and reads the input's header once per step --
format sniff, label scan, damage check, plan, write -- and the output's header again for the read-back, with
a stat or two and a path resolution around each. For the common batch case -- `embed -o DIR` into an output
that does not exist yet, no digest, no signature, no C2PA -- this module does the same steps on one open
descriptor:

1. open the input once (O_NONBLOCK, so a FIFO named as input cannot block; fstat refuses non-files as
   stat_input does), one `pread` of the first 64 KiB: it serves the sniff, the extension check and, for
   nearly every JPEG, the whole header (grown x4 while SOS lies further in);
2. the damage check reads the last 4 KiB (64 KiB if EOI is not in them), as carrier.damage does;
3. the new header is built in memory -- the header-only patch when the old XMP packet has room, else the
   carrier's rewrite -- so the output's bytes are exactly those of the general route;
4. the output is a hidden temporary file beside the final name (O_EXCL), the new header is written with
   one `pwrite` and the image data is copied in the kernel (block clone where the file system can, else
   copy_file_range), straight from the input descriptor;
5. verification, before the output is staged for the group commit: the output's size must be header +
   image data; the header is read back from the output and must equal the bytes meant, be followed by the
   SOS marker, and carry exactly the label written (parsed by the same reader `cnai label read` uses); the
   output's last bytes must equal the input's last bytes (the copied image data ends where it should).
   The general route read the header back and parsed the label, with no size or tail check.

Anything else -- another format, an output that exists, a plug-in that replaced the JPEG carrier, staging off
(single-file API calls) -- takes the general route. `CNAI_LABEL_FASTCOPY=0` turns this route off (for
comparing the two; the outputs are byte-identical, tests/label/test_fastcopy.py).
"""

from __future__ import annotations

import errno
import itertools
import os
import stat

from cnai.label.formats.base import FormatError, WriteOpts

_seq = itertools.count()  # temporary-file names: pid + sequence, O_EXCL guards against any clash
_pid = [os.getpid()]  # one getpid per process, not per file; a forked worker gets its own
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))
_FLAGS_IN = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_FLAGS_OUT = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
TAIL = 4096


def usable(dst: str | None) -> bool:
    """True for a batch output (staged for the group commit) that does not exist yet."""
    from cnai.label import inplace

    if not dst or not inplace._staged() or os.environ.get("CNAI_LABEL_FASTCOPY") == "0":
        return False
    try:
        os.lstat(dst)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


class Source:
    """An open JPEG input: descriptor, size, header (bytes before SOS), format warnings."""

    __slots__ = ("path", "fd", "size", "dev", "head", "sos", "segs", "warns", "tail")

    def __init__(self, path: str, fd: int, st, head: bytes, sos: int, segs: list, warns: list[str]):
        self.path, self.fd, self.size, self.dev = path, fd, st.st_size, st.st_dev
        self.head, self.sos, self.segs, self.warns, self.tail = head, sos, segs, warns, b""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def scan(self):
        from cnai.label.formats.images import jpeg_read

        return jpeg_read(self.head + b"\xff\xda", segs=self.segs)

    def damage(self) -> list[str]:
        """carrier.damage for JPEG (images.jpeg_damage_path) on the open descriptor; keeps the tail read."""
        tail = b""
        for span in (TAIL, 64 << 10):
            at = max(self.sos, self.size - span)
            tail = os.pread(self.fd, self.size - at, at)
            if b"\xff\xd9" in tail:
                break
        self.tail = tail[-TAIL:]
        if b"\xff\xd9" not in tail:
            return [
                f"image data truncated: no EOI marker (FFD9) after the scan data that starts at byte {self.sos}"
            ]
        return []

    def write(self, dst: str, js: str, opts: WriteOpts) -> str:
        """Write the labelled copy to a hidden temporary file beside `dst`, verify it, stage it for the group
        commit. Returns how ("copy+patch" or "rewrite", as the general route names them)."""
        from cnai.label import inplace
        from cnai.label.api import SkipError, _labels
        from cnai.label.formats.images import jpeg_read, jpeg_write

        try:
            p = inplace.plan_jpeg_head(self.head, js, opts)
        except Exception:  # noqa: BLE001 - no plan means the rewrite, as inplace.plan does
            p = None
        if p is not None and p.truncate is None:
            new = bytearray(self.head)
            for off, b in p.patches:
                new[off : off + len(b)] = b
            new, how = bytes(new), "copy+patch"
        else:
            new, how = jpeg_write(self.head + b"\xff\xda", js, opts)[:-2], "rewrite"
        body = self.size - self.sos
        fd, tmp = _create(dst)
        try:
            _pwrite_all(fd, new, 0)
            _copy(self.fd, fd, self.sos, len(new), body, self.dev)
            # verification (module docstring, step 5)
            want = len(new) + body
            got = os.fstat(fd).st_size
            if got != want:
                raise SkipError("verification failed", f"output is {got} bytes on read-back, expected {want}")
            back = os.pread(fd, len(new) + 2, 0)
            if back[: len(new)] != new or back[len(new) :] != b"\xff\xda":
                raise SkipError(
                    "verification failed", "output header differs from the bytes written on read-back"
                )
            lab, _items, _p = _labels("jpeg", jpeg_read(back, traces=False))
            if lab is None or lab.to_json() != js:
                raise SkipError("verification failed", "label not found in the written file on read-back")
            if self.tail and os.pread(fd, len(self.tail), want - len(self.tail)) != self.tail:
                raise SkipError("verification failed", "output's image data does not end as the input's does")
            mode = inplace._file_mode
            if mode is None:
                from cnai.core.safeio import new_file_mode

                mode = new_file_mode()
            # on the descriptor: no path lookup at the group commit (staged with mode None)
            os.fchmod(fd, mode)
        except BaseException as e:
            os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(e, OSError):
                from cnai.core.safeio import _os_error

                raise _os_error(e, dst) from None
            raise
        inplace.writeback.submit(fd, want, owned=True)  # the write-out closes fd
        inplace._item.pending.append((tmp, dst, None))
        return how


def open_source(path: str) -> Source | None:
    """The input opened and its header read, when it is a JPEG handled by cnai's own carrier; None for any
    other format (the caller takes the general route). Per-file problems raise as the general route's do."""
    from cnai.label.api import SkipError
    from cnai.label.formats.images import JPEG, _jpeg_segments
    from cnai.label.registry import HEAD_BYTES, carriers, detect_head

    try:
        fd = os.open(path, _FLAGS_IN)
    except FileNotFoundError:
        raise SkipError("not found", "file does not exist") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SkipError("not a file", "not a regular file")
        if st.st_size == 0:
            raise SkipError("empty file", "file is empty (0 bytes)")
        buf = os.pread(fd, HEAD_BYTES, 0)
        fmt, warns = detect_head(buf, path)
        if fmt != "jpeg" or carriers().get("jpeg") is not JPEG:
            os.close(fd)
            return None
        n = len(buf)
        while True:  # as images._jpeg_header: grow until SOS is inside, or the whole file is read
            try:
                segs, sos = _jpeg_segments(buf)
                break
            except FormatError:
                if len(buf) >= st.st_size:
                    raise
                n *= 4
                buf = os.pread(fd, n, 0)
        return Source(path, fd, st, buf[:sos], sos, segs, warns)
    except BaseException:
        os.close(fd)
        raise


def _create(dst: str) -> tuple[int, str]:
    """A new hidden temporary file beside dst (the readers skip hidden files; the group commit renames it)."""
    folder, base = os.path.split(dst)
    folder = folder or "."
    pid = _pid[0]
    for attempt in range(100):
        tmp = os.path.join(folder, f".{base}.{pid:x}-{next(_seq):x}.tmp")
        try:
            return os.open(tmp, _FLAGS_OUT, 0o600), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            if attempt:
                raise
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as e:
                from cnai.core.safeio import _os_error

                raise _os_error(e, dst) from None
        except OSError as e:
            from cnai.core.safeio import _os_error

            raise _os_error(e, dst) from None
    raise FileExistsError(errno.EEXIST, "no free temporary file name", dst)


def _pwrite_all(fd: int, data: bytes, off: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, off)
        view, off = view[n:], off + n


def _copy(
    src_fd: int, dst_fd: int, start: int, dst_pos: int, length: int, src_dev: int | None = None
) -> None:
    """src[start:start+length] to dst at dst_pos: in the kernel (streamio.copy_fds), else read/write (file
    systems or kernels without the in-kernel copy)."""
    from cnai.label.formats.streamio import copy_fds

    done = copy_fds(src_fd, dst_fd, start, dst_pos, length, src_dev=src_dev)
    while done < length:
        buf = os.pread(src_fd, min(1 << 20, length - done), start + done)
        if not buf:
            raise OSError(errno.EIO, f"input ended at byte {start + done}, expected {start + length}")
        _pwrite_all(dst_fd, buf, dst_pos + done)
        done += len(buf)
