"""Audio carriers: WAV (RIFF chunk "AIGC"), MP3 (ID3v2 TXXX "AIGC"), FLAC and Ogg Vorbis/Opus (Vorbis comment
AIGC=...). WAV/MP3 placements: reference 2.3 (TC260-PG-202510A as summarised; secondary). FLAC/OGG: the
guide's annexes were not available; a Vorbis comment named AIGC is OUR choice, mirroring what
ffmpeg -metadata AIGC=... writes (HarmonyOS FAQ, reference 5)."""

from __future__ import annotations

import struct

from cnai.label.formats.base import Found, FunctionCarrier, Scan, WriteOpts, bad, generator_traces
from cnai.label.formats.riff import riff_chunk, riff_chunks, riff_file
from cnai.label.model import find_json_blobs


# ---------------------------------------------------------------- WAV / RIFF
def _riff_chunks(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """[(id, start, data_len, end)] of top-level chunks."""
    return riff_chunks(data, (b"WAVE",), "WAV")


def wav_read(data: bytes) -> Scan:
    scan = Scan()
    for cid, s, ln, _e in _riff_chunks(data):
        body = data[s + 8:s + 8 + ln]
        if cid == b"AIGC":
            scan.found.append(Found("riff-chunk", body.decode("utf-8", "replace").rstrip("\x00"), s))
        elif cid in (b"LIST", b"_PMX", b"id3 ", b"ID3 ", b"iXML") and b"AIGC" in body:
            for off, js in find_json_blobs(body):
                scan.found.append(Found(f"riff-{cid.decode().strip().lower()}", js, s + 8 + off))
            if cid == b"_PMX":
                from cnai.label.formats.images import _xmp_found

                _xmp_found(scan, body, "xmp", s)
    return scan


def wav_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    chunks = _riff_chunks(data)
    body = bytearray()
    for cid, s, _ln, e in chunks:
        if cid != b"AIGC":
            body += data[s:e]
    body += riff_chunk(b"AIGC", label_json.encode("utf-8"))
    return riff_file(b"WAVE", bytes(body), "WAV")


def wav_essence(data: bytes):
    for cid, s, ln, _e in _riff_chunks(data):
        if cid in (b"fmt ", b"data"):
            yield data[s:s + 8 + ln]


# ---------------------------------------------------------------- MP3 / ID3v2
def _syncsafe(b: bytes) -> int:
    if any(x & 0x80 for x in b):
        raise bad("ID3v2 size is not sync-safe", 6)
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _to_syncsafe(n: int) -> bytes:
    if n >= 1 << 28:
        raise bad("ID3v2 tag would exceed 256 MiB")
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _id3(data: bytes):
    """(version, flags, frames [(id, raw_frame_bytes)], end_offset) or None when there is no ID3v2 tag."""
    if data[:3] != b"ID3":
        return None
    if len(data) < 10:
        raise bad("ID3v2 header truncated", 0)
    ver, flags = data[3], data[5]
    if ver not in (3, 4):
        raise bad(f"ID3v2.{ver} is not supported (only 2.3 and 2.4)", 3)
    size = _syncsafe(data[6:10])
    end = 10 + size + (10 if ver == 4 and flags & 0x10 else 0)
    if 10 + size > len(data):
        raise bad(f"ID3v2 tag size {size} runs past the end of the file", 6)
    body = data[10:10 + size]
    if flags & 0x80 and ver == 3:
        body = body.replace(b"\xff\x00", b"\xff")
    p = 0
    if flags & 0x40:
        if len(body) < 4:
            raise bad("ID3v2 extended header truncated", 10)
        ext = struct.unpack(">I", body[:4])[0] + 4 if ver == 3 else _syncsafe(body[:4])
        p = ext
    frames = []
    while p + 10 <= len(body):
        fid = body[p:p + 4]
        if fid[0] == 0:
            break
        if not all(48 <= c <= 57 or 65 <= c <= 90 for c in fid):
            raise bad(f"invalid ID3v2 frame id {fid!r}", 10 + p)
        fsize = _syncsafe(body[p + 4:p + 8]) if ver == 4 else struct.unpack(">I", body[p + 4:p + 8])[0]
        if p + 10 + fsize > len(body):
            raise bad(f"ID3v2 frame {fid.decode()} size {fsize} runs past the tag", 10 + p)
        frames.append((fid, body[p:p + 10 + fsize]))
        p += 10 + fsize
    return ver, flags, frames, end


def _txxx(frame: bytes) -> tuple[str, str] | None:
    b = frame[10:]
    if not b:
        return None
    enc, rest = b[0], b[1:]
    if enc in (1, 2):
        codec = "utf-16" if enc == 1 else "utf-16-be"
        i = 0
        while i + 1 < len(rest) and rest[i:i + 2] != b"\x00\x00":
            i += 2
        desc, val = rest[:i], rest[i + 2:]
        try:
            return desc.decode(codec), val.decode(codec).rstrip("\x00")
        except UnicodeDecodeError:
            return None
    codec = "latin-1" if enc == 0 else "utf-8"
    desc, _, val = rest.partition(b"\x00")
    return desc.decode(codec, "replace"), val.decode(codec, "replace").rstrip("\x00")


def mp3_read(data: bytes) -> Scan:
    scan = Scan()
    t = _id3(data)
    if t is None:
        if not (len(data) > 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
            raise bad("not an MP3 (no ID3v2 tag and no MPEG frame sync)", 0)
        return scan
    _ver, _flags, frames, end = t
    for fid, raw in frames:
        if fid == b"TXXX":
            tx = _txxx(raw)
            if tx and tx[0].upper() == "AIGC":
                scan.found.append(Found("id3-txxx", tx[1]))
        elif fid in (b"COMM", b"PRIV", b"GEOB") and b"AIGC" in raw:
            for _off, js in find_json_blobs(raw):
                scan.found.append(Found(f"id3-{fid.decode().lower()}", js))
    scan.traces += generator_traces(data[:end])
    return scan


def mp3_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    t = _id3(data)
    if t is None:
        if not (len(data) > 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
            raise bad("not an MP3 (no ID3v2 tag and no MPEG frame sync)", 0)
        ver, frames, old_total, audio_at = 4, [], 0, 0
    else:
        ver, _flags, frames, end = t
        old_total, audio_at = end - 10, end
    kept = []
    for fid, raw in frames:
        if fid == b"TXXX":
            tx = _txxx(raw)
            if tx and tx[0].upper() == "AIGC":
                continue
        kept.append(raw)
    try:
        val = label_json.encode("latin-1")
        body = b"\x00AIGC\x00" + val
    except UnicodeEncodeError:
        body = (b"\x03AIGC\x00" + label_json.encode("utf-8")) if ver == 4 else \
            (b"\x01" + "AIGC".encode("utf-16") + b"\x00\x00" + label_json.encode("utf-16"))
    size = _to_syncsafe(len(body)) if ver == 4 else struct.pack(">I", len(body))
    kept.append(b"TXXX" + size + b"\x00\x00" + body)
    frames_b = b"".join(kept)
    # reuse the old tag's space (padding) when it fits, so the audio does not move
    total = old_total if len(frames_b) <= old_total else len(frames_b) + 1024
    header = b"ID3" + bytes([ver, 0, 0]) + _to_syncsafe(total)
    return header + frames_b + b"\x00" * (total - len(frames_b)) + data[audio_at:]


def mp3_essence(data: bytes):
    t = _id3(data)
    start = t[3] if t else 0
    end = len(data) - 128 if data[-128:-125] == b"TAG" else len(data)
    yield data[start:end]


# ---------------------------------------------------------------- FLAC
def _flac_blocks(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """[(type, start, end)] of metadata blocks, and where audio frames begin."""
    p = 0
    if data[:3] == b"ID3":  # tolerated leading ID3v2 tag
        t = _id3(data)
        p = t[3]
    if data[p:p + 4] != b"fLaC":
        raise bad("not a FLAC stream (no fLaC marker)", p)
    p += 4
    out = []
    while True:
        if p + 4 > len(data):
            raise bad("FLAC metadata block header truncated", p)
        h = data[p]
        ln = int.from_bytes(data[p + 1:p + 4], "big")
        if p + 4 + ln > len(data):
            raise bad(f"FLAC metadata block length {ln} runs past the end of the file", p)
        out.append((h & 0x7F, p, p + 4 + ln))
        p += 4 + ln
        if h & 0x80:
            return out, p
        if len(out) > 10000:
            raise bad("too many FLAC metadata blocks", p)


def _vc_parse(b: bytes, off: int = 0) -> tuple[bytes, list[bytes], int]:
    """Vorbis comment list: (vendor, [comments], end offset)."""
    try:
        vl = struct.unpack_from("<I", b, off)[0]
        vendor = b[off + 4:off + 4 + vl]
        p = off + 4 + vl
        n = struct.unpack_from("<I", b, p)[0]
        p += 4
        if n > len(b):
            raise bad(f"Vorbis comment count {n} is implausible", p)
        out = []
        for _ in range(n):
            ln = struct.unpack_from("<I", b, p)[0]
            if p + 4 + ln > len(b):
                raise bad("Vorbis comment runs past its block", p)
            out.append(b[p + 4:p + 4 + ln])
            p += 4 + ln
        return vendor, out, p
    except struct.error:
        raise bad("Vorbis comment block truncated", off) from None


def _vc_build(vendor: bytes, comments: list[bytes]) -> bytes:
    out = bytearray(struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments)))
    for c in comments:
        out += struct.pack("<I", len(c)) + c
    return bytes(out)


def _vc_found(scan: Scan, comments: list[bytes]) -> None:
    for c in comments:
        k, _, v = c.partition(b"=")
        if k.upper() == b"AIGC":
            scan.found.append(Found("vorbis-comment", v.decode("utf-8", "replace")))


def _vc_replace(comments: list[bytes], label_json: str) -> list[bytes]:
    kept = [c for c in comments if c.partition(b"=")[0].upper() != b"AIGC"]
    return kept + [b"AIGC=" + label_json.encode("utf-8")]


def flac_read(data: bytes) -> Scan:
    scan = Scan()
    blocks, _ = _flac_blocks(data)
    for typ, s, e in blocks:
        if typ == 4:
            _v, comments, _ = _vc_parse(data[s + 4:e])
            _vc_found(scan, comments)
    return scan


def flac_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    blocks, audio = _flac_blocks(data)
    prefix = data[:blocks[0][1] - 4]
    new_blocks: list[tuple[int, bytes]] = []
    had_vc = False
    for typ, s, e in blocks:
        body = data[s + 4:e]
        if typ == 4:
            if had_vc:
                continue
            vendor, comments, _ = _vc_parse(body)
            body = _vc_build(vendor, _vc_replace(comments, label_json))
            had_vc = True
        new_blocks.append((typ, body))
    if not had_vc:
        new_blocks.insert(1, (4, _vc_build(b"cnai", _vc_replace([], label_json))))
    old_len = audio - blocks[0][1]
    new_len = sum(4 + len(b) for _, b in new_blocks)
    pads = [i for i, (t, _) in enumerate(new_blocks) if t == 1]
    if pads and new_len != old_len:  # absorb the change in an existing PADDING block
        i = pads[-1]
        want = len(new_blocks[i][1]) - (new_len - old_len)
        if want >= 0:
            new_blocks[i] = (1, b"\x00" * want)
    out = bytearray(prefix + b"fLaC")
    for i, (t, b) in enumerate(new_blocks):
        if len(b) >= 1 << 24:
            raise bad("FLAC metadata block would exceed 16 MiB")
        out += bytes([t | (0x80 if i == len(new_blocks) - 1 else 0)]) + len(b).to_bytes(3, "big") + b
    out += data[audio:]
    return bytes(out)


def flac_essence(data: bytes):
    blocks, audio = _flac_blocks(data)
    yield data[blocks[0][1]:blocks[0][2]]  # STREAMINFO (has the MD5 of the decoded audio)
    yield data[audio:]


# ---------------------------------------------------------------- Ogg (Vorbis, Opus)
def _crc_table() -> list[int]:
    t = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if r & 0x80000000 else (r << 1) & 0xFFFFFFFF
        t.append(r)
    return t


_CRC = _crc_table()


def ogg_crc(b: bytes) -> int:
    c = 0
    t = _CRC
    for x in b:
        c = ((c << 8) & 0xFFFFFFFF) ^ t[((c >> 24) ^ x) & 0xFF]
    return c


def _ogg_pages(data: bytes, start: int = 0, limit: int | None = None):
    """Yield (start, end, header_type, granule, serial, seq, segments_table, body_start)."""
    p, n, k = start, len(data), 0
    while p < n:
        if data[p:p + 4] != b"OggS":
            raise bad("Ogg page capture pattern 'OggS' missing", p)
        if p + 27 > n:
            raise bad("Ogg page header truncated", p)
        htype = data[p + 5]
        granule, serial, seq = struct.unpack_from("<qII", data, p + 6)
        ns = data[p + 26]
        segs = data[p + 27:p + 27 + ns]
        body = p + 27 + ns
        e = body + sum(segs)
        if e > n:
            raise bad("Ogg page runs past the end of the file", p)
        yield p, e, htype, granule, serial, seq, segs, body
        p = e
        k += 1
        if limit is not None and k >= limit:
            return


def _ogg_headers(data: bytes):
    """Collect header packets. Returns (codec, packets, pages_used, end_offset, serial)."""
    packets: list[bytes] = []
    cur = bytearray()
    need = None
    serial = None
    pages = 0
    for s, e, _ht, _g, ser, _seq, segs, body in _ogg_pages(data, limit=512):
        if serial is None:
            serial = ser
        elif ser != serial:
            raise bad("multiplexed Ogg streams are not supported", s)
        pages += 1
        q = body
        for L in segs:
            cur += data[q:q + L]
            q += L
            if L < 255:
                packets.append(bytes(cur))
                cur = bytearray()
                if need is None:
                    if packets[0].startswith(b"\x01vorbis"):
                        need = 3
                    elif packets[0].startswith(b"OpusHead"):
                        need = 2
                    else:
                        raise bad("only Ogg Vorbis and Ogg Opus are supported", s)
        if need is not None and len(packets) >= need:
            if len(packets) > need or cur:
                raise bad("Ogg header page also carries audio data (unusual; not supported)", s)
            return ("vorbis" if need == 3 else "opus"), packets, pages, e, serial
    raise bad("Ogg header packets incomplete", 0)


def _comment_split(codec: str, pkt: bytes) -> tuple[bytes, int]:
    sig = b"\x03vorbis" if codec == "vorbis" else b"OpusTags"
    if not pkt.startswith(sig):
        raise bad(f"second Ogg packet is not a {codec} comment header")
    return sig, len(sig)


def ogg_read(data: bytes) -> Scan:
    scan = Scan()
    codec, packets, _pages, _end, _serial = _ogg_headers(data)
    _sig, off = _comment_split(codec, packets[1])
    _v, comments, _ = _vc_parse(packets[1], off)
    _vc_found(scan, comments)
    return scan


def _paginate(packets: list[bytes], serial: int, seq0: int, first_bos: bool) -> list[bytes]:
    pages = []
    segs: list[int] = []
    body = bytearray()
    cont = False
    seq = seq0

    def flush(final_cont: bool):
        nonlocal segs, body, seq, cont
        htype = (0x01 if cont else 0) | (0x02 if first_bos and seq == seq0 else 0)
        hdr = bytearray(b"OggS\x00" + bytes([htype]) + struct.pack("<qII", 0, serial, seq) + b"\x00\x00\x00\x00" +
                        bytes([len(segs)]) + bytes(segs))
        page = bytes(hdr) + bytes(body)
        crc = ogg_crc(page)
        pages.append(page[:22] + struct.pack("<I", crc) + page[26:])
        seq += 1
        segs, body, cont = [], bytearray(), final_cont

    for pkt in packets:
        lace = [255] * (len(pkt) // 255) + [len(pkt) % 255]
        pos = 0
        for L in lace:
            if len(segs) == 255:
                flush(True)
            segs.append(L)
            body += pkt[pos:pos + L]
            pos += L
        if first_bos and seq == seq0 and pkt is packets[0]:
            flush(False)  # the identification header is alone on the first page
    if segs:
        flush(False)
    return pages


def ogg_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    codec, packets, npages, end, serial = _ogg_headers(data)
    sig, off = _comment_split(codec, packets[1])
    vendor, comments, p = _vc_parse(packets[1], off)
    tail = packets[1][p:]  # vorbis framing bit / opus extra data
    packets[1] = sig + _vc_build(vendor, _vc_replace(comments, label_json)) + tail
    pages = _paginate(packets, serial, 0, True)
    delta = len(pages) - npages
    out = bytearray(b"".join(pages))
    if delta == 0:
        out += data[end:]
        return bytes(out)
    for s, e, _ht, _g, _ser, seq, _segs, _b in _ogg_pages(data, end):  # renumber the rest
        page = bytearray(data[s:e])
        page[18:22] = struct.pack("<I", seq + delta)
        page[22:26] = b"\x00\x00\x00\x00"
        page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
        out += page
    return bytes(out)


def ogg_essence(data: bytes):
    codec, packets, _n, end, _serial = _ogg_headers(data)
    yield packets[0]
    if codec == "vorbis":
        yield packets[2]
    for _s, _e, _ht, g, _ser, _seq, segs, body in _ogg_pages(data, end):
        yield struct.pack("<q", g) + data[body:body + sum(segs)]


# ---------------------------------------------------------------- carriers (registered on cnai.carriers)


def _id3_then_flac(h: bytes) -> bool:
    """ID3v2 tags can precede FLAC too."""
    if len(h) < 10:
        return False
    sz = (h[6] << 21) | (h[7] << 14) | (h[8] << 7) | h[9]
    return h[10 + sz:14 + sz] == b"fLaC"


def _sniff_mp3(h: bytes, path: str) -> bool:
    if h.startswith(b"ID3"):
        return not _id3_then_flac(h)
    # a bare MPEG frame sync is too weak a signal on its own: only with an .mp3 name
    return len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0 and path.lower().endswith(".mp3")


WAV = FunctionCarrier(
    "wav", sniff=lambda h, p: h[:4] in (b"RIFF", b"RF64") and h[8:12] == b"WAVE", extensions=(".wav",),
    media_types=("audio/wav",), where="riff-chunk", standard="RIFF chunk 'AIGC' (audio guide)", visible="wav",
    read_bytes=wav_read, write_bytes=wav_write, essence_bytes=wav_essence)
MP3 = FunctionCarrier(
    "mp3", sniff=_sniff_mp3, extensions=(".mp3",), media_types=("audio/mpeg",), where="id3-txxx",
    standard="ID3v2 TXXX 'AIGC' (audio guide)", visible="audio", priority=55,
    read_bytes=mp3_read, write_bytes=mp3_write, essence_bytes=mp3_essence)
FLAC = FunctionCarrier(
    "flac", sniff=lambda h, p: h.startswith(b"fLaC") or (h.startswith(b"ID3") and _id3_then_flac(h)),
    extensions=(".flac",), media_types=("audio/flac",), where="vorbis-comment",
    standard="Vorbis comment AIGC= (our choice; guide annex not seen)", visible="audio",
    read_bytes=flac_read, write_bytes=flac_write, essence_bytes=flac_essence)
OGG = FunctionCarrier(
    "ogg", sniff=lambda h, p: h.startswith(b"OggS"), extensions=(".ogg", ".opus", ".oga"),
    media_types=("audio/ogg",), where="vorbis-comment",
    standard="Vorbis comment AIGC= (our choice; guide annex not seen)", visible="audio",
    read_bytes=ogg_read, write_bytes=ogg_write, essence_bytes=ogg_essence)
