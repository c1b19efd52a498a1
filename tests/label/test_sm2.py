"""SM2 signatures (SM3withSM2) in the integrity token: signed labels verify; changing the content, a label
field or the signature is detected; the signatures interoperate with OpenSSL (an independent SM2 code)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from PIL import Image
from tests.label.conftest import PRODUCER

from cnai.label import integrity as I
from cnai.label.api import check_file, read_file, write_label
from cnai.label.formats.base import WriteOpts
from cnai.label.model import AIGCLabel


@pytest.fixture()
def sm2_env(tmp_path, cnai, monkeypatch):
    keyf = tmp_path / "sm2.key"
    r = cnai("label", "keygen", "--alg", "sm2", "-o", str(keyf))
    assert r.returncode == 0, r.stderr
    pub = r.stdout.strip()
    assert stat.S_IMODE(os.stat(keyf).st_mode) == 0o600
    secret = keyf.read_text().strip()
    assert secret.startswith("sm2:") and secret not in r.stdout  # the public key only is printed
    monkeypatch.setenv(I.ENV_KEY, secret)
    return pub, secret


def _signed(sample_dir, tmp_path, cnai, ext="png"):
    out = tmp_path / "out"
    r = cnai("label", "embed", str(sample_dir / f"sample.{ext}"), "--producer", PRODUCER, "--produce-id", "p-1",
             "--sign", "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out / f"sample.{ext}"


def test_sm2_signed_label_verifies(sm2_env, sample_dir, tmp_path, cnai):
    pub, secret = sm2_env
    f = _signed(sample_dir, tmp_path, cnai)
    lab = read_file(str(f))["label"]
    kind, tok_pub = lab["ReservedCode1"].split(":")[1:3]
    assert kind == "sm2-sm3" and tok_pub == pub
    rec = check_file(str(f))
    assert rec["ok"], rec["problems"]
    assert rec["integrity"] == {"ReservedCode1": "ok"}
    # the token keeps to the strict Annex E character set (no quotes, spaces or backslashes)
    assert AIGCLabel.from_obj(lab).problems() == []
    # --trust with the printed public key: ok; with another key: untrusted
    (tmp_path / "pub.txt").write_text(pub + "\n")
    r = cnai("label", "check", str(f), "--trust", str(tmp_path / "pub.txt"), "--format", "json")
    assert r.returncode == 0, r.stdout
    other = I.SM2Key.generate()
    (tmp_path / "other.txt").write_text(I.public_b64(other))
    r = cnai("label", "check", str(f), "--trust", str(tmp_path / "other.txt"), "--format", "json")
    assert r.returncode == 1 and "untrusted key" in r.stdout
    assert secret[4:] not in r.stdout + r.stderr


def test_sm2_detects_label_field_tampering(sm2_env, sample_dir, tmp_path, cnai):
    f = _signed(sample_dir, tmp_path, cnai)
    lab = AIGCLabel.from_obj(read_file(str(f))["label"])
    for field, value in (("ProduceID", "p-2"), ("Label", "2"), ("ContentProducer", "001191440300MA5G49LC9K1YO01")):
        forged = AIGCLabel(**{**lab.to_dict(), field: value})
        g = tmp_path / f"forged-{field}.png"
        write_label(str(f), str(g), "png", forged, WriteOpts())  # same content, same token, one field changed
        rec = check_file(str(g))
        assert not rec["ok"] and rec["integrity"]["ReservedCode1"] == "failed", field
        assert any("SM2 signature does not verify" in p for p in rec["problems"]), rec["problems"]
        assert not any("content hash mismatch" in p for p in rec["problems"])


def test_sm2_detects_content_tampering(sm2_env, sample_dir, tmp_path, cnai):
    f = _signed(sample_dir, tmp_path, cnai)
    lab = AIGCLabel.from_obj(read_file(str(f))["label"])
    im = Image.open(f).convert("RGB")
    im.putpixel((3, 3), tuple(255 - c for c in im.getpixel((3, 3))))
    edited = tmp_path / "edited.png"
    im.save(edited)
    g = tmp_path / "edited-relabelled.png"
    write_label(str(edited), str(g), "png", lab, WriteOpts())  # the old label copied onto changed pixels
    rec = check_file(str(g))
    assert not rec["ok"] and any("content hash mismatch" in p for p in rec["problems"])


def test_sm2_detects_signature_and_key_tampering(sm2_env):
    key = I.load_private_key()
    d = I.digest_chunks([b"pixels"], "sm3")
    tok = I.make_token(d, priv=key, label="1", who=PRODUCER, ident="x", alg="sm3")
    kw = dict(label="1", who=PRODUCER, ident="x")
    assert I.verify_token(tok, d, **kw) == []
    head, pub, dig, sig = tok.rsplit(":", 3)
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    assert I.verify_token(f"{head}:{pub}:{dig}:{flipped}", d, **kw)
    other = I.public_b64(I.SM2Key.generate())
    assert I.verify_token(f"{head}:{other}:{dig}:{sig}", d, **kw)  # someone else's key
    bad_point = I.b64u(b"\x04" + b"\x01" * 64)  # not on the curve
    assert I.verify_token(f"{head}:{bad_point}:{dig}:{sig}", d, **kw)
    assert I.verify_token(f"{head}:{pub}:{dig}:{sig[:-4]}", d, **kw)  # truncated signature


def test_sm2_key_errors_do_not_echo_the_key(tmp_path, sample_dir, cnai, monkeypatch):
    monkeypatch.setenv(I.ENV_KEY, "sm2:c2VjcmV0LXRvby1zaG9ydA")
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "--sign", "-o",
             str(tmp_path / "o"))
    assert r.returncode == 2 and I.ENV_KEY in r.stderr and "c2VjcmV0" not in r.stderr
    assert not (tmp_path / "o" / "sample.png").exists()
    r = cnai("label", "keygen", "--alg", "sm2", "-o", str(tmp_path / "k"))
    r2 = cnai("label", "keygen", "--alg", "sm2", "-o", str(tmp_path / "k"))
    assert r.returncode == 0 and r2.returncode == 2 and "overwrite" in r2.stderr


needs_openssl_sm2 = pytest.mark.skipif(
    not shutil.which("openssl") or subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", os.devnull],
                                                  capture_output=True).returncode != 0,
    reason="openssl without SM2")


def _der_sig(raw: bytes) -> bytes:
    def integer(b: bytes) -> bytes:
        b = b.lstrip(b"\x00") or b"\x00"
        if b[0] & 0x80:
            b = b"\x00" + b
        return b"\x02" + bytes([len(b)]) + b

    body = integer(raw[:32]) + integer(raw[32:])
    return b"\x30" + bytes([len(body)]) + body


def _raw_sig(der: bytes) -> bytes:
    i = 2
    out = b""
    for _ in range(2):
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\x00").rjust(32, b"\x00")
        i += 2 + n
    return out


@needs_openssl_sm2
def test_sm2_interoperates_with_openssl(tmp_path, sample_dir, cnai, monkeypatch):
    """A key made by OpenSSL signs through cnai and OpenSSL verifies the token; OpenSSL's signature verifies
    in cnai. Both use SM3withSM2 with the default ID 1234567812345678 (GB/T 35276)."""
    key, pubpem = tmp_path / "k.pem", tmp_path / "pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", str(key)], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pubpem)], check=True,
                   capture_output=True)
    monkeypatch.setenv(I.ENV_KEY, key.read_text())
    out = tmp_path / "o"
    r = cnai("label", "embed", str(sample_dir / "sample.png"), "--producer", PRODUCER, "--produce-id", "os-1",
             "--sign", "-o", str(out))
    assert r.returncode == 0, r.stderr
    lab = read_file(str(out / "sample.png"))["label"]
    _p, kind, pub, dig, sig = lab["ReservedCode1"].split(":")
    assert kind == "sm2-sm3" and pub == I.public_from_pem(pubpem.read_bytes())
    msg = tmp_path / "msg"
    msg.write_bytes(I.message("1", PRODUCER, "os-1", dig))
    (tmp_path / "sig.der").write_bytes(_der_sig(I.unb64u(sig)))
    verify = ["openssl", "pkeyutl", "-verify", "-in", str(msg), "-rawin", "-digest", "sm3", "-pubin", "-inkey",
              str(pubpem), "-pkeyopt", "distid:1234567812345678", "-sigfile", str(tmp_path / "sig.der")]
    assert subprocess.run(verify, capture_output=True).returncode == 0
    # OpenSSL signs, cnai verifies (and rejects it for a different message)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-in", str(msg), "-rawin", "-digest", "sm3", "-inkey", str(key),
                    "-pkeyopt", "distid:1234567812345678", "-out", str(tmp_path / "os.der")], check=True,
                   capture_output=True)
    raw = _raw_sig((tmp_path / "os.der").read_bytes())
    assert I.sm2_verify(I.unb64u(pub), msg.read_bytes(), raw)
    assert not I.sm2_verify(I.unb64u(pub), msg.read_bytes() + b"x", raw)


def test_sm2_propagator_token(sm2_env, sample_dir, tmp_path, cnai):
    """A platform signs ReservedCode2 with SM2 (propagate --sign); a changed PropagateID is detected."""
    from tests.label.conftest import PLATFORM

    f = _signed(sample_dir, tmp_path, cnai)
    r = cnai("label", "propagate", str(f), "--propagator", PLATFORM, "--propagate-id", "plat-1", "--sign", "-o",
             str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    g = tmp_path / "p" / "sample.png"
    rec = check_file(str(g))
    assert rec["ok"] and rec["integrity"] == {"ReservedCode1": "ok", "ReservedCode2": "ok"}, rec
    lab = AIGCLabel.from_obj(read_file(str(g))["label"])
    assert lab.ReservedCode2.startswith("cnai1:sm2-sm3:")
    forged = AIGCLabel(**{**lab.to_dict(), "PropagateID": "plat-2"})
    h = tmp_path / "h.png"
    write_label(str(g), str(h), "png", forged, WriteOpts())
    rec = check_file(str(h))
    assert rec["integrity"] == {"ReservedCode1": "ok", "ReservedCode2": "failed"}
