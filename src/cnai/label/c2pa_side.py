"""A C2PA manifest next to the GB 45438 label in the same file (c2pa-python), and whether the two agree.

GB 45438 does not reference C2PA (reference section 6, secondary): the TC260 label is an unsigned JSON value
in the container's metadata, the C2PA manifest a signed JUMBF store beside it (JPEG APP11, PNG caBX, BMFF
uuid). Global customers want both. The manifest we write carries
  * `c2pa.actions` with a `c2pa.created` action and the IPTC digital source type (trainedAlgorithmicMedia for
    Label "1"; the mapping Label 1 <-> trainedAlgorithmicMedia is the reference's, section 6) -- or, when the
    input had a manifest of its own, c2pa.opened + c2pa.edited.metadata with that manifest kept as the
    parentOf ingredient -- and
  * a custom assertion ASSERTION_LABEL holding the seven label fields as written in the TC260 carrier.
Order matters: the TC260 label is written first and the manifest signed last, so the manifest's hard binding
(c2pa.hash.data / bmff hash) covers the final bytes, label included. Changing the label afterwards (a platform
adding ContentPropagator) therefore invalidates the manifest -- which `check` reports -- unless re-signed.

The signing key comes from a file the user names or from $CNAI_C2PA_KEY (a PEM); it is never logged, and
no timestamp authority is contacted (no network): signatures carry no trusted timestamp.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from cnai.errors import InputError
from cnai.label.model import KEYS, AIGCLabel
from cnai.label.xmp import DST_AI, DST_AI_COMPOSITE, DST_PREFIX

ENV_KEY = "CNAI_C2PA_KEY"
# C2PA asks entity-specific assertions to use a reverse-domain style label; cnai owns no domain, so the label
# is namespaced by the project name. Readers match it exactly.
ASSERTION_LABEL = "cnai.gb45438.aigc"
COMPARED = ("Label", "ContentProducer", "ProduceID")  # the fields `read`/`check` compare
AI_SOURCE_TYPES = (DST_AI, DST_AI_COMPOSITE, DST_PREFIX + "algorithmicMedia")
PARENT_ID = "parent"


@dataclass
class C2paCredentials:
    chain: bytes
    key: bytes = field(repr=False)  # never printed
    alg: str = "es256"
    anchor: bytes = b""  # the chain's last certificate: lets embed validate its own output

    def __repr__(self) -> str:
        return f"C2paCredentials(alg={self.alg!r}, <key hidden>)"


def _require_c2pa():
    try:
        import c2pa
    except ImportError:
        raise InputError("C2PA needs c2pa-python (pip install 'cnai[label]')", field="--c2pa-cert") from None
    return c2pa


def load_credentials(cert_path: str, key_path: str | None = None) -> C2paCredentials:
    """Certificate chain (PEM, signer first) and its private key (file or $CNAI_C2PA_KEY); checked to match."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        chain = open(cert_path, "rb").read()
    except OSError as e:
        raise InputError(f"cannot read the certificate chain: {e.strerror}", path=cert_path) from None
    try:
        certs = x509.load_pem_x509_certificates(chain)
    except ValueError:
        raise InputError("not a PEM certificate chain (signer certificate first)", path=cert_path) from None
    if key_path:
        try:
            key = open(key_path, "rb").read()
        except OSError as e:
            raise InputError(f"cannot read the C2PA key: {e.strerror}", path=key_path) from None
        where = {"path": key_path}
    else:
        raw = os.environ.get(ENV_KEY)
        if not raw:
            raise InputError(f"give --c2pa-key KEY.pem or set {ENV_KEY}", field="--c2pa-key")
        key = raw.encode()
        where = {"field": ENV_KEY}
    try:
        k = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):  # the message never echoes the key
        raise InputError("cannot parse the C2PA private key (unencrypted PEM expected)", **where) from None
    if isinstance(k, ec.EllipticCurvePrivateKey):
        alg = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(k.curve.name)
    elif isinstance(k, ed25519.Ed25519PrivateKey):
        alg = "ed25519"
    elif isinstance(k, rsa.RSAPrivateKey):
        alg = "ps256"
    else:
        alg = None
    if alg is None:
        raise InputError("C2PA signs with EC P-256/384/521, Ed25519 or RSA-PSS keys", **where)
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if k.public_key().public_bytes(serialization.Encoding.DER, pub) != \
            certs[0].public_key().public_bytes(serialization.Encoding.DER, pub):
        raise InputError("the key does not belong to the first (signer) certificate of the chain", path=cert_path)
    return C2paCredentials(chain, key, alg, certs[-1].public_bytes(serialization.Encoding.PEM))


def mime_for(path: str, fmt: str) -> str | None:
    """The format string c2pa-python takes for this file, or None if it cannot sign it."""
    c2pa = _require_c2pa()
    from cnai.label.registry import carriers

    supported = set(c2pa.Builder.get_supported_mime_types())
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    car = carriers().get(fmt)
    for m in [ext, *(car.media_types if car else ())]:
        if m and m in supported:
            return m
    return None


def manifest_for(lab: AIGCLabel, *, title: str, carrier_where: str | None,
                 digital_source_type: str = DST_AI, has_parent: bool = False) -> dict:
    """c2pa.created for a file without provenance; with a parent (the input's own manifest, kept as the
    parentOf ingredient, as C2PA wants for an edit) c2pa.opened + c2pa.edited.metadata (the label)."""
    from cnai import __version__

    if has_parent:
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_ID]}},
                   {"action": "c2pa.edited.metadata", "digitalSourceType": digital_source_type,
                    "description": "GB 45438 implicit label written"}]
    else:
        actions = [{"action": "c2pa.created", "digitalSourceType": digital_source_type}]
    return {
        "claim_generator_info": [{"name": "cnai", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {"label": ASSERTION_LABEL, "data": {
                "standard": "GB 45438-2025 Annex E (implicit label, seven keys)",
                "carrier": carrier_where,
                "AIGC": lab.to_dict()}},
        ],
    }


def sign(src: str, dst: str, *, fmt: str, lab: AIGCLabel, creds: C2paCredentials, carrier_where: str | None,
         digital_source_type: str = DST_AI, parent: str | None = None) -> None:
    """Sign src (already carrying the TC260 label) into dst atomically; the manifest is the last change.
    `parent`: the original input when it carried a C2PA manifest of its own; it becomes the parentOf
    ingredient, so the earlier provenance stays verifiable (reference 6: re-sign with the old manifest as an
    ingredient)."""
    c2pa = _require_c2pa()
    from cnai.core.safeio import atomic_writer

    if lab.Label != "1":
        raise InputError("a C2PA c2pa.created action states that the content is AI-generated; GB 45438 "
                         f"Label {lab.Label} (possibly/suspected) has no IPTC source type to match", field="--label")
    mime = mime_for(dst, fmt)
    if mime is None:
        from cnai.label.api import SkipError

        raise SkipError("unsupported format", f"c2pa-python cannot sign {fmt} files")
    manifest = manifest_for(lab, title=os.path.basename(dst), carrier_where=carrier_where,
                            digital_source_type=digital_source_type, has_parent=parent is not None)
    alg = getattr(c2pa.C2paSigningAlg, creds.alg.upper())
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg, creds.chain, creds.key, None))
    # no thumbnail: c2pa-rs would embed a re-encoded preview (up to 1024 px) in every file, often as large
    # as the image itself; the label is about provenance, not previews
    ctx = c2pa.Context(settings=c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}}))
    try:
        with open(src, "rb") as fi, atomic_writer(dst, inputs=[src], binary=True) as fo:
            with c2pa.Builder(manifest, context=ctx) as b:
                if parent is not None:
                    with open(parent, "rb") as fp:
                        b.add_ingredient_from_stream({"title": os.path.basename(parent), "relationship": "parentOf",
                                                      "label": PARENT_ID}, mime, fp)
                b.sign(signer, mime, fi, fo)
    finally:
        signer.close()


def _settings(trust_anchors: bytes | None) -> dict:
    # never fetch anything: remote manifests and OCSP need the network
    s: dict = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True}}
    if trust_anchors:
        s["trust"] = {"trust_anchors": trust_anchors.decode("ascii", "replace")}
    return s


def summary(path: str, trust_anchors: bytes | None = None) -> dict | None:
    """Active manifest via c2pa-python: generator, digital source types, the GB 45438 assertion, validation
    state (Invalid / Valid / Trusted) and codes. None when c2pa-python or a manifest is absent."""
    try:
        import c2pa
    except ImportError:
        return None
    try:
        ctx = c2pa.Context(settings=c2pa.Settings.from_dict(_settings(trust_anchors)))
        with c2pa.Reader(path, context=ctx) as r:
            store = json.loads(r.json())
    except Exception as e:  # no manifest, unsupported format, or a broken store
        msg = str(e)
        return None if "notfound" in msg.lower().replace(" ", "").replace("_", "") else {"error": msg[:300]}
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    dst, gb = [], None
    for a in active.get("assertions", []):
        lab = a.get("label", "")
        if lab.startswith("c2pa.actions"):
            dst += [act["digitalSourceType"] for act in a.get("data", {}).get("actions", [])
                    if act.get("digitalSourceType")]
        elif lab == ASSERTION_LABEL and isinstance(a.get("data"), dict):
            gb = a["data"].get("AIGC")
    codes = [s.get("code") for s in store.get("validation_status", []) or []]
    parents = [i for i in active.get("ingredients", []) or [] if i.get("relationship") == "parentOf"]
    parent_dst = []
    for i in parents:  # the parent's own manifest, when it had one
        for a in store.get("manifests", {}).get(i.get("active_manifest") or "", {}).get("assertions", []):
            if a.get("label", "").startswith("c2pa.actions"):
                parent_dst += [act["digitalSourceType"] for act in a.get("data", {}).get("actions", [])
                               if act.get("digitalSourceType")]
    return {"claim_generator": active.get("claim_generator") or
            (active.get("claim_generator_info") or [{}])[0].get("name"),
            "title": active.get("title"), "digital_source_types": dst, "gb45438": gb,
            "parent_ingredients": [i.get("title") for i in parents], "parent_digital_source_types": parent_dst,
            "validation_state": store.get("validation_state"), "validation_errors": codes[:10]}


def agreement(label: dict | None, c2: dict | None) -> dict | None:
    """Do the TC260 label and the C2PA manifest say the same thing? None when there is nothing to compare."""
    if not c2 or c2.get("error"):
        return None
    diffs = []
    gb = c2.get("gb45438")
    if label is None:
        diffs.append("the C2PA manifest is present but the file has no TC260 label")
    elif isinstance(gb, dict):
        for k in COMPARED:
            if str(gb.get(k, "")) != label.get(k, ""):
                diffs.append(f"{k}: TC260 label {label.get(k, '')!r}, C2PA assertion {gb.get(k, '')!r}")
    types = (c2.get("digital_source_types") or []) + (c2.get("parent_digital_source_types") or [])
    # a third-party manifest without any source type says nothing either way; one that names a non-AI source
    # (or ours, which always names one) contradicts Label 1
    if label is not None and label.get("Label") == "1" and (types or isinstance(gb, dict)):
        if not any(t in AI_SOURCE_TYPES for t in types):
            diffs.append("TC260 Label 1 (AI-generated) but no C2PA digitalSourceType says AI "
                         f"({', '.join(t.rsplit('/', 1)[-1] for t in types) or 'none'})")
    out = {"agree": not diffs, "differences": diffs, "gb45438_assertion": gb is not None}
    if label is not None and isinstance(gb, dict):
        # propagation fields may legitimately be added after signing: reported, not counted as disagreement
        changed = [k for k in KEYS if k not in COMPARED and str(gb.get(k, "")) != label.get(k, "")]
        if changed:
            out["changed_since_signing"] = changed
    return out
