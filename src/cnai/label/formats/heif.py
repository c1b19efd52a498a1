"""HEIF/HEIC carrier: an XMP metadata item (infe type 'mime', content type application/rdf+xml, linked to the
primary image by a 'cdsc' reference) holding TC260:AIGC -- the image guide's "HEIF/HEIC per ISO/IEC 23008-12"
(reference 2.3; secondary).

The coded image data is never touched: the XMP bytes go into a new 'mdat' box appended at the end of the file,
the 'meta' box is rebuilt with the updated iinf/iloc/iref, and every file-offset (construction method 0)
extent behind the 'meta' box is shifted by the size change. Relabelling truncates our own trailing 'mdat'."""

from __future__ import annotations

import io
import struct

from cnai.label import xmp as X
from cnai.label.formats.base import FunctionCarrier, Scan, WriteOpts, bad
from cnai.label.formats.mp4 import box, children, top_boxes

XMP_TYPE = b"application/rdf+xml"


def _uint(b: bytes, p: int, n: int) -> int:
    if n == 0:
        return 0
    if p + n > len(b):
        raise bad("HEIF box truncated")
    return int.from_bytes(b[p:p + n], "big")


def _parse_iloc(b: bytes):
    """b = iloc box. Returns (version, sizes(offset, length, base, index), [item dicts])."""
    v = b[8]
    p = 12
    if p + 2 > len(b):
        raise bad("HEIF iloc box truncated")
    os_, ls = b[p] >> 4, b[p] & 15
    bs, xs = b[p + 1] >> 4, (b[p + 1] & 15 if v in (1, 2) else 0)
    if os_ not in (0, 4, 8) or ls not in (0, 4, 8) or bs not in (0, 4, 8) or xs not in (0, 4, 8):
        raise bad("HEIF iloc field sizes invalid")
    p += 2
    n = _uint(b, p, 2 if v < 2 else 4)
    p += 2 if v < 2 else 4
    items = []
    for _ in range(n):
        iid = _uint(b, p, 2 if v < 2 else 4)
        p += 2 if v < 2 else 4
        cm = 0
        if v in (1, 2):
            cm = _uint(b, p, 2) & 15
            p += 2
        dri = _uint(b, p, 2)
        base = _uint(b, p + 2, bs)
        p += 2 + bs
        ec = _uint(b, p, 2)
        p += 2
        ext = []
        for _e in range(ec):
            idx = _uint(b, p, xs)
            p += xs
            off = _uint(b, p, os_)
            ln = _uint(b, p + os_, ls)
            p += os_ + ls
            ext.append([idx, off, ln])
        items.append({"id": iid, "cm": cm, "dri": dri, "base": base, "ext": ext})
    return v, (os_, ls, bs, xs), items


def _build_iloc(v: int, sizes, items) -> bytes:
    os_, ls, bs, xs = sizes
    out = bytearray([v, 0, 0, 0, (os_ << 4) | ls, (bs << 4) | xs])
    out += len(items).to_bytes(2 if v < 2 else 4, "big")
    for it in items:
        out += it["id"].to_bytes(2 if v < 2 else 4, "big")
        if v in (1, 2):
            out += it["cm"].to_bytes(2, "big")
        out += it["dri"].to_bytes(2, "big")
        for val, n in [(it["base"], bs)]:
            if n:
                if val >= 1 << (8 * n):
                    raise bad("HEIF iloc base offset overflows its field")
                out += val.to_bytes(n, "big")
        out += len(it["ext"]).to_bytes(2, "big")
        for idx, off, ln in it["ext"]:
            for val, n in ((idx, xs), (off, os_), (ln, ls)):
                if n:
                    if val >= 1 << (8 * n):
                        raise bad("HEIF iloc offset overflows its field")
                    out += val.to_bytes(n, "big")
    return box(b"iloc", bytes(out))


def _parse_infe(b: bytes) -> dict:
    v = b[8]
    if v < 2:
        return {"id": _uint(b, 12, 2), "type": b"", "ctype": b"", "raw": b}
    p = 12
    iid = _uint(b, p, 2 if v == 2 else 4)
    p += (2 if v == 2 else 4) + 2
    typ = b[p:p + 4]
    p += 4
    rest = b[p:]
    parts = rest.split(b"\x00")
    ctype = parts[1] if typ == b"mime" and len(parts) > 1 else b""
    return {"id": iid, "type": typ, "ctype": ctype, "raw": b}


def _meta(data: bytes):
    f = io.BytesIO(data)
    boxes = top_boxes(f, len(data))
    if boxes[0][0] != b"ftyp" or data[boxes[0][1] + 8:boxes[0][1] + 12] not in (
            b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif", b"hevc"):
        pass  # brand checked by the caller via sniffing; tolerate other mif1-compatible brands
    m = next((b for b in boxes if b[0] == b"meta"), None)
    if m is None:
        raise bad("HEIF has no top-level meta box")
    _t, ms, hl, ln = m
    meta = data[ms:ms + ln]
    kids = [(t, s, hl2, ln2) for t, s, hl2, ln2 in children(meta, hl + 4)]
    return boxes, m, meta, kids


def _item_data(data: bytes, meta: bytes, kids, it) -> bytes:
    if it["cm"] == 0:
        return b"".join(data[it["base"] + off:it["base"] + off + ln] for _i, off, ln in it["ext"])
    if it["cm"] == 1:
        idat = next(((s, hl, ln) for t, s, hl, ln in kids if t == b"idat"), None)
        if idat is None:
            raise bad("HEIF item stored in idat, but there is no idat box")
        base = idat[0] + idat[1]
        return b"".join(meta[base + it["base"] + off:base + it["base"] + off + ln] for _i, off, ln in it["ext"])
    raise bad(f"HEIF item construction method {it['cm']} is not supported")


def _infos(meta: bytes, kids):
    iinf = next(((s, hl, ln) for t, s, hl, ln in kids if t == b"iinf"), None)
    if iinf is None:
        raise bad("HEIF meta has no iinf box")
    s, hl, ln = iinf
    v = meta[s + 8]
    off = s + 12 + (2 if v == 0 else 4)
    infes = [_parse_infe(meta[cs:cs + cl]) for t, cs, _h, cl in children(meta[:s + ln], off) if t == b"infe"]
    return v, infes


def _located_items(data: bytes):
    """(meta, its child boxes, item infos, item locations): what reading and hashing both start from."""
    _boxes, _m, meta, kids = _meta(data)
    _v, infes = _infos(meta, kids)
    iloc = next((meta[s:s + ln] for t, s, hl, ln in kids if t == b"iloc"), None)
    if iloc is None:
        raise bad("HEIF meta has no iloc box")
    _iv, _sz, items = _parse_iloc(iloc)
    return meta, kids, infes, items


def heif_read(data: bytes) -> Scan:
    from cnai.label.formats.images import _exif_found, _xmp_found

    scan = Scan()
    meta, kids, infes, items = _located_items(data)
    locs = {it["id"]: it for it in items}
    for inf in infes:
        it = locs.get(inf["id"])
        if it is None:
            continue
        if inf["type"] == b"mime" and inf["ctype"] == XMP_TYPE:
            _xmp_found(scan, _item_data(data, meta, kids, it), "xmp", None)
        elif inf["type"] == b"Exif":
            ex = _item_data(data, meta, kids, it)
            if len(ex) > 4:
                skip = struct.unpack(">I", ex[:4])[0]
                _exif_found(scan, ex, 4 + skip)
    return scan


def heif_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    boxes, m, meta, kids = _meta(data)
    _t, ms, mhl, mln = m
    iv, infes = _infos(meta, kids)
    iloc_b = next((meta[s:s + ln] for t, s, hl, ln in kids if t == b"iloc"), None)
    if iloc_b is None:
        raise bad("HEIF meta has no iloc box")
    lv, sizes, items = _parse_iloc(iloc_b)
    if sizes[0] == 0 or sizes[1] == 0:
        raise bad("HEIF iloc without offset/length fields is not supported")
    locs = {it["id"]: it for it in items}
    xmp_inf = next((i for i in infes if i["type"] == b"mime" and i["ctype"] == XMP_TYPE), None)
    old_packet = None
    cut = len(data)
    if xmp_inf is not None and xmp_inf["id"] in locs:
        it = locs[xmp_inf["id"]]
        old = _item_data(data, meta, kids, it)
        old_packet = old.decode("utf-8", "replace")
        last = boxes[-1]
        if last[0] == b"mdat" and it["cm"] == 0 and len(it["ext"]) == 1 and \
                it["base"] + it["ext"][0][1] == last[1] + last[2] and it["ext"][0][2] == last[3] - last[2]:
            cut = last[1]  # our own trailing mdat from an earlier run
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    pitm = next((meta[s:s + ln] for t, s, hl, ln in kids if t == b"pitm"), None)
    primary = _uint(pitm, 12, 2 if pitm[8] == 0 else 4) if pitm else None
    new_inf = None
    iref_add = None
    if xmp_inf is None:
        xid = max([i["id"] for i in infes] + [it["id"] for it in items] + [0]) + 1
        if xid >= 1 << 16 and (lv < 2 or iv == 0):
            raise bad("too many HEIF items to add an XMP item")
        new_inf = box(b"infe", b"\x02\x00\x00\x00" + xid.to_bytes(2, "big") + b"\x00\x00" + b"mime" + b"XMP\x00" +
                      XMP_TYPE + b"\x00")
        items = items + [{"id": xid, "cm": 0, "dri": 0, "base": 0, "ext": [[0, 0, 0]]}]
        if primary is not None:
            iref_add = (xid, primary)
    else:
        xid = xmp_inf["id"]
        for it in items:
            if it["id"] == xid:
                it.update(cm=0, dri=0, base=0, ext=[[0, 0, 0]])

    def rebuild(shift: int, xmp_off: int) -> bytes:
        its = []
        for it in items:
            it = {**it, "ext": [list(e) for e in it["ext"]]}
            if it["id"] == xid:
                it["ext"] = [[0, xmp_off, len(packet)]]
            elif it["cm"] == 0 and shift:
                if it["base"] >= ms + mln:
                    it["base"] += shift
                else:
                    for e in it["ext"]:
                        if it["base"] + e[1] >= ms + mln:
                            e[1] += shift
            its.append(it)
        out = bytearray(meta[mhl:mhl + 4])
        have_iref = False
        for t, s, _hl, ln in kids:
            b = meta[s:s + ln]
            if t == b"iloc":
                b = _build_iloc(lv, sizes, its)
            elif t == b"iinf" and new_inf is not None:
                cnt = len(infes) + 1
                body = bytearray(meta[s + 8:s + 12]) + cnt.to_bytes(2 if iv == 0 else 4, "big")
                body += b"".join(i["raw"] for i in infes) + new_inf
                b = box(b"iinf", bytes(body))
            elif t == b"iref" and iref_add is not None:
                have_iref = True
                rv = meta[s + 8]
                w = 2 if rv == 0 else 4
                ref = box(b"cdsc", iref_add[0].to_bytes(w, "big") + (1).to_bytes(2, "big") +
                          iref_add[1].to_bytes(w, "big"))
                b = box(b"iref", meta[s + 8:s + ln] + ref)
            out += b
        if iref_add is not None and not have_iref:
            out += box(b"iref", b"\x00\x00\x00\x00" + box(b"cdsc", iref_add[0].to_bytes(2, "big") + b"\x00\x01" +
                                                          iref_add[1].to_bytes(2, "big")))
        return box(b"meta", bytes(out))

    trial = rebuild(0, 0)
    shift = len(trial) - mln
    tail_start = cut + shift  # where our mdat box will start in the output
    new_meta = rebuild(shift, tail_start + 8)
    if len(new_meta) != len(trial):
        raise bad("HEIF meta size changed while fixing offsets")
    return data[:ms] + new_meta + data[ms + mln:cut] + box(b"mdat", packet)


def heif_essence(data: bytes):
    meta, kids, infes, items = _located_items(data)
    skip = {i["id"] for i in infes if i["type"] in (b"mime", b"Exif", b"uri ")}
    for it in sorted(items, key=lambda x: x["id"]):
        if it["id"] not in skip:
            yield _item_data(data, meta, kids, it)


# ---------------------------------------------------------------- carrier (registered on cnai.carriers)

HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif", b"avis", b"hevc", b"hevx")
HEIF = FunctionCarrier(
    "heif", sniff=lambda h, p: h[4:8] == b"ftyp" and h[8:12] in HEIF_BRANDS, extensions=(".heic", ".heif", ".avif"),
    media_types=("image/heic", "image/heif", "image/avif"), where="xmp",
    standard="XMP item (mime application/rdf+xml) with TC260:AIGC (image guide: ISO/IEC 23008-12)",
    visible="image", priority=40,  # before MP4: both are ISO-BMFF
    read_bytes=heif_read, write_bytes=heif_write, essence_bytes=heif_essence)
