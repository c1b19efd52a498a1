"""Integrity data for ReservedCode1/ReservedCode2 -- OUR EXTENSION, not the TC260 SecurityData format.

TC260-PG-202511A describes a JSON "SecurityData" object (reference 2.4, secondary); we could not read the
guide, and a JSON object inside a label value would break the strict Annex E character set (no quotes).
So cnai writes a compact token that stays inside that character set:

    cnai1:sha256:<digest>                              content hash only (cnai1:sm3:... with SM3)
    cnai1:ed25519:<public key>:<digest>:<signature>    hash plus Ed25519 signature (ed25519-sm3: SM3 digest)
    cnai1:sm2-sm3:<public key>:<digest>:<signature>    SM3 digest plus SM2 signature (SM3withSM2)

(all base64url without padding). <digest> is SHA-256 over the file's media essence -- the bytes that
carry pixels/samples/text, excluding every metadata carrier -- so adding or replacing labels does not
change it, while editing the content does. The signed message binds the label fields to the digest:
    Label|ContentProducer|ProduceID|<digest>            (ReservedCode1, producer)
    Label|ContentPropagator|PropagateID|<digest>        (ReservedCode2, propagator)
Keys come only from the environment (CNAI_LABEL_SIGNING_KEY): base64 of a 32-byte Ed25519 seed, an Ed25519
PEM, "sm2:" + base64 of a 32-byte SM2 private key, or an OpenSSL SM2 PEM (`openssl genpkey -algorithm SM2`).

SM2 (GB/T 32918.2, signature with SM3 and the default user ID 1234567812345678 of GB/T 35276 -- the
combination MiniMax files use, reference 2.4) is done by gmalg, a pure-Python GM library: `cryptography`
has SM3 but no SM2 signing, and gmssl 3.2.2 draws its nonce from `random` and mangles public keys that
start with '0'/'4' (`lstrip("04")`). SM2 public keys are the 65-byte uncompressed point 04||X||Y, the
signature is r||s (2 x 32 bytes), both base64url. Tests cross-check against the OpenSSL command line.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cnai.errors import InputError

ENV_KEY = "CNAI_LABEL_SIGNING_KEY"


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


HASH_ALGS = ("sha256", "sm3")


class _SM3:
    """SM3 (GB/T 32905) through `cryptography` (OpenSSL), same interface as hashlib."""

    def __init__(self):
        from cryptography.hazmat.primitives import hashes

        self._h = hashes.Hash(hashes.SM3())

    def update(self, b: bytes) -> None:
        self._h.update(b)

    def digest(self) -> bytes:
        return self._h.finalize()


def digest_chunks(chunks, alg: str = "sha256") -> bytes:
    h = hashlib.sha256() if alg == "sha256" else _SM3()
    for c in chunks:
        h.update(c)
    return h.digest()


SM2_UID = b"1234567812345678"  # default signer ID of GB/T 35276 (also what MiniMax files use, reference 2.4)
# OID 1.2.156.10197.1.301 (SM2 curve), DER-encoded, to recognise OpenSSL SM2 keys without an ASN.1 library
_SM2_OID_DER = bytes.fromhex("06082a811ccf5501822d")


class SM2Key:
    """An SM2 private key (32-byte scalar) with the small interface the token code needs."""

    alg = "sm2"

    def __init__(self, secret: bytes):
        import gmalg

        if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _SM2_N - 1:
            raise ValueError("an SM2 private key is a 32-byte number in [1, n-2]")
        self._sm2 = gmalg.SM2(sk=secret, uid=SM2_UID)
        self.public = self._sm2.generate_pk(secret)  # 04||X||Y
        self._sm2 = gmalg.SM2(sk=secret, uid=SM2_UID, pk=self.public)

    @classmethod
    def generate(cls) -> SM2Key:
        import gmalg

        sk, _pk = gmalg.SM2(uid=SM2_UID).generate_keypair()
        return cls(sk.rjust(32, b"\x00"))

    def secret_bytes(self) -> bytes:
        return self._sm2._sk.to_bytes(32, "big")

    def sign(self, msg: bytes) -> bytes:
        r, s = self._sm2.sign(msg)
        return r.rjust(32, b"\x00") + s.rjust(32, b"\x00")

    def __repr__(self) -> str:  # never show key material
        return "SM2Key(<secret>)"


_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def sm2_verify(public: bytes, msg: bytes, sig: bytes) -> bool:
    import gmalg

    if len(sig) != 64 or len(public) != 65 or public[:1] != b"\x04":
        return False
    try:
        v = gmalg.SM2(uid=SM2_UID, pk=public)
        if not v.verify_pk(public):  # a point off the curve must not verify anything
            return False
        return bool(v.verify(msg, sig[:32], sig[32:]))
    except Exception:
        return False


def _sm2_from_der(der: bytes) -> SM2Key:
    """The private scalar of an OpenSSL SM2 key (PKCS#8 or SEC1 'EC PRIVATE KEY'): ECPrivateKey starts with
    INTEGER 1 followed by an OCTET STRING of 32 bytes; when the key embeds its public point, check it."""
    i = der.find(b"\x02\x01\x01\x04\x20")
    if _SM2_OID_DER not in der or i < 0 or len(der) < i + 37:
        raise ValueError("not an SM2 private key")
    key = SM2Key(der[i + 5:i + 37])
    j = der.find(b"\x03\x42\x00\x04", i + 37)
    if j >= 0 and der[j + 3:j + 68] != key.public:
        raise ValueError("the embedded public key does not match the private key")
    return key


def _pem_der(pem: str) -> bytes:
    body = "".join(ln for ln in pem.strip().splitlines() if not ln.startswith("-----"))
    return base64.b64decode(body)


def load_private_key(env: str = ENV_KEY):
    """The signing key from the environment: an Ed25519 key object or an SM2Key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = os.environ.get(env)
    if not raw:
        raise InputError(f"signing requested but the environment variable {env} is not set", field="--sign")
    raw = raw.strip()
    try:
        if raw.lower().startswith("sm2:"):
            v = raw[4:].strip()
            return SM2Key(base64.b64decode(v + "=" * (-len(v) % 4)))
        if raw.startswith("-----BEGIN"):
            der = _pem_der(raw)
            if _SM2_OID_DER in der:
                return _sm2_from_der(der)
            k = serialization.load_pem_private_key(raw.encode(), password=None)
            if not isinstance(k, Ed25519PrivateKey):
                raise InputError("the PEM key is neither an Ed25519 nor an SM2 key", field=env)
            return k
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    except InputError:
        raise
    except Exception:  # the message never echoes the value (it is a secret)
        raise InputError("cannot parse the signing key (expect base64 of 32 bytes, 'sm2:' + base64 of 32 bytes, "
                         "or an Ed25519/SM2 PEM)", field=env) from None


def key_alg(priv) -> str:
    return "sm2" if isinstance(priv, SM2Key) else "ed25519"


def public_b64(priv) -> str:
    if isinstance(priv, SM2Key):
        return b64u(priv.public)
    from cryptography.hazmat.primitives import serialization

    return b64u(priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def message(label: str, who: str, ident: str, digest_b64: str) -> bytes:
    return f"{label}|{who}|{ident}|{digest_b64}".encode()


def make_token(digest: bytes, *, priv=None, label: str = "", who: str = "", ident: str = "",
               alg: str = "sha256") -> str:
    """An SM2 key signs an SM3 digest (SM3withSM2): callers hash with token_digest_alg(priv, alg)."""
    d = b64u(digest)
    if priv is None:
        return f"cnai1:{alg}:{d}"
    sig = priv.sign(message(label, who, ident, d))
    if isinstance(priv, SM2Key):
        if alg != "sm3":
            raise ValueError("SM2 tokens carry an SM3 digest")
        kind = "sm2-sm3"
    else:
        kind = "ed25519" if alg == "sha256" else f"ed25519-{alg}"
    return f"cnai1:{kind}:{public_b64(priv)}:{d}:{b64u(sig)}"


def token_digest_alg(priv, alg: str) -> str:
    """The content digest a token made with this key uses: SM2 always pairs with SM3."""
    return "sm3" if isinstance(priv, SM2Key) else alg


def token_alg(token: str) -> str:
    """Digest algorithm a token was made with (sha256 or sm3)."""
    kind = token.split(":")[1] if token.count(":") >= 2 else ""
    return "sm3" if kind in ("sm3", "ed25519-sm3", "sm2-sm3") else "sha256"


def is_token(s: str) -> bool:
    return s.startswith("cnai1:")


SIGNED_KINDS = ("ed25519", "ed25519-sm3", "sm2-sm3")


def verify_token(token: str, digest: bytes, *, label: str, who: str, ident: str,
                 trusted: set[str] | None = None) -> list[str]:
    """Problems found ([] when the token verifies)."""
    parts = token.split(":")
    if parts[:2] in (["cnai1", "sha256"], ["cnai1", "sm3"]) and len(parts) == 3:
        return [] if parts[2] == b64u(digest) else ["content hash mismatch: the media content was changed"]
    if parts[0] == "cnai1" and len(parts) == 5 and parts[1] in SIGNED_KINDS:
        _, kind, pub, d, sig = parts
        probs = []
        if d != b64u(digest):
            probs.append("content hash mismatch: the media content was changed")
        msg = message(label, who, ident, d)
        try:
            if kind == "sm2-sm3":
                ok = sm2_verify(unb64u(pub), msg, unb64u(sig))
            else:
                from cryptography.exceptions import InvalidSignature
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

                try:
                    Ed25519PublicKey.from_public_bytes(unb64u(pub)).verify(unb64u(sig), msg)
                    ok = True
                except InvalidSignature:
                    ok = False
        except ValueError:  # bad base64 or key length
            ok = False
        if not ok:
            probs.append(f"{'SM2' if kind == 'sm2-sm3' else 'Ed25519'} signature does not verify: label fields "
                         "or hash were changed")
        if trusted is not None and pub not in trusted:
            probs.append(f"signed by an untrusted key {pub}")
        return probs
    return ["integrity token is malformed"]


def public_from_pem(data: bytes) -> str:
    """base64url public key from a PEM: Ed25519 via cryptography, SM2 (SubjectPublicKeyInfo ends with the
    65-byte point) read directly."""
    from cryptography.hazmat.primitives import serialization

    der = _pem_der(data.decode("ascii", "replace"))
    if _SM2_OID_DER in der:
        if len(der) < 65 or der[-65] != 4:
            raise ValueError("not an SM2 public key")
        return b64u(der[-65:])
    k = serialization.load_pem_public_key(data)
    return b64u(k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_trusted(paths: list[str]) -> set[str]:
    """Public keys (base64url raw, or PEM files) to trust."""
    out = set()
    for p in paths:
        try:
            data = open(p, "rb").read()
        except OSError as e:
            raise InputError(f"cannot read trusted key: {e.strerror}", path=p) from None
        if data.startswith(b"-----BEGIN"):
            try:
                out.add(public_from_pem(data))
            except Exception:
                raise InputError("not an Ed25519 or SM2 public key (PEM)", path=p) from None
        else:
            out.add(data.decode().strip())
    return out
