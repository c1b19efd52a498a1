"""Document carriers.

- PDF: Info dictionary key /AIGC (TC260-PG-20258A section 6.3 as reported by secondary sources, reference
  2.3; secondary). Written as an incremental update appended to the file, so every original byte is kept.
- OOXML (docx/xlsx/pptx and templates): docProps/custom.xml property "AIGC" (vt:lpwstr), registered in
  _rels/.rels and [Content_Types].xml (reference 2.3; secondary).
- Markdown / plain text: YAML front matter with an AIGC mapping (reference 2.3 for Markdown; using the same
  front matter for .txt is OUR choice -- the text guide's rule for plain text was not available).
"""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from typing import TYPE_CHECKING

from cnai.label import xmp as X
from cnai.label.formats.base import Found, FunctionCarrier, Scan, WriteOpts, bad
from cnai.label.model import KEYS, find_json_blobs

if TYPE_CHECKING:  # zipfile itself is imported where a ZIP is opened: not part of every command's start-up
    import zipfile

# ---------------------------------------------------------------- PDF
MARK = b"%cnai-aigc-update "


def _pdf_check(data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise bad("not a PDF (no %PDF- header)", 0)


def _literal(data: bytes, p: int) -> tuple[bytes, int]:
    """Parse a PDF literal string starting at '(' -> (decoded bytes, end offset)."""
    out = bytearray()
    depth = 0
    i = p
    n = len(data)
    esc = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f",
           ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}
    while i < n:
        c = data[i]
        if c == 0x5C:
            i += 1
            if i >= n:
                break
            d = data[i]
            if d in esc:
                out += esc[d]
            elif 0x30 <= d <= 0x37:
                j = i
                while j < min(i + 3, n) and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i:j], 8) & 0xFF)
                i = j - 1
            elif d in (0x0A, 0x0D):
                if d == 0x0D and i + 1 < n and data[i + 1] == 0x0A:
                    i += 1
            else:
                out.append(d)
        elif c == 0x28:
            depth += 1
            if depth > 1:
                out.append(c)
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
            out.append(c)
        else:
            out.append(c)
        i += 1
    raise bad("unterminated PDF string", p)


def _pdf_text(b: bytes) -> str:
    if b.startswith(b"\xfe\xff"):
        return b[2:].decode("utf-16-be", "replace")
    if b.startswith(b"\xef\xbb\xbf"):
        return b[3:].decode("utf-8", "replace")
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def _pdf_value_at(data: bytes, p: int) -> str | None:
    while p < len(data) and data[p] in b" \t\r\n\f\x00":
        p += 1
    if p < len(data) and data[p] == 0x28:
        return _pdf_text(_literal(data, p)[0])
    if p < len(data) and data[p] == 0x3C and data[p + 1:p + 2] != b"<":
        e = data.find(b">", p)
        if e < 0:
            return None
        hx = re.sub(rb"\s", b"", data[p + 1:e])
        try:
            return _pdf_text(bytes.fromhex((hx + b"0" * (len(hx) & 1)).decode()))
        except ValueError:
            return None
    return None


def pdf_read(data: bytes) -> Scan:
    _pdf_check(data)
    scan = Scan()
    hits = [m.end() for m in re.finditer(rb"/AIGC(?=[\s(<])", data)]
    if hits:
        v = _pdf_value_at(data, hits[-1])
        if v is not None:
            scan.found.append(Found("pdf-info", v, hits[-1] - 5))
    for m in re.finditer(re.escape(X.TC260_NS.encode()), data):
        s = data.rfind(b"<x:xmpmeta", 0, m.start())
        e = data.find(b"</x:xmpmeta>", m.start())
        if s >= 0 and e > 0:
            p = X.parse(data[s:e + 12])
            if p["aigc"]:
                scan.found.append(Found("xmp", p["aigc"], s))
    if b"Iptc4xmpExt" in data:
        m = re.search(rb"DigitalSourceType[^>]*>\s*([^<\s]+)", data)
        if m:
            scan.digital_source_type = m.group(1).decode("utf-8", "replace")
    # FlateDecode metadata streams are not inflated here; bare JSON anywhere else is a variant
    return scan


def _pdf_base(data: bytes) -> bytes:
    """Strip our own previous incremental update (idempotent relabelling)."""
    i = data.rfind(b"\n" + MARK)
    if i >= 0:
        m = re.match(rb"\d+", data[i + 1 + len(MARK):i + 1 + len(MARK) + 20])
        if m and int(m.group()) == i + 1:
            return data[:i + 1]
    return data


def pdf_original_length(data: bytes) -> int:
    return len(_pdf_base(data))


def _dict_span(data: bytes, p: int) -> tuple[int, int]:
    s = data.find(b"<<", p)
    if s < 0:
        raise bad("PDF dictionary expected", p)
    depth, i = 0, s
    n = len(data)
    while i < n - 1:
        if data[i] == 0x28:
            _v, i = _literal(data, i)
            continue
        if data[i:i + 2] == b"<<":
            depth += 1
            i += 2
            continue
        if data[i:i + 2] == b">>":
            depth -= 1
            i += 2
            if depth == 0:
                return s, i
            continue
        i += 1
    raise bad("unterminated PDF dictionary", s)


def _dict_entries(d: bytes) -> list[tuple[bytes, bytes]]:
    """Top-level (key, raw value) pairs of a dictionary body without the outer << >>."""
    out = []
    i, n = 0, len(d)
    ws = b" \t\r\n\f\x00"
    while i < n:
        while i < n and d[i] in ws:
            i += 1
        if i >= n:
            break
        if d[i] == 0x25:  # comment
            while i < n and d[i] not in b"\r\n":
                i += 1
            continue
        if d[i] != 0x2F:
            raise bad("PDF dictionary key expected")
        j = i + 1
        while j < n and d[j] not in ws + b"/<>[]()%":
            j += 1
        key = d[i:j]
        i = j
        while i < n and d[i] in ws:
            i += 1
        vs = i
        if i < n and d[i] == 0x28:
            _v, i = _literal(d, i)
        elif d[i:i + 2] == b"<<":
            s, e = _dict_span(d, i)
            i = e
        elif i < n and d[i] == 0x3C:
            j = d.find(b">", i)
            if j < 0:
                raise bad("unterminated PDF hex string")
            i = j + 1
        elif i < n and d[i] == 0x5B:
            depth = 0
            while i < n:
                if d[i] == 0x28:
                    _v, i = _literal(d, i)
                    continue
                depth += (d[i] == 0x5B) - (d[i] == 0x5D)
                i += 1
                if depth == 0:
                    break
        elif i < n and d[i] == 0x2F:
            i += 1
            while i < n and d[i] not in ws + b"/<>[]()%":
                i += 1
        else:
            m = re.match(rb"\d+\s+\d+\s+R|[^\s/<>\[\]()%]+", d[i:])
            if not m:
                raise bad("PDF dictionary value expected")
            i += m.end()
        out.append((key, d[vs:i]))
    return out


def _pdf_str(s: str) -> bytes:
    try:
        b = s.encode("ascii")
        return b"(" + b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    except UnicodeEncodeError:
        return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode() + b">"


def pdf_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    _pdf_check(data)
    data = _pdf_base(data)
    sx = data.rfind(b"startxref")
    if sx < 0:
        raise bad("PDF has no startxref (truncated file?)")
    m = re.match(rb"startxref\s+(\d+)", data[sx:])
    if not m:
        raise bad("PDF startxref has no offset", sx)
    prev = int(m.group(1))
    if prev >= len(data):
        raise bad(f"PDF startxref offset {prev} is past the end of the file", sx)
    if data[prev:prev + 4] == b"xref":
        t = data.find(b"trailer", prev)
        if t < 0:
            raise bad("PDF xref table has no trailer", prev)
        ds, de = _dict_span(data, t)
        xref_stream = False
    else:
        if not re.match(rb"\s*\d+\s+\d+\s+obj", data[prev:prev + 40]):
            raise bad("PDF startxref does not point at an xref table or stream", prev)
        ds, de = _dict_span(data, prev)
        xref_stream = True
    trailer = dict(_dict_entries(data[ds + 2:de - 2]))
    if b"/Encrypt" in trailer:
        raise bad("encrypted PDFs are not supported (Info strings would need encrypting)")
    try:
        size = int(trailer[b"/Size"])
        root = trailer[b"/Root"]
    except (KeyError, ValueError):
        raise bad("PDF trailer lacks /Size or /Root", ds) from None
    entries: list[tuple[bytes, bytes]] = []
    info = trailer.get(b"/Info")
    at = _obj_at(data, info) if info else None
    if at is not None:
        s, e = _dict_span(data, at)
        entries = [kv for kv in _dict_entries(data[s + 2:e - 2]) if kv[0] != b"/AIGC"]
    entries.append((b"/AIGC", _pdf_str(label_json)))
    objs: list[tuple[int, int, bytes]] = [(size, 0, b"<<" + b"".join(k + b" " + v + b"\n" for k, v in entries) + b">>")]
    nxt = size + 1
    xmp = _pdf_xmp_update(data, root, label_json, opts, nxt)
    if xmp:
        objs += xmp
        nxt += 1
    base = data if data.endswith(b"\n") else data + b"\n"
    out = bytearray(base)
    out += MARK + str(len(base)).encode() + b"\n"
    rows: list[tuple[int, int, int]] = []
    for num, gen, body in objs:
        rows.append((num, gen, len(out)))
        out += b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n"
    extra = b""
    if b"/ID" in trailer:
        extra += b" /ID " + trailer[b"/ID"]
    tail = b" /Root " + root + b" /Info %d 0 R /Prev %d" % (size, prev) + extra
    if not xref_stream:
        xref_off = len(out)
        out += b"xref\n" + b"".join(b"%d 1\n%010d %05d n \n" % (n, off, g) for n, g, off in sorted(rows))
        out += b"trailer\n<< /Size %d" % nxt + tail + b" >>\n"
    else:
        xobj = nxt
        xref_off = len(out)
        rows.append((xobj, 0, xref_off))
        rows.sort()
        data_rows = b"".join(struct.pack(">BIH", 1, off, g) for _n, g, off in rows)
        index = b" ".join(b"%d 1" % n for n, _g, _o in rows)
        out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s]" % (xobj, xobj + 1, index) + tail + \
            b" /Length %d >>\nstream\n" % len(data_rows) + data_rows + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_off
    return bytes(out)


def _obj_at(data: bytes, ref: bytes) -> int | None:
    """Offset just after 'N G obj' of the latest uncompressed definition of an indirect reference."""
    im = re.match(rb"\s*(\d+)\s+(\d+)\s+R", ref)
    if not im:
        return None
    hits = list(re.finditer(rb"(?<![0-9])" + im.group(1) + rb"\s+" + im.group(2) + rb"\s+obj\b", data))
    if not hits:
        return None
    at = hits[-1].end()
    s = data.find(b"<<", at)
    return at if s >= 0 and not data[at:s].strip() else None


def _pdf_xmp_update(data: bytes, root: bytes, label_json: str, opts: WriteOpts, num: int):
    """New XMP metadata stream (object num) + a new version of the Catalog pointing at it, or None when the
    Catalog or its current metadata cannot be read (then only the Info dictionary carries the label)."""
    rm = re.match(rb"\s*(\d+)\s+(\d+)\s+R", root)
    at = _obj_at(data, root)
    if not rm or at is None:
        return None
    s, e = _dict_span(data, at)
    cat = _dict_entries(data[s + 2:e - 2])
    old_packet = None
    md = dict(cat).get(b"/Metadata")
    if md:
        mat = _obj_at(data, md)
        if mat is None:
            return None
        ms, me = _dict_span(data, mat)
        mdict = dict(_dict_entries(data[ms + 2:me - 2]))
        st = data.find(b"stream", me)
        ln = mdict.get(b"/Length", b"").strip()
        if st < 0 or data[me:st].strip() or not ln.isdigit():
            return None
        p = st + 6
        p += 2 if data[p:p + 2] == b"\r\n" else 1
        raw = data[p:p + int(ln)]
        filt = mdict.get(b"/Filter", b"").strip()
        if filt in (b"/FlateDecode", b"[/FlateDecode]"):
            try:
                raw = zlib.decompressobj().decompress(raw, 16 << 20)
            except zlib.error:
                return None
        elif filt:
            return None
        old_packet = raw.decode("utf-8", "replace")
    packet = X.set_label(old_packet, label_json, digital_source_type=opts.digital_source_type).encode("utf-8")
    stream = b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(packet) + packet + b"\nendstream"
    new_cat = [kv for kv in cat if kv[0] != b"/Metadata"] + [(b"/Metadata", b"%d 0 R" % num)]
    cat_body = b"<<" + b"".join(k + b" " + v + b"\n" for k, v in new_cat) + b">>"
    return [(num, 0, stream), (int(rm.group(1)), int(rm.group(2)), cat_body)]


def pdf_essence(data: bytes):
    yield _pdf_base(data)


# ---------------------------------------------------------------- OOXML
CUSTOM = "docProps/custom.xml"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
CP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
MAX_MEMBER = 256 << 20


def _zip(data: bytes) -> zipfile.ZipFile:
    import zipfile
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, NotImplementedError, RuntimeError, OSError, EOFError) as e:
        raise bad(f"not a valid OOXML/ZIP package: {e}") from None
    if "[Content_Types].xml" not in z.namelist():
        raise bad("ZIP has no [Content_Types].xml, so it is not an OOXML package")
    return z


def _zread_text(z: zipfile.ZipFile, name: str) -> str:
    b = _zread(z, name)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad(f"ZIP member {name} is not UTF-8 XML (byte {e.start})") from None


def _zread(z: zipfile.ZipFile, name: str) -> bytes:
    import zipfile
    info = z.getinfo(name)
    if info.file_size > MAX_MEMBER:
        raise bad(f"ZIP member {name} is {info.file_size} bytes uncompressed (limit {MAX_MEMBER})")
    try:
        return z.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError, OSError,
            KeyError) as e:
        raise bad(f"ZIP member {name} is corrupt: {e}") from None


def _custom_props(xml: str) -> list[tuple[str, str]]:
    """(name, raw <property> element) pairs."""
    pat = r'<(?:\w+:)?property\b[^>]*?\bname="([^"]*)"[^>]*>.*?</(?:\w+:)?property>'
    return [(html.unescape(m.group(1)), m.group(0)) for m in re.finditer(pat, xml, re.S)]


def ooxml_read(data: bytes) -> Scan:
    scan = Scan()
    z = _zip(data)
    if CUSTOM in z.namelist():
        xml = _zread(z, CUSTOM).decode("utf-8", "replace")
        for name, el in _custom_props(xml):
            if name.upper() == "AIGC":
                m = re.search(r"<(?:\w+:)?lpwstr>(.*?)</(?:\w+:)?lpwstr>", el, re.S)
                if m:
                    scan.found.append(Found("ooxml-custom", html.unescape(m.group(1))))
    return scan


def ooxml_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    z = _zip(data)
    names = z.namelist()
    if len(set(names)) != len(names):
        raise bad("ZIP has duplicate member names")
    prop = (f'<property fmtid="{FMTID}" pid="PID" name="AIGC"><vt:lpwstr>{html.escape(label_json, quote=False)}'
            "</vt:lpwstr></property>")
    if CUSTOM in names:
        xml = _zread_text(z, CUSTOM)
        for _name, el in _custom_props(xml):
            if _name.upper() == "AIGC":
                xml = xml.replace(el, "")
        pids = [int(p) for p in re.findall(r'\bpid="(\d+)"', xml)]
        prop = prop.replace("PID", str(max(pids + [1]) + 1))
        i = xml.rfind("</Properties>")
        if i < 0:
            m = list(re.finditer(r"</\w+:Properties>", xml))
            if not m:
                raise bad("docProps/custom.xml has no Properties root", field=None)
            i = m[-1].start()
        custom = xml[:i] + prop + xml[i:]
    else:
        custom = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  f'<Properties xmlns="{CP_NS}" xmlns:vt="{VT_NS}">' + prop.replace("PID", "2") + "</Properties>")
    ct = _zread_text(z, "[Content_Types].xml")
    if 'PartName="/docProps/custom.xml"' not in ct:
        i = ct.rfind("</Types>")
        if i < 0:
            raise bad("[Content_Types].xml has no Types root")
        ct = ct[:i] + f'<Override PartName="/docProps/custom.xml" ContentType="{CUSTOM_CT}"/>' + ct[i:]
    rels = _zread_text(z, "_rels/.rels") if "_rels/.rels" in names else None
    if rels is None:
        raise bad("OOXML package has no _rels/.rels")
    if CUSTOM_REL not in rels:
        ids = re.findall(r'Id="rId(\d+)"', rels)
        rid = f"rId{max([int(x) for x in ids] + [0]) + 1}"
        i = rels.rfind("</Relationships>")
        rels = rels[:i] + f'<Relationship Id="{rid}" Type="{CUSTOM_REL}" Target="docProps/custom.xml"/>' + rels[i:]
    return zip_replace(z, {CUSTOM: custom.encode("utf-8"), "[Content_Types].xml": ct.encode("utf-8"),
                           "_rels/.rels": rels.encode()})


def zip_replace(z: zipfile.ZipFile, repl: dict[str, bytes]) -> bytes:
    """Rewrite a ZIP keeping member order, names, dates and compression; replace/add the given members."""
    import zipfile
    repl = dict(repl)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in z.infolist():
            body = repl.pop(info.filename, None)
            if body is None:
                body = _zread(z, info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            out.writestr(zi, body)
        for name, body in repl.items():
            zi = zipfile.ZipInfo(name, date_time=(2025, 9, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zi, body)
    return buf.getvalue()


def ooxml_essence(data: bytes):
    z = _zip(data)
    skip = {CUSTOM, "docProps/core.xml", "docProps/app.xml", "[Content_Types].xml", "_rels/.rels"}
    for name in sorted(z.namelist()):
        if name not in skip:
            yield name.encode() + b"\x00" + _zread(z, name)


# ---------------------------------------------------------------- Markdown / text
_FM = re.compile(r"\A(\ufeff?)---[ \t]*(\r?\n)(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
VISIBLE_PATTERNS = ("AI生成", "AI合成", "人工智能生成", "人工智能合成", "由AI生成", "由人工智能", "AI-generated",
                    "AI generated", "Generated by AI", "生成式人工智能")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad(f"text is not UTF-8 (invalid byte 0x{data[e.start]:02x})", e.start) from None


def _fm_aigc(fm: str) -> tuple[str | None, str]:
    """(json of the AIGC mapping if any, front matter without the AIGC block)."""
    import json

    from cnai.core.loaders import parse_yaml
    from cnai.errors import CnaiError

    lines = fm.splitlines(keepends=True)
    out, block, i = [], [], 0
    while i < len(lines):
        ln = lines[i]
        if re.match(r"AIGC\s*:", ln):
            block.append(ln)
            i += 1
            while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                block.append(lines[i])
                i += 1
            continue
        out.append(ln)
        i += 1
    if not block:
        return None, fm
    try:  # a user's file: no aliases, depth and size limits, duplicate keys refused (cnai.core.loaders)
        obj = parse_yaml("".join(block), source="front matter AIGC block", dates_as_strings=True,
                         max_bytes=1 << 20)
    except CnaiError as e:
        raise bad(f"front matter AIGC block is not valid YAML: {str(e).splitlines()[0]}") from None
    val = obj.get("AIGC") if isinstance(obj, dict) else None
    if isinstance(val, str):
        return val, "".join(out)
    if isinstance(val, dict):
        return json.dumps({str(k): "" if v is None else str(v) for k, v in val.items()},
                          ensure_ascii=False, separators=(",", ":")), "".join(out)
    return json.dumps(val), "".join(out)


def text_read(data: bytes) -> Scan:
    scan = Scan()
    t = _text(data)
    m = _FM.match(t)
    body = t
    if m:
        js, _rest = _fm_aigc(m.group(3))
        if js is not None:
            scan.found.append(Found("front-matter", js, 0))
        body = t[m.end():]
    for off, js in find_json_blobs(body.encode("utf-8")):
        scan.found.append(Found("text-json", js, off))
    head, tail = body[:400], body[-400:]
    for pat in VISIBLE_PATTERNS:
        if pat in head or pat in tail:
            scan.traces.append(f"visible text label {pat!r}")
            break
    return scan


def _yaml_str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text_write(data: bytes, label_json: str, opts: WriteOpts) -> bytes:
    import json

    t = _text(data)
    if t.lstrip("\ufeff").startswith(("+++\n", "+++\r\n")):
        raise bad("TOML front matter (+++) is not supported; convert it to YAML (---) first", 0)
    nl = "\r\n" if "\r\n" in t[:4096] else "\n"
    lab = json.loads(label_json)
    block = "AIGC:" + nl + "".join(f"  {k}: {_yaml_str(lab.get(k, ''))}{nl}" for k in KEYS)
    m = _FM.match(t)
    if m:
        _js, rest = _fm_aigc(m.group(3))
        rest = rest if not rest or rest.endswith(("\n", "\r")) else rest + nl
        fm = rest + block
        return (m.group(1) + "---" + nl + fm + "---" + nl + t[m.end():]).encode("utf-8")
    bom = "\ufeff" if t.startswith("\ufeff") else ""
    return (bom + "---" + nl + block + "---" + nl + t[len(bom):]).encode("utf-8")


def text_essence(data: bytes):
    t = _text(data)
    m = _FM.match(t)
    yield (t[m.end():] if m else t).encode("utf-8")


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_add_text_label(data: bytes, text: str, mode: str) -> bytes:
    """Explicit text label in a Word document: a paragraph at the start and/or end of the body (idempotent)."""
    z = _zip(data)
    name = "word/document.xml"
    if name not in z.namelist():
        raise bad("not a Word document (no word/document.xml); visible labels support .docx only")
    xml = _zread_text(z, name)
    m = re.search(r'xmlns:(\w+)="' + re.escape(W_NS) + '"', xml)
    if not m:
        raise bad("word/document.xml does not use the WordprocessingML namespace")
    w = m.group(1)
    para = f"<{w}:p><{w}:r><{w}:t>{html.escape(text, quote=False)}</{w}:t></{w}:r></{w}:p>"
    body = re.search(rf"<{w}:body(\s[^>]*)?>", xml)
    if not body:
        raise bad("word/document.xml has no body")
    if mode in ("prefix", "both") and not xml[body.end():].startswith(para):
        xml = xml[:body.end()] + para + xml[body.end():]
    if mode in ("suffix", "both"):
        end = xml.rfind(f"</{w}:body>")
        sect = xml.rfind(f"<{w}:sectPr", 0, end)
        at = sect if sect > 0 and xml.find(f"</{w}:p>", sect, end) < 0 else end
        if not xml[:at].endswith(para):
            xml = xml[:at] + para + xml[at:]
    return zip_replace(z, {name: xml.encode("utf-8")})


# ---------------------------------------------------------------- carriers (registered on cnai.carriers)

OOXML_EXT = (".docx", ".xlsx", ".pptx", ".dotx", ".potx", ".xltx")
TEXT_EXT = (".md", ".markdown", ".txt", ".text", ".mdx")


def _ext(path: str) -> str:
    import os

    return os.path.splitext(path)[1].lower()


PDF = FunctionCarrier(
    "pdf", sniff=lambda h, p: b"%PDF-" in h[:1024], extensions=(".pdf",), media_types=("application/pdf",),
    where="pdf-info", standard="Info dictionary /AIGC (text guide 6.3, secondary)", visible="pdf", priority=60,
    read_bytes=pdf_read, write_bytes=pdf_write, essence_bytes=pdf_essence)
OOXML = FunctionCarrier(
    "ooxml", sniff=lambda h, p: h.startswith(b"PK\x03\x04") and (_ext(p) in OOXML_EXT or b"[Content_Types].xml" in h),
    extensions=OOXML_EXT, media_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                       "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    where="ooxml-custom", standard="docProps/custom.xml property AIGC (text guide)", visible="docx", priority=65,
    read_bytes=ooxml_read, write_bytes=ooxml_write, essence_bytes=ooxml_essence)
TEXT = FunctionCarrier(
    "text", sniff=lambda h, p: _ext(p) in TEXT_EXT and b"\x00" not in h, extensions=TEXT_EXT,
    media_types=("text/markdown", "text/plain"), where="front-matter",
    standard="YAML front matter AIGC mapping (text guide for Markdown; ours for .txt)", visible="text", priority=90,
    read_bytes=text_read, write_bytes=text_write, essence_bytes=text_essence)
