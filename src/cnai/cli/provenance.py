"""`cnai provenance`: the creative log for AI-assisted works, and its evidence report."""

from __future__ import annotations

from pathlib import Path

import click

from cnai.cli._common import emit_json

STORE = click.argument("store", type=click.Path(file_okay=False, path_type=Path))
FMT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)


def _open(store: Path):
    from cnai.provenance.store import Store

    return Store.open(store)


@click.group()
def provenance() -> None:
    """Authorship evidence: a hash-chained record of prompts, parameters, selections and edits.

    Entries are never changed: a correction is a new entry. Set CNAI_PROVENANCE_SIGNING_KEY (an Ed25519
    seed, base64, or a PEM) to sign every entry.
    """


@provenance.command("init")
@STORE
@click.option("--title", default="", help="Title of the work.")
@click.option("--author", default="", help="The person whose creative choices the log records.")
@click.option("--note", default="", help="Intent or brief, in the author's words.")
def init_cmd(store: Path, title: str, author: str, note: str) -> None:
    """Create a new store in STORE (a new or empty directory)."""
    from cnai.provenance.store import Store

    with Store.init(store, title=title, author=author, note=note) as st:
        click.echo(f"created {st.root} ({len(st.entries())} entry)", err=True)


def _file_ref(st, path: str, role: str) -> dict:
    from cnai.provenance.store import sha256_file
    from cnai.provenance.thumbs import dhash_file

    digest = sha256_file(path)
    st.keep_blob(path, digest)
    return {"sha256": digest, "role": role, "name": Path(path).name, "dhash": dhash_file(path)}


@provenance.command("add")
@STORE
@click.option("--prompt", required=True)
@click.option("--negative", "negative_prompt", default="")
@click.option("--model", default=None)
@click.option("--model-version", default=None)
@click.option("--sampler", default=None)
@click.option("--scheduler", default=None)
@click.option("--steps", type=click.IntRange(1, 10000), default=None)
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), default=None)
@click.option("--cfg", type=click.FloatRange(0, 100), default=None)
@click.option("--width", type=click.IntRange(1, 65536), default=None)
@click.option("--height", type=click.IntRange(1, 65536), default=None)
@click.option("--lora", "loras", multiple=True, metavar="NAME[:WEIGHT]")
@click.option("--controlnet", "controlnets", multiple=True, metavar="MODEL")
@click.option("--reference", "references", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Reference image or input (kept by hash).")
@click.option("--output", "outputs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An image this generation produced.")
@click.option("--note", default="", help="What you intended with this step.")
def add_cmd(store: Path, outputs, references, loras, controlnets, note, **params) -> None:
    """Record one generation step by hand."""
    from cnai.provenance.lineage import describe_changes, lineage_key

    with _open(store) as st:
        body = {k: v for k, v in params.items() if v not in (None, "")}
        body["prompt"] = params["prompt"]
        body["tool"] = "manual"
        if loras:
            body["loras"] = [{"name": s.rsplit(":", 1)[0], **({"weight": float(s.rsplit(":", 1)[1])}
                                                               if ":" in s else {})} for s in loras]
        if controlnets:
            body["controlnets"] = [{"model": c} for c in controlnets]
        if note:
            body["note"] = note
        files = [_file_ref(st, r, "reference") for r in references] + [_file_ref(st, o, "output") for o in outputs]
        body["reference_images"] = [f["sha256"] for f in files if f["role"] == "reference"]
        body["outputs"] = [{k: f[k] for k in ("name", "sha256", "dhash")} for f in files if f["role"] == "output"]
        body["lineage"] = lineage_key(body)
        prev = next((e.body for e in reversed(st.entries("generation")) if e.body.get("lineage") == body["lineage"]), None)
        body["changes_from_previous"] = describe_changes(prev, body) if prev else []
        e = st.add("generation", body, files=files)
        click.echo(e.id)


@provenance.command("select")
@STORE
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--keep", "decision", flag_value="keep", help="Kept for further work.")
@click.option("--discard", "decision", flag_value="discard")
@click.option("--final", "decision", flag_value="final", help="Chosen as the final work.")
@click.option("--reason", default="", help="Why (your own words).")
def select_cmd(store: Path, file: str, decision: str | None, reason: str) -> None:
    """Record which candidate was kept, discarded or chosen as final, and why."""
    from cnai.errors import InputError
    from cnai.provenance.store import sha256_file

    if decision is None:
        raise InputError("say --keep, --discard or --final", field="decision")
    with _open(store) as st:
        digest = sha256_file(file)
        origin = st.producer_of(digest)
        if origin is None:
            raise InputError("the log has no entry for this file; import or add it first", path=file)
        e = st.add("selection", {"name": Path(file).name, "sha256": digest, "decision": decision, "reason": reason,
                                 "entry": origin.id}, files=[{"sha256": digest, "role": decision, "name": Path(file).name}])
        click.echo(e.id)


@provenance.command("edit")
@STORE
@click.option("--before", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--after", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--tool", required=True, help="e.g. Photoshop 25.1, GIMP, inpainting")
@click.option("--description", required=True, help="What you changed and why.")
def edit_cmd(store: Path, before: str, after: str, tool: str, description: str) -> None:
    """Record a later edit: tool, description, before/after hashes and perceptual distance."""
    from cnai.provenance.thumbs import distance

    with _open(store) as st:
        b, a = _file_ref(st, before, "before"), _file_ref(st, after, "after")
        origin = st.producer_of(b["sha256"])
        e = st.add("edit", {"tool": tool, "description": description, "before_sha256": b["sha256"],
                            "after_sha256": a["sha256"], "before_dhash": b["dhash"], "after_dhash": a["dhash"],
                            "dhash_distance": distance(b["dhash"], a["dhash"]), "name": a["name"],
                            "entry": origin.id if origin else None}, files=[b, a])
        click.echo(e.id)


@provenance.command("attach")
@STORE
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--role", default="evidence", show_default=True, help="e.g. sketch, brief, contract, screenshot")
@click.option("--note", default="")
def attach_cmd(store: Path, file: str, role: str, note: str) -> None:
    """Attach any file as evidence (kept inside the store by hash)."""
    with _open(store) as st:
        f = _file_ref(st, file, "attachment")
        e = st.add("attachment", {"name": f["name"], "sha256": f["sha256"], "role": role, "note": note}, files=[f])
        click.echo(e.id)


@provenance.command("correct")
@STORE
@click.argument("entry")
@click.option("--note", required=True, help="What was wrong in ENTRY and what is right.")
def correct_cmd(store: Path, entry: str, note: str) -> None:
    """Record a correction to an earlier entry (entries are never changed in place)."""
    with _open(store) as st:
        target = st.entry(entry)
        click.echo(st.add("correction", {"corrects": target.id, "note": note}).id)


@provenance.command("import")
@STORE
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@FMT
def import_cmd(store: Path, paths, fmt: str) -> None:
    """Import images with WebUI/ComfyUI metadata or JSON sidecars (folders recursively)."""
    from rich.progress import Progress

    from cnai.provenance.importers import import_paths, iter_images

    with _open(store) as st:
        total = sum(1 for _ in iter_images(paths))
        with Progress(transient=True, disable=fmt == "json") as bar:
            task = bar.add_task("importing", total=total)
            res = import_paths(st, paths, progress=lambda: bar.advance(task))
    c = res["counts"]
    if fmt == "json":
        emit_json(res)
    else:
        for p in res["problems"]:
            click.echo(f"skipped {p['path']}: {p['reason']}", err=True)
        click.echo(f"imported {c['imported']} of {c['seen']}: {c['duplicate']} duplicate, {c['no_record']} "
                   f"without generation metadata, {c['error']} unreadable", err=True)
    if c["seen"] and c["imported"] == 0 and c["duplicate"] < c["seen"]:
        raise SystemExit(1)  # nothing could be imported: not a success


@provenance.command("verify")
@STORE
@click.option("--signatures", type=click.Choice(["last", "all", "none"]), default="last", show_default=True,
              help="'last': the newest signature, which covers every earlier entry through the chain; "
                   "'all': every entry's own signature too.")
@FMT
def verify_cmd(store: Path, signatures: str, fmt: str) -> None:
    """Recompute the hash chain and signatures; exit 1 naming the first broken entry."""
    with _open(store) as st:
        res = st.verify(signatures=signatures)
    if fmt == "json":
        emit_json(res.to_dict())
    elif res.ok:
        click.echo(f"ok: {res.entries} entries, {res.signed} signed, chain intact")
    else:
        click.echo(f"BROKEN at entry {res.first_broken} ({res.entry_id}): {res.reason}", err=True)
    if not res.ok:
        raise SystemExit(1)


@provenance.command("log")
@STORE
@FMT
def log_cmd(store: Path, fmt: str) -> None:
    """List the entries in order."""
    with _open(store) as st:
        entries = st.entries()
    if fmt == "json":
        emit_json([e.to_dict() for e in entries])
        return
    for e in entries:
        b = e.body
        what = b.get("prompt") or b.get("description") or b.get("name") or b.get("title") or b.get("note") or ""
        click.echo(f"{e.seq:>5} {e.recorded_at[:19]} {e.kind:<10} {e.id} {str(what)[:70]}")


@provenance.command("label")
@STORE
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--producer", required=True, help="27-character ContentProducer code (cnai label code).")
@click.option("--label", "label_value", type=click.Choice(["1", "2", "3"]), default="1", show_default=True)
@click.option("-o", "--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def label_cmd(store: Path, file: str, producer: str, label_value: str, out_dir: Path) -> None:
    """Embed a GB 45438 label whose reserved field names this file's log entry; log the ProduceID."""
    from cnai.errors import InputError
    from cnai.label.codes import provider_code_problems
    from cnai.provenance.trace import label_output

    problems = provider_code_problems(producer)
    if problems:
        raise InputError("; ".join(problems), field="--producer")
    with _open(store) as st:
        res = label_output(st, file, out_dir, producer=producer, label=label_value)
    click.echo(f"{res['output']}: ProduceID {res['produce_id']}, history entry {res['origin']}", err=True)


@provenance.command("trace")
@STORE
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@FMT
def trace_cmd(store: Path, file: str, fmt: str) -> None:
    """From a (labelled) file back to its creative history; exit 1 when nothing matches."""
    from cnai.provenance.trace import trace

    with _open(store) as st:
        res = trace(st, file)
    if fmt == "json":
        emit_json(res)
    elif res["found"]:
        click.echo(f"{file}: found via {res['via']}; origin entry {res['origin']['id']}")
        for h in res["history"]:
            changes = ", ".join(c["field"] for c in h["body"].get("changes_from_previous", [])) or "first"
            click.echo(f"  {h['recorded_at'][:19]} {h['id']} seed={h['body'].get('seed')} changed: {changes}")
        for r in res["related"]:
            click.echo(f"  {r['recorded_at'][:19]} {r['id']} {r['kind']}")
    else:
        click.echo(f"{file}: {res['reason']}", err=True)
    if not res["found"]:
        raise SystemExit(1)


@provenance.command("report")
@STORE
@click.option("-o", "--output", "html_out", type=click.Path(dir_okay=False, path_type=Path), help="HTML report.")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="PDF report.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="zh: Chinese; en: Chinese with an English working translation beside it.")
def report_cmd(store: Path, html_out: Path | None, pdf: Path | None, lang: str) -> None:
    """Write the evidence report (HTML and/or PDF) laid out along the factors courts weigh."""
    from cnai.errors import InputError
    from cnai.provenance.report import write_report

    if not html_out and not pdf:
        raise InputError("name -o FILE.html and/or --pdf FILE.pdf", field="output")
    with _open(store) as st:
        out = write_report(st, html_out, pdf=pdf, lang=lang)
    for path in out.values():
        click.echo(f"wrote {path}", err=True)
