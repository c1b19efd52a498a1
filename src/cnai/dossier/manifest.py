"""manifest.json: every input and output with SHA-256, size and role; optional Ed25519 signature made
with the label integrity code (cnai.label.integrity: same key variable, same token format)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cnai.errors import InputError

from .evidence import sha256_file

MANIFEST = "manifest.json"
MARKER = ".cnai-output.json"
SIG_LABEL = "cnai-dossier-manifest"


def canonical(man: dict) -> bytes:
    body = {k: v for k, v in man.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign(man: dict, key_env: str) -> dict:
    from cnai.label import integrity

    priv = integrity.load_private_key(key_env)
    digest = hashlib.sha256(canonical(man)).digest()
    token = integrity.make_token(digest, priv=priv, label=SIG_LABEL, who=man["service"], ident=man["as_of"])
    man["signature"] = {"token": token, "public_key": integrity.public_b64(priv),
                        "covers": "canonical JSON of this manifest without 'signature'"}
    return man


def listed_files(folder: Path) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), folder).replace(os.sep, "/")
            if rel not in (MANIFEST, MARKER):
                out.append(rel)
    return out


def verify(folder: str | Path, *, trusted: list[str] | None = None, check_inputs: bool = False) -> dict:
    """Recompute every hash (and the signature). Problems per file: changed, missing, extra."""
    from cnai.core.loaders import load_json

    folder = Path(folder)
    mp = folder / MANIFEST
    if not folder.is_dir():
        raise InputError("not a directory", path=str(folder))
    if not mp.is_file():
        raise InputError("no manifest.json: not a cnai dossier", path=str(folder))
    man = load_json(mp)
    if not isinstance(man, dict) or man.get("kind") != "cnai-dossier" or not isinstance(man.get("outputs"), list):
        raise InputError("manifest.json is not a cnai dossier manifest", path=str(mp))
    problems: list[dict] = []
    listed = {}
    for f in man["outputs"]:
        if not isinstance(f, dict) or "path" not in f or "sha256" not in f:
            raise InputError("manifest.json: malformed outputs entry", path=str(mp))
        listed[f["path"]] = f
    for rel, f in listed.items():
        p = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append({"path": rel, "problem": "path outside the dossier"})
        elif p.is_symlink() or not p.is_file():
            problems.append({"path": rel, "problem": "missing"})
        elif sha256_file(p) != f["sha256"]:
            problems.append({"path": rel, "problem": "changed"})
    for rel in listed_files(folder):
        if rel not in listed:
            problems.append({"path": rel, "problem": "extra"})
    if check_inputs:
        for f in man.get("inputs") or []:
            p = Path(f["path"])
            if not p.is_file():
                problems.append({"path": f["path"], "problem": "input missing"})
            elif sha256_file(p) != f["sha256"]:
                problems.append({"path": f["path"], "problem": "input changed"})
    sig = man.get("signature")
    sig_state = "unsigned"
    if sig is not None:
        from cnai.label import integrity

        digest = hashlib.sha256(canonical(man)).digest()
        tset = integrity.load_trusted(trusted) if trusted else None
        token = sig.get("token", "") if isinstance(sig, dict) else ""
        probs = integrity.verify_token(token, digest, label=SIG_LABEL, who=str(man.get("service", "")),
                                       ident=str(man.get("as_of", "")), trusted=tset)
        probs = [p.replace("label fields or hash", "manifest").replace("the media content was changed",
                                                                     "manifest.json was changed") for p in probs]
        for p in probs:
            problems.append({"path": MANIFEST, "problem": p})
        sig_state = "bad" if probs else "ok"
    elif trusted:
        problems.append({"path": MANIFEST, "problem": "not signed, but --trust was given"})
    return {"dossier": str(folder), "files": len(listed), "signature": sig_state, "ok": not problems,
            "problems": problems}
