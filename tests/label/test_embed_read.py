"""Embed -> read back with our reader AND with tools nobody here wrote (exiftool, ffprobe, zipfile), and prove
the media content is unchanged (decoded pixels / decoded samples / original bytes)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from tests.conftest import json_out
from tests.label.conftest import PRODUCER, decoded_md5, exiftool_json, ffprobe_tags, sha

from cnai.label.api import embed_file, read_file

IMAGES = ["sample.jpg", "sample.png", "sample.tif", "sample.gif", "sample-lossy.webp", "sample-lossless.webp",
          "sample.heic", "sample.avif"]
AV = ["sample.mp3", "sample.flac", "sample.ogg", "sample.opus", "sample.m4a", "sample.mp4", "sample-end.mp4",
      "sample.mov", "sample.mkv", "sample.webm", "sample.avi"]
DOCS = ["sample.wav", "sample.pdf", "sample-xref-stream.pdf", "sample.docx", "sample.md", "sample.txt"]
ALL = IMAGES + AV + DOCS


def _embed(src: Path, dst: Path, pid: str = "cnai-test-0001", **kw) -> dict:
    rec = embed_file(str(src), str(dst), producer=PRODUCER, produce_id=pid, **kw)
    assert rec["error"] is None, rec
    return rec


@pytest.mark.parametrize("name", ALL)
def test_embed_read_roundtrip_idempotent(sample_dir, tmp_path, name):
    src = sample_dir / name
    if not src.exists():
        pytest.skip("ffmpeg not available to make this sample")
    before = sha(src)
    out1, out2 = tmp_path / "a" / name, tmp_path / "b" / name
    rec = _embed(src, out1)
    assert rec["status"] == "labelled"
    assert sha(src) == before, "the original must never be modified"
    got = read_file(str(out1))
    assert got["error"] is None
    assert got["label"]["ContentProducer"] == PRODUCER and got["label"]["ProduceID"] == "cnai-test-0001"
    assert got["label"]["Label"] == "1"
    # PDF carries the one label in both places the text guide names (Info and XMP); all else in exactly one
    assert got["found_in"] == (["pdf-info", "xmp"] if got["format"] == "pdf" else got["found_in"][:1])
    # labelling the labelled file again replaces, never appends: same bytes, still one label
    rec2 = _embed(out1, out2)
    assert rec2["status"] == "relabelled"
    assert sha(out2) == sha(out1)
    assert read_file(str(out2))["found_in"] == got["found_in"]


@pytest.mark.parametrize("name", IMAGES)
def test_images_pixels_identical(sample_dir, tmp_path, name):
    from cnai.label.samples import register_heif

    register_heif()
    src = sample_dir / name
    if not src.exists():
        pytest.skip("pillow-heif / Pillow AVIF support not installed")
    out = tmp_path / name
    _embed(src, out)
    a, b = Image.open(src), Image.open(out)
    assert a.size == b.size and a.mode == b.mode
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", ["sample.wav"] + AV)
def test_audio_video_decoded_identical(sample_dir, tmp_path, name):
    if not shutil.which("ffmpeg") or not (sample_dir / name).exists():
        pytest.skip("needs ffmpeg")
    src = sample_dir / name
    out = tmp_path / name
    _embed(src, out)
    assert decoded_md5(src) == decoded_md5(out)


def test_documents_content_kept(sample_dir, tmp_path):
    for name in ("sample.pdf", "sample-xref-stream.pdf"):
        out = tmp_path / name
        _embed(sample_dir / name, out)
        orig = (sample_dir / name).read_bytes()
        assert out.read_bytes().startswith(orig)  # incremental update: every original byte kept
    out = tmp_path / "sample.docx"
    _embed(sample_dir / "sample.docx", out)
    za, zb = zipfile.ZipFile(sample_dir / "sample.docx"), zipfile.ZipFile(out)
    assert za.read("word/document.xml") == zb.read("word/document.xml")
    for name in ("sample.md", "sample.txt"):
        out = tmp_path / name
        _embed(sample_dir / name, out)
        body = (sample_dir / name).read_text().split("---\n")[-1]
        assert out.read_text().endswith(body)


# ------------------------------------------------------------ tools nobody here wrote
EXIF_TAG = {"heif": "XMP-TC260:Aigc", "jpeg": "XMP-TC260:Aigc", "png": "XMP-TC260:Aigc", "tiff": "XMP-TC260:Aigc", "gif": "XMP-TC260:Aigc",
            "webp": "XMP-TC260:Aigc", "mp3": "ID3v2_4:UserDefinedText", "wav": "RIFF:Unknown_AIGC",
            "mp4": "Keys:AIGC", "pdf": "PDF:AIGC", "ooxml": "XML:AIGC", "flac": "Vorbis:Aigc",
            "ogg": "Vorbis:Aigc", "avi": "RIFF:Unknown_AIGC"}


@pytest.mark.parametrize("name", IMAGES + ["sample.mp3", "sample.wav", "sample.mp4", "sample-end.mp4", "sample.m4a",
                                           "sample.mov", "sample.pdf", "sample-xref-stream.pdf", "sample.docx",
                                           "sample.flac", "sample.ogg", "sample.avi"])
def test_exiftool_sees_label(sample_dir, tmp_path, name):
    if not shutil.which("exiftool"):
        pytest.skip("exiftool not installed")
    if not (sample_dir / name).exists():
        pytest.skip("sample needs ffmpeg")
    out = tmp_path / name
    rec = _embed(sample_dir / name, out)
    meta = exiftool_json(out)
    key = EXIF_TAG[rec["format"]]
    val = meta.get(key)
    assert val is not None, sorted(k for k in meta if "aigc" in k.lower() or "Text" in k)
    if isinstance(val, str) and val.startswith("(AIGC) "):
        val = val[len("(AIGC) "):]
    assert json.loads(val) == rec["label"]
    assert not [k for k in meta if k.endswith(":Error")], meta
    if rec["format"] == "pdf":
        assert json.loads(meta["XMP-TC260:Aigc"]) == rec["label"]


@pytest.mark.parametrize("name", ["sample.mp4", "sample-end.mp4", "sample.m4a", "sample.mov", "sample.mkv",
                                  "sample.webm", "sample.mp3", "sample.flac", "sample.ogg", "sample.opus"])
def test_ffprobe_sees_label(sample_dir, tmp_path, name):
    if not shutil.which("ffprobe") or not (sample_dir / name).exists():
        pytest.skip("needs ffmpeg")
    out = tmp_path / name
    rec = _embed(sample_dir / name, out)
    tags = {k.upper(): v for k, v in ffprobe_tags(out).items()}
    assert json.loads(tags["AIGC"]) == rec["label"]


def test_ooxml_with_zipfile_and_rels(sample_dir, tmp_path):
    out = tmp_path / "x.docx"
    rec = _embed(sample_dir / "sample.docx", out)
    z = zipfile.ZipFile(out)
    assert z.testzip() is None
    custom = z.read("docProps/custom.xml").decode()
    assert 'name="AIGC"' in custom and 'fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"' in custom
    assert "custom-properties" in z.read("_rels/.rels").decode()
    assert "/docProps/custom.xml" in z.read("[Content_Types].xml").decode()
    assert rec["label"]["ProduceID"] in custom


# ------------------------------------------------------------ CLI, batch, in-place
def test_cli_batch_dir_jsonl_and_summary(sample_dir, tmp_path, cnai):
    out = tmp_path / "out"
    r = cnai("label", "embed", str(sample_dir), "--producer", PRODUCER, "-o", str(out), "-j", "2")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    n = len(list(sample_dir.iterdir()))
    assert len(lines) == n
    assert len({x["label"]["ProduceID"] for x in lines}) == n  # unique ProduceIDs
    assert r.stderr.strip().splitlines()[-1].startswith(f"summary: embed: {n} files: {n} labelled")
    r = cnai("label", "read", str(out), "--format", "jsonl")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert all(x["label"] and x["error"] is None for x in recs)
    r = cnai("label", "check", str(out))
    assert r.returncode == 0, r.stdout
    r = cnai("label", "check", str(sample_dir))
    assert r.returncode == 1
    assert all("no implicit (metadata) label found" in json.loads(x)["problems"] for x in r.stdout.splitlines())


def test_cli_in_place_and_guard(sample_dir, tmp_path, cnai):
    p = tmp_path / "x.png"
    shutil.copy(sample_dir / "sample.png", p)
    r = cnai("label", "embed", str(p), "--producer", PRODUCER)
    assert r.returncode == 2 and "exactly one of -o OUTDIR or --in-place" in r.stderr
    r = cnai("label", "embed", str(p), "--producer", PRODUCER, "-o", str(tmp_path))
    assert r.returncode == 1 and "pass --in-place" in json_out(r)["error"]
    r = cnai("label", "embed", str(p), "--producer", PRODUCER, "--in-place", "--produce-id", "A1")
    assert r.returncode == 0
    assert read_file(str(p))["label"]["ProduceID"] == "A1"
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".cnai-tmp")]


def test_cli_rejects_bad_producer_code(sample_dir, tmp_path, cnai):
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", "001191110102MACQD9K64110000",
            "-o", str(tmp_path))
    assert r.returncode == 2 and "check character" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())


def test_produce_id_template_for_many_files(sample_dir, tmp_path, cnai):
    r = cnai("label", "embed", str(sample_dir / "sample.png"), str(sample_dir / "sample.jpg"), "--producer",
            PRODUCER, "--produce-id", "same", "-o", str(tmp_path))
    assert r.returncode == 2 and "unique" in r.stderr
    r = cnai("label", "embed", str(sample_dir / "sample.png"), str(sample_dir / "sample.jpg"), "--producer",
            PRODUCER, "--produce-id", "job7-{n}", "-o", str(tmp_path))
    ids = sorted(json.loads(x)["label"]["ProduceID"] for x in r.stdout.splitlines())
    assert ids == ["job7-1", "job7-2"]


@pytest.mark.parametrize("name", ["sample.pdf", "sample-xref-stream.pdf"])
def test_pdf_structure_valid_per_qpdf(sample_dir, tmp_path, name):
    import subprocess

    if not shutil.which("qpdf"):
        pytest.skip("qpdf not installed")
    out = tmp_path / name
    _embed(sample_dir / name, out)
    _embed(out, tmp_path / ("again-" + name), pid="cnai-test-0002")  # relabel replaces our previous update
    for p in (out, tmp_path / ("again-" + name)):
        r = subprocess.run(["qpdf", "--check", str(p)], capture_output=True, text=True)
        assert r.returncode == 0 and "WARNING" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert (tmp_path / ("again-" + name)).stat().st_size == out.stat().st_size


def test_avi_older_label_mid_file_is_junked(sample_dir, tmp_path):
    import struct

    if not (sample_dir / "sample.avi").exists():
        pytest.skip("needs ffmpeg")
    a = tmp_path / "a.avi"
    _embed(sample_dir / "sample.avi", a, pid="old-id")
    data = bytearray(a.read_bytes())
    data += b"JUNK" + struct.pack("<I", 8) + b"\x00" * 8  # our LIST INFO is no longer the last chunk
    data[4:8] = struct.pack("<I", len(data) - 8)
    a.write_bytes(bytes(data))
    assert read_file(str(a))["label"]["ProduceID"] == "old-id"
    b = tmp_path / "b.avi"
    _embed(a, b, pid="new-id")
    rec = read_file(str(b))
    assert rec["found_in"] == ["avi-info"] and rec["label"]["ProduceID"] == "new-id"
    assert b"old-id" not in b.read_bytes() and len(b.read_bytes()) > len(data)
    if shutil.which("ffmpeg"):
        assert decoded_md5(b) == decoded_md5(sample_dir / "sample.avi")


def test_read_jsonl_contract(sample_dir, tmp_path, cnai):
    """shared/spec/cli.md: one object per file with path, format, label (7 keys or null), found_in, error."""
    out = tmp_path / "o"
    cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "-o", str(out))
    (tmp_path / "o" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    r = cnai("label", "read", str(out), str(sample_dir / "sample.jpg"), "--format", "jsonl")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(recs) == 3 and r.returncode == 1  # one unreadable file -> exit 1, others still reported
    for rec in recs:
        assert {"path", "format", "label", "found_in", "error"} <= set(rec)
    good, bad, plain = recs[1], recs[0], recs[2]
    assert list(good["label"]) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
                                   "PropagateID", "ReservedCode2"]
    assert good["found_in"] == ["xmp"] and good["error"] is None
    assert bad["label"] is None and bad["error"] and "byte" in bad["error"]
    assert plain["label"] is None and plain["found_in"] == [] and plain["error"] is None
