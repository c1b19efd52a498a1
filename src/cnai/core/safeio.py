"""Safe output for every command: a user's file is never damaged.

Rules (issue #10):
- an output that resolves to one of the command's inputs is refused (same inode, or the same path after
  resolving links); so is an output that exists and is not a regular file (a device, a FIFO, a directory
  where a file is wanted) or that is a symbolic link: writes never follow links;
- files are written to a temporary file in the destination folder, fsynced, given the mode a new file would
  get under the umask (or the existing file's mode), then renamed over the destination, and the folder is
  fsynced: a crash leaves the old file or the new one, never half of one;
- every failure is an `OutputError` (exit 2) naming the path.

Directory outputs (`prepare_output_dir`) carry a marker file, so a command can refuse to write into a
directory it did not make and readers can skip directories that hold cnai outputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from cnai.errors import CnaiError

_umask_lock = threading.Lock()
# The file a cnai command leaves in every output directory it makes (audit, dossier, assessment run, ...).
MANIFEST_MARKER = ".cnai-output.json"


class OutputError(CnaiError):
    """An output that cannot or must not be written."""


def current_umask() -> int:
    with _umask_lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode open(path, 'w') would give a new file: 0666 less the umask."""
    return 0o666 & ~current_umask()


def stat_input(path: str | os.PathLike, error) -> os.stat_result:
    """stat a user's input file before reading it; a missing, non-regular or empty file raises
    `error(reason, message)` (the caller's per-file error type, so batches count it by reason)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error("not found", "file does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise error("not a file", "not a regular file")
    if st.st_size == 0:
        raise error("empty file", "file is empty (0 bytes)")
    return st


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def is_within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when path (after resolving links) is folder or lies below it."""
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def check_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 directory: bool = False) -> Path:
    """Refuse an output path that would damage something; return it as a Path.

    `inputs` are the files (or folders) the command reads: the output may not be one of them (writing a
    report next to the inputs, or into an input folder, is fine: readers skip cnai output directories).
    """
    p = Path(path)
    name = str(p)
    if p.is_symlink():
        raise OutputError("output is a symbolic link; cnai does not write through links "
                          "(remove it or name another path)", path=name)
    if p.exists():
        mode = p.stat().st_mode
        if directory and not stat.S_ISDIR(mode):
            raise OutputError("output exists and is not a directory", path=name)
        if not directory and not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise OutputError(f"output exists and is {what}; refusing to replace it", path=name)
    for inp in inputs:
        ip = Path(inp)
        if not ip.exists():
            continue
        same = _same_file(p, ip) if p.exists() else os.path.realpath(p) == os.path.realpath(ip)
        if same:
            raise OutputError(f"output would overwrite the input {ip}; name another output", path=name)
    return p


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _os_error(exc: OSError, path: Path) -> OutputError:
    reason = {errno.EACCES: "permission denied", errno.EROFS: "read-only file system",
              errno.ENOSPC: "no space left on device", errno.ENOTDIR: "a parent is not a directory",
              errno.EDQUOT: "disk quota exceeded"}.get(exc.errno, exc.strerror or str(exc))
    return OutputError(f"cannot write: {reason}", path=str(path))


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (), binary: bool = False,
                  encoding: str = "utf-8", mode: int | None = None, checked: bool = False) -> Iterator[IO]:
    """Open a temporary file beside `path`; on a clean exit it replaces `path` atomically.

    On an exception the temporary file is removed and `path` is untouched. `mode` defaults to the existing
    file's mode, else to what the umask gives a new file. `checked=True` skips check_output (caller did it).
    """
    p = Path(path) if checked else check_output(path, inputs=inputs)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if mode is None:
            mode = stat.S_IMODE(p.stat().st_mode) if p.exists() else new_file_mode()
        import tempfile  # on use: `cnai label embed -o` batches of JPEGs never need it (start-up time)

        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    except OSError as exc:
        raise _os_error(exc, p) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": encoding})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, (BrokenPipeError,)):
            raise _os_error(exc, p) from None
        raise
    _fsync_dir(p.parent)


def write_bytes(path: str | os.PathLike, data: bytes, *, inputs: Iterable[str | os.PathLike] = (),
                mode: int | None = None) -> Path:
    with atomic_writer(path, inputs=inputs, binary=True, mode=mode) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, *, inputs: Iterable[str | os.PathLike] = (),
               encoding: str = "utf-8", mode: int | None = None) -> Path:
    with atomic_writer(path, inputs=inputs, encoding=encoding, mode=mode) as fh:
        fh.write(text)
    return Path(path)


def prepare_output_dir(path: str | os.PathLike, *, kind: str, inputs: Iterable[str | os.PathLike] = (),
                       allow_existing: bool = True) -> Path:
    """Make (or reuse) an output directory that cnai owns, marked with MANIFEST_MARKER.

    An existing non-empty directory is reused only when its marker names the same `kind`; an input may not
    be the directory itself. Readers skip any directory that holds the marker (outputs never become inputs).
    """
    import json

    p = check_output(path, inputs=inputs, directory=True)
    marker = p / MANIFEST_MARKER
    if p.exists() and any(p.iterdir()):
        if not marker.is_file():
            raise OutputError("output directory exists, is not empty and was not made by cnai; "
                              "name a new or empty directory", path=str(p))
        try:
            found = json.loads(marker.read_text("utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            found = None
        if found != kind:
            raise OutputError(f"output directory holds a cnai {found or 'unknown'} output, not {kind}",
                              path=str(p))
        if not allow_existing:
            raise OutputError(f"output directory already holds a cnai {kind}; name a new one", path=str(p))
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, p) from None
    if not marker.exists():
        from cnai import __version__

        write_text(marker, json.dumps({"kind": kind, "tool": "cnai", "version": __version__}) + "\n")
    return p


def is_cnai_output_dir(folder: str | os.PathLike) -> bool:
    return Path(folder, MANIFEST_MARKER).is_file()
