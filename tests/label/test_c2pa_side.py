"""C2PA side by side: one file carries the TC260 label and a C2PA manifest (GB 45438 assertion + c2pa.actions
with the IPTC source type); c2pa-python validates it against the test CA, cnai's check passes, tampering with
the pixels or the label is detected by both, and a label changed after signing is reported."""

from __future__ import annotations

import json
import shutil

import pytest
from tests.label.conftest import PLATFORM, PRODUCER

c2pa = pytest.importorskip("c2pa")

from cnai.label.api import check_file, propagate_file, read_file  # noqa: E402
from cnai.label.c2pa_side import ASSERTION_LABEL  # noqa: E402

DST_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _pki(d):
    """Writes chain.pem (signer first), key.pem and ca.pem from a throw-away CA (tests/label/c2pa_util.py)."""
    from tests.label.c2pa_util import make_pki

    chain, key, ca = make_pki()
    (d / "chain.pem").write_bytes(chain)
    (d / "ca.pem").write_bytes(ca)
    (d / "key.pem").write_bytes(key)
    return d / "chain.pem", d / "key.pem", d / "ca.pem"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return _pki(tmp_path_factory.mktemp("pki"))


def c2pa_store(path, ca_pem):
    """What c2pa-python itself says, with the test CA as the only trust anchor (no network)."""
    settings = c2pa.Settings.from_dict({"verify": {"verify_trust": True, "remote_manifest_fetch": False,
                                                   "ocsp_fetch": False},
                                        "trust": {"trust_anchors": ca_pem.read_text()}})
    with c2pa.Reader(str(path), context=c2pa.Context(settings=settings)) as r:
        return json.loads(r.json())


def _embed(cnai, src, out, pki, *extra):
    chain, key, _ca = pki
    return cnai("label", "embed", str(src), "--producer", PRODUCER, "--produce-id", "both-1", "--c2pa-cert",
                str(chain), "--c2pa-key", str(key), "-o", str(out), *extra)


FORMATS = ["sample.jpg", "sample.png", "sample.mp4", "sample.wav"]


@pytest.mark.parametrize("name", FORMATS)
def test_labelled_both_ways_validates_in_c2pa_and_cnai(name, sample_dir, tmp_path, cnai, pki):
    if not (sample_dir / name).exists():
        pytest.skip(f"{name} needs ffmpeg")
    r = _embed(cnai, sample_dir / name, tmp_path / "o", pki)
    assert r.returncode == 0, r.stderr + r.stdout
    out = tmp_path / "o" / name
    rec = json.loads(r.stdout.splitlines()[0])
    assert rec["c2pa"]["signed"] and rec["c2pa"]["validation_state"] == "Trusted"
    # 1. c2pa-python, independently of cnai's reading: Trusted (hard binding and signature valid, CA anchored)
    store = c2pa_store(out, pki[2])
    assert store["validation_state"] == "Trusted", store.get("validation_status")
    active = store["manifests"][store["active_manifest"]]
    by_label = {a["label"]: a["data"] for a in active["assertions"]}
    gb = by_label[ASSERTION_LABEL]["AIGC"]
    assert gb["Label"] == "1" and gb["ContentProducer"] == PRODUCER and gb["ProduceID"] == "both-1"
    actions = next(v for k, v in by_label.items() if k.startswith("c2pa.actions"))["actions"]
    assert {"action": "c2pa.created", "digitalSourceType": DST_AI}.items() <= actions[0].items()
    # 2. the TC260 label is in the final bytes, where the format's guide puts it, and equals the assertion
    got = read_file(str(out), c2pa_trust=pki[2].read_bytes())
    assert got["label"] == gb and len(got["found_in"]) == 1
    assert got["c2pa_agreement"]["agree"] is True and got["c2pa"]["validation_state"] == "Trusted"
    # 3. cnai's own check (with and without the trust anchor; untrusted is a warning, not a failure)
    r = cnai("label", "check", str(out), "--c2pa-trust", str(pki[2]), "--format", "json")
    assert r.returncode == 0, r.stdout
    plain = check_file(str(out))
    assert plain["ok"] and any("not on the trust list" in w for w in plain["warnings"])


def test_tampering_is_detected_by_c2pa_and_cnai(sample_dir, tmp_path, cnai, pki):
    r = _embed(cnai, sample_dir / "sample.png", tmp_path / "o", pki)
    assert r.returncode == 0, r.stderr
    good = (tmp_path / "o" / "sample.png").read_bytes()
    # a) the label's ProduceID edited in the XMP packet (same length; the copy inside the manifest untouched)
    forged = tmp_path / "forged.png"
    needle = b"&quot;ProduceID&quot;:&quot;both-1"
    assert good.count(needle) == 1
    forged.write_bytes(_fix_png_crcs(good.replace(needle, needle[:-1] + b"2")))
    assert read_file(str(forged))["label"]["ProduceID"] == "both-2"
    assert c2pa_store(forged, pki[2])["validation_state"] == "Invalid"
    rec = check_file(str(forged), c2pa_trust=pki[2].read_bytes())
    assert not rec["ok"]
    assert any("does not validate" in p for p in rec["problems"])
    assert any("disagree: ProduceID" in p for p in rec["problems"]), rec["problems"]
    r = cnai("label", "check", str(forged), "--format", "json")
    assert r.returncode == 1
    # b) one bit of the compressed image data flipped, label untouched
    px = tmp_path / "px.png"
    data = bytearray(good)
    idat = data.find(b"IDAT")
    data[idat + 40] ^= 0x01
    px.write_bytes(_fix_png_crcs(bytes(data)))
    assert c2pa_store(px, pki[2])["validation_state"] == "Invalid"
    rec = check_file(str(px))
    assert not rec["ok"] and any("does not validate" in p for p in rec["problems"])


def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk CRC, so the PNG stays well-formed and only the content edit remains."""
    import struct
    import zlib

    out, p = bytearray(data[:8]), 8
    while p + 8 <= len(data):
        n = struct.unpack(">I", data[p:p + 4])[0]
        body = data[p + 4:p + 8 + n]
        out += data[p:p + 8 + n] + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        p += 12 + n
    return bytes(out)


def test_label_changed_after_signing_is_reported(sample_dir, tmp_path, cnai, pki):
    """Order matters: a platform that adds ContentPropagator after signing breaks the hard binding."""
    r = _embed(cnai, sample_dir / "sample.jpg", tmp_path / "o", pki)
    assert r.returncode == 0
    out = tmp_path / "o" / "sample.jpg"
    prop = tmp_path / "prop.jpg"
    rec = propagate_file(str(out), str(prop), propagator=PLATFORM, propagate_id="p9")
    assert rec["error"] is None
    chk = check_file(str(prop), c2pa_trust=pki[2].read_bytes())
    assert not chk["ok"] and any("does not validate" in p for p in chk["problems"])
    assert not any("disagree" in p for p in chk["problems"])  # producer fields unchanged
    assert any("ContentPropagator" in w for w in chk["warnings"])


def test_c2pa_key_from_env_and_bad_keys(sample_dir, tmp_path, cnai, pki, monkeypatch):
    chain, key, _ca = pki
    monkeypatch.setenv("CNAI_C2PA_KEY", key.read_text())
    r = cnai("label", "embed", str(sample_dir / "sample.jpg"), "--producer", PRODUCER, "--c2pa-cert", str(chain),
             "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    # a key that is not the signer certificate's: exit 2 before any file is touched, key text never echoed
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    monkeypatch.setenv("CNAI_C2PA_KEY", other)
    r = cnai("label", "embed", str(sample_dir / "sample.jpg"), "--producer", PRODUCER, "--c2pa-cert", str(chain),
             "-o", str(tmp_path / "o2"))
    assert r.returncode == 2 and "does not belong" in r.stderr
    assert not (tmp_path / "o2").exists()
    monkeypatch.setenv("CNAI_C2PA_KEY", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
    r = cnai("label", "embed", str(sample_dir / "sample.jpg"), "--producer", PRODUCER, "--c2pa-cert", str(chain),
             "-o", str(tmp_path / "o3"))
    assert r.returncode == 2 and "c2VjcmV0" not in r.stderr + r.stdout
    r = cnai("label", "embed", str(sample_dir / "sample.jpg"), "--producer", PRODUCER, "--c2pa-cert", str(chain),
             "--label", "3", "-o", str(tmp_path / "o4"))
    assert r.returncode == 2 and "--label 1" in r.stderr


def test_unsupported_format_is_a_counted_skip(sample_dir, tmp_path, cnai, pki):
    md = tmp_path / "a.md"
    md.write_text("# hi\n")
    shutil.copy(sample_dir / "sample.png", tmp_path / "b.png")
    r = _embed(cnai, tmp_path, tmp_path / "o", pki, "--format", "json", "--produce-id", "x-{stem}")
    recs = {rec["path"].rsplit("/", 1)[-1]: rec for rec in json.loads(r.stdout)}
    assert r.returncode == 1
    assert recs["a.md"]["skip_reason"] == "unsupported format" and "c2pa" in recs["a.md"]["error"]
    assert not (tmp_path / "o" / "a.md").exists()
    assert recs["b.png"]["error"] is None and recs["b.png"]["c2pa"]["signed"]


def test_agreement_rules():
    """Label 1 vs the manifest's source type (reference 6: Label 1 <-> trainedAlgorithmicMedia)."""
    from cnai.label.c2pa_side import agreement

    lab = {"Label": "1", "ContentProducer": PRODUCER, "ProduceID": "a"}
    capture = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    assert agreement(lab, {"digital_source_types": [DST_AI], "gb45438": dict(lab)})["agree"]
    # a third-party manifest with no source type at all neither confirms nor contradicts
    assert agreement(lab, {"digital_source_types": [], "gb45438": None})["agree"]
    assert not agreement(lab, {"digital_source_types": [capture], "gb45438": None})["agree"]
    assert not agreement(lab, {"digital_source_types": [DST_AI], "gb45438": {**lab, "ProduceID": "b"}})["agree"]
    assert not agreement(None, {"digital_source_types": [DST_AI], "gb45438": None})["agree"]
    assert agreement(lab, {"error": "broken"}) is None


def test_earlier_manifest_is_kept_as_parent_ingredient(sample_dir, tmp_path, cnai, pki):
    """A generator's C2PA file (its own CA) labelled and re-signed: the generator's manifest becomes the
    parentOf ingredient (reference 6: re-sign with the old manifest as an ingredient)."""
    from tests.label.c2pa_util import sign_with_c2pa

    gen = tmp_path / "gen.jpg"
    sign_with_c2pa(sample_dir / "sample.jpg", gen, generator="some-generator")
    r = _embed(cnai, gen, tmp_path / "o", pki)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["c2pa"]["parent"] and any("parent ingredient" in w for w in rec["warnings"])
    out = tmp_path / "o" / "gen.jpg"
    store = c2pa_store(out, pki[2])
    assert store["validation_state"] == "Trusted", store.get("validation_status")
    active = store["manifests"][store["active_manifest"]]
    assert [i["relationship"] for i in active["ingredients"]] == ["parentOf"]
    parent = store["manifests"][active["ingredients"][0]["active_manifest"]]
    assert parent["claim_generator_info"][0]["name"] == "some-generator"
    acts = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in acts] == ["c2pa.opened", "c2pa.edited.metadata"]
    got = read_file(str(out), c2pa_trust=pki[2].read_bytes())
    assert got["c2pa_agreement"]["agree"] and got["c2pa"]["parent_ingredients"] == ["gen.jpg"]
    assert check_file(str(out), c2pa_trust=pki[2].read_bytes())["ok"]
