"""Bad input: clear per-file errors with offsets, the batch continues, originals are never modified."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from tests.label.conftest import PRODUCER, sha

from cnai.label.api import embed_file, read_file


def _batch(tmp_path, sample_dir):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(sample_dir / "sample.png", d / "good.png")
    (d / "empty.jpg").write_bytes(b"")
    (d / "trunc.jpg").write_bytes((sample_dir / "sample.jpg").read_bytes()[:300])
    (d / "random.bin").write_bytes(os.urandom(2000))
    shutil.copy(sample_dir / "sample.png", d / "png-named.jpg")  # wrong extension
    (d / "bad.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n")  # no xref, no startxref
    (d / "notzip.docx").write_bytes(b"PK\x03\x04" + os.urandom(100))
    return d


def test_batch_continues_and_counts_skips(sample_dir, tmp_path, cnai):
    d = _batch(tmp_path, sample_dir)
    before = {p.name: sha(p) for p in d.iterdir()}
    r = cnai("label", "embed", str(d), "--producer", PRODUCER, "-o", str(tmp_path / "out"))
    assert r.returncode == 1
    recs = {json.loads(x)["path"].rsplit("/", 1)[-1]: json.loads(x) for x in r.stdout.splitlines()}
    assert len(recs) == 7
    assert recs["good.png"]["status"] == "labelled"
    assert recs["png-named.jpg"]["status"] == "labelled"
    assert "extension .jpg says jpeg, content is png" in recs["png-named.jpg"]["warnings"][0]
    assert recs["empty.jpg"]["skip_reason"] == "empty file"
    assert recs["random.bin"]["skip_reason"] == "unsupported format"
    assert "byte" in recs["trunc.jpg"]["error"]
    assert "startxref" in recs["bad.pdf"]["error"]
    assert "ZIP" in recs["notzip.docx"]["error"] or "zip" in recs["notzip.docx"]["error"]
    summary = r.stderr.strip().splitlines()[-1]
    assert summary.startswith("summary: embed: 7 files: 5 errors, 2 labelled")
    assert "empty file: 1" in summary and "unsupported format: 1" in summary
    assert {p.name: sha(p) for p in d.iterdir()} == before
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png", "png-named.jpg"]


def test_read_only_destination(sample_dir, tmp_path, cnai):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        rec = embed_file(str(sample_dir / "sample.png"), str(ro / "x.png"), producer=PRODUCER)
        assert rec["skip_reason"] == "permission denied"
    finally:
        os.chmod(ro, 0o700)


def test_unwritable_destination_is_reported(sample_dir, tmp_path):
    # works as root too: the destination's parent is a regular file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rec = embed_file(str(sample_dir / "sample.png"), str(blocker / "x.png"), producer=PRODUCER)
    assert rec["error"] and rec["skip_reason"] in ("i/o error", "not found", "permission denied")


def test_in_place_failure_keeps_original(sample_dir, tmp_path):
    p = tmp_path / "t.mp3"
    good = (sample_dir / "sample.mp3").read_bytes() if (sample_dir / "sample.mp3").exists() else None
    if good is None:
        pytest.skip("needs ffmpeg")
    bad = good[:3] + b"\x03\x00\x00\x7f\x7f\x7f\x7f" + good[10:200]  # ID3 size points far past the end
    p.write_bytes(bad)
    rec = embed_file(str(p), str(p), producer=PRODUCER, in_place=True)
    assert "runs past the end of the file" in rec["error"] and "byte 6" in rec["error"]
    assert p.read_bytes() == bad
    assert [x.name for x in tmp_path.iterdir()] == ["t.mp3"]


def test_oversized_metadata(sample_dir, tmp_path):
    from tests.label.test_variants import _jpeg_with_app1

    big = b"http://ns.adobe.com/xap/1.0/\x00" + (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:x>' + "a" * 65000 +
        "</dc:x></rdf:Description></rdf:RDF></x:xmpmeta>").encode()
    big = big[:65533]
    p = tmp_path / "big.jpg"
    p.write_bytes(_jpeg_with_app1((sample_dir / "sample.jpg").read_bytes(), big))
    rec = embed_file(str(p), str(tmp_path / "o.jpg"), producer=PRODUCER)
    assert rec["error"] and ("segment limit" in rec["error"] or "XMP" in rec["error"])
    assert not (tmp_path / "o.jpg").exists()


def test_missing_path_and_read_errors(tmp_path, cnai):
    r = cnai("label", "read", str(tmp_path / "nope.png"))
    assert r.returncode == 1
    rec = json.loads(r.stdout)
    assert rec["error"] == "file does not exist" and rec["label"] is None


def test_corrupt_media_messages(sample_dir, tmp_path):
    cases = {"sample.mp4": 40, "sample.flac": 30, "sample.ogg": 40, "sample.wav": 30, "sample.png": 40,
             "sample.gif": 20, "sample.mkv": 30, "sample.tif": 12}
    for name, cut in cases.items():
        if not (sample_dir / name).exists():
            continue
        p = tmp_path / name
        p.write_bytes((sample_dir / name).read_bytes()[:cut])
        rec = read_file(str(p))
        w = embed_file(str(p), str(tmp_path / ("o-" + name)), producer=PRODUCER)
        assert w["error"], name
        assert w["skip_reason"] != "internal error", (name, w)
        assert rec["error"] is None or rec["skip_reason"] != "internal error", (name, rec)


def test_toml_front_matter_refused(tmp_path):
    p = tmp_path / "hugo.md"
    p.write_text('+++\ntitle = "x"\n+++\nbody\n')
    rec = embed_file(str(p), str(tmp_path / "o.md"), producer=PRODUCER)
    assert "TOML front matter" in rec["error"] and not (tmp_path / "o.md").exists()
