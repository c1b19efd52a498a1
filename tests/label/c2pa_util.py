"""Make a real C2PA-signed file offline: a throw-away CA + signer certificate, c2pa-python Builder, no TSA."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

DST_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def make_pki() -> tuple[bytes, bytes, bytes]:
    """A throw-away CA and an ES256 signer certificate: (chain PEM with the signer first, key PEM, CA PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cnai test")])

    now = dt.datetime.now(dt.UTC)
    cak = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("cnai test CA")).issuer_name(name("cnai test CA"))
          .public_key(cak.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(cak, hashes.SHA256()))
    k = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("cnai test signer")).issuer_name(ca.subject)
            .public_key(k.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(cak.public_key()), critical=False)
            .sign(cak, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    keypem = k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return leaf.public_bytes(pem) + ca.public_bytes(pem), keypem, ca.public_bytes(pem)


def sign_with_c2pa(src: Path, dst: Path, mime: str = "image/jpeg", generator: str = "cnai-test-generator") -> None:
    import c2pa

    chain, keypem, _ = make_pki()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, keypem, None))
    manifest = {"claim_generator_info": [{"name": generator, "version": "1.0"}], "title": src.name,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": DST_AI}]}}]}
    with open(src, "rb") as fi, open(dst, "w+b") as fo:
        c2pa.Builder(manifest).sign(signer, mime, fi, fo)
