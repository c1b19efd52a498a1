"""Readers accept the serialisations found in real files (reference 2.3): EXIF UserComment {"AIGC":...},
PNG tEXt AIGC, XMP attribute form with entities, the {"AIGC":...} wrapper, bare JSON in text, front matter."""

from __future__ import annotations

import json
import struct

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from tests.label.conftest import PRODUCER

from cnai.label import xmp as X
from cnai.label.api import check_file, embed_file, read_file

LAB = {"Label": "1", "ContentProducer": "001191440300MA5G49LC9K1YO01", "ProduceID": "honor-123",
       "ReservedCode1": "", "ContentPropagator": "", "PropagateID": "", "ReservedCode2": ""}


def _jpeg_with_app1(src: bytes, payload: bytes) -> bytes:
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return src[:2] + seg + src[2:]


def test_exif_usercomment_wrapper(sample_dir, tmp_path):
    im = Image.open(sample_dir / "sample.jpg")
    exif = im.getexif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + json.dumps({"AIGC": LAB}).encode()
    p = tmp_path / "honor.jpg"
    im.save(p, exif=exif, quality=90)
    rec = read_file(str(p))
    assert rec["label"] == LAB and rec["found_in"] == ["exif-usercomment"]
    # check: present but not where the image guide puts it
    r = check_file(str(p))
    assert not r["ok"] and any("guide places it in xmp" in x for x in r["problems"])
    # embedding writes the XMP label and blanks the EXIF copy in place (one label per file)
    out = tmp_path / "out.jpg"
    embed_file(str(p), str(out), producer=PRODUCER)
    assert read_file(str(out))["found_in"] == ["xmp"]
    assert Image.open(out).getexif().get_ifd(0x8769)[0x9286].strip(b"\x00 ").startswith(b"ASCII")
    assert Image.open(out).tobytes() == Image.open(p).tobytes()


def test_png_text_variant_replaced_on_embed(sample_dir, tmp_path):
    info = PngInfo()
    info.add_text("AIGC", json.dumps(LAB))
    p = tmp_path / "doubao.png"
    Image.open(sample_dir / "sample.png").save(p, pnginfo=info)
    rec = read_file(str(p))
    assert rec["label"] == LAB and rec["found_in"] == ["png-text"]
    out = tmp_path / "out.png"
    embed_file(str(p), str(out), producer=PRODUCER)
    assert read_file(str(out))["found_in"] == ["xmp"]  # one label per file: the tEXt copy is replaced


def test_xmp_attribute_form_with_entities(sample_dir, tmp_path):
    esc = json.dumps(LAB).replace('"', "&quot;")
    packet = X.EMPTY_PACKET.replace("</rdf:RDF>", f'<rdf:Description rdf:about="" xmlns:TC260="{X.TC260_NS}" '
                                    f'TC260:AIGC="{esc}"/></rdf:RDF>')
    p = tmp_path / "picwish.jpg"
    p.write_bytes(_jpeg_with_app1((sample_dir / "sample.jpg").read_bytes(),
                                  b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode()))
    assert read_file(str(p))["label"] == LAB
    out = tmp_path / "out.jpg"
    embed_file(str(p), str(out), producer=PRODUCER, produce_id="new")
    rec = read_file(str(out))
    assert rec["found_in"] == ["xmp"] and rec["label"]["ProduceID"] == "new"
    assert b"honor-123" not in out.read_bytes()


def test_xmp_other_prefix_and_wrapper(sample_dir, tmp_path):
    val = json.dumps({"AIGC": LAB}).replace('"', "&quot;")
    packet = X.EMPTY_PACKET.replace("</rdf:RDF>", f'<rdf:Description rdf:about="" xmlns:aigc="{X.TC260_NS}">'
                                    f"<aigc:AIGC>{val}</aigc:AIGC></rdf:Description></rdf:RDF>")
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet)
    p = tmp_path / "w.png"
    Image.open(sample_dir / "sample.png").save(p, pnginfo=info)
    assert read_file(str(p))["label"] == LAB


def test_existing_xmp_kept(sample_dir, tmp_path):
    packet = X.EMPTY_PACKET.replace("</rdf:RDF>", '<rdf:Description rdf:about="" '
                                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>'
                                    "Alice</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF>")
    p = tmp_path / "dc.jpg"
    p.write_bytes(_jpeg_with_app1((sample_dir / "sample.jpg").read_bytes(),
                                  b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode()))
    out = tmp_path / "out.jpg"
    embed_file(str(p), str(out), producer=PRODUCER)
    data = out.read_bytes()
    assert b"<rdf:li>Alice</rdf:li>" in data and data.count(b"http://ns.adobe.com/xap/1.0/\x00") == 1


def test_text_variants(tmp_path):
    md = tmp_path / "real.md"
    md.write_text("---\ntitle: x\nAIGC:\n  Label: '1'\n  ContentProducer: 001191110102MAD55U9H0F10002\n"
                  "  ProduceID: abc\n  ReservedCode1: ''\n  ContentPropagator: ''\n  PropagateID: ''\n"
                  "  ReservedCode2: ''\ntags: [a]\n---\nbody\n", encoding="utf-8")
    rec = read_file(str(md))
    assert rec["label"]["ContentProducer"] == "001191110102MAD55U9H0F10002" and rec["found_in"] == ["front-matter"]
    out = tmp_path / "o.md"
    embed_file(str(md), str(out), producer=PRODUCER)
    t = out.read_text()
    assert t.count("AIGC:") == 1 and "title: x" in t and "tags: [a]" in t and t.endswith("---\nbody\n")
    txt = tmp_path / "bare.txt"
    txt.write_text("hello " + json.dumps({"AIGC": LAB}) + "\n")
    assert read_file(str(txt))["found_in"] == ["text-json"]
    crlf = tmp_path / "w.txt"
    crlf.write_bytes(b"line one\r\nline two\r\n")
    embed_file(str(crlf), str(tmp_path / "w2.txt"), producer=PRODUCER)
    assert b"\n---\r\nline one\r\nline two\r\n" in (tmp_path / "w2.txt").read_bytes()
    assert b"\n" not in (tmp_path / "w2.txt").read_bytes().replace(b"\r\n", b"")


def test_label_values_and_strict_charset(sample_dir, tmp_path, cnai):
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "--label", "4", "-o",
            str(tmp_path))
    assert r.returncode == 2 and "--label" in r.stderr
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", "my company", "-o", str(tmp_path))
    assert r.returncode == 2 and "spaces" in r.stderr
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "--label", "3", "-o",
            str(tmp_path))
    assert read_file(str(tmp_path / "sample.png"))["label"]["Label"] == "3"


FF = ["sample.mp4", "sample.mov", "sample.m4a", "sample.mkv", "sample.webm", "sample.mp3", "sample.flac",
      "sample.ogg", "sample.opus"]


def test_labels_written_by_ffmpeg_are_read_and_replaced(sample_dir, tmp_path):
    """The HarmonyOS-recommended way (ffmpeg -metadata AIGC=... -movflags use_metadata_tags) is a third-party
    writer: our readers must find its labels, and our writer must replace them, not add a second one."""
    import shutil
    import subprocess

    if not shutil.which("ffmpeg"):
        import pytest

        pytest.skip("needs ffmpeg")
    js = json.dumps(LAB, separators=(",", ":"))
    for name in FF:
        ext = name.rsplit(".", 1)[1]
        ff = tmp_path / f"ff.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(sample_dir / name), "-map", "0", "-c", "copy",
                        "-metadata", f"AIGC={js}", "-movflags", "use_metadata_tags", str(ff)], check=True)
        rec = read_file(str(ff))
        assert rec["label"] == LAB and len(rec["found_in"]) == 1, (name, rec)
        out = tmp_path / f"ours.{ext}"
        embed_file(str(ff), str(out), producer=PRODUCER, produce_id="ours")
        rec = read_file(str(out))
        assert rec["found_in"] == [rec["found_in"][0]] and rec["label"]["ProduceID"] == "ours", (name, rec)
    flv = tmp_path / "ff.flv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1",
                    "-c:v", "flv1", "-metadata", f"AIGC={js}", str(flv)], check=True)
    rec = read_file(str(flv))
    assert rec["format"] == "flv" and rec["label"] == LAB  # FLV is read only (JSON scan of onMetaData)


def test_heic_with_existing_xmp_and_exif(sample_dir, tmp_path):
    import pytest

    from cnai.label.samples import image, register_heif

    if not register_heif():
        pytest.skip("pillow-heif not installed")
    packet = X.EMPTY_PACKET.replace("</rdf:RDF>", '<rdf:Description rdf:about="" '
                                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>'
                                    "Alice</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF>")
    im = image(120, 80)
    exif = Image.Exif()
    exif[0x010E] = "a heic with exif"
    p = tmp_path / "x.heic"
    im.save(p, quality=80, xmp=packet.encode(), exif=exif.tobytes())
    out = tmp_path / "o.heic"
    rec = embed_file(str(p), str(out), producer=PRODUCER, produce_id="h1")
    assert rec["error"] is None, rec
    got = read_file(str(out))
    assert got["found_in"] == ["xmp"] and got["label"]["ProduceID"] == "h1"
    data = out.read_bytes()
    assert b"<rdf:li>Alice</rdf:li>" in data
    a, b = Image.open(p), Image.open(out)
    assert a.tobytes() == b.tobytes() and b.getexif()[0x010E] == "a heic with exif"
    out2 = tmp_path / "o2.heic"
    embed_file(str(out), str(out2), producer=PRODUCER, produce_id="h1")
    assert out2.read_bytes() == data  # relabel replaces in place of our trailing box


def test_in_place_moves_a_variant_label_to_the_standard_carrier(sample_dir, tmp_path):
    info = PngInfo()
    same = {**LAB, "ContentProducer": PRODUCER, "ProduceID": "keep"}
    info.add_text("AIGC", json.dumps(same, separators=(",", ":")))
    p = tmp_path / "v.png"
    Image.open(sample_dir / "sample.png").save(p, pnginfo=info)
    rec = embed_file(str(p), str(p), producer=PRODUCER, in_place=True)
    assert rec["status"] == "relabelled"  # same label, but not where the image guide puts it
    got = read_file(str(p))
    assert got["found_in"] == ["xmp"] and got["label"]["ProduceID"] == "keep"
    rec = embed_file(str(p), str(p), producer=PRODUCER, in_place=True)
    assert rec["status"] == "unchanged"
