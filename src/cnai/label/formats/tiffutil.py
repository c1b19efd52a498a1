"""Tiny TIFF/EXIF IFD reader shared by the TIFF carrier and JPEG EXIF reading."""

from __future__ import annotations

import struct

from cnai.label.formats.base import bad

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


class Tiff:
    def __init__(self, data: bytes, base: int = 0):
        self.data = data
        self.base = base  # offset of the TIFF header inside data (EXIF inside JPEG)
        if len(data) < base + 8:
            raise bad("TIFF header truncated", base)
        bo = data[base:base + 2]
        if bo == b"II":
            self.e = "<"
        elif bo == b"MM":
            self.e = ">"
        else:
            raise bad("not a TIFF byte-order mark", base)
        magic = struct.unpack_from(self.e + "H", data, base + 2)[0]
        if magic == 43:
            raise bad("BigTIFF is not supported", base + 2)
        if magic != 42:
            raise bad(f"TIFF magic is {magic}, expected 42", base + 2)
        self.ifd0 = struct.unpack_from(self.e + "I", data, base + 4)[0]

    def entries(self, off: int) -> tuple[list[tuple[int, int, int, bytes]], int]:
        """(tag, type, count, raw 4-byte value field) for each entry, and the next-IFD offset."""
        d, b = self.data, self.base
        if off < 8 or b + off + 2 > len(d):
            raise bad(f"IFD offset {off} outside the file", b + off)
        n = struct.unpack_from(self.e + "H", d, b + off)[0]
        end = b + off + 2 + 12 * n
        if end + 4 > len(d):
            raise bad(f"IFD with {n} entries runs past the end of the file", b + off)
        out = []
        for i in range(n):
            p = b + off + 2 + 12 * i
            tag, typ, cnt = struct.unpack_from(self.e + "HHI", d, p)
            out.append((tag, typ, cnt, d[p + 8:p + 12]))
        nxt = struct.unpack_from(self.e + "I", d, end)[0]
        return out, nxt

    def value(self, typ: int, cnt: int, raw: bytes, cap: int = 16 * 1024 * 1024) -> bytes:
        size = TYPE_SIZES.get(typ, 1) * cnt
        if size > cap:
            raise bad(f"TIFF value of {size} bytes exceeds the {cap}-byte limit")
        if size <= 4:
            return raw[:size]
        off = struct.unpack(self.e + "I", raw)[0]
        s = self.base + off
        if s + size > len(self.data):
            raise bad(f"TIFF value at offset {off} (+{size}) runs past the end of the file", s)
        return self.data[s:s + size]

    def uint(self, typ: int, raw: bytes) -> int:
        if typ == 3:
            return struct.unpack_from(self.e + "H", raw)[0]
        return struct.unpack_from(self.e + "I", raw)[0]


def decode_user_comment(v: bytes) -> str:
    code, body = v[:8], v[8:]
    if code.startswith(b"UNICODE"):
        for enc in ("utf-16-be", "utf-16-le"):
            try:
                t = body.decode(enc)
                if "{" in t:
                    return t.strip("\x00")
            except UnicodeDecodeError:
                continue
    return body.decode("utf-8", "replace").strip("\x00")
