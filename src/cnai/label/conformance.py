"""GB 45438 conformance of one file: which label variant it carries, whether it conforms to GB 45438 and the
TC260 guides (each finding cites its clause with a confidence marker), and what to fix.

Platforms receive labels written many ways (reference 2.3, issue #19): XMP element or attribute form, PNG
tEXt JSON, EXIF UserComment, a bare JSON blob in an APP segment, Tencent's own keys, base64 key-value XMP,
drifting key names, bare producer names. The carriers (cnai.label.formats) find the label JSON; this module
names the variant, normalises what a tolerant reader would take the label to mean, and judges it against
the rules in conformance_rules.yaml. Two verdicts are kept apart: `gb45438` (the standard and the Measures)
and `tc260` (the practice guides and coding rules); `conforms` is "yes" when both hold, "no" on any error,
"unclear" when the only open point is a placement the reference could not capture.

`write_corpus(DIR)` writes one sample per variant of conformance_corpus.yaml with its expected reading
(corpus_expected.yaml beside the samples).
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cnai.label.model import KEYS, LABEL_VALUES

RULES_FILE = Path(__file__).with_name("conformance_rules.yaml")
MANIFEST_NAME = "corpus_expected.yaml"
REQUIRED = ("Label", "ContentProducer", "ProduceID")
KEYED_CARRIERS = {"xmp", "mp4-keys", "riff-chunk", "ooxml-custom", "mkv-tag", "id3-txxx", "vorbis-comment",
                  "avi-info", "pdf-info", "png-text"}
_STRICT = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]*$")


@functools.lru_cache(maxsize=1)
def rules() -> dict:
    from cnai.core.loaders import load_yaml

    return load_yaml(RULES_FILE)


def _family(fmt: str | None) -> tuple[str | None, str | None]:
    for name, fam in rules()["families"].items():
        if fmt in fam["formats"]:
            return name, fam["guide"]
    return None, None


def finding(code: str, **kw) -> dict:
    r = rules()["rules"][code]
    fmt = _SafeDict(kw)
    return {"code": code, "severity": r["severity"], "instrument": r["instrument"],
            "message": r["says"].format_map(fmt), "clause": r["clause"].format_map(fmt),
            "source_url": rules()["sources"][r["source"]], "confidence": r["confidence"],
            "fix": r["fix"].format_map(fmt)}


class _SafeDict(dict):
    def __missing__(self, key):
        return "?"


# ------------------------------------------------------------------ variant detection
def _xmp_form(head: bytes) -> str | None:
    """'element' or 'attribute' for the TC260:AIGC property in the first XMP packet that has one."""
    from cnai.label.xmp import TC260_NS

    text = head.decode("utf-8", "replace")
    for m in re.finditer(r'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']' + re.escape(TC260_NS), text):
        p = re.escape(m.group(1))
        if re.search(r"<" + p + r":AIGC[\s>]", text):
            return "element"
        if re.search(r"\s" + p + r":AIGC\s*=", text):
            return "attribute"
    return None


def _xmp_key_values(head: bytes) -> dict[str, str] | None:
    """Separate properties in the TC260 namespace other than AIGC (the key-value layout), or None."""
    from cnai.label.xmp import TC260_NS

    text = head.decode("utf-8", "replace")
    out: dict[str, str] = {}
    for m in re.finditer(r'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']' + re.escape(TC260_NS), text):
        p = re.escape(m.group(1))
        for k, v in re.findall(r"\s" + p + r':(\w+)\s*=\s*"([^"]*)"', text):
            out.setdefault(k, html.unescape(v))
        for k, v in re.findall(r"<" + p + r":(\w+)>([^<]*)</" + p + r":\1\s*>", text):
            out.setdefault(k, html.unescape(v))
    out.pop("AIGC", None)
    return out or None


def _b64(v: str) -> str | None:
    """The decoded text when v is base64 (standard or URL-safe) of printable ASCII, else None."""
    if not v or len(v) < 2 or not re.fullmatch(r"[A-Za-z0-9+/_=-]+", v):
        return None
    try:
        raw = base64.b64decode(v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4), validate=True)
        s = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return s if s and all(0x20 <= ord(c) < 0x7F for c in s) else None


def _parse(text: str) -> tuple[dict | None, dict]:
    """(inner object or None, traits) for one label text."""
    traits: dict = {}
    try:
        obj = json.loads(text.strip().strip("\x00").strip())
    except (json.JSONDecodeError, ValueError) as e:
        return None, {"error": f"not JSON: {e}"}
    if isinstance(obj, dict) and "AIGC" in obj and "Label" not in obj:
        traits["wrapped"] = True
        obj = obj["AIGC"]
        if isinstance(obj, str):
            traits["double-encoded"] = True
            try:
                obj = json.loads(obj)
            except json.JSONDecodeError as e:
                return None, {**traits, "error": f"not JSON: {e}"}
    if not isinstance(obj, dict):
        return None, {**traits, "error": "not a JSON object"}
    return obj, traits


def normalise(obj: dict) -> tuple[dict, dict]:
    """What a tolerant reader takes the label to mean (the seven keys), plus what had to be mapped."""
    drift, vendor = rules()["drift"], set(rules()["vendor_keys"])
    lab = {k: "" for k in KEYS}
    mapped = {"renames": {}, "vendor": [], "unknown": [], "non_string": [], "present": []}
    for k, v in obj.items():
        if k in KEYS:
            name = k
        elif k in drift:
            name = drift[k]
            mapped["renames"][k] = name
        elif k in vendor:
            mapped["vendor"].append(k)
            continue
        else:
            mapped["unknown"].append(k)
            continue
        if v is not None and not isinstance(v, str):
            mapped["non_string"].append(name)
        lab[name] = "" if v is None else str(v)
        mapped["present"].append(name)
    return lab, mapped


def detect(path: str) -> dict:
    """The variant(s) in one file: {"format", "variant", "traits", "copies": [{where, label, ...}], ...}."""
    from cnai.label.api import scan_path

    fmt, scan, _warns = scan_path(path)
    with open(path, "rb") as f:
        head = f.read(4 << 20)
    copies = []
    found = scan.found
    if fmt == "pdf" and {f.where for f in found} == {"pdf-info", "xmp"} and len({f.text for f in found}) == 1:
        # PDF keeps document metadata in the Info dictionary and mirrors it in the XMP stream (ISO 32000): the
        # same label in both is one label, not two
        found = [f for f in found if f.where == "pdf-info"]
        mirror = True
    else:
        mirror = False
    for fnd in found:
        obj, traits = _parse(fnd.text)
        c = {"where": fnd.where, "traits": traits}
        if obj is not None:
            c["label"], c["mapped"] = normalise(obj)
        copies.append(c)
    out = {"format": fmt, "copies": copies, "iptc_digital_source_type": scan.digital_source_type,
           "c2pa": "c2pa-jumbf" in scan.traces}
    kv = None if copies else _xmp_key_values(head)
    if kv:
        decoded = {k: _b64(v) for k, v in kv.items()}
        b64 = bool(decoded) and all(d is not None for d in decoded.values())
        obj = {k: (decoded[k] if b64 else v) for k, v in kv.items()}
        lab, mapped = normalise(obj)
        out["copies"] = [{"where": "xmp-key-value", "label": lab, "mapped": mapped,
                          "traits": {"base64": b64, "properties": sorted(kv)}}]
    out["variant"], out["traits"] = _name(out, head)
    if mirror:
        out["traits"] = sorted(out["traits"] + ["xmp-mirror"])
    return out


def _name(d: dict, head: bytes) -> tuple[str, list[str]]:
    copies = d["copies"]
    if not copies:
        return "none", (["iptc-only"] if d.get("iptc_digital_source_type") else [])
    traits: set[str] = set()
    names = []
    for c in copies:
        w = c["where"]
        if w == "xmp" and d["format"] in ("jpeg", "png", "webp", "tiff", "gif", "heif"):
            names.append(f"xmp-{_xmp_form(head) or 'element'}")
        elif w == "xmp-key-value":
            names.append("xmp-key-value")
            if c["traits"].get("base64"):
                traits.add("base64")
        else:
            names.append(w)
        t, m = c["traits"], c.get("mapped") or {}
        if t.get("wrapped"):
            traits.add("wrapped")
        if m.get("renames"):
            traits.add("drifted-keys")
        if m.get("vendor"):
            traits.add("vendor-schema")
        lab = c.get("label") or {}
        for f in ("ContentProducer", "ContentPropagator"):
            v = lab.get(f, "")
            if v and not (len(v) == 27 and v.isalnum() and v.upper() == v):
                traits.add("producer-name")
    if len(copies) > 1:
        traits.add("several-copies")
    return "+".join(dict.fromkeys(names)), sorted(traits)


# ------------------------------------------------------------------ judging
def _label_findings(lab: dict, mapped: dict, where: str, fmt: str) -> list[dict]:
    from cnai.label.codes import provider_code_problems

    out = []
    if mapped["renames"]:
        out.append(finding("key-names", found=", ".join(mapped["renames"]),
                           renames=", ".join(f"{a} -> {b}" for a, b in mapped["renames"].items())))
    if mapped["vendor"]:
        out.append(finding("vendor-schema", found=", ".join(mapped["vendor"])))
    if mapped["unknown"]:
        out.append(finding("unknown-keys", found=", ".join(mapped["unknown"])))
    if mapped["non_string"]:
        out.append(finding("value-type", found=", ".join(mapped["non_string"])))
    missing = [k for k in REQUIRED if not lab.get(k)]
    if missing:
        out.append(finding("required-missing", found=", ".join(missing)))
    if lab.get("Label") and lab["Label"] not in LABEL_VALUES:
        out.append(finding("label-value", found=repr(lab["Label"])))
    if bool(lab.get("ContentPropagator")) != bool(lab.get("PropagateID")):
        out.append(finding("propagator-pair", found="only " + ("ContentPropagator" if lab.get("ContentPropagator")
                                                                else "PropagateID")))
    bad = [k for k in KEYS if not _STRICT.match(lab.get(k, ""))]
    if bad:
        out.append(finding("charset", found=", ".join(bad)))
    for f in ("ContentProducer", "ContentPropagator"):
        v = lab.get(f, "")
        if not v:
            continue
        if len(v) == 27 and v.isalnum() and v.upper() == v:
            probs = provider_code_problems(v)
            if probs:
                out.append(finding("producer-code", field=f, found="; ".join(probs)))
        else:
            out.append(finding("producer-name", field=f, found=repr(v)))
    present = set(mapped["present"])
    if present and not set(KEYS) <= present and not mapped["vendor"]:
        out.append(finding("optional-keys-absent", found=", ".join(k for k in KEYS if k in present)))
    return out


def check(path: str, *, trusted: set[str] | None = None) -> dict:
    """The conformance record of one file (never raises for a bad file: the record's "error" says why)."""
    from cnai.label.api import _classify_error, standard_where

    rec: dict = {"path": str(path), "format": None, "variant": None, "traits": [], "label": None,
                 "conforms": None, "gb45438": None, "tc260": None, "findings": [], "fixes": [], "error": None}
    try:
        d = detect(path)
    except Exception as e:
        reason, msg = _classify_error(e)
        rec.update(error=msg, skip_reason=reason)
        return rec
    fmt = d["format"]
    rec.update(format=fmt, variant=d["variant"], traits=d["traits"])
    std = standard_where(fmt)
    fam, guide = _family(fmt)
    carrier_std = _standard_text(fmt)
    kw = {"standard": carrier_std, "guide": guide or "the format's guide", "family": fam or fmt, "format": fmt}
    fs: list[dict] = []
    copies = d["copies"]
    readable = [c for c in copies if "label" in c]
    for c in copies:
        if "label" not in c:
            fs.append(finding("unreadable", found=c["where"], detail=c["traits"].get("error", "?")))
    if not readable:
        fs.append(finding("no-label", **kw))
        if d.get("iptc_digital_source_type") or d.get("c2pa"):
            fs.append(finding("iptc-not-a-label"))
    else:
        at_std = [c for c in readable if c["where"] == std or (fmt == "pdf" and c["where"] == "xmp")]
        primary = (at_std or readable)[0]
        rec["label"] = primary["label"]
        rec["found_in"] = [c["where"] for c in copies]
        distinct = {json.dumps(c["label"], sort_keys=True) for c in readable}
        if len(distinct) > 1:
            fs.append(finding("multiple-labels", n=len(distinct), **kw))
        elif len(readable) > 1:
            fs.append(finding("duplicate-copies", n=len(readable), found=", ".join(rec["found_in"]), **kw))
        if primary["where"] == "xmp-key-value":
            fs.append(finding("field-name", found=", ".join("TC260:" + p for p in primary["traits"]["properties"])))
            if primary["traits"].get("base64"):
                fs.append(finding("encoding", found="every property"))
        elif not at_std and std:
            fs.append(finding("placement", found=", ".join(c["where"] for c in readable), **kw))
        elif fmt in rules()["unclear_formats"]:
            fs.append(finding("placement-unclear", found=primary["where"], **kw))
        if primary["traits"].get("wrapped") and primary["where"] in KEYED_CARRIERS:
            fs.append(finding("wrapper", found=primary["where"]))
        fs += _label_findings(primary["label"], primary["mapped"], primary["where"], fmt)
        fs += _integrity(path, trusted)
    rec["findings"] = _dedupe(fs)
    errors = [f for f in rec["findings"] if f["severity"] == "error"]
    rec["gb45438"] = "no" if any(f["instrument"] == "gb45438" for f in errors) else "yes"
    rec["tc260"] = "no" if any(f["instrument"] == "tc260" for f in errors) else "yes"
    if errors:
        rec["conforms"] = "no"
    elif any(f["code"] == "placement-unclear" for f in rec["findings"]):
        rec["conforms"] = "unclear"
    else:
        rec["conforms"] = "yes"
    rec["fixes"] = list(dict.fromkeys(f["fix"] for f in rec["findings"]
                                      if f["fix"] and f["severity"] in ("error", "warning")))
    return rec


def _standard_text(fmt: str | None) -> str:
    from cnai.label.api import carrier

    car = carrier(fmt)
    return (car.standard or car.where or "?") if car else "?"


def _integrity(path: str, trusted) -> list[dict]:
    """Tokens in ReservedCode1/2 (cnai's) are verified; other values are reported as opaque."""
    from cnai.label.api import check_file

    rec = check_file(path, trusted=trusted)
    out = []
    for code, state in (rec.get("integrity") or {}).items():
        if state == "failed":
            msgs = [p.split(": ", 1)[1] for p in rec["problems"] if p.startswith(code + ":")]
            out.append(finding("integrity-failed", found=f"{code}: " + "; ".join(msgs)))
        elif state.startswith("opaque"):
            lab = rec.get("label") or {}
            out.append(finding("integrity-opaque", field=code, found=repr(lab.get(code, ""))[:60]))
    for p in rec.get("problems", []):
        if p.startswith("C2PA"):
            out.append(finding("c2pa-disagrees", found=p))
    return out


def _dedupe(fs: list[dict]) -> list[dict]:
    seen, out = set(), []
    for f in fs:
        k = (f["code"], f["message"])
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


# ------------------------------------------------------------------ the corpus
CORPUS_FILE = Path(__file__).with_name("conformance_corpus.yaml")
CORPUS_KIND = "label-conformance-corpus"


@functools.lru_cache(maxsize=1)
def catalogue() -> dict:
    from cnai.core.loaders import load_yaml

    return load_yaml(CORPUS_FILE)


def expected_entries() -> list[dict]:
    """Each variant with its label resolved (the expected reading)."""
    cat = catalogue()
    out = []
    for v in cat["variants"]:
        e = {k: v[k] for k in ("id", "file", "seen_in", "provenance")}
        e["needs"] = v.get("needs")
        lab = {**cat["labels"][v["label"]], **(v.get("label_expect") or {})} if v.get("label") else None
        e["expected"] = {**v["expect"], "label": lab}
        e["expected"]["fixes_for"] = list(v["expect"]["errors"]) + list(v["expect"]["warnings"])
        out.append(e)
    return out


def _compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def _raw(v: dict) -> dict:
    lab = catalogue()["labels"][v["label"]] if v.get("label") else {}
    raw = v.get("raw")
    if raw == "wrapped":
        return {"AIGC": lab}
    return raw if isinstance(raw, dict) else lab


def _jpeg_with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    import struct

    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _with_xmp(base: Path, dst: Path, packet: str, fmt: str) -> bytes:
    from cnai.label.formats.images import XMP_SIG

    if fmt == "jpg":
        return _jpeg_with_segment(base.read_bytes(), 0xE1, XMP_SIG + packet.encode())
    return _png(base, itxt={"XML:com.adobe.xmp": packet})


def _png(base: Path, *, text: dict | None = None, itxt: dict | None = None) -> bytes:
    import io

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in (itxt or {}).items():
        info.add_itxt(k, v)
    for k, v in (text or {}).items():
        info.add_text(k, v)
    buf = io.BytesIO()
    Image.open(base).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _xmp_element(value: str) -> str:
    from cnai.label import xmp as X

    return X.new_packet(value)


def _xmp_packet(desc_attrs: str, body: str = "") -> str:
    from cnai.label import xmp as X

    inner = f'<rdf:Description rdf:about=""{desc_attrs}>{body}</rdf:Description>'
    return X.EMPTY_PACKET.replace("</rdf:RDF>", inner + "</rdf:RDF>")


def _write_variant(v: dict, base: dict[str, Path], dst: Path) -> None:
    """Write one sample. Every writer builds the bytes the variant's description says (not via cnai's embed,
    except for the standard placements, which are what cnai's carriers implement)."""
    from cnai.core import safeio
    from cnai.label import xmp as X
    from cnai.label.api import scan_path, write_label
    from cnai.label.formats.base import WriteOpts
    from cnai.label.model import AIGCLabel

    w, b = v["writer"], base[v["base"]]
    lab = catalogue()["labels"][v["label"]] if v.get("label") else None
    raw = _compact(_raw(v)) if lab is not None else ""
    if w in ("standard", "standard_iptc"):
        fmt = scan_path(str(b))[0]
        write_label(str(b), str(dst), fmt, AIGCLabel(**lab),
                    WriteOpts(digital_source_type=X.DST_AI if w == "standard_iptc" else None))
        return
    if w == "sm2_signed":
        from cnai.label.api import embed_file
        from cnai.label.integrity import SM2Key

        rec = embed_file(str(b), str(dst), producer=lab["ContentProducer"], produce_id=lab["ProduceID"],
                         fill_propagator=True, priv=SM2Key.generate())  # a throw-away key, never stored
        if rec["error"]:
            raise RuntimeError(rec["error"])
        return
    if w == "copy":
        data = b.read_bytes()
    elif w == "xmp_attribute":
        data = _with_xmp(b, dst, _xmp_packet(f' xmlns:TC260="{X.TC260_NS}" TC260:AIGC="{html.escape(raw)}"'),
                         v["base"])
    elif w == "xmp_raw":
        data = _with_xmp(b, dst, _xmp_element(raw), v["base"])
    elif w == "png_text":
        data = _png(b, text={"AIGC": raw})
    elif w == "png_xmp_and_text":
        data = _png(b, itxt={"XML:com.adobe.xmp": _xmp_element(raw)}, text={"AIGC": raw})
    elif w == "appended":
        second = _compact({**lab, "ProduceID": "second-0002"})
        data = _png(b, itxt={"XML:com.adobe.xmp": _xmp_element(raw)}, text={"AIGC": second})
    elif w in ("exif_usercomment", "exif_description"):
        import io

        from PIL import Image

        im = Image.open(b)
        exif = im.getexif()
        if w == "exif_usercomment":
            exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + raw.encode()
        else:
            exif[0x010E] = raw
        buf = io.BytesIO()
        im.save(buf, format="JPEG", exif=exif, quality=90)
        data = buf.getvalue()
    elif w == "app_segment":
        data = _jpeg_with_segment(b.read_bytes(), 0xE9, b"AIGC" + raw.encode())
    elif w == "xmp_key_value_base64":
        attrs = "".join(f' TC260:{k}="{base64.urlsafe_b64encode(val.encode()).rstrip(b"=").decode()}"'
                        for k, val in lab.items() if val)
        data = _with_xmp(b, dst, _xmp_packet(f' xmlns:TC260="{X.TC260_NS}"{attrs}'), v["base"])
    elif w == "iptc_only":
        data = _with_xmp(b, dst, _xmp_packet(f' xmlns:Iptc4xmpExt="{X.IPTC_EXT_NS}"',
                                             f"<Iptc4xmpExt:DigitalSourceType>{X.DST_AI}"
                                             "</Iptc4xmpExt:DigitalSourceType>"), v["base"])
    elif w == "front_matter":
        lines = "".join(f"  {k}: '{val}'\n" for k, val in lab.items())
        data = ("---\ntitle: sample\nAIGC:\n" + lines + "---\n# Generated text\n\nBody.\n").encode()
    elif w == "wav_list_info":
        import struct

        d = b.read_bytes()
        body = raw.encode() + b"\x00"
        sub = b"AIGC" + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
        lst = b"LIST" + struct.pack("<I", 4 + len(sub)) + b"INFO" + sub
        d = d + lst
        data = d[:4] + struct.pack("<I", len(d) - 8) + d[8:]
    elif w == "ffmpeg":
        import subprocess

        tmp = dst.with_name("." + dst.name + ".tmp" + dst.suffix)
        try:
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(b), "-map", "0", "-c", "copy",
                            "-metadata", f"AIGC={raw}", "-movflags", "use_metadata_tags", str(tmp)], check=True)
            data = tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
    else:
        raise ValueError(f"unknown writer {w}")
    safeio.write_bytes(dst, data)


def _bases(d: Path, av: bool) -> dict[str, Path]:
    from cnai.core import safeio
    from cnai.label import samples

    im = samples.image(96, 64)
    out = {"jpg": d / "base.jpg", "png": d / "base.png", "wav": d / "base.wav", "docx": d / "base.docx",
           "pdf": d / "base.pdf", "md": d / "base.md"}
    im.save(out["jpg"], quality=90)
    im.save(out["png"])
    samples.write_wav(out["wav"])
    safeio.write_bytes(out["docx"], samples.docx_bytes())
    safeio.write_bytes(out["pdf"], samples.pdf_bytes())
    safeio.write_text(out["md"], "# Generated text\n")
    if av:
        a = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"]
        v = ["-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=0.5"]
        for name, args in (("mp3", [*a, "-c:a", "libmp3lame", "-b:a", "64k"]), ("flac", [*a, "-c:a", "flac"]),
                           ("mp4", [*v, "-c:v", "libx264", "-pix_fmt", "yuv420p"]),
                           ("mkv", [*v, "-c:v", "libx264", "-pix_fmt", "yuv420p"])):
            out[name] = d / f"base.{name}"
            samples.ffmpeg(*args, str(out[name]))
    return out


def write_corpus(outdir: str, *, only: list[str] | None = None) -> dict:
    """Write every variant's sample and corpus_expected.yaml into outdir (a folder cnai owns). Variants that
    need a missing tool (ffmpeg) are skipped and listed. Returns {"written": [...], "skipped": [...]}."""
    import shutil
    import tempfile

    import yaml

    from cnai.core import safeio

    out = safeio.prepare_output_dir(outdir, kind=CORPUS_KIND)
    av = bool(shutil.which("ffmpeg"))
    written, skipped, manifest = [], [], []
    byid = {v["id"]: v for v in catalogue()["variants"]}
    with tempfile.TemporaryDirectory(prefix="cnai-corpus-") as tmp:
        base = _bases(Path(tmp), av)
        for e in expected_entries():
            if only and e["id"] not in only:
                continue
            if e["needs"] == "ffmpeg" and not av:
                skipped.append({"id": e["id"], "reason": "ffmpeg not installed"})
                continue
            _write_variant(byid[e["id"]], base, out / e["file"])
            written.append(e["file"])
            manifest.append({k: e[k] for k in ("file", "id", "seen_in", "provenance")} |
                            {"expected": e["expected"]})
    doc = {"cnai_conformance_corpus": 1,
           "note": "Expected readings written from GB 45438 / the TC260 guides as summarised in the project's "
                   "reference (see conformance_rules.yaml for clauses and confidence).",
           "files": json.loads(json.dumps(manifest)), "skipped": skipped}  # copies: no YAML aliases
    safeio.write_text(out / MANIFEST_NAME, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110))
    return {"dir": str(out), "written": written, "skipped": skipped}


class ExpectedReading(BaseModel):
    """What a GB 45438 reader should report for one corpus sample (rule codes: conformance_rules.yaml)."""

    model_config = ConfigDict(extra="forbid")
    variant: str = Field(description="carrier/form the label is found in, e.g. xmp-element, png-text, none")
    traits: list[str] = Field(default_factory=list, description="value quirks: wrapped, drifted-keys, ...")
    conforms: Literal["yes", "no", "unclear"]
    gb45438: Literal["yes", "no"] = Field(description="verdict of the rules resting on GB 45438/the Measures")
    tc260: Literal["yes", "no"] = Field(description="verdict of the rules resting on the TC260 guides")
    errors: list[str] = Field(default_factory=list, description="rule codes of severity error")
    warnings: list[str] = Field(default_factory=list, description="rule codes of severity warning")
    label: dict[str, str] | None = Field(description="the seven keys as a tolerant reader normalises them; "
                                                     "a value ending in * is a prefix")
    fixes_for: list[str] = Field(default_factory=list, description="rule codes whose fix applies")


class CorpusEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    id: str
    seen_in: str = Field(description="where the variant was seen, with the reference section")
    provenance: Literal["reference", "issue-19", "constructed"]
    expected: ExpectedReading


class CorpusManifest(BaseModel):
    """corpus_expected.yaml, written by `cnai label conformance --write-corpus`."""

    model_config = ConfigDict(extra="forbid")
    cnai_conformance_corpus: Literal[1]
    note: str = ""
    files: list[CorpusEntry]
    skipped: list[dict] = Field(default_factory=list)


def load_manifest(folder: str) -> dict | None:
    """{file name: expected} from a corpus folder's corpus_expected.yaml, or None when there is none."""
    p = Path(folder, MANIFEST_NAME)
    if not p.is_file():
        return None
    from cnai.core.loaders import load_yaml, validate

    doc = load_yaml(p)
    if not isinstance(doc, dict) or doc.get("cnai_conformance_corpus") != 1:
        return None  # some other file of that name: the folder is not a corpus
    m = validate(CorpusManifest, doc, source=str(p), what="conformance corpus manifest")
    return {f.file: f.model_dump() for f in m.files}


def compare(rec: dict, exp: dict) -> list[str]:
    """Differences between a conformance record and a corpus expectation ([] when they match)."""
    e = exp["expected"]
    errors = sorted({f["code"] for f in rec["findings"] if f["severity"] == "error"})
    warnings = sorted({f["code"] for f in rec["findings"] if f["severity"] == "warning"})
    got = {"variant": rec["variant"], "traits": sorted(rec["traits"]), "conforms": rec["conforms"],
           "gb45438": rec["gb45438"], "tc260": rec["tc260"], "errors": errors, "warnings": warnings,
           "label": rec["label"]}
    want = {"variant": e["variant"], "traits": sorted(e["traits"]), "conforms": e["conforms"],
            "gb45438": e["gb45438"], "tc260": e["tc260"], "errors": sorted(e["errors"]),
            "warnings": sorted(e["warnings"]), "label": e["label"]}
    if isinstance(want["label"], dict) and isinstance(got["label"], dict):
        # a value ending in "*" is a prefix (signatures made with a throw-away key differ on every run)
        want["label"] = {k: (got["label"].get(k) if isinstance(v, str) and v.endswith("*") and
                             str(got["label"].get(k, "")).startswith(v[:-1]) else v)
                         for k, v in want["label"].items()}
    return [f"{k}: expected {want[k]!r}, got {got[k]!r}" for k in want if want[k] != got[k]]


def conformance(paths, *, trusted: set[str] | None = None, workers: int = 1, progress=False, on_record=None):
    """The batch verb: one record per file; a corpus folder's corpus_expected.yaml is not checked as a sample
    but used to say whether each sample's reading matches its expectation ("expected_match")."""
    import os

    from cnai.label.batch import expand
    from cnai.label.verbs import _collect

    manifests: dict[str, dict | None] = {}  # only for folders given or walked: a file named alone is judged alone
    items = []
    for p in paths:
        walked = os.path.isdir(p)
        for src, _ in expand([p]):
            folder = os.path.dirname(os.path.abspath(src))
            if walked and folder not in manifests:
                manifests[folder] = load_manifest(folder)
            if manifests.get(folder) is not None and os.path.basename(src) == MANIFEST_NAME:
                continue
            items.append(src)

    def post(rec: dict) -> None:
        m = manifests.get(os.path.dirname(os.path.abspath(rec["path"])))
        exp = m.get(os.path.basename(rec["path"])) if m else None
        if exp is not None and not rec.get("error"):
            diffs = compare(rec, exp)
            rec["expected_match"] = not diffs
            if diffs:
                rec["expected_differences"] = diffs
        rec["status"] = {"yes": "conforms", "no": "does not conform", "unclear": "unclear"}.get(
            rec.get("conforms"), "error")

    fn = functools.partial(check, trusted=trusted)
    return _collect("conformance", items, fn, workers=workers, progress=progress, on_record=on_record,
                    post=post, status_key="status")
