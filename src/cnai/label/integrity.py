"""Integrity data for ReservedCode1/ReservedCode2 -- OUR EXTENSION, not the TC260 SecurityData format.

TC260-PG-202511A describes a JSON "SecurityData" object (reference 2.4, secondary); we could not read the
guide, and a JSON object inside a label value would break the strict Annex E character set (no quotes).
So cnai writes a compact token that stays inside that character set:

    cnai1:sha256:<digest>                              content hash only (cnai1:sm3:... with SM3)
    cnai1:ed25519:<public key>:<digest>:<signature>    hash plus Ed25519 signature (ed25519-sm3: SM3 digest)

(all base64url without padding). <digest> is SHA-256 over the file's media essence -- the bytes that
carry pixels/samples/text, excluding every metadata carrier -- so adding or replacing labels does not
change it, while editing the content does. The signed message binds the label fields to the digest:
    Label|ContentProducer|ProduceID|<digest>            (ReservedCode1, producer)
    Label|ContentPropagator|PropagateID|<digest>        (ReservedCode2, propagator)
Keys come only from the environment (CNAI_LABEL_SIGNING_KEY: base64 of a 32-byte Ed25519 seed or a PEM).
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


def load_private_key(env: str = ENV_KEY):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = os.environ.get(env)
    if not raw:
        raise InputError(f"signing requested but the environment variable {env} is not set", field="--sign")
    raw = raw.strip()
    try:
        if raw.startswith("-----BEGIN"):
            k = serialization.load_pem_private_key(raw.encode(), password=None)
            if not isinstance(k, Ed25519PrivateKey):
                raise InputError("the PEM key is not an Ed25519 key", field=env)
            return k
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    except InputError:
        raise
    except Exception:
        raise InputError("cannot parse the signing key (expect base64 of 32 bytes or a PEM)", field=env) from None


def public_b64(priv) -> str:
    from cryptography.hazmat.primitives import serialization

    return b64u(priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def message(label: str, who: str, ident: str, digest_b64: str) -> bytes:
    return f"{label}|{who}|{ident}|{digest_b64}".encode()


def make_token(digest: bytes, *, priv=None, label: str = "", who: str = "", ident: str = "",
               alg: str = "sha256") -> str:
    d = b64u(digest)
    if priv is None:
        return f"cnai1:{alg}:{d}"
    sig = priv.sign(message(label, who, ident, d))
    kind = "ed25519" if alg == "sha256" else f"ed25519-{alg}"
    return f"cnai1:{kind}:{public_b64(priv)}:{d}:{b64u(sig)}"


def token_alg(token: str) -> str:
    """Digest algorithm a token was made with (sha256 or sm3)."""
    kind = token.split(":")[1] if token.count(":") >= 2 else ""
    return "sm3" if kind in ("sm3", "ed25519-sm3") else "sha256"


def is_token(s: str) -> bool:
    return s.startswith("cnai1:")


def verify_token(token: str, digest: bytes, *, label: str, who: str, ident: str,
                 trusted: set[str] | None = None) -> list[str]:
    """Problems found ([] when the token verifies)."""
    parts = token.split(":")
    if parts[:2] in (["cnai1", "sha256"], ["cnai1", "sm3"]) and len(parts) == 3:
        return [] if parts[2] == b64u(digest) else ["content hash mismatch: the media content was changed"]
    if parts[:2] in (["cnai1", "ed25519"], ["cnai1", "ed25519-sm3"]) and len(parts) == 5:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        _, _, pub, d, sig = parts
        probs = []
        if d != b64u(digest):
            probs.append("content hash mismatch: the media content was changed")
        try:
            Ed25519PublicKey.from_public_bytes(unb64u(pub)).verify(unb64u(sig), message(label, who, ident, d))
        except (InvalidSignature, ValueError):
            probs.append("signature does not verify: label fields or hash were changed")
        if trusted is not None and pub not in trusted:
            probs.append(f"signed by an untrusted key {pub}")
        return probs
    return ["integrity token is malformed"]


def load_trusted(paths: list[str]) -> set[str]:
    """Public keys (base64url raw, or PEM files) to trust."""
    from cryptography.hazmat.primitives import serialization

    out = set()
    for p in paths:
        try:
            data = open(p, "rb").read()
        except OSError as e:
            raise InputError(f"cannot read trusted key: {e.strerror}", path=p) from None
        if data.startswith(b"-----BEGIN"):
            k = serialization.load_pem_public_key(data)
            out.add(b64u(k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)))
        else:
            out.add(data.decode().strip())
    return out
