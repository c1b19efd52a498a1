"""streamio.copy_fds: the one in-kernel copy core behind copy_range (carriers) and fastcopy._copy (JPEG route)."""

from __future__ import annotations

import errno
import io
import os

import pytest

from cnai.label import fastcopy
from cnai.label.formats import streamio


def _data(n: int) -> bytes:
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


def test_copy_fds_offsets_and_positions(tmp_path):
    src, dst = tmp_path / "a", tmp_path / "b"
    data = _data(70_000)
    src.write_bytes(data)
    dst.write_bytes(b"H" * 10)
    with open(src, "rb") as s, open(dst, "r+b") as d:
        done = streamio.copy_fds(s.fileno(), d.fileno(), 1234, 10, 50_000)
        assert done == 50_000
        # explicit offsets: neither file position moved
        assert os.lseek(s.fileno(), 0, os.SEEK_CUR) == 0
        assert os.lseek(d.fileno(), 0, os.SEEK_CUR) == 0
    assert dst.read_bytes() == b"H" * 10 + data[1234:51_234]


def _no_kernel(monkeypatch, after: int, err: int):
    """copy_file_range that copies `after` bytes, then fails with `err` (a file system without the copy)."""
    real = os.copy_file_range
    state = {"left": after}

    def fake(s, d, count, off_s=None, off_d=None):
        if state["left"] <= 0:
            raise OSError(err, os.strerror(err))
        n = real(s, d, min(count, state["left"]), off_s, off_d)
        state["left"] -= n
        return n

    monkeypatch.setattr(os, "copy_file_range", fake)
    monkeypatch.setattr(streamio, "_clone_aligned", lambda *a: 0)


@pytest.mark.parametrize("after", [0, 5000])
def test_copy_range_and_fastcopy_finish_by_hand(tmp_path, monkeypatch, after):
    _no_kernel(monkeypatch, after, errno.EXDEV)
    data = _data(40_000)
    src = tmp_path / "a"
    src.write_bytes(data)
    with open(src, "rb") as s, open(tmp_path / "b", "wb") as d:
        d.write(b"xy")
        streamio.copy_range(s, d, 100, 30_000)
        d.write(b"z")
    assert (tmp_path / "b").read_bytes() == b"xy" + data[100:30_100] + b"z"
    _no_kernel(monkeypatch, after, errno.ENOSYS)
    fd_s = os.open(src, os.O_RDONLY)
    fd_d = os.open(tmp_path / "c", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fastcopy._copy(fd_s, fd_d, 7, 3, 39_000)
    finally:
        os.close(fd_s)
        os.close(fd_d)
    assert (tmp_path / "c").read_bytes() == b"\0" * 3 + data[7:39_007]


def test_copy_fds_other_errors_raise(tmp_path, monkeypatch):
    _no_kernel(monkeypatch, 0, errno.EIO)
    (tmp_path / "a").write_bytes(_data(1000))
    fd_s = os.open(tmp_path / "a", os.O_RDONLY)
    fd_d = os.open(tmp_path / "b", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with pytest.raises(OSError) as e:
            streamio.copy_fds(fd_s, fd_d, 0, 0, 1000)
        assert e.value.errno == errno.EIO
    finally:
        os.close(fd_s)
        os.close(fd_d)


def test_copy_range_in_memory_files():
    data = _data(5000)
    out = io.BytesIO()
    streamio.copy_range(io.BytesIO(data), out, 10, 4000, patches=[(20, b"PATCH")])
    want = bytearray(data[10:4010])
    want[10:15] = b"PATCH"
    assert out.getvalue() == bytes(want)
    out = io.BytesIO()
    streamio.copy_range(io.BytesIO(data), out, 0, 5000)
    assert out.getvalue() == data
