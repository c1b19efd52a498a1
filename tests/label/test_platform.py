"""check / classify / propagate, integrity (hash + Ed25519, our extension), C2PA and IPTC interop."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from tests.conftest import json_out
from tests.label.conftest import PLATFORM, PRODUCER, sha

from cnai.label.api import check_file, classify_file, embed_file, read_file


@pytest.fixture
def signing_env(monkeypatch, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    k = Ed25519PrivateKey.generate()
    seed = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    monkeypatch.setenv("CNAI_LABEL_SIGNING_KEY", base64.b64encode(seed).decode())
    pub = base64.urlsafe_b64encode(k.public_key().public_bytes(serialization.Encoding.Raw,
                                                               serialization.PublicFormat.Raw)).rstrip(b"=")
    (tmp_path / "pub.txt").write_bytes(pub)
    return {"PUB": str(tmp_path / "pub.txt"), "CNAI_LABEL_SIGNING_KEY": base64.b64encode(seed).decode()}


def test_check_findings(sample_dir, tmp_path):
    out = tmp_path / "a.png"
    embed_file(str(sample_dir / "sample.png"), str(out), producer=PRODUCER)
    assert check_file(str(out))["ok"]
    # a name instead of a code is allowed by Annex E ("name or code") but reported
    out2 = tmp_path / "b.png"
    embed_file(str(sample_dir / "sample.png"), str(out2), producer="doubao")
    r = check_file(str(out2))
    assert r["ok"] and any("not a 27-character provider code" in w for w in r["warnings"])
    # a code with a broken GB 32100 check character fails
    out3 = tmp_path / "c.png"
    embed_file(str(sample_dir / "sample.png"), str(out3), producer="001191110102MACQD9K64110000")
    r = check_file(str(out3))
    assert not r["ok"] and any("check character" in p for p in r["problems"])
    r = check_file(str(sample_dir / "sample.png"))
    assert not r["ok"] and r["problems"] == ["no implicit (metadata) label found"]


@pytest.mark.parametrize("name", ["sample.jpg", "sample.png", "sample.wav", "sample.mp4", "sample.pdf",
                                  "sample.docx", "sample.md", "sample.flac"])
def test_signature_and_tamper_detection(sample_dir, tmp_path, signing_env, cnai, name):
    src = sample_dir / name
    if not src.exists():
        pytest.skip("needs ffmpeg")
    out = tmp_path / "out"
    r = cnai("label", "embed", str(src), "--producer", PRODUCER, "--sign", "-o", str(out),
            env={"CNAI_LABEL_SIGNING_KEY": signing_env["CNAI_LABEL_SIGNING_KEY"]})
    assert r.returncode == 0, r.stderr
    labelled = out / name
    assert signing_env["CNAI_LABEL_SIGNING_KEY"] not in r.stdout + r.stderr + labelled.read_bytes().decode("latin-1")
    tok = read_file(str(labelled))["label"]["ReservedCode1"]
    assert tok.startswith("cnai1:ed25519:")
    r = cnai("label", "check", str(labelled), "--trust", signing_env["PUB"])
    assert r.returncode == 0, r.stdout
    assert json_out(r)["integrity"] == {"ReservedCode1": "ok"}
    # the platform adds propagation data: producer signature must still verify
    prop = tmp_path / "prop"
    r = cnai("label", "propagate", str(labelled), "--propagator", PLATFORM, "--hash", "-o", str(prop))
    assert r.returncode == 0, r.stderr
    lab = read_file(str(prop / name))["label"]
    assert lab["ContentProducer"] == PRODUCER and lab["ReservedCode1"] == tok  # producer fields untouched
    assert lab["ContentPropagator"] == PLATFORM and lab["ReservedCode2"].startswith("cnai1:sha256:")
    assert check_file(str(prop / name))["ok"]
    # tamper with the label: change ProduceID -> signature fails
    t1 = tmp_path / ("t1-" + name)
    embed_file(str(labelled), str(t1), producer=PRODUCER, produce_id="forged")
    from cnai.label.api import write_label
    from cnai.label.formats.base import WriteOpts
    from cnai.label.model import AIGCLabel

    forged = AIGCLabel(**{**read_file(str(labelled))["label"], "ProduceID": "forged"})
    write_label(str(labelled), str(t1), read_file(str(labelled))["format"], forged, WriteOpts())
    r = check_file(str(t1))
    assert not r["ok"] and any("signature does not verify" in p for p in r["problems"])
    # an untrusted key is reported when --trust is used
    other = tmp_path / "other.txt"
    other.write_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    from cnai.label.integrity import load_trusted

    r = check_file(str(labelled), trusted=load_trusted([str(other)]))
    assert not r["ok"] and any("untrusted key" in p for p in r["problems"])


def test_content_tamper_detected(sample_dir, tmp_path):
    out = tmp_path / "x.md"
    embed_file(str(sample_dir / "sample.md"), str(out), producer=PRODUCER, hash_only=True)
    assert check_file(str(out))["ok"]
    out.write_text(out.read_text().replace("Generated text.", "Edited text."))
    r = check_file(str(out))
    assert not r["ok"] and any("content hash mismatch" in p for p in r["problems"])
    # pixels changed in a WAV: flip one sample byte in the data chunk
    w = tmp_path / "x.wav"
    embed_file(str(sample_dir / "sample.wav"), str(w), producer=PRODUCER, hash_only=True)
    b = bytearray(w.read_bytes())
    i = b.find(b"data") + 100
    b[i] ^= 0xFF
    w.write_bytes(bytes(b))
    assert any("content hash mismatch" in p for p in check_file(str(w))["problems"])


def test_sign_without_key_is_usage_error(sample_dir, tmp_path, cnai):
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "--sign", "-o", str(tmp_path),
            env={"CNAI_LABEL_SIGNING_KEY": ""})
    assert r.returncode == 2 and "CNAI_LABEL_SIGNING_KEY" in r.stderr
    assert not list(tmp_path.iterdir())


def test_classify_categories(sample_dir, tmp_path, cnai):
    labelled = tmp_path / "labelled.png"
    embed_file(str(sample_dir / "sample.png"), str(labelled), producer=PRODUCER)
    plain = tmp_path / "plain.jpg"
    shutil.copy(sample_dir / "sample.jpg", plain)
    declared = tmp_path / "declared.jpg"
    shutil.copy(sample_dir / "sample.jpg", declared)
    txt = tmp_path / "note.md"
    txt.write_text("以下内容由AI生成。\n\n今天天气很好。\n", encoding="utf-8")
    r = cnai("label", "classify", str(tmp_path), "--declared", "declared.jpg")
    got = {json.loads(x)["path"].rsplit("/", 1)[-1]: json.loads(x) for x in r.stdout.splitlines()}
    assert got["labelled.png"]["category"] == "confirmed"
    assert got["declared.jpg"]["category"] == "possible"
    assert got["plain.jpg"]["category"] == "none"
    assert got["note.md"]["category"] == "suspected" and "visible text label" in got["note.md"]["reasons"][0]
    assert r.returncode == 0


def test_c2pa_manifest_is_read_and_suspected(sample_dir, tmp_path):
    pytest.importorskip("c2pa")
    from tests.label.c2pa_util import DST_AI, sign_with_c2pa

    signed = tmp_path / "c2pa.jpg"
    sign_with_c2pa(sample_dir / "sample.jpg", signed)
    rec = read_file(str(signed))
    assert rec["c2pa"]["claim_generator"] == "cnai-test-generator"
    assert rec["c2pa"]["digital_source_types"] == [DST_AI]
    c = classify_file(str(signed))
    assert c["category"] == "suspected" and any("C2PA" in x for x in c["reasons"])
    # labelling a C2PA file warns that the hash binding breaks
    rec = embed_file(str(signed), str(tmp_path / "c2pa-labelled.jpg"), producer=PRODUCER)
    assert any("C2PA" in w for w in rec["warnings"])
    both = read_file(str(tmp_path / "c2pa-labelled.jpg"))
    assert both["label"] and both["c2pa"]  # reported side by side


def test_iptc_digital_source_type_written_and_read(sample_dir, tmp_path, cnai):
    r = cnai("label", "embed", str(sample_dir / "sample.jpg"), "--producer", PRODUCER, "--iptc", "-o", str(tmp_path))
    assert r.returncode == 0
    rec = read_file(str(tmp_path / "sample.jpg"))
    assert rec["iptc_digital_source_type"].endswith("trainedAlgorithmicMedia") and rec["label"]
    if shutil.which("exiftool"):
        from tests.label.conftest import exiftool_json

        meta = exiftool_json(tmp_path / "sample.jpg")
        assert meta["XMP-iptcExt:DigitalSourceType"].endswith("trainedAlgorithmicMedia")
    # IPTC alone (no TC260 label) -> suspected
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from cnai.label import xmp as X

    packet = X.EMPTY_PACKET.replace("</rdf:RDF>", f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{X.IPTC_EXT_NS}">'
                                    f"<Iptc4xmpExt:DigitalSourceType>{X.DST_AI}</Iptc4xmpExt:DigitalSourceType>"
                                    "</rdf:Description></rdf:RDF>")
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet)
    p = tmp_path / "iptc-only.png"
    Image.open(sample_dir / "sample.png").save(p, pnginfo=info)
    c = classify_file(str(p))
    assert c["category"] == "suspected" and "IPTC DigitalSourceType trainedAlgorithmicMedia" in c["reasons"]


def test_propagate_unlabelled(sample_dir, tmp_path, cnai):
    src = sample_dir / "sample.jpg"
    before = sha(src)
    r = cnai("label", "propagate", str(src), "--propagator", PLATFORM, "-o", str(tmp_path))
    assert r.returncode == 0 and json_out(r)["status"] == "skipped"
    r = cnai("label", "propagate", str(src), "--propagator", PLATFORM, "--declared", "*", "-o", str(tmp_path))
    lab = json_out(r)["label"]
    assert lab["Label"] == "2" and lab["ContentPropagator"] == PLATFORM and lab["ContentProducer"] == ""
    assert read_file(str(tmp_path / "sample.jpg"))["label"] == lab
    assert sha(src) == before


def test_generator_metadata_is_suspected(sample_dir, tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "a cat in a hat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 1")
    p = tmp_path / "sd.png"
    Image.open(sample_dir / "sample.png").save(p, pnginfo=info)
    c = classify_file(str(p))
    assert c["category"] == "suspected"
    assert any("Stable Diffusion" in r for r in c["reasons"])
    assert classify_file(str(sample_dir / "sample.png"))["category"] == "none"


def test_sm3_digest_and_signature(sample_dir, tmp_path, signing_env, cnai):
    from cnai.label.integrity import digest_chunks

    # GB/T 32905 test vector: SM3("abc")
    assert digest_chunks([b"abc"], "sm3").hex() == \
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    r = cnai("label", "embed", str(sample_dir / "sample.md"), "--producer", PRODUCER, "--sign", "--hash-alg", "sm3",
            "-o", str(tmp_path), env={"CNAI_LABEL_SIGNING_KEY": signing_env["CNAI_LABEL_SIGNING_KEY"]})
    assert r.returncode == 0, r.stderr
    out = tmp_path / "sample.md"
    assert read_file(str(out))["label"]["ReservedCode1"].startswith("cnai1:ed25519-sm3:")
    r = cnai("label", "check", str(out), "--trust", signing_env["PUB"])
    assert r.returncode == 0 and json_out(r)["integrity"] == {"ReservedCode1": "ok"}
    out.write_text(out.read_text().replace("Generated text.", "Changed."))
    r = cnai("label", "check", str(out))
    assert r.returncode == 1 and any("content hash mismatch" in p for p in json_out(r)["problems"])
