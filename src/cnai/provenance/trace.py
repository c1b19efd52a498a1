"""Labels and the creative log point at each other.

`label_output` embeds a GB 45438 implicit label in an output the log knows, with ReservedCode1 set to
`cnaiprov1:<entry id>` (a cnai extension: the id of the log entry that produced the file; the TC260 guides
leave the reserved fields to the provider) and records the label's ProduceID in the log. `trace` goes back
from any file: by the reserved field, by the ProduceID, or by the file's own SHA-256.
"""

from __future__ import annotations

import os
from pathlib import Path

from cnai.errors import InputError
from cnai.provenance.store import Store, sha256_file

PREFIX = "cnaiprov1:"


def label_output(store: Store, src: str | os.PathLike, out_dir: str | os.PathLike, *, producer: str,
                 label: str = "1") -> dict:
    from cnai.label.api import scan_path, write_label
    from cnai.label.codes import new_produce_id
    from cnai.label.formats.base import WriteOpts
    from cnai.label.model import AIGCLabel

    src = Path(src)
    digest = sha256_file(src)
    origin = store.producer_of(digest)
    if origin is None:
        raise InputError("the log has no generation or edit entry with this file as its output; import or "
                         "record it first", path=str(src))
    dst = Path(out_dir) / src.name
    from cnai.core.safeio import check_output

    check_output(dst, inputs=[src])
    fmt, _scan, _warns = scan_path(str(src))
    lab = AIGCLabel(Label=label, ContentProducer=producer, ProduceID=new_produce_id(),
                    ReservedCode1=PREFIX + origin.id)
    from cnai.label.api import validate_label_value

    validate_label_value(label)
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_label(str(src), str(dst), fmt, lab, WriteOpts())
    out_digest = sha256_file(dst)
    entry = store.add("label", {"name": src.name, "source_sha256": digest, "labelled_sha256": out_digest,
                                "produce_id": lab.ProduceID, "producer": producer, "label": label,
                                "origin": origin.id, "reserved_code1": lab.ReservedCode1},
                      files=[{"sha256": out_digest, "role": "labelled", "name": dst.name, "produce_id": lab.ProduceID}])
    return {"output": str(dst), "produce_id": lab.ProduceID, "origin": origin.id, "entry": entry.id}


def trace(store: Store, path: str | os.PathLike) -> dict:
    """The creative history behind a file: how it was found, the origin entry and its lineage."""
    from cnai.label.api import read_file

    p = Path(path)
    digest = sha256_file(p)
    rec = read_file(str(p), with_c2pa=False)
    lab = rec.get("label") or {}
    via, origin = None, None
    reserved = lab.get("ReservedCode1") or ""
    if reserved.startswith(PREFIX):
        try:
            origin, via = store.entry(reserved[len(PREFIX):]), "label ReservedCode1"
        except InputError:
            origin = None
    if origin is None and lab.get("ProduceID"):
        for eid, _role in store.entries_for_file(produce_id=lab["ProduceID"]):
            e = store.entry(eid)
            if e.kind == "label":
                origin, via = store.entry(e.body["origin"]), "label ProduceID"
                break
    if origin is None:
        origin = store.producer_of(digest)
        via = "file SHA-256" if origin else None
    if origin is None:
        return {"path": str(p), "found": False, "label": lab or None,
                "reason": "no log entry matches the label's reserved field, its ProduceID or the file's SHA-256"}
    # an edited file leads back through its edits to the generation the first "before" image came from
    edits, gen = [], origin
    while gen.kind == "edit" and len(edits) < 1000:
        edits.append(gen)
        if not gen.body.get("entry"):
            break
        gen = store.entry(gen.body["entry"])
    lineage = gen.body.get("lineage") if gen.kind == "generation" else None
    history = [e for e in store.entries("generation") if lineage and e.body.get("lineage") == lineage
               and e.seq <= gen.seq] or ([gen] if gen.kind == "generation" else [])
    ids = {origin.id, gen.id, *(e.id for e in edits)}
    related = [e for e in store.entries() if e.kind in ("selection", "edit", "label")
               and ids & {e.body.get("entry"), e.body.get("origin"), e.id}]
    return {"path": str(p), "found": True, "via": via, "label": lab or None, "origin": origin.to_dict(),
            "history": [e.to_dict() for e in history], "related": [e.to_dict() for e in related],
            "verified": store.verify().to_dict()}
