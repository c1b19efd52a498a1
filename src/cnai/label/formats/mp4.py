"""MP4/MOV/M4A carrier: moov/udta/meta with an 'mdta' handler, a 'keys' entry "AIGC" and the JSON in the
matching 'ilst' item (TC260-PG-20257A section 6.1.1 as summarised in reference 2.3; secondary).

Streaming: only the 'moov' box is read into memory; media data is copied in pieces. If 'moov' precedes
'mdat' and changes size, every stco/co64 chunk offset that points past it is shifted (or a following
'free' box absorbs the change, so nothing moves)."""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cnai.label import xmp as X
from cnai.label.formats.base import Found, FunctionCarrier, Scan, WriteOpts, bad
from cnai.label.formats.streamio import copy_range, iter_range

MAX_MOOV = 512 * 1024 * 1024
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"mvex"}
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


def top_boxes(f: BinaryIO, size: int) -> list[tuple[bytes, int, int, int]]:
    """[(type, start, header_len, total_len)] for the top-level boxes, reading headers only."""
    out = []
    p = 0
    while p < size:
        f.seek(p)
        h = f.read(16)
        if len(h) < 8:
            raise bad("MP4 box header truncated", p)
        ln, typ = struct.unpack(">I4s", h[:8])
        hl = 8
        if ln == 1:
            if len(h) < 16:
                raise bad("MP4 64-bit box size truncated", p)
            ln = struct.unpack(">Q", h[8:16])[0]
            hl = 16
        elif ln == 0:
            ln = size - p
        if ln < hl or p + ln > size:
            raise bad(f"MP4 box {typ!r} size {ln} runs past the end of the file", p)
        if not all(32 <= c < 127 for c in typ):
            raise bad(f"invalid MP4 box type {typ!r}", p)
        out.append((typ, p, hl, ln))
        p += ln
        if len(out) > 100000:
            raise bad("too many top-level MP4 boxes", p)
    if not out or out[0][0] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"):
        raise bad("not an ISO-BMFF/QuickTime file (first box is not ftyp/moov/mdat)", 0)
    return out


def children(b: bytes, off: int = 0) -> list[tuple[bytes, int, int, int]]:
    """[(type, start, header_len, total_len)] for boxes in b[off:] (relative to b)."""
    out = []
    p = off
    while p + 8 <= len(b):
        ln, typ = struct.unpack_from(">I4s", b, p)
        hl = 8
        if ln == 1:
            if p + 16 > len(b):
                raise bad("MP4 64-bit box size truncated")
            ln = struct.unpack_from(">Q", b, p + 8)[0]
            hl = 16
        elif ln == 0:
            ln = len(b) - p
        if ln < hl or p + ln > len(b):
            raise bad(f"MP4 box {typ!r} size {ln} runs past its parent")
        out.append((typ, p, hl, ln))
        p += ln
    return out


def box(typ: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, typ, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, typ) + payload


def _meta_payload_off(b: bytes) -> int:
    """'meta' is a full box in ISO files and a plain container in some QuickTime files."""
    return 4 if b[4:8] != b"hdlr" else 0


def _parse_meta(meta: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    off = _meta_payload_off(meta[8:]) + 8
    return off, [(t, meta[s:s + ln]) for t, s, hl, ln in children(meta, off)]


def _handler(meta: bytes) -> bytes | None:
    _off, kids = _parse_meta(meta)
    h = next((b for t, b in kids if t == b"hdlr"), None)
    return h[16:20] if h is not None and len(h) >= 20 else None


def _keys_list(keys: bytes) -> list[tuple[bytes, bytes]]:
    n = struct.unpack_from(">I", keys, 12)[0]
    p, out = 16, []
    for _ in range(n):
        if p + 8 > len(keys):
            raise bad("MP4 'keys' box truncated")
        ln, ns = struct.unpack_from(">I4s", keys, p)
        if ln < 8 or p + ln > len(keys):
            raise bad("MP4 'keys' entry size invalid")
        out.append((ns, keys[p + 8:p + ln]))
        p += ln
    return out


def _ilst_items(ilst: bytes) -> list[tuple[int, bytes]]:
    return [(struct.unpack(">I", t)[0], ilst[s:s + ln]) for t, s, hl, ln in children(ilst, 8)]


def _item_value(item: bytes) -> str | None:
    for t, s, hl, ln in children(item, 8):
        if t == b"data":
            return item[s + hl + 8:s + ln].decode("utf-8", "replace")
    return None


def _find(b: bytes, path: list[bytes], off: int = 8) -> list[bytes]:
    """All boxes along a path below box b (b includes its header)."""
    res = []
    for t, s, _hl, ln in children(b, off):
        if t == path[0]:
            sub = b[s:s + ln]
            if len(path) == 1:
                res.append(sub)
            else:
                res += _find(sub, path[1:], 8 + (_meta_payload_off(sub[8:]) if t == b"meta" else 0))
    return res


def scan_moov(moov: bytes, scan: Scan) -> None:
    for meta in _find(moov, [b"udta", b"meta"]) + _find(moov, [b"meta"]):
        _off, kids = _parse_meta(meta)
        keys = next((b for t, b in kids if t == b"keys"), None)
        ilst = next((b for t, b in kids if t == b"ilst"), None)
        if keys is None or ilst is None:
            continue
        names = _keys_list(keys)
        for idx, item in _ilst_items(ilst):
            if 1 <= idx <= len(names) and names[idx - 1][1] == b"AIGC":
                v = _item_value(item)
                if v is not None:
                    scan.found.append(Found("mp4-keys", v))
    for u in _find(moov, [b"udta", b"XMP_"]):
        p = X.parse(u[8:])
        if p["aigc"]:
            scan.found.append(Found("xmp", p["aigc"]))
        if p["digital_source_type"]:
            scan.digital_source_type = p["digital_source_type"]


def read_path(path: str) -> Scan:
    scan = Scan()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        boxes = top_boxes(f, size)
        for typ, s, hl, ln in boxes:
            if typ == b"moov":
                if ln > MAX_MOOV:
                    raise bad(f"moov box of {ln} bytes is over the {MAX_MOOV}-byte limit", s)
                f.seek(s)
                scan_moov(f.read(ln), scan)
            elif typ == b"uuid":
                f.seek(s + hl)
                u = f.read(16)
                if u == XMP_UUID and ln < 16 << 20:
                    p = X.parse(f.read(ln - hl - 16))
                    if p["aigc"]:
                        scan.found.append(Found("xmp", p["aigc"], s))
                    if p["digital_source_type"]:
                        scan.digital_source_type = p["digital_source_type"]
                elif f.read(64).find(b"c2pa") >= 0 or u.find(b"c2pa") >= 0:
                    scan.traces.append("c2pa-jumbf")
        if not any(t == b"moov" for t, *_ in boxes):
            raise bad("MP4 has no moov box (fragmented or truncated file)")
    return scan


def _data_item(value: str) -> bytes:
    return box(b"data", struct.pack(">II", 1, 0) + value.encode("utf-8"))


def _new_meta(label_json: str) -> bytes:
    hdlr = box(b"hdlr", b"\x00" * 4 + b"\x00" * 4 + b"mdta" + b"\x00" * 12 + b"\x00")
    keys = box(b"keys", b"\x00" * 4 + struct.pack(">I", 1) + struct.pack(">I4s", 12, b"mdta") + b"AIGC")
    ilst = box(b"ilst", box(struct.pack(">I", 1), _data_item(label_json)))
    return box(b"meta", b"\x00" * 4 + hdlr + keys + ilst)


def _set_in_meta(meta: bytes, label_json: str) -> bytes:
    off, kids = _parse_meta(meta)
    keys_b = next((b for t, b in kids if t == b"keys"), None)
    names = _keys_list(keys_b) if keys_b else []
    idx = next((i + 1 for i, (_ns, n) in enumerate(names) if n == b"AIGC"), None)
    if idx is None:
        names.append((b"mdta", b"AIGC"))
        idx = len(names)
    new_keys = box(b"keys", (keys_b[8:12] if keys_b else b"\x00" * 4) + struct.pack(">I", len(names)) +
                   b"".join(struct.pack(">I4s", 8 + len(n), ns) + n for ns, n in names))
    ilst_b = next((b for t, b in kids if t == b"ilst"), None)
    items = [] if ilst_b is None else [(t, s, ln) for t, s, hl, ln in children(ilst_b, 8)]
    new_items = b"".join(ilst_b[s:s + ln] for t, s, ln in items if struct.unpack(">I", t)[0] != idx)
    new_items += box(struct.pack(">I", idx), _data_item(label_json))
    new_ilst = box(b"ilst", new_items)
    rest = bytearray()
    has_hdlr = False
    for t, b in kids:
        if t == b"keys" or t == b"ilst":
            continue
        has_hdlr = has_hdlr or t == b"hdlr"
        rest += b
    out = bytearray(meta[8:off])
    if not has_hdlr:
        out += box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13)
    out += rest
    out += new_keys + new_ilst
    return box(b"meta", bytes(out))


def _rebuild(b: bytes, off: int, fn) -> bytes:
    return b[:off] + fn([(t, b[s:s + ln]) for t, s, hl, ln in children(b, off)])


def new_moov(moov: bytes, label_json: str, shift_from: int, delta_fn) -> bytes:
    def moov_kids(kids):
        out = bytearray()
        done = False
        for t, b in kids:
            if t == b"udta" and not done:
                b = _rebuild(b, 8, udta_kids)
                b = struct.pack(">I", len(b)) + b[4:] if len(b) < 1 << 32 else b
                done = True
            out += b
        if not done:
            out += box(b"udta", _new_meta(label_json))
        return bytes(out)

    def udta_kids(kids):
        # ffmpeg only reads 'keys' under an 'mdta' handler; an iTunes ('mdir') meta box is kept untouched
        # and a separate mdta meta box is added next to it.
        out = bytearray()
        done = False
        for t, b in kids:
            if t == b"meta" and not done and _handler(b) == b"mdta":
                b = _set_in_meta(b, label_json)
                done = True
            out += b
        if not done:
            out += _new_meta(label_json)
        return bytes(out)

    body = moov_kids([(t, moov[s:s + ln]) for t, s, hl, ln in children(moov, 8)])
    m = bytearray(box(b"moov", body))
    delta = delta_fn(len(m))
    if delta:
        _walk_shift(m, 0, len(m), shift_from, delta)
    return bytes(m)


def _walk_shift(m: bytearray, start: int, end: int, shift_from: int, delta: int) -> None:
    p = start + 8
    while p + 8 <= end:
        ln, t = struct.unpack_from(">I4s", m, p)
        hl = 8
        if ln == 1:
            ln = struct.unpack_from(">Q", m, p + 8)[0]
            hl = 16
        if ln < hl or p + ln > end:
            raise bad(f"MP4 box {t!r} inside moov has an invalid size")
        if t in (b"trak", b"mdia", b"minf", b"stbl"):
            _walk_shift(m, p + hl - 8, p + ln, shift_from, delta)
        elif t in (b"stco", b"co64"):  # chunk offset tables: 32-bit entries in stco, 64-bit in co64
            fmt, width = (">I", 4) if t == b"stco" else (">Q", 8)
            n = struct.unpack_from(">I", m, p + hl + 4)[0]
            if p + hl + 8 + width * n > p + ln:
                raise bad(f"MP4 {t.decode()} entry count exceeds its box")
            for i in range(n):
                q = p + hl + 8 + width * i
                v = struct.unpack_from(fmt, m, q)[0]
                if v >= shift_from:
                    if width == 4 and v + delta > 0xFFFFFFFF:
                        raise bad("chunk offset overflows 32 bits after moving moov (needs co64)")
                    struct.pack_into(fmt, m, q, v + delta)
        p += ln


def moov_plan(f: BinaryIO, size: int, label_json: str):
    """(top-level boxes, index of moov, the new moov, the new size of the free box after moov or None when it
    does not change, the size of a free box to insert after moov): everything a write needs; the media boxes
    are then copied or left where they are."""
    boxes = top_boxes(f, size)
    mi = next((i for i, b in enumerate(boxes) if b[0] == b"moov"), None)
    if mi is None:
        raise bad("MP4 has no moov box (fragmented or truncated file)")
    _t, ms, mhl, mln = boxes[mi]
    if mln > MAX_MOOV:
        raise bad(f"moov box of {mln} bytes is over the {MAX_MOOV}-byte limit", ms)
    if mhl != 8:
        raise bad("64-bit moov size is not supported", ms)
    f.seek(ms)
    moov = f.read(mln)
    media_after = any(t == b"mdat" for t, *_ in boxes[mi + 1:])
    nxt = boxes[mi + 1] if mi + 1 < len(boxes) else None
    free_adjust = {}

    def delta_fn(new_len: int) -> int:
        d = new_len - mln
        if not media_after or d == 0:
            return 0
        if nxt and nxt[0] in (b"free", b"skip") and nxt[2] == 8:
            left = nxt[3] - d
            if left >= 8 or left == 0:
                free_adjust["len"] = left
                return 0
        # the media move: a free box after moov makes the move a whole number of 4 KiB blocks (block-aligned
        # copies, reflinks where the file system shares blocks) and leaves room for the next relabel
        pad = (-d) % 4096
        pad += 4096 if 0 < pad < 8 else 0
        free_adjust["insert"] = pad
        return d + pad

    m = new_moov(moov, label_json, ms + mln, delta_fn)
    return boxes, mi, m, free_adjust.get("len"), free_adjust.get("insert", 0)


def free_box(length: int, typ: bytes = b"free") -> bytes:
    return struct.pack(">I4s", length, typ) + b"\x00" * (length - 8) if length else b""


def write_path(src_path: str, dst: BinaryIO, label_json: str, opts: WriteOpts) -> None:
    size = os.path.getsize(src_path)
    with open(src_path, "rb") as f:
        boxes, mi, m, free_len, insert = moov_plan(f, size, label_json)
        for i, (t, s, _hl, ln) in enumerate(boxes):
            if i == mi:
                dst.write(m + free_box(insert))
            elif i == mi + 1 and free_len is not None:
                dst.write(free_box(free_len, t))
            else:
                copy_range(f, dst, s, ln)


def essence_path(path: str):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        for t, s, hl, ln in top_boxes(f, size):
            if t == b"mdat":
                yield from iter_range(f, s + hl, ln - hl)


# ---------------------------------------------------------------- carrier (registered on cnai.carriers)

MP4 = FunctionCarrier(
    "mp4", sniff=lambda h, p: h[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"pnot"),
    extensions=(".mp4", ".m4a", ".m4v", ".mov"), media_types=("video/mp4", "audio/mp4", "video/quicktime"),
    where="mp4-keys", standard="moov/udta/meta keys 'AIGC' + ilst (video guide 6.1.1)", visible="video",
    read_path=read_path, write_path=write_path, essence_path=essence_path)
