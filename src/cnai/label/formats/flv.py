"""FLV: the implicit label as the string value of key `AIGC` in the AMF0 `onMetaData` script tag.

Placement: reference 2.3 (video guide TC260-PG-20257A as summarised in a secondary source) says "FLV: AMF0
onMetaData, key AIGC". It is silent on the AMF0 value type, on files without an onMetaData tag and on index
data; our choices, all written down in docs/label-speed.md:

- value type: an AMF0 string (type 2; long string, type 12, only above 65,535 bytes) holding the bare 7-key
  JSON, the same form the MP4 and MKV carriers use; this is also what `ffmpeg -metadata AIGC=...` writes into
  an FLV, so ffprobe and players that read onMetaData show it as the format tag AIGC;
- no onMetaData tag: one is created as the first tag (timestamp 0), where players look for it;
- index data: onMetaData may hold absolute byte offsets (`keyframes.filepositions`, `lastkeyframelocation`)
  and `filesize`; they move by the change in the tag's size, so seeking keeps working.

Media tags are copied byte for byte (in-kernel where possible); the essence digest covers the FLV header's
first five bytes and every tag except onMetaData (tag header and body, not the PreviousTagSize fields that
follow the metadata tag's change in size).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cnai.label.formats.base import Carrier, FormatError, Found, Scan, WriteOpts, bad, generator_traces
from cnai.label.formats.streamio import iter_range, splice

SCRIPT, AUDIO, VIDEO = 18, 8, 9
HEAD_TAGS = 64              # script tags are looked for among the first tags only (they come before media)
MAX_SCRIPT = 16 << 20       # a script tag larger than this is refused (our own guard; real ones are KBs)
KEY = "AIGC"
SHIFTED = ("filesize", "lastkeyframelocation")  # top-level numbers that are byte offsets / the file size


@dataclass
class Tag:
    offset: int     # of the 11-byte tag header
    kind: int       # 8 audio, 9 video, 18 script (filter bit masked off)
    size: int       # data size

    @property
    def end(self) -> int:  # past the PreviousTagSize field that follows the tag
        return self.offset + 11 + self.size + 4


def _header(f: BinaryIO, size: int) -> tuple[bytes, int]:
    f.seek(0)
    h = f.read(9)
    if len(h) < 9 or h[:3] != b"FLV":
        raise bad("not an FLV file (header 'FLV' missing or short)", 0)
    start = struct.unpack(">I", h[5:9])[0]
    if start < 9 or start + 4 > size:
        raise bad(f"FLV header data offset {start} is impossible for a {size}-byte file", 5)
    return h, start


def walk(f: BinaryIO, size: int, *, limit: int | None = None, damage: list[str] | None = None) -> Iterator[Tag]:
    """The tags in file order. A tag running past the end is a FormatError naming its offset, unless `damage`
    is given (then it is noted there and the walk stops: truncated recordings are common)."""
    _h, start = _header(f, size)
    p, n = start + 4, 0
    prev_expected = None
    while p < size and (limit is None or n < limit):
        f.seek(p - 4)
        hb = f.read(15)
        if len(hb) < 15:
            msg = f"FLV tag header at byte {p} is cut off by the end of the file"
            if damage is None:
                raise bad(msg, p)
            damage.append(msg)
            return
        prev = struct.unpack(">I", hb[:4])[0]
        if prev_expected is not None and prev != prev_expected and damage is not None and len(damage) < 5:
            damage.append(f"PreviousTagSize at byte {p - 4} is {prev}, the tag before is {prev_expected} bytes")
        kind = hb[4] & 0x1F
        ds = int.from_bytes(hb[5:8], "big")
        if kind not in (AUDIO, VIDEO, SCRIPT):
            msg = f"FLV tag at byte {p} has unknown type {hb[4]}"
            if damage is None:
                raise bad(msg, p)
            damage.append(msg)
            return
        if p + 11 + ds > size:
            msg = f"FLV tag at byte {p} (type {kind}) length {ds} runs past the end of the file"
            if damage is None:
                raise bad(msg, p)
            damage.append(msg + " (truncated)")
            return
        yield Tag(p, kind, ds)
        prev_expected = 11 + ds
        p += 11 + ds + 4
        n += 1
    if p > size and damage is not None:  # the last PreviousTagSize is missing
        damage.append(f"the file ends inside the PreviousTagSize field at byte {p - 4}")


# ------------------------------------------------------------------ AMF0, just enough to edit onMetaData
class _Amf:
    """Reads AMF0 values from a script tag body; offsets in errors are absolute file offsets."""

    def __init__(self, data: bytes, base: int):
        self.d, self.base, self.p = data, base, 0

    def _need(self, n: int) -> None:
        if self.p + n > len(self.d):
            raise bad(f"AMF0 data cut off (needs {n} bytes) in the FLV script tag", self.base + self.p)

    def u(self, n: int) -> int:
        self._need(n)
        v = int.from_bytes(self.d[self.p:self.p + n], "big")
        self.p += n
        return v

    def raw(self, n: int) -> bytes:
        self._need(n)
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def key(self) -> str:
        return self.raw(self.u(2)).decode("utf-8", "replace")

    def value(self, depth: int = 0):
        """(type, python value or None) -- containers are returned as lists of (key, type, value, start, end)."""
        if depth > 32:
            raise bad("AMF0 values nested too deeply in the FLV script tag", self.base + self.p)
        t = self.u(1)
        if t == 0:
            return t, struct.unpack(">d", self.raw(8))[0]
        if t == 1:
            return t, bool(self.u(1))
        if t in (2, 12):
            return t, self.raw(self.u(2 if t == 2 else 4)).decode("utf-8", "replace")
        if t in (3, 8, 16):
            if t == 8:
                self.u(4)  # the entry count is a hint; the end marker decides
            if t == 16:
                self.key()  # class name
            return t, self.pairs(depth)
        if t in (5, 6, 13):
            return t, None
        if t == 7:
            return t, self.u(2)
        if t == 10:
            return t, [self.value(depth + 1) for _ in range(self._count())]
        if t == 11:
            self.raw(10)
            return t, None
        if t == 15:
            return t, self.raw(self.u(4)).decode("utf-8", "replace")
        raise bad(f"unknown AMF0 value type {t} in the FLV script tag", self.base + self.p - 1)

    def _count(self) -> int:
        n = self.u(4)
        if n > len(self.d) - self.p:  # each value takes at least one byte
            raise bad(f"AMF0 array count {n} is larger than the script tag", self.base + self.p - 4)
        return n

    def pairs(self, depth: int) -> list:
        out = []
        while True:
            if self.p + 3 <= len(self.d) and self.d[self.p:self.p + 3] == b"\x00\x00\x09":
                self.p += 3
                return out
            if self.p >= len(self.d):  # some writers omit the end marker of the last object
                return out
            k = self.key()
            s = self.p
            t, v = self.value(depth + 1)
            out.append((k, t, v, s, self.p))


def _script(f: BinaryIO, tag: Tag) -> tuple[str, int, list, bytes]:
    """(name, container type, entries, body) of a script tag such as onMetaData."""
    if tag.size > MAX_SCRIPT:
        raise bad(f"FLV script tag of {tag.size} bytes is over the {MAX_SCRIPT}-byte limit", tag.offset)
    f.seek(tag.offset + 11)
    body = f.read(tag.size)
    r = _Amf(body, tag.offset + 11)
    t, name = r.value()
    if t not in (2, 12):
        raise bad("FLV script tag does not start with a name string", tag.offset + 11)
    if r.p >= len(body):
        return name, 8, [], body
    t2, entries = r.value()
    if t2 not in (3, 8):
        return name, t2, [], body
    return name, t2, entries, body


def _head_scripts(f: BinaryIO, size: int) -> Iterator[tuple[Tag, str, int, list, bytes]]:
    for tag in walk(f, size, limit=HEAD_TAGS, damage=[]):
        if tag.kind == SCRIPT:
            yield (tag, *_script(f, tag))


# ------------------------------------------------------------------ writing helpers
def _amf_str(s: str) -> bytes:
    b = s.encode("utf-8")
    return (b"\x02" + struct.pack(">H", len(b)) if len(b) <= 0xFFFF else b"\x0c" + struct.pack(">I", len(b))) + b


def _amf_key(k: str) -> bytes:
    b = k.encode("utf-8")[:0xFFFF]
    return struct.pack(">H", len(b)) + b


def _shift_entry(k: str, t: int, v, raw: bytes, delta: int) -> bytes:
    """The AMF0 bytes of one onMetaData entry, with byte offsets moved by `delta`."""
    if t == 0 and k in SHIFTED:
        return b"\x00" + struct.pack(">d", v + delta)
    if k == "keyframes" and t in (3, 8):  # re-encoded; only its 'filepositions' numbers change
        moved = [(k2, t2, [(tt, vv + delta if tt == 0 else vv) for tt, vv in v2], s2, e2)
                 if k2 == "filepositions" and t2 == 10 else (k2, t2, v2, s2, e2) for k2, t2, v2, s2, e2 in v]
        return _enc(t, moved)
    return raw


def _enc(t: int, v) -> bytes:
    """Re-encode a parsed AMF0 value (only used inside `keyframes`, which holds numbers and arrays of them)."""
    if t == 0:
        return b"\x00" + struct.pack(">d", v)
    if t == 1:
        return b"\x01" + bytes([1 if v else 0])
    if t in (2, 12):
        return _amf_str(v)
    if t == 10:
        return b"\x0a" + struct.pack(">I", len(v)) + b"".join(_enc(tt, vv) for tt, vv in v)
    if t in (3, 8):
        inner = b"".join(_amf_key(k) + _enc(tt, vv) for k, tt, vv, _s, _e in v)
        return bytes([t]) + (struct.pack(">I", len(v)) if t == 8 else b"") + inner + b"\x00\x00\x09"
    if t in (5, 6):
        return bytes([t])
    raise FormatError(f"cannot re-encode AMF0 value type {t} inside onMetaData.keyframes")


def _meta_body(name: str, ctype: int, entries: list, body: bytes, label_json: str, delta: int) -> bytes:
    kept = [(k, t, v, body[s:e]) for k, t, v, s, e in entries if k.upper() != KEY]
    items = [_amf_key(k) + _shift_entry(k, t, v, raw, delta) for k, t, v, raw in kept]
    items.append(_amf_key(KEY) + _amf_str(label_json))
    ctype = ctype if ctype in (3, 8) else 8
    head = bytes([ctype]) + (struct.pack(">I", len(items)) if ctype == 8 else b"")
    return _amf_str(name) + head + b"".join(items) + b"\x00\x00\x09"


def _tag_bytes(body: bytes) -> bytes:
    if len(body) > 0xFFFFFF:
        raise FormatError("onMetaData would be over the 16 MiB FLV tag limit")
    return bytes([SCRIPT]) + len(body).to_bytes(3, "big") + b"\x00" * 7 + body + struct.pack(">I", 11 + len(body))


def new_meta(f: BinaryIO, size: int, label_json: str) -> tuple[int, int, bytes]:
    """(start, end, replacement): the byte range of the old onMetaData tag (with its PreviousTagSize field; an
    empty range before the first tag when there is none) and the new tag that replaces it."""
    _h, start = _header(f, size)
    for tag, name, ctype, entries, body in _head_scripts(f, size):
        if name == "onMetaData":
            # offsets inside the new tag depend on its size: build once to learn the size, then for real
            draft = _meta_body(name, ctype, entries, body, label_json, 0)
            delta = len(draft) - tag.size
            final = _meta_body(name, ctype, entries, body, label_json, delta)
            if len(final) != len(draft):  # doubles are fixed-size, so this cannot happen; guard anyway
                raise FormatError("onMetaData changed size while its offsets were moved")
            return tag.offset, min(tag.end, size), _tag_bytes(final)
    body = _amf_str("onMetaData") + b"\x08" + struct.pack(">I", 1) + _amf_key(KEY) + _amf_str(label_json) + \
        b"\x00\x00\x09"
    return start + 4, start + 4, _tag_bytes(body)


# ------------------------------------------------------------------ the carrier
class FLVCarrier(Carrier):
    name = "flv"
    extensions = (".flv", ".f4v")
    media_types = ("video/x-flv",)
    where = "flv-onmetadata"
    standard = ("AMF0 script tag onMetaData, key AIGC, string value = the 7-key JSON (TC260-PG-20257A as "
                "summarised in reference 2.3; secondary)")
    visible = "video"
    priority = 70

    def sniff(self, head: bytes, path: str) -> bool:
        return head.startswith(b"FLV") and len(head) >= 4 and head[3] == 1

    def read(self, path: str) -> Scan:
        scan = Scan()
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            for tag, name, _ct, entries, body in _head_scripts(f, size):
                for k, t, v, s, _e in entries:
                    if t in (2, 12) and (k.upper() == KEY or "ContentProducer" in v):
                        where = self.where if name == "onMetaData" and k.upper() == KEY else f"flv-script:{name}.{k}"
                        scan.found.append(Found(where, v, tag.offset + 11 + s))
                scan.traces += generator_traces(body)
        return scan

    def write(self, src: str, out: BinaryIO, label_json: str, opts: WriteOpts) -> None:
        size = os.path.getsize(src)
        with open(src, "rb") as f:
            start, end, rep = new_meta(f, size, label_json)
            splice(f, out, size, start, rep, end)

    def essence(self, path: str) -> Iterable[bytes]:
        size = os.path.getsize(path)

        def gen():
            with open(path, "rb") as f:
                h, _start = _header(f, size)
                yield h[:5]
                for tag in walk(f, size, damage=[]):
                    if tag.kind == SCRIPT and tag.size <= MAX_SCRIPT:
                        name = _script(f, tag)[0]
                        if name == "onMetaData":
                            continue
                    yield from iter_range(f, tag.offset, 11 + tag.size)
        return gen()

    def damage(self, path: str) -> list[str]:
        size = os.path.getsize(path)
        dmg: list[str] = []
        with open(path, "rb") as f:
            for _t in walk(f, size, damage=dmg):
                pass
        return dmg


FLV = FLVCarrier()
