"""Matroska/WebM carrier: Segment/Tags/Tag/SimpleTag with TagName "AIGC" and TagString = JSON (reference 2.3,
TC260-PG-20257A as summarised; secondary).

Streaming edit without moving media: the new Tags element is appended at the end of the Segment, an older
Tags element is overwritten by an EBML Void of the same size (or truncated away when it was last), the
SeekHead entry for Tags is rewritten in place (using the Void padding ffmpeg and mkvmerge leave after it),
and the Segment size is patched in its existing width. Clusters and Cues keep their offsets."""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cnai.label.formats.base import Found, FunctionCarrier, Scan, WriteOpts, bad
from cnai.label.formats.streamio import splice, stream_ranges

EBML, SEGMENT, SEEKHEAD, SEEK, SEEKID, SEEKPOS = 0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
TAGS, TAG, TARGETS, SIMPLETAG, TAGNAME, TAGSTRING, VOID, CLUSTER = (
    0x1254C367, 0x7373, 0x63C0, 0x67C8, 0x45A3, 0x4487, 0xEC, 0x1F43B675)
MAX_META = 64 << 20


def _vint_width(b: bytes, p: int, max_width: int, what: str) -> int:
    """Width of the EBML variable-length integer at p (leading zero bits + 1), checked against the buffer."""
    if p >= len(b):
        raise bad(f"EBML {what} truncated", p)
    x = b[p]
    n = 1
    while n <= max_width and not x & (0x80 >> (n - 1)):
        n += 1
    if n > max_width or p + n > len(b):
        raise bad(f"invalid EBML {what}", p)
    return n


def read_id(b: bytes, p: int) -> tuple[int, int]:
    n = _vint_width(b, p, 4, "element ID")
    return int.from_bytes(b[p:p + n], "big"), p + n


def read_size(b: bytes, p: int) -> tuple[int | None, int, int]:
    """(size or None if unknown, new position, width)."""
    n = _vint_width(b, p, 8, "size")
    v = int.from_bytes(b[p:p + n], "big") & ((1 << (7 * n)) - 1)
    return (None if v == (1 << (7 * n)) - 1 else v), p + n, n


def enc_size(v: int, width: int | None = None) -> bytes:
    n = width or next(i for i in range(1, 9) if v < (1 << (7 * i)) - 1)
    if v >= (1 << (7 * n)) - 1:
        raise bad(f"value {v} does not fit an EBML size of width {n}")
    return ((1 << (7 * n)) | v).to_bytes(n, "big")


def enc_id(i: int) -> bytes:
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def el(i: int, payload: bytes) -> bytes:
    return enc_id(i) + enc_size(len(payload)) + payload


CRC32 = 0xBF


def el_crc(i: int, payload: bytes) -> bytes:
    """Level-1 element with a fresh EBML CRC-32 child (ffmpeg writes these; a stale one would be wrong)."""
    import zlib

    return el(i, b"\xbf\x84" + struct.pack("<I", zlib.crc32(payload) & 0xFFFFFFFF) + payload)


def uint_el(i: int, v: int) -> bytes:
    return el(i, v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big"))


def void_of(total: int) -> bytes:
    """An EBML Void element occupying exactly `total` bytes (total >= 2)."""
    if total < 2:
        raise bad("no room for an EBML Void element")
    for w in range(1, 9):
        if total - 1 - w >= 0 and total - 1 - w < (1 << (7 * w)) - 1:
            return b"\xec" + enc_size(total - 1 - w, w) + b"\x00" * (total - 1 - w)
    raise bad("cannot encode Void")


def kids(b: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """[(id, element start, data start, data end)] for elements in b[start:end]."""
    out, p = [], start
    while p < end:
        i, q = read_id(b, p)
        sz, q, _w = read_size(b, q)
        if sz is None or q + sz > end:
            raise bad(f"EBML element 0x{i:X} size runs past its parent", p)
        out.append((i, p, q, q + sz))
        p = q + sz
    return out


def _layout(f: BinaryIO, size: int):
    head = f.read(64)
    i, p = read_id(head, 0)
    if i != EBML:
        raise bad("not a Matroska/WebM file (no EBML header)", 0)
    sz, p, _ = read_size(head, p)
    if sz is None:
        raise bad("EBML header has unknown size", 4)
    if p + sz + 4 > size:
        raise bad(f"EBML header size {sz} runs past the end of the file", 4)
    f.seek(p + sz)
    seg_at = p + sz
    h = f.read(16)
    i, q = read_id(h, 0)
    if i != SEGMENT:
        raise bad("Matroska Segment element missing after the EBML header", seg_at)
    seg_size, q, seg_w = read_size(h, q)
    data_start = seg_at + q
    seg_end = size if seg_size is None else data_start + seg_size
    if seg_end > size:
        raise bad(f"Matroska Segment size {seg_size} runs past the end of the file", seg_at)
    children, p = [], data_start
    while p < seg_end:
        f.seek(p)
        h = f.read(16)
        i, q = read_id(h, 0)
        csz, q, _ = read_size(h, q)
        if csz is None:
            if i == CLUSTER:
                raise bad("Matroska cluster with unknown size (live stream) is not supported", p)
            raise bad(f"element 0x{i:X} with unknown size", p)
        if p + q + csz > seg_end:
            raise bad(f"Matroska element 0x{i:X} size runs past the Segment", p)
        children.append((i, p, p + q, p + q + csz))
        p += q + csz
        if len(children) > 10_000_000:
            raise bad("too many Matroska elements", p)
    return seg_at, seg_at + len(enc_id(SEGMENT)), seg_w, seg_size, data_start, seg_end, children


def _load(f: BinaryIO, s: int, e: int) -> bytes:
    if e - s > MAX_META:
        raise bad(f"Matroska metadata element of {e - s} bytes is over the limit", s)
    f.seek(s)
    return f.read(e - s)


def _tags_aigc(tags: bytes) -> list[str]:
    out = []
    for i, _s, ds, de in kids(tags, 0, len(tags)):
        if i != TAG:
            continue
        for j, _s2, ds2, de2 in kids(tags, ds, de):
            if j != SIMPLETAG:
                continue
            name = val = None
            for k, _s3, ds3, de3 in kids(tags, ds2, de2):
                if k == TAGNAME:
                    name = tags[ds3:de3].decode("utf-8", "replace")
                elif k == TAGSTRING:
                    val = tags[ds3:de3].decode("utf-8", "replace")
            if name and name.upper() == "AIGC" and val is not None:
                out.append(val)
    return out


def read_path(path: str) -> Scan:
    scan = Scan()
    with open(path, "rb") as f:
        *_, children = _layout(f, os.path.getsize(path))
        for i, s, ds, de in children:
            if i == TAGS:
                t = _load(f, ds, de)
                for v in _tags_aigc(t):
                    scan.found.append(Found("mkv-tag", v, s))
    return scan


def rewrite_children(master: bytes, elem_id: int, edit) -> bytes:
    """The children of a master element's body, CRC-32 dropped (el_crc writes a fresh one), each child with id
    `elem_id` replaced by edit(start, data_start, end) (b"" drops it), the others copied as they are."""
    out = bytearray()
    for i, s, ds, de in kids(master, 0, len(master)):
        if i != CRC32:
            out += edit(s, ds, de) if i == elem_id else master[s:de]
    return bytes(out)


def _strip_aigc(tags: bytes) -> bytes:
    def tag_without_aigc(_s, ds, de) -> bytes:
        body = bytearray()
        simple = 0
        for j, s2, ds2, de2 in kids(tags, ds, de):
            if j == SIMPLETAG and any(k == TAGNAME and tags[a:b].decode("utf-8", "replace").upper() == "AIGC"
                                      for k, _x, a, b in kids(tags, ds2, de2)):
                continue
            simple += j == SIMPLETAG
            body += tags[s2:de2]
        return el(TAG, bytes(body)) if simple else b""

    return rewrite_children(tags, TAG, tag_without_aigc)


def write_path(src_path: str, dst: BinaryIO, label_json: str, opts: WriteOpts) -> None:
    size = os.path.getsize(src_path)
    with open(src_path, "rb") as f:
        seg_at, seg_size_at, seg_w, seg_size, data_start, seg_end, children = _layout(f, size)
        old_tags = [c for c in children if c[0] == TAGS]
        inner = b"".join(_strip_aigc(_load(f, ds, de)) for _i, _s, ds, de in old_tags)
        new_tag = el(TAG, el(TARGETS, b"") + el(SIMPLETAG, el(TAGNAME, b"AIGC") + el(TAGSTRING, label_json.encode())))
        new_tags = el_crc(TAGS, inner + new_tag)
        patches: list[tuple[int, bytes]] = []
        cut = seg_end
        # drop trailing old Tags (and Void after them); Void-out the others
        for c in reversed(children):
            if c[0] in (TAGS, VOID) and c[3] == cut:
                cut = c[1]
            else:
                break
        for _i, s, _ds, de in old_tags:
            if de <= cut:
                patches.append((s, void_of(de - s)))
        new_pos = cut - data_start
        sh = next((c for c in children if c[0] == SEEKHEAD), None)
        if sh is None:
            raise bad("Matroska file has no SeekHead; players would not find tags after the clusters")
        _i, sh_s, sh_ds, sh_de = sh
        shb = _load(f, sh_ds, sh_de)
        def seek_unless_tags(s2, ds2, de2) -> bytes:  # the old entry pointing at Tags goes
            sid = next((shb[a:b] for k, _x, a, b in kids(shb, ds2, de2) if k == SEEKID), b"")
            return b"" if sid == enc_id(TAGS) else shb[s2:de2]

        entries = rewrite_children(shb, SEEK, seek_unless_tags)
        entries += el(SEEK, el(SEEKID, enc_id(TAGS)) + uint_el(SEEKPOS, new_pos))
        new_sh = el_crc(SEEKHEAD, entries)
        room = sh_de - sh_s
        idx = children.index(sh)
        # ffmpeg/mkvmerge leave a Void after the SeekHead for exactly this
        j = idx + 1
        while j < len(children) and children[j][0] == VOID and children[j][3] <= cut:
            room = children[j][3] - sh_s
            j += 1
        if len(new_sh) != room and room - len(new_sh) < 2:
            raise bad("no room to update the Matroska SeekHead in place (remux with ffmpeg first)", sh_s)
        patches.append((sh_s, new_sh + (void_of(room - len(new_sh)) if room > len(new_sh) else b"")))
        if seg_size is not None:
            new_seg = (cut - data_start) + len(new_tags)
            patches.append((seg_size_at, enc_size(new_seg, seg_w)))
        splice(f, dst, size, cut, new_tags, seg_end, patches)


def _essence_ranges(f: BinaryIO, size: int):
    *_, children = _layout(f, size)
    return [(s, de - s) for i, s, _ds, de in children if i in (CLUSTER, 0x1654AE6B)]  # clusters and tracks


def essence_path(path: str):
    return stream_ranges(path, _essence_ranges)


# ---------------------------------------------------------------- carrier (registered on cnai.carriers)

MKV = FunctionCarrier(
    "mkv", sniff=lambda h, p: h.startswith(b"\x1a\x45\xdf\xa3"), extensions=(".mkv", ".webm", ".mka"),
    media_types=("video/x-matroska", "video/webm"), where="mkv-tag",
    standard="Tags/Tag/SimpleTag TagName=AIGC (video guide)", visible="video",
    read_path=read_path, write_path=write_path, essence_path=essence_path)
