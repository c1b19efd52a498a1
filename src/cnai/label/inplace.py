"""Labelling faster than a copy where the format allows (issue 19 item 5).

Three techniques, each falling back to the normal rewrite (`Carrier.write` into a temporary file that
replaces the output atomically) whenever it does not apply:

1. **Header-only edits.** A *plan* lists the few bytes that change when the container has room for the
   label where it already is: JPEG and PNG when the new XMP packet fits the old packet's size (cnai leaves
   2 KiB of XMP padding in every packet it writes), MP4 when moov is the last box (the new moov is appended
   and the old one becomes a `free` box) or when moov is followed by a `free` box that absorbs the change.
   The media bytes are never read, copied or moved.
2. **Clone, then patch** (new copies, `-o DIR`): the output starts as a reflink of the input (FICLONE ioctl,
   the `cp --reflink=auto` primitive, on Btrfs/XFS/bcachefs/ZFS 2.2+) or an in-kernel copy
   (`os.copy_file_range`) where the file system cannot share blocks, then the plan is applied to that
   private copy. With a reflink the data blocks are shared, so the copy costs metadata only.
3. **Group commit** (batches): outputs are written to hidden temporary files; every GROUP files (or
   GROUP_SECONDS) one `syncfs` makes them durable, then they are renamed into place and each folder is
   fsynced once. Same guarantee as one fsync per file (a crash leaves the old output or the new one, never
   part of one, and nothing appears under its final name before its bytes are on disk), without one
   journal commit per file. Records are reported after their group is committed.

Crash safety of in-place header-only edits (docs/label-speed.md has the long form):
- JPEG/PNG: one `pwrite` of the changed bytes, which lie inside the XMP packet (and, for PNG, the chunk CRC
  that follows it); lengths and every other byte stay as they are. The plan is used in place only when
  those bytes lie inside one 4 KiB-aligned block -- a single-block overwrite, which devices with a 4 KiB
  atomic write unit (4Kn disks, most NVMe) do all or nothing; otherwise the normal rewrite is used. On a
  device that tears a block, the worst case is a garbled XMP packet, never image data.
- MP4 (moov last): the new moov is appended after the old one (invisible: the old moov is still the first
  one players read), fsynced, and only then is the old moov's 4-byte type changed to `free` (one aligned
  sector). Each intermediate state plays; a crash between the steps leaves the old label.
- After every in-place edit the label is read back and the file size checked; on a mismatch the original
  bytes are written back and the normal rewrite is used.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import stat
import threading
import time
from dataclasses import dataclass, field

from cnai.label.formats.base import Carrier, WriteOpts, fit_xmp

BLOCK = 4096
FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h
GROUP, GROUP_SECONDS = 256, 2.0


@dataclass
class Plan:
    """Byte edits that turn the file into the labelled one. `safe` says the edits may be applied to the user's
    own file (see the crash-safety notes above); a plan that is not safe is used only on a private copy."""

    kind: str                                     # e.g. "jpeg-xmp-padding", "mp4-moov-append"
    patches: list[tuple[int, bytes]] = field(default_factory=list)
    truncate: int | None = None                   # new size for a private copy (the direct form)
    append: bytes = b""                           # in-place form of a tail rewrite: bytes added at the end
    flip: tuple[int, bytes] | None = None         # in-place form: the one small write that switches over
    safe: bool = False


def _one_block(lo: int, hi: int) -> bool:
    return lo // BLOCK == (hi - 1) // BLOCK


def _diff_patch(old: bytes, new: bytes, lo_ok: int, hi_ok: int) -> tuple[int, bytes] | None:
    """The single patch turning old into new (same length) if every difference lies in [lo_ok, hi_ok)."""
    if len(old) != len(new):
        return None
    if old == new:
        return (lo_ok, b"")
    lo = next(i for i in range(len(old)) if old[i] != new[i])
    hi = len(old) - next(i for i in range(len(old)) if old[-1 - i] != new[-1 - i])
    if lo < lo_ok or hi > hi_ok:
        return None
    return lo, new[lo:hi]


# ------------------------------------------------------------------ planners (read only)
def _plan_jpeg(path: str, js: str, opts: WriteOpts) -> Plan | None:
    from cnai.label.formats.images import header_memo

    return plan_jpeg_head(header_memo.get(path)[0], js, opts)


def plan_jpeg_head(head: bytes, js: str, opts: WriteOpts) -> Plan | None:
    """The JPEG plan from the header bytes (everything before SOS), for callers that have read them."""
    from cnai.label.formats.images import XMP_SIG, _jpeg_segments, jpeg_write

    def xmp_seg(data: bytes):
        segs, _ = _jpeg_segments(data + b"\xff\xda")
        return next(((s, e) for m, s, e in segs if m == 0xE1 and data[s + 4:s + 4 + len(XMP_SIG)] == XMP_SIG), None)

    old = xmp_seg(head)
    if old is None:
        return None
    new = jpeg_write(head + b"\xff\xda", js, opts)[:-2]
    ns = xmp_seg(new)
    if ns is None or ns[0] != old[0]:
        return None
    p0 = old[0] + 4 + len(XMP_SIG)
    fitted = fit_xmp(new[ns[0] + 4 + len(XMP_SIG):ns[1]], old[1] - p0)
    if fitted is None:
        return None
    cand = new[:p0] + fitted + new[ns[1]:]
    cand = cand[:old[0] + 2] + head[old[0] + 2:old[0] + 4] + cand[old[0] + 4:]  # segment length as before
    patch = _diff_patch(head, cand, p0, old[1])
    if patch is None:
        return None
    lo, b = patch
    return Plan("jpeg-xmp-padding", [patch] if b else [], safe=not b or _one_block(lo, lo + len(b)))


def _plan_png(path: str, js: str, opts: WriteOpts) -> Plan | None:
    import zlib

    from cnai.label.formats.images import _png_chunks, _png_text, png_write

    with open(path, "rb") as f:
        data = f.read()

    def xmp_chunk(d: bytes):
        for typ, s, e in _png_chunks(d):
            if typ == b"iTXt":
                t = _png_text(typ, d[s + 8:e - 4])
                if t and t[0] == "XML:com.adobe.xmp" and d[s + 8:e - 4].endswith(t[1]):  # uncompressed only
                    return s, e, e - 4 - len(t[1]), t[1]
        return None

    old = xmp_chunk(data)
    if old is None:
        return None
    new = png_write(data, js, opts)
    nw = xmp_chunk(new)
    if nw is None or nw[0] != old[0]:
        return None
    s, e, text_at, old_text = old
    fitted = fit_xmp(nw[3], len(old_text))
    if fitted is None:
        return None
    body = data[s + 8:text_at] + fitted
    chunk = data[s:s + 8] + body + zlib.crc32(b"iTXt" + body).to_bytes(4, "big")
    cand = new[:nw[0]] + chunk + new[nw[1]:]
    patch = _diff_patch(data, cand, text_at, e)
    if patch is None:
        return None
    lo, b = patch
    return Plan("png-xmp-padding", [patch] if b else [], safe=not b or _one_block(lo, lo + len(b)))


def _plan_mp4(path: str, js: str, opts: WriteOpts) -> Plan | None:
    from cnai.label.formats.mp4 import free_box, moov_plan

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        boxes, mi, m, free_len, insert = moov_plan(f, size, js)
    _t, ms, _hl, mln = boxes[mi]
    if mi == len(boxes) - 1 and ms + mln == size:  # moov is the last box: nothing after it moves
        return Plan("mp4-moov-last", [(ms, m)], truncate=ms + len(m), append=m, flip=(ms + 4, b"free"),
                    safe=True)
    if free_len is not None:  # the free box after moov absorbs the change: a same-size region is rewritten
        t, fs, _fh, fl = boxes[mi + 1]
        region = m + free_box(free_len, t)
        if len(region) != mln + fl:
            return None
        return Plan("mp4-free-box", [(ms, region)], safe=False)  # rewrites moov itself: private copies only
    if len(m) == mln and not insert:
        return Plan("mp4-same-size", [(ms, m)], safe=False)
    return None


PLANNERS = {"jpeg": _plan_jpeg, "png": _plan_png, "mp4": _plan_mp4}


def plan(fmt: str, path: str, js: str, opts: WriteOpts) -> Plan | None:
    """A header-only plan for this file, or None (no room, unsupported format, or the file changed shape)."""
    fn = PLANNERS.get(fmt)
    if fn is None:
        return None
    try:
        return fn(path, js, opts)
    except Exception:  # noqa: BLE001 - a planner that cannot plan means "use the normal rewrite"
        return None


# ------------------------------------------------------------------ copies
def clone(src_fd: int, dst_fd: int, size: int) -> str:
    """Make dst a copy of src: a reflink (shared blocks) where the file system supports it, else an in-kernel
    copy. Returns "reflink" or "copy_file_range" (or "read/write" as the last resort)."""
    try:
        fcntl.ioctl(dst_fd, FICLONE, src_fd)
        return "reflink"
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EPERM):
            raise
    done = 0
    try:
        while done < size:
            n = os.copy_file_range(src_fd, dst_fd, size - done, done, done)
            if n == 0:
                break
            done += n
        if done == size:
            return "copy_file_range"
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    while done < size:
        buf = os.pread(src_fd, min(1 << 20, size - done), done)
        if not buf:
            raise OSError(errno.EIO, f"input ended at byte {done}, expected {size}")
        os.pwrite(dst_fd, buf, done)
        done += len(buf)
    return "read/write"


def _apply_direct(fd: int, p: Plan) -> None:
    for off, b in p.patches:
        if b:
            os.pwrite(fd, b, off)
    if p.truncate is not None:
        os.ftruncate(fd, p.truncate)


class _Writeback:
    """Starts the kernel's write-out of each finished output at once, on a helper thread.

    `sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)` starts writing a file's dirty pages and returns; it
    promises nothing about durability (the group's syncfs still does that, unchanged). Without it the pages
    sit in memory until syncfs at the end of the group, which then waits for the whole group's data while
    the CPU idles; with it the disk writes while the next files are parsed, so the final syncfs finds little
    left. The call can block while the device queue is full, hence a thread (ctypes releases the GIL), fed
    with duplicated descriptors so the caller may close its own at once. `CNAI_NO_EARLY_WRITEBACK=1` turns
    it off (for measuring); non-Linux systems skip it."""

    BATCH_FILES, BATCH_BYTES = 8, 8 << 20  # small files go to the thread in groups: one wake-up per group

    def __init__(self):
        self.fn = None          # libc.sync_file_range, False when unavailable
        self.q = None
        self.pid = 0
        self.batch: list[int] = []
        self.batch_bytes = 0
        self.lock = threading.Lock()

    def _start(self) -> bool:
        if self.fn is None:
            try:
                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
                fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
                self.fn = fn
            except (OSError, AttributeError):
                self.fn = False
        if not self.fn:
            return False
        if self.pid != os.getpid():  # first use in this process (a forked worker gets its own thread)
            with _start_lock:
                if self.pid != os.getpid():
                    import queue

                    q: queue.Queue = queue.Queue(maxsize=16)  # bounds the duplicated descriptors held open (16 groups)
                    threading.Thread(target=self._run, args=(q,), name="cnai-writeback", daemon=True).start()
                    self.q, self.pid = q, os.getpid()
        return True

    def _run(self, q) -> None:
        while True:
            fds = q.get()
            try:
                for fd in fds:
                    try:
                        self.fn(fd, 0, 0, 2)  # SYNC_FILE_RANGE_WRITE
                    finally:
                        os.close(fd)
            finally:
                q.task_done()

    def submit(self, fd: int, size: int | None = None, *, owned: bool = False) -> None:
        """Start the write-out of fd's file. Files of known `size` below BATCH_BYTES are handed over in groups
        of up to BATCH_FILES / BATCH_BYTES (each hand-over wakes the thread, which then wants the GIL); others
        at once. `owned`: the caller hands fd itself over (closed here or by the thread), sparing a dup + close."""
        if os.environ.get("CNAI_NO_EARLY_WRITEBACK") or not self._start():
            if owned:
                os.close(fd)
            return
        dup = fd if owned else os.dup(fd)
        with self.lock:
            self.batch.append(dup)
            self.batch_bytes += self.BATCH_BYTES if size is None else size
            if len(self.batch) < self.BATCH_FILES and self.batch_bytes < self.BATCH_BYTES:
                return
            fds, self.batch, self.batch_bytes = self.batch, [], 0
        self.q.put(fds)

    def drain(self) -> None:
        """Wait until every submitted file has had its write-out started (and its descriptor closed)."""
        if self.q is not None and self.pid == os.getpid():
            with self.lock:
                fds, self.batch, self.batch_bytes = self.batch, [], 0
            if fds:
                self.q.put(fds)
            self.q.join()


_start_lock = threading.Lock()
writeback = _Writeback()


# ------------------------------------------------------------------ group commit
_staging = False  # set by the batch runner for the whole batch (all threads)
_file_mode: int | None = None  # mode for new outputs, read once per batch (see batch.run)


class _ItemState(threading.local):
    """What the item running on this thread has staged (batches may run items on worker threads)."""

    def __init__(self):
        self.pending: list[tuple[str, str, int]] = []  # (temporary file, final path, mode)
        self.dirty: list[str] = []  # files edited in place (need a sync)
        self.immediate = False  # inside immediate(): this thread's writes are put in place at once


_item = _ItemState()


def _staged() -> bool:
    return _staging and not _item.immediate


def staging(on: bool, file_mode: int | None = None) -> None:
    """Batches (cnai.label.batch.run) turn staging on: outputs wait for the next group commit. `file_mode`
    (new outputs' mode, from the umask) is read once by the batch: reading the umask means setting it, which
    other threads creating files at that moment would see."""
    global _staging, _file_mode
    _staging, _file_mode = on, (file_mode if on else None)


@contextlib.contextmanager
def immediate():
    """Writes inside are put in place at once (for a caller that uses the output straight away)."""
    was, _item.immediate = _item.immediate, True
    try:
        yield
    finally:
        _item.immediate = was


def take_pending() -> list:
    """The outputs the last item on this thread staged (moved into its record by the batch runner)."""
    out = [("rename", t, d, m) for t, d, m in _item.pending] + [("sync", p, p, 0) for p in _item.dirty]
    _item.pending.clear()
    _item.dirty.clear()
    return out


def discard(staged: list) -> None:
    for kind, tmp, _dst, _m in staged:
        if kind == "rename":
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _syncfs(path: str) -> None:
    """Flush the file system holding `path` (Linux syncfs; elsewhere os.sync)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def commit(staged: list) -> dict[str, str]:
    """Make a group durable, then visible: one syncfs per file system, the renames, one fsync per folder.
    Returns {final path: error} for outputs that could not be put in place (their temporary file is removed)."""
    from cnai.core.safeio import _fsync_dir, check_output

    errors: dict[str, str] = {}
    if not staged:
        return errors
    writeback.drain()
    devs: dict[int, str] = {}
    seen: set[str] = set()
    for _k, tmp, _d, _m in staged:
        # a file lives on its folder's file system: one stat per folder, not per file
        folder = os.path.dirname(tmp) or "."
        if folder in seen:
            continue
        seen.add(folder)
        with contextlib.suppress(OSError):
            devs.setdefault(os.stat(folder).st_dev, folder)
    for p in devs.values():
        _syncfs(p)
    folders = set()
    for kind, tmp, dst, mode in staged:
        if kind != "rename":
            continue
        try:
            try:  # still not a link, a folder or a device: nothing there is the common case, one lstat
                os.lstat(dst)
                check_output(dst)
            except FileNotFoundError:
                pass
            if mode is not None:  # None: the writer set the mode on its descriptor (fastcopy)
                os.chmod(tmp, mode)
            os.replace(tmp, dst)
            folders.add(os.path.dirname(dst))
        except Exception as e:  # noqa: BLE001 - reported on the file's record
            errors[dst] = f"cannot put the output in place: {e}"
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    for d in {os.path.abspath(f or ".") for f in folders}:
        _fsync_dir(d)
    return errors


class GroupCommit:
    """Collects records with staged outputs; `flush()` commits them and returns the records, ready to report."""

    def __init__(self, size: int = GROUP, seconds: float = GROUP_SECONDS):
        self.size, self.seconds = size, seconds
        self.records: list[dict] = []
        self.t0 = time.monotonic()

    def add(self, rec: dict) -> list[dict]:
        self.records.append(rec)
        if len(self.records) >= self.size or time.monotonic() - self.t0 >= self.seconds or \
                not any(r.get("_staged") for r in self.records):
            return self.flush()
        return []

    def flush(self) -> list[dict]:
        recs, self.records, self.t0 = self.records, [], time.monotonic()
        staged = [s for r in recs for s in r.get("_staged", ())]
        errors = commit(staged)
        for r in recs:
            r.pop("_staged", None)
            err = errors.get(r.get("output") or "\0")
            if err:
                r.update(status="error", error=err, skip_reason="i/o error")
        return recs


# ------------------------------------------------------------------ the write itself
def _verify(car: Carrier, path: str, js: str) -> bool:
    from cnai.label.model import AIGCLabel

    try:
        scan = car.read(path)
        labs = {AIGCLabel.from_json(f.text).to_json() for f in scan.found if f.where == car.where}
    except Exception:  # noqa: BLE001 - anything unreadable is a failed verification
        return False
    return labs == {js}


def _in_place(car: Carrier, path: str, p: Plan, js: str) -> bool:
    """Apply a safe plan to the user's file. True when done and verified; False (file restored) otherwise."""
    from cnai.label.formats.images import header_memo

    fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        size = st.st_size
        if p.flip is not None:  # tail form: append, make durable, then switch with one small write
            os.pwrite(fd, p.append, size)
            os.fsync(fd)
            undo = [(p.flip[0], os.pread(fd, len(p.flip[1]), p.flip[0]))]
            os.pwrite(fd, p.flip[1], p.flip[0])
            new_size = size + len(p.append)
        else:
            undo = [(off, os.pread(fd, len(b), off)) for off, b in p.patches if b]
            for off, b in p.patches:
                if b:
                    os.pwrite(fd, b, off)
            new_size = size
        header_memo.clear()  # the read-back below must read the bytes just written
        ok = os.fstat(fd).st_size == new_size and _verify(car, path, js)
        if not ok:
            for off, b in undo:
                os.pwrite(fd, b, off)
            os.ftruncate(fd, size)
            os.fsync(fd)
            header_memo.clear()
            return False
        if _staged():
            _item.dirty.append(path)
        else:
            os.fsync(fd)
        return True
    finally:
        os.close(fd)


def write_output(car: Carrier, fmt: str, src: str, dst: str, js: str, opts: WriteOpts) -> tuple[str, str]:
    """Write src labelled to dst by the cheapest safe route. Returns (path to read back, how it was done):
    in place ("header-only"), a patched clone ("reflink+patch"/"copy+patch"), or the normal rewrite
    ("rewrite"). The caller reads the label back from the returned path."""
    from cnai.core.safeio import check_output, new_file_mode

    same = os.path.abspath(src) == os.path.abspath(dst)
    p = plan(fmt, src, js, opts)
    if same and p is not None and p.safe:
        if _in_place(car, src, p, js):
            return src, "header-only"
        p = None  # the check after the edit failed (and the file was restored): take the plain route
    # otherwise a new file replaces dst atomically (dst may be src: --in-place without room)
    check_output(dst, inputs=[] if same else [src])
    folder = os.path.dirname(os.path.abspath(dst))
    try:
        os.makedirs(folder, exist_ok=True)
        mode = stat.S_IMODE(os.stat(dst).st_mode) if os.path.exists(dst) else (_file_mode if _file_mode is not None else new_file_mode())
        import tempfile  # on use (the JPEG fast copy makes its own temporary file)

        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dst)}.", suffix=".tmp", dir=folder)
    except OSError as e:
        from cnai.core.safeio import _os_error

        raise _os_error(e, dst) from None
    how = "rewrite"
    try:
        if p is not None:
            with open(src, "rb") as sf:
                how = clone(sf.fileno(), fd, os.fstat(sf.fileno()).st_size) + "+patch"
            _apply_direct(fd, p)
            writeback.submit(fd)
            os.close(fd)
        else:
            fh = os.fdopen(fd, "wb")
            fd = -1  # closed by fh from here on
            with fh:
                car.write(src, fh, js, opts)
                fh.flush()
                writeback.submit(fh.fileno())
        fd = -1
        if _staged():
            _item.pending.append((tmp, dst, mode))
            return tmp, how
        fd2 = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd2)
        finally:
            os.close(fd2)
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
        from cnai.core.safeio import _fsync_dir

        _fsync_dir(folder)
        return dst, how
    except BaseException as e:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            from cnai.core.safeio import _os_error

            raise _os_error(e, dst) from None
        raise

