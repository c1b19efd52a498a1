"""Image carriers: JPEG (APP1 XMP), PNG (iTXt XML:com.adobe.xmp), WebP (XMP chunk), TIFF (tag 700), GIF
(XMP application extension). Placements from TC260-PG-20259A as summarised in reference 2.3 (secondary).
All edits are at container level: compressed image data is copied byte for byte."""

from __future__ import annotations

import struct
import zlib

from cnai.label import xmp as X
from cnai.label.formats.base import (
    FormatError,
    Found,
    FunctionCarrier,
    Scan,
    WriteOpts,
    bad,
    fit_xmp,
    generator_traces,
    pad_xmp,
    u16be,
    u32be,
)
from cnai.label.formats.riff import riff_chunk, riff_chunks, riff_file
from cnai.label.formats.tiffutil import Tiff, decode_user_comment
from cnai.label.model import find_json_blobs

XMP_SIG = b"http://ns.adobe.com/xap/1.0/\x00"
MAX_XMP_JPEG = 65533 - len(XMP_SIG)


def _xmp_found(scan: Scan, packet: bytes, where: str, offset: int) -> None:
    p = X.parse(packet)
    if p["aigc"] is not None:
        scan.found.append(Found(where, p["aigc"], offset))
    if p["digital_source_type"]:
        scan.digital_source_type = p["digital_source_type"]
    if p["error"] and p["aigc"] is None:
        scan.warnings.append(f"{where} at byte {offset}: {p['error']}")


def _exif_found(scan: Scan, data: bytes, base: int) -> None:
    """EXIF UserComment / ImageDescription holding {"AIGC":{...}} (HarmonyOS variant, reference 2.3)."""
    try:
        t = Tiff(data, base)
        ents, _ = t.entries(t.ifd0)
        todo = [("exif-ifd0", ents)]
        for tag, typ, _cnt, raw in ents:
            if tag == 0x8769:
                todo.append(("exif", t.entries(t.uint(typ, raw))[0]))
        for _name, es in todo:
            for tag, typ, cnt, raw in es:
                if tag in (0x9286, 0x010E, 0x9C9C, 0x927C):
                    v = t.value(typ, cnt, raw)
                    txt = decode_user_comment(v) if tag == 0x9286 else (
                        v.decode("utf-16-le", "replace") if tag == 0x9C9C else v.decode("utf-8", "replace"))
                    for off, js in find_json_blobs(txt.encode("utf-8")):
                        where = "exif-usercomment" if tag == 0x9286 else f"exif-tag-{tag:#06x}"
                        scan.found.append(Found(where, js, base + off))
    except Exception as e:  # EXIF damage must not hide other carriers
        scan.warnings.append(f"EXIF at byte {base}: {e}")


# ---------------------------------------------------------------- JPEG
def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """[(marker, start, end)] up to SOS; returns also the offset where SOS starts."""
    if data[:2] != b"\xff\xd8":
        raise bad("not a JPEG (no SOI marker)", 0)
    segs = []
    p = 2
    n = len(data)
    while True:
        if p >= n:
            raise bad("JPEG ends before the image data (no SOS marker)", p)
        if data[p] != 0xFF:
            raise bad(f"expected a JPEG marker, found 0x{data[p]:02x}", p)
        while p < n and data[p] == 0xFF:
            p += 1
        if p >= n:
            raise bad("JPEG truncated inside a marker", p)
        m = data[p]
        start = p - 1
        p += 1
        if m == 0xDA or m == 0xD9:
            return segs, start
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            continue
        if p + 2 > n:
            raise bad("JPEG segment length truncated", p)
        ln = u16be(data, p)
        if ln < 2 or p + ln > n:
            raise bad(f"JPEG segment 0x{m:02x} length {ln} runs past the end of the file", p)
        segs.append((m, start, p + ln))
        p += ln


def jpeg_read(data: bytes, *, traces: bool = True, segs: list | None = None) -> Scan:
    """Labels in a JPEG header (`data` up to and including the SOS marker). `segs`: the segments when the caller
    has parsed them already; `traces=False` skips the generator-name search (a label read-back needs none)."""
    scan = Scan()
    if segs is None:
        segs, _ = _jpeg_segments(data)
    for m, s, e in segs:
        payload = data[s + 4:e]
        if m == 0xE1 and payload.startswith(XMP_SIG):
            _xmp_found(scan, payload[len(XMP_SIG):], "xmp", s)
        elif m == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            _exif_found(scan, data[:e], s + 10)
        elif m == 0xEB and b"jumb" in payload[:64] or m == 0xEB and b"c2pa" in payload[:64]:
            scan.traces.append("c2pa-jumbf")
        elif (0xE0 <= m <= 0xEF or m == 0xFE) and b"AIGC" in payload:
            for off, js in find_json_blobs(payload):
                scan.found.append(Found("jpeg-app-json" if m != 0xFE else "jpeg-comment", js, s + 4 + off))
    if traces:
        scan.traces += generator_traces(b"".join(data[s:e] for m, s, e in segs if m >= 0xE0))
    return scan


def jpeg_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    segs, sos = _jpeg_segments(data)
    old_packet = None
    insert_at = None
    lead_end, leading = 2, True
    keep = []
    for m, s, e in segs:
        payload = data[s + 4:e]
        if m == 0xE1 and payload.startswith(XMP_SIG):
            if old_packet is None:
                old_packet = payload[len(XMP_SIG):].decode("utf-8", "replace")
                insert_at = s
            continue
        if leading and m in (0xE0, 0xE1):
            lead_end = e
        else:
            leading = False
        keep.append((s, e))
    if insert_at is None:
        insert_at = lead_end
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    packet = pad_xmp(packet, MAX_XMP_JPEG)
    keep = [_blank_json(data, s, e) if (0xE0 <= data[s + 1] <= 0xEF or data[s + 1] == 0xFE) else (s, e)
            for s, e in keep]
    # more padding so the image data moves by a whole number of 4 KiB blocks: the copy of the (large) scan data
    # is then block-aligned on both sides (faster in-kernel copies; reflinks where the file system shares blocks)
    new_sos = 2 + sum(k[1] - k[0] for k in keep) + 4 + len(XMP_SIG) + len(packet)
    aligned = len(packet) + (sos - new_sos) % 4096
    if aligned <= MAX_XMP_JPEG:
        packet = fit_xmp(packet, aligned) or packet
    if len(packet) > MAX_XMP_JPEG:
        raise bad(f"XMP packet would be {len(packet)} bytes, over the {MAX_XMP_JPEG}-byte JPEG segment limit")
    seg = b"\xff\xe1" + struct.pack(">H", len(packet) + len(XMP_SIG) + 2) + XMP_SIG + packet
    out = bytearray(data[:2])
    placed = False
    for item in keep:
        s, e = item[0], item[1]
        if not placed and s >= insert_at:
            out += seg
            placed = True
        out += item[2] if len(item) > 2 else data[s:e]
    if not placed:
        out += seg
    out += data[sos:]
    return bytes(out)


def _blank_json(data: bytes, s: int, e: int):
    """One label per file (GB 45438 6.1 c as cited, secondary): an AIGC JSON copy in an EXIF UserComment, another
    APP segment or a comment is overwritten with spaces of the same length, so no EXIF offset moves."""
    seg = data[s:e]
    if b"AIGC" not in seg and b'"Label"' not in seg:
        return (s, e)
    blobs = find_json_blobs(seg)
    if not blobs:
        return (s, e)
    b = bytearray(seg)
    for off, js in blobs:
        n = len(js.encode("utf-8"))
        b[off:off + n] = b" " * n
    return (s, e, bytes(b))


def jpeg_essence(data: bytes):
    segs, sos = _jpeg_segments(data)
    for m, s, e in segs:
        if not (0xE0 <= m <= 0xEF or m == 0xFE):
            yield data[s:e]
    yield data[sos:]


# ---------------------------------------------------------------- PNG
PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """[(type, start, end)] where start..end spans length+type+data+crc."""
    if data[:8] != PNG_SIG:
        raise bad("not a PNG (bad signature)", 0)
    p, n, out = 8, len(data), []
    while p < n:
        if p + 8 > n:
            raise bad("PNG chunk header truncated", p)
        ln = u32be(data, p)
        typ = data[p + 4:p + 8]
        if ln > 0x7FFFFFFF or p + 12 + ln > n:
            raise bad(f"PNG chunk {typ!r} length {ln} runs past the end of the file", p)
        out.append((typ, p, p + 12 + ln))
        p += 12 + ln
        if typ == b"IEND":
            break
    if not out or out[0][0] != b"IHDR":
        raise bad("PNG does not start with IHDR", 8)
    return out


def _png_chunk(typ: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + typ + body + struct.pack(">I", zlib.crc32(typ + body) & 0xFFFFFFFF)


def _png_text(typ: bytes, body: bytes) -> tuple[str, bytes] | None:
    """(keyword, text bytes) for tEXt/iTXt/zTXt."""
    k, _, rest = body.partition(b"\x00")
    kw = k.decode("latin-1")
    if typ == b"tEXt":
        return kw, rest
    if typ == b"zTXt":
        try:
            return kw, zlib.decompressobj().decompress(rest[1:], 1 << 24)
        except zlib.error:
            return None
    if typ == b"iTXt":
        if len(rest) < 2:
            return None
        comp = rest[0]
        r = rest[2:]
        _lang, _, r = r.partition(b"\x00")
        _tk, _, txt = r.partition(b"\x00")
        if comp:
            try:
                txt = zlib.decompressobj().decompress(txt, 1 << 24)
            except zlib.error:
                return None
        return kw, txt
    return None


def png_read(data: bytes) -> Scan:
    scan = Scan()
    meta = []
    for typ, s, e in _png_chunks(data):
        if typ in (b"tEXt", b"iTXt", b"zTXt"):
            t = _png_text(typ, data[s + 8:e - 4])
            if not t:
                scan.warnings.append(f"unreadable {typ.decode()} chunk at byte {s}")
                continue
            kw, txt = t
            meta.append(kw.encode() + b"\x00" + txt)
            if kw in ("parameters", "prompt", "workflow") and (b"Steps:" in txt or b"class_type" in txt):
                scan.traces.append(f"generator parameters in PNG text '{kw}' (Stable Diffusion/ComfyUI style)")
            if kw == "XML:com.adobe.xmp":
                _xmp_found(scan, txt, "xmp", s)
            elif kw == "AIGC":
                scan.found.append(Found("png-text", txt.decode("utf-8", "replace"), s))
            elif b"AIGC" in txt:
                for _off, js in find_json_blobs(txt):
                    scan.found.append(Found(f"png-text:{kw}", js, s))
        elif typ == b"eXIf":
            _exif_found(scan, data[:e - 4], s + 8)
        elif typ == b"caBX":
            scan.traces.append("c2pa-jumbf")
    scan.traces += generator_traces(b"".join(meta))
    return scan


def png_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    chunks = _png_chunks(data)
    old_packet = None
    out = bytearray(PNG_SIG)
    pending = []
    for typ, s, e in chunks:
        if typ in (b"tEXt", b"iTXt", b"zTXt"):
            t = _png_text(typ, data[s + 8:e - 4])
            if t and t[0] == "XML:com.adobe.xmp":
                if old_packet is None:
                    old_packet = t[1].decode("utf-8", "replace")
                continue
            if t and t[0] == "AIGC":  # one label per file: replace the tEXt variant too
                continue
        pending.append((typ, s, e))
    packet = pad_xmp(X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode())
    itxt = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)
    for typ, s, e in pending:
        out += data[s:e]
        if typ == b"IHDR":
            out += itxt
    out += data[chunks[-1][2]:]  # anything after IEND is kept as is
    return bytes(out)


def png_essence(data: bytes):
    for typ, s, e in _png_chunks(data):
        if typ not in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME", b"caBX"):
            yield data[s:e]


# ---------------------------------------------------------------- WebP
def _webp_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    return [(cid, s, e) for cid, s, _ln, e in riff_chunks(data, (b"WEBP",), "WebP", strict_size=True)]


def webp_read(data: bytes) -> Scan:
    scan = Scan()
    for cid, s, e in _webp_chunks(data):
        if cid == b"XMP ":
            _xmp_found(scan, data[s + 8:e], "xmp", s)
        elif cid == b"EXIF":
            body = data[s + 8:e]
            _exif_found(scan, body[6:] if body.startswith(b"Exif\x00\x00") else body, 0)
        elif cid == b"AIGC":
            scan.found.append(Found("riff-chunk", data[s + 8:s + 8 + struct.unpack_from("<I", data, s + 4)[0]]
                                    .decode("utf-8", "replace"), s))
    return scan


def _webp_canvas(data: bytes, chunks) -> tuple[int, int, bool]:
    for cid, s, _e in chunks:
        b = data[s + 8:s + 8 + 30]
        if cid == b"VP8 " and len(b) >= 10:
            if b[3:6] != b"\x9d\x01\x2a":
                raise bad("VP8 start code missing", s + 11)
            w = struct.unpack_from("<H", b, 6)[0] & 0x3FFF
            h = struct.unpack_from("<H", b, 8)[0] & 0x3FFF
            has_alpha = any(c == b"ALPH" for c, _, _ in chunks)
            return w, h, has_alpha
        if cid == b"VP8L" and len(b) >= 5:
            if b[0] != 0x2F:
                raise bad("VP8L signature missing", s + 8)
            bits = struct.unpack_from("<I", b, 1)[0]
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise bad("WebP has no VP8/VP8L image chunk")


def webp_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    chunks = _webp_chunks(data)
    old_packet = None
    body = bytearray()
    has_vp8x = chunks and chunks[0][0] == b"VP8X"
    if not has_vp8x:
        w, h, alpha = _webp_canvas(data, chunks)
        flags = (0x10 if alpha else 0) | 0x04  # alpha, XMP
        body += riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") +
                           (h - 1).to_bytes(3, "little"))
    for cid, s, e in chunks:
        if cid == b"XMP ":
            if old_packet is None:
                ln = struct.unpack_from("<I", data, s + 4)[0]
                old_packet = data[s + 8:s + 8 + ln].decode("utf-8", "replace")
            continue
        if cid == b"AIGC":
            continue
        if cid == b"VP8X":
            body += data[s:s + 8] + bytes([data[s + 8] | 0x04]) + data[s + 9:e]
        else:
            body += data[s:e]
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    body += riff_chunk(b"XMP ", packet)
    return riff_file(b"WEBP", bytes(body), "WebP")


def webp_essence(data: bytes):
    for cid, s, e in _webp_chunks(data):
        if cid not in (b"XMP ", b"EXIF", b"VP8X", b"AIGC"):
            yield data[s:e]


# ---------------------------------------------------------------- TIFF
def tiff_read(data: bytes) -> Scan:
    scan = Scan()
    t = Tiff(data)
    ents, _ = t.entries(t.ifd0)
    for tag, typ, cnt, raw in ents:
        if tag == 700:
            _xmp_found(scan, t.value(typ, cnt, raw), "xmp", None)
    _exif_found(scan, data, 0)
    return scan


def tiff_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    """Append the new XMP and a rewritten IFD0 (same entries + tag 700) at the end; point the header at it.
    Image strips/tiles and every other offset stay where they are, so nothing else changes."""
    t = Tiff(data)
    e = t.e
    ents, nxt = t.entries(t.ifd0)
    old_packet = None
    kept = []
    base_len = len(data)
    ifd_end = t.ifd0 + 2 + 12 * len(ents) + 4
    for tag, typ, cnt, raw in ents:
        if tag == 700:
            old_packet = t.value(typ, cnt, raw).decode("utf-8", "replace")
            if cnt > 4:
                xo = struct.unpack(e + "I", raw)[0]
                # our own earlier edit ([xmp][pad][IFD0] at the very end): drop it instead of orphaning it
                if ifd_end == len(data) and xo + cnt + ((xo + cnt) & 1) == t.ifd0:
                    base_len = xo
            continue
        kept.append((tag, typ, cnt, raw))
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    out = bytearray(data[:base_len])
    if len(out) & 1:
        out += b"\x00"
    xmp_off = len(out)
    out += packet
    if len(out) & 1:
        out += b"\x00"
    ifd_off = len(out)
    if ifd_off + 2 + 12 * (len(kept) + 1) + 4 > 0xFFFFFFFF:
        raise bad("TIFF would exceed 4 GiB")
    kept.append((700, 7, len(packet), struct.pack(e + "I", xmp_off)))
    kept.sort(key=lambda x: x[0])
    out += struct.pack(e + "H", len(kept))
    for tag, typ, cnt, raw in kept:
        out += struct.pack(e + "HHI", tag, typ, cnt) + raw
    out += struct.pack(e + "I", nxt)
    out[4:8] = struct.pack(e + "I", ifd_off)
    return bytes(out)


def tiff_essence(data: bytes):
    t = Tiff(data)
    off = t.ifd0
    seen = set()
    while off and off not in seen and len(seen) < 1000:
        seen.add(off)
        ents, off = t.entries(off)
        d = {tag: (typ, cnt, raw) for tag, typ, cnt, raw in ents}
        for otag, ctag in ((273, 279), (324, 325)):
            if otag in d and ctag in d:
                offs = t.value(*d[otag])
                cnts = t.value(*d[ctag])
                osz = 2 if d[otag][0] == 3 else 4
                csz = 2 if d[ctag][0] == 3 else 4
                if d[otag][0] not in (3, 4) or d[ctag][0] not in (3, 4) or d[otag][1] != d[ctag][1] or \
                        len(offs) < osz * d[otag][1] or len(cnts) < csz * d[ctag][1]:
                    raise bad(f"TIFF strip/tile tables {otag}/{ctag} are inconsistent")
                for i in range(d[otag][1]):
                    o = struct.unpack_from(t.e + ("H" if osz == 2 else "I"), offs, i * osz)[0]
                    c = struct.unpack_from(t.e + ("H" if csz == 2 else "I"), cnts, i * csz)[0]
                    yield data[o:o + c]


# ---------------------------------------------------------------- GIF
GIF_XMP_ID = b"XMP DataXMP"
GIF_MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1))


def _gif_blocks(data: bytes) -> tuple[int, list[tuple[str, int, int]]]:
    """Header end offset and [(kind, start, end)] for each block; kind 'xmp', 'ext', 'img', 'trailer'."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise bad("not a GIF (bad signature)", 0)
    if len(data) < 13:
        raise bad("GIF logical screen descriptor truncated", 6)
    flags = data[10]
    p = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    hdr_end = p
    n = len(data)
    blocks = []

    def subblocks(q: int) -> int:
        while True:
            if q >= n:
                raise bad("GIF data sub-blocks run past the end of the file", q)
            ln = data[q]
            q += 1 + ln
            if ln == 0:
                return q

    while True:
        if p >= n:
            raise bad("GIF ends without a trailer", p)
        b = data[p]
        if b == 0x3B:
            blocks.append(("trailer", p, p + 1))
            return hdr_end, blocks
        if b == 0x21:
            if p + 2 > n:
                raise bad("GIF extension truncated", p)
            if data[p + 1] == 0xFF and data[p + 2:p + 3] == b"\x0b" and data[p + 3:p + 14] == GIF_XMP_ID:
                q = data.find(GIF_MAGIC_TRAILER, p + 14)
                if q < 0:
                    raise bad("GIF XMP extension has no magic trailer", p)
                e = q + len(GIF_MAGIC_TRAILER) + 1
                blocks.append(("xmp", p, e))
                p = e
                continue
            e = subblocks(p + 2)
            blocks.append(("ext", p, e))
            p = e
        elif b == 0x2C:
            if p + 10 > n:
                raise bad("GIF image descriptor truncated", p)
            f = data[p + 9]
            q = p + 10 + (3 * (2 << (f & 7)) if f & 0x80 else 0) + 1
            e = subblocks(q)
            blocks.append(("img", p, e))
            p = e
        else:
            raise bad(f"unexpected GIF block introducer 0x{b:02x}", p)


def gif_read(data: bytes) -> Scan:
    scan = Scan()
    _, blocks = _gif_blocks(data)
    for kind, s, e in blocks:
        if kind == "xmp":
            _xmp_found(scan, data[s + 14:e - len(GIF_MAGIC_TRAILER) - 1], "xmp", s)
        elif kind == "ext" and data[s + 1] == 0xFE and b"AIGC" in data[s:e]:
            for off, js in find_json_blobs(bytes(data[s:e])):
                scan.found.append(Found("gif-comment", js, s + off))
    return scan


def gif_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    hdr_end, blocks = _gif_blocks(data)
    old_packet = None
    for kind, s, e in blocks:
        if kind == "xmp" and old_packet is None:
            old_packet = data[s + 14:e - len(GIF_MAGIC_TRAILER) - 1].decode("utf-8", "replace")
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    ext = b"\x21\xff\x0b" + GIF_XMP_ID + packet + GIF_MAGIC_TRAILER + b"\x00"
    out = bytearray(data[:hdr_end])
    if out[:6] == b"GIF87a":
        out[:6] = b"GIF89a"  # extensions need 89a
    out += ext
    for kind, s, e in blocks:
        if kind != "xmp":
            out += data[s:e]
    out += data[blocks[-1][2]:]
    return bytes(out)


def gif_essence(data: bytes):
    hdr_end, blocks = _gif_blocks(data)
    yield data[6:hdr_end]
    for kind, s, e in blocks:
        if kind == "img" or (kind == "ext" and data[s + 1] == 0xF9):
            yield data[s:e]


# ---------------------------------------------------------------- JPEG, header-only streaming variants
def _jpeg_header(f, size: int) -> tuple[bytes, int]:
    """Read just enough of a JPEG to reach the SOS marker: (header bytes, SOS offset)."""
    n = 16384  # most headers are a few KiB (a labelled one ~6 KiB); grown x4 when SOS is further in
    while True:
        f.seek(0)
        buf = f.read(n)
        try:
            _segs, sos = _jpeg_segments(buf)
            return buf[:sos], sos
        except FormatError:
            if len(buf) >= size:
                raise
            n *= 4


class _HeaderMemo:
    """The last few JPEG headers read, keyed by the file's identity and change stamps (device, inode, size,
    mtime, ctime). Labelling one file reads its header up to five times (scan, damage check, plan, write,
    and the read-back of the output); with the memo the input's header is read and parsed once. Any write
    changes the stamps; cnai's own in-place edits also clear the memo outright (inplace._in_place), so a
    coarse file-system clock cannot serve a stale header to the read-back. Outputs are new inodes: their
    read-back always reads the file."""

    def __init__(self, size: int = 8):
        import threading

        self.size, self.lock, self.items = size, threading.Lock(), {}

    def get(self, path: str, f=None) -> tuple[bytes, int, int]:
        """(header bytes up to SOS, SOS offset, file size) of the file at `path`, or of the open file `f`
        (then the identity is the open file's, so a file renamed over `path` meanwhile is not mixed in)."""
        import os

        st = os.fstat(f.fileno()) if f is not None else os.stat(path)
        key = self.key(st)
        with self.lock:
            hit = self.items.get(key)
        if hit is not None:
            return hit
        if f is not None:
            head, sos = _jpeg_header(f, st.st_size)
        else:
            with open(path, "rb") as fh:
                head, sos = _jpeg_header(fh, st.st_size)
        got = (head, sos, st.st_size)
        with self.lock:
            if len(self.items) >= self.size:
                self.items.pop(next(iter(self.items)))
            self.items[key] = got
        return got

    @staticmethod
    def key(st) -> tuple:
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


header_memo = _HeaderMemo()


def jpeg_read_path(path: str) -> Scan:
    head, _sos, _size = header_memo.get(path)
    return jpeg_read(head + b"\xff\xda")


def jpeg_write_path(src: str, dst, label_json: str, opts: WriteOpts) -> None:
    from cnai.label.formats.streamio import copy_range

    with open(src, "rb") as f:
        head, sos, size = header_memo.get(src, f)
        dst.write(jpeg_write(head + b"\xff\xda", label_json, opts)[:-2])
        copy_range(f, dst, sos, size - sos)


# ---------------------------------------------------------------- damage checks
def jpeg_damage_path(path: str) -> list[str]:
    """A JPEG whose entropy-coded data is cut short has no EOI marker (FFD9) after SOS: FF in the scan data is
    always followed by 00 or a restart marker, so FFD9 after SOS can only be the end of the image."""
    with open(path, "rb") as f:
        _head, sos, size = header_memo.get(path, f)
        tail = b""
        for span in (4 << 10, 64 << 10):  # EOI is nearly always in the last few bytes
            tail_at = max(sos, size - span)
            f.seek(tail_at)
            tail = f.read()
            if b"\xff\xd9" in tail:
                break
    if b"\xff\xd9" not in tail:
        return [f"image data truncated: no EOI marker (FFD9) after the scan data that starts at byte {sos}"]
    return []


def png_damage(data: bytes) -> list[str]:
    out = []
    chunks = _png_chunks(data)
    for typ, s, e in chunks:
        if zlib.crc32(data[s + 4:e - 4]) & 0xFFFFFFFF != u32be(data, e - 4):
            out.append(f"chunk {typ.decode('latin-1')!r} at byte {s} has a bad CRC")
            if len(out) >= 5:
                break
    if chunks[-1][0] != b"IEND":
        out.append(f"no IEND chunk: the file ends after chunk {chunks[-1][0].decode('latin-1')!r} "
                   f"at byte {chunks[-1][1]} (image data may be truncated)")
    return out


# ---------------------------------------------------------------- carriers (registered on cnai.carriers)

JPEG = FunctionCarrier(
    "jpeg", sniff=lambda h, p: h.startswith(b"\xff\xd8\xff"), extensions=(".jpg", ".jpeg", ".jpe"),
    media_types=("image/jpeg",), where="xmp", standard="XMP TC260:AIGC in APP1 (image guide)", visible="image",
    read_path=jpeg_read_path, write_path=jpeg_write_path, essence_bytes=jpeg_essence, damage_path=jpeg_damage_path)
PNG = FunctionCarrier(
    "png", sniff=lambda h, p: h.startswith(PNG_SIG), extensions=(".png",), media_types=("image/png",),
    where="xmp", standard="XMP TC260:AIGC in iTXt XML:com.adobe.xmp (image guide)", visible="image",
    read_bytes=png_read, write_bytes=png_write, essence_bytes=png_essence, damage_bytes=png_damage)
WEBP = FunctionCarrier(
    "webp", sniff=lambda h, p: h[:4] == b"RIFF" and h[8:12] == b"WEBP", extensions=(".webp",),
    media_types=("image/webp",), where="xmp", standard="XMP TC260:AIGC in the 'XMP ' chunk (image guide)",
    visible="image", read_bytes=webp_read, write_bytes=webp_write, essence_bytes=webp_essence)
TIFF = FunctionCarrier(
    "tiff", sniff=lambda h, p: h[:4] in (b"II*\x00", b"MM\x00*"), extensions=(".tif", ".tiff"),
    media_types=("image/tiff",), where="xmp", standard="XMP TC260:AIGC in tag 700 (image guide)", visible="image",
    read_bytes=tiff_read, write_bytes=tiff_write, essence_bytes=tiff_essence)
GIF = FunctionCarrier(
    "gif", sniff=lambda h, p: h[:6] in (b"GIF87a", b"GIF89a"), extensions=(".gif",), media_types=("image/gif",),
    where="xmp", standard="XMP TC260:AIGC in the XMP application extension (image guide)", visible="image",
    read_bytes=gif_read, write_bytes=gif_write, essence_bytes=gif_essence)
