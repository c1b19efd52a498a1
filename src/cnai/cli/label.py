"""`cnai label`: GB 45438 implicit labels (embed/read/check/classify/propagate) and explicit labels (visible)."""

from __future__ import annotations

import functools
import os
import sys

import click

from cnai.cli._common import dumps, emit_json, emit_jsonl
from cnai.errors import InputError

FORMATS = click.Choice(["jsonl", "json", "table"])


def _emit_all(records, fmt: str, tally, status_key: str | None = None) -> list[dict]:
    out = []
    for rec in records:
        tally.add(rec, rec.get(status_key) if status_key else None)
        if fmt == "jsonl":
            emit_jsonl(rec)
        elif fmt == "table":
            click.echo(_row(rec))
        out.append(rec)
    if fmt == "json":
        emit_json(out)
    click.echo(tally.line(), err=True)
    return out


def _row(rec: dict) -> str:
    if rec.get("error"):
        return f"{rec['path']}\tERROR\t{rec['error']}"
    state = rec.get("category") or rec.get("status") or ("ok" if rec.get("ok") else "FAIL" if "ok" in rec else "")
    lab = rec.get("label")
    where = ",".join(rec.get("found_in") or [])
    extra = "; ".join(rec.get("problems") or rec.get("reasons") or [])
    return "\t".join(x for x in [rec["path"], rec.get("format") or "", state,
                                 (dumps(lab, indent=None) if lab else "no label"), where, extra] if x is not None)


def _outputs(paths, outdir, in_place):
    from cnai.label.batch import expand

    if bool(outdir) == bool(in_place):
        raise InputError("give exactly one of -o OUTDIR or --in-place", field="-o/--in-place")
    items = expand(paths, outdir)
    return [(s, s if in_place else d) for s, d in items]


def _check_code(value: str, field: str) -> str:
    from cnai.label.codes import provider_code_problems

    if not value:
        raise InputError("must not be empty", field=field)
    if len(value) == 27 and value.isalnum():
        probs = provider_code_problems(value)
        if probs:
            raise InputError("; ".join(probs), field=field)
    elif any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in value):
        raise InputError("use printable ASCII without spaces, quotes or backslashes (Annex E)", field=field)
    return value


def _id_for(template: str | None, n: int, src: str, many: bool) -> str | None:
    if template is None:
        return None
    if many and "{n}" not in template and "{stem}" not in template:
        raise InputError("one --produce-id for many files would not be unique; use {n} or {stem} in it",
                         field="--produce-id/--propagate-id")
    stem = os.path.splitext(os.path.basename(src))[0]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return template.replace("{n}", str(n)).replace("{stem}", stem)


_KEY = None


def _priv(sign: bool):
    global _KEY
    if not sign:
        return None
    if _KEY is None:
        from cnai.label.integrity import load_private_key

        _KEY = load_private_key()
    return _KEY


def _embed_one(item, *, producer, produce_id, label, in_place, fill, hash_only, sign, dst_type, many,
               hash_alg="sha256"):
    from cnai.label.api import embed_file

    n, (src, dst) = item
    if dst == "\x00duplicate":
        return {"path": src, "output": None, "status": "error", "error": "two inputs map to the same output",
                "skip_reason": "duplicate output path"}
    return embed_file(src, dst, producer=producer, produce_id=_id_for(produce_id, n, src, many), label=label,
                      in_place=in_place, fill_propagator=fill, hash_only=hash_only, priv=_priv(sign),
                      digital_source_type=dst_type, hash_alg=hash_alg)


def _prop_one(item, *, propagator, propagate_id, in_place, declared, hash_only, sign, many, hash_alg="sha256"):
    from cnai.label.api import propagate_file

    n, (src, dst) = item
    if dst == "\x00duplicate":
        return {"path": src, "output": None, "status": "error", "error": "two inputs map to the same output",
                "skip_reason": "duplicate output path"}
    return propagate_file(src, dst, propagator=propagator, propagate_id=_id_for(propagate_id, n, src, many),
                          in_place=in_place, declared=_is_declared(src, declared), hash_only=hash_only,
                          priv=_priv(sign), hash_alg=hash_alg)


def _is_declared(src: str, declared) -> bool:
    if declared is None:
        return False
    if declared == "*":
        return True
    a = os.path.abspath(src)
    return a in declared or os.path.basename(src) in declared


def _load_declared(value: str | None):
    """--declared: '*' (all), a file listing paths one per line, or a comma-separated list."""
    if value is None:
        return None
    if value == "*":
        return "*"
    names = []
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as fh:
            names = [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
    else:
        names = [x.strip() for x in value.split(",") if x.strip()]
    out = set()
    for x in names:
        out.add(os.path.abspath(x) if os.sep in x else x)
    return out


common_batch = [
    click.option("--format", "fmt", type=FORMATS, default="jsonl", show_default=True, help="Output format."),
    click.option("--workers", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
                 help="Parallel worker processes."),
    click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: if a TTY)."),
]


def batch_opts(f):
    for o in reversed(common_batch):
        f = o(f)
    return f


@click.group()
def label() -> None:
    """GB 45438-2025 AI-content labels.

    Implicit labels: the seven-key AIGC JSON in file metadata (embed, read, check, classify, propagate).
    Explicit labels: visible/audible marks (visible). Directories are processed recursively.
    """


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--producer", required=True, help="ContentProducer: 27-character provider code (or a name).")
@click.option("--produce-id", help="ProduceID; default: keep an existing one from the same producer, else new. "
              "For many files use {n} or {stem} in it.")
@click.option("--label", "label_value", default="1", show_default=True, help="1 AI-generated, 2 possibly, 3 suspected.")
@click.option("-o", "--out", "outdir", type=click.Path(file_okay=False), help="Write labelled copies here.")
@click.option("--in-place", is_flag=True, help="Replace the input files (atomically, via a temp file).")
@click.option("--fill-propagator", is_flag=True, help="Also set ContentPropagator/PropagateID to the producer's "
              "(the 'first write' convention some validators cite; secondary, unverified).")
@click.option("--hash", "hash_only", is_flag=True, help="Put a content hash in ReservedCode1 (cnai extension).")
@click.option("--sign", is_flag=True, help="Sign hash+label with Ed25519; key from $CNAI_LABEL_SIGNING_KEY "
              "(cnai extension).")
@click.option("--iptc", is_flag=True, help="Also write IPTC DigitalSourceType trainedAlgorithmicMedia (XMP images).")
@click.option("--hash-alg", type=click.Choice(["sha256", "sm3"]), default="sha256", show_default=True,
              help="Content digest for --hash/--sign (SM3 = GB/T 32905, via OpenSSL).")
@batch_opts
def embed(paths, producer, produce_id, label_value, outdir, in_place, fill_propagator, hash_only, sign, iptc, hash_alg,
          fmt, workers, progress) -> None:
    """Write (or replace) the implicit label. Pixels and samples are never re-encoded."""
    from cnai.label.api import validate_label_value
    from cnai.label.batch import Tally, run
    from cnai.label.xmp import DST_AI

    validate_label_value(label_value)
    _check_code(producer, "--producer")
    items = list(enumerate(_outputs(paths, outdir, in_place), 1))
    if sign:
        _priv(True)  # fail early, before any file is touched
    fn = functools.partial(_embed_one, producer=producer, produce_id=produce_id, label=label_value,
                           in_place=in_place, fill=fill_propagator, hash_only=hash_only, sign=sign,
                           dst_type=DST_AI if iptc else None, many=len(items) > 1, hash_alg=hash_alg)
    if produce_id:
        _id_for(produce_id, 1, "x", len(items) > 1)
    recs = _emit_all(run(items, fn, workers=workers, progress=progress, desc="embed"), fmt, Tally("embed"))
    sys.exit(1 if any(r.get("error") for r in recs) else 0)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@batch_opts
def read(paths, fmt, workers, progress) -> None:
    """Report the labels a file carries and where they were found (plus IPTC/C2PA findings)."""
    from cnai.label.api import read_file
    from cnai.label.batch import Tally, expand, run

    items = [s for s, _ in expand(paths)]
    recs = _emit_all(run(items, read_file, workers=workers, progress=progress, desc="read"), fmt, Tally("read"))
    sys.exit(1 if any(r.get("error") for r in recs) else 0)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Public key (PEM or base64url) whose signatures are trusted; repeatable.")
@click.option("--loose-charset", is_flag=True, help="Accept 0x20-0x7E (the looser reading of Annex E j).")
@batch_opts
def check(paths, trust, loose_charset, fmt, workers, progress) -> None:
    """Provider-side conformance. Exit 1 if any file lacks a valid implicit label or carries a bad one."""
    from cnai.label.api import check_file
    from cnai.label.batch import Tally, expand, run
    from cnai.label.integrity import load_trusted

    trusted = load_trusted(list(trust)) if trust else None
    items = [s for s, _ in expand(paths)]
    fn = functools.partial(check_file, trusted=trusted, strict_charset=not loose_charset)
    recs = list(run(items, fn, workers=workers, progress=progress, desc="check"))
    for r in recs:
        r["status"] = "ok" if r.get("ok") else "failed"
    _emit_all(recs, fmt, Tally("check"))
    sys.exit(0 if recs and all(r.get("ok") for r in recs) else 1)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--declared", help="Files the uploader declared as AI-generated: '*', a list file, or a comma list.")
@batch_opts
def classify(paths, declared, fmt, workers, progress) -> None:
    """Platform-side category per file (Labeling Measures Art. 6): confirmed, possible, suspected or none."""
    from cnai.label.batch import Tally, expand, run

    dec = _load_declared(declared)
    items = [s for s, _ in expand(paths)]
    recs = _emit_all(run(items, functools.partial(_classify_one, declared=dec), workers=workers,
                         progress=progress, desc="classify"), fmt, Tally("classify"), status_key="category")
    sys.exit(1 if any(r.get("error") for r in recs) else 0)


def _classify_one(src, *, declared):
    from cnai.label.api import classify_file

    return classify_file(src, declared=_is_declared(src, declared))


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--propagator", required=True, help="ContentPropagator: the platform's 27-character code (or name).")
@click.option("--propagate-id", help="PropagateID; default: new unique ID. For many files use {n} or {stem}.")
@click.option("--declared", help="Files the uploader declared as AI-generated: '*', a list file, or a comma list.")
@click.option("-o", "--out", "outdir", type=click.Path(file_okay=False))
@click.option("--in-place", is_flag=True)
@click.option("--hash", "hash_only", is_flag=True, help="Content hash in ReservedCode2 (cnai extension).")
@click.option("--sign", is_flag=True, help="Ed25519 signature in ReservedCode2; key from $CNAI_LABEL_SIGNING_KEY.")
@click.option("--hash-alg", type=click.Choice(["sha256", "sm3"]), default="sha256", show_default=True)
@batch_opts
def propagate(paths, propagator, propagate_id, declared, outdir, in_place, hash_only, sign, hash_alg, fmt, workers,
              progress) -> None:
    """Add propagation fields without touching producer fields (Measures Art. 6)."""
    from cnai.label.batch import Tally, run

    _check_code(propagator, "--propagator")
    items = list(enumerate(_outputs(paths, outdir, in_place), 1))
    if sign:
        _priv(True)
    if propagate_id:
        _id_for(propagate_id, 1, "x", len(items) > 1)
    fn = functools.partial(_prop_one, propagator=propagator, propagate_id=propagate_id, in_place=in_place,
                           declared=_load_declared(declared), hash_only=hash_only, sign=sign, many=len(items) > 1,
                           hash_alg=hash_alg)
    recs = _emit_all(run(items, fn, workers=workers, progress=progress, desc="propagate"), fmt,
                     Tally("propagate"))
    sys.exit(1 if any(r.get("error") for r in recs) else 0)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--text", default="AI生成", show_default=True, help="Label text (needs an AI and a generation element).")
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False))
@click.option("--position", type=click.Choice(["bottom-right", "bottom-left", "top-right", "top-left"]),
              default="bottom-right", show_default=True, help="Image/video corner.")
@click.option("--seconds", type=click.FloatRange(2.0, None), default=3.0, show_default=True,
              help="Video: how long the opening label is shown (>= 2 s).")
@click.option("--persistent", is_flag=True, help="Video: keep the corner label for the whole video (not only the opening).")
@click.option("--text-mode", type=click.Choice(["prefix", "suffix", "both"]), default="prefix", show_default=True)
@click.option("--audio-where", type=click.Choice(["start", "end", "both"]), default="start", show_default=True)
@click.option("--audio-mode", type=click.Choice(["rhythm", "voice", "both"]), default="rhythm", show_default=True,
              help="Audio: Morse 'AI' rhythm, a spoken prompt (espeak-ng), or both.")
@click.option("--voice-text", default="本内容由人工智能生成", show_default=True, help="Words of the spoken prompt.")
@batch_opts
def visible(paths, text, outdir, position, seconds, persistent, text_mode, audio_where, audio_mode, voice_text, fmt,
            workers, progress) -> None:
    """Explicit labels: image text, video burn-in (ffmpeg), audio Morse 'AI' rhythm, text prefix/suffix."""
    from cnai.label.batch import Tally, expand, run
    from cnai.label.visible import check_text, visible_file

    probs = check_text(text)
    if probs:
        raise InputError("; ".join(probs), field="--text")
    if audio_mode != "rhythm" and check_text(voice_text):
        raise InputError("; ".join(check_text(voice_text)), field="--voice-text")
    items = expand(paths, outdir)
    fn = functools.partial(visible_file, text=text, position=position, seconds=seconds, persistent=persistent,
                           text_mode=text_mode, audio_where=audio_where, audio_mode=audio_mode,
                           voice_text=voice_text)
    recs = _emit_all(run(items, fn, workers=workers, progress=progress, desc="visible"), fmt, Tally("visible"))
    sys.exit(1 if any(r.get("error") for r in recs) else 0)


@label.command()
@click.argument("uscc", required=False)
@click.option("--service", type=click.Choice(["0", "1", "2"]), default="1", show_default=True,
              help="1 generation, 2 propagation, 0 unused.")
@click.option("--app-code", default="0000", show_default=True, help="4-character model/app code.")
@click.option("--check", "check_code", help="Validate an existing 27-character code instead.")
def code(uscc, service, app_code, check_code) -> None:
    """Build a 27-character provider code from a USCC (GB 32100 check character verified), or --check one."""
    from cnai.label.codes import build_provider_code, describe_provider_code

    if check_code:
        info = describe_provider_code(check_code)
        emit_json(info)
        sys.exit(0 if info["valid"] else 1)
    if not uscc:
        raise InputError("give a USCC or --check CODE", field="USCC")
    emit_json(describe_provider_code(build_provider_code(uscc, service, app_code)))


@label.command()
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File for the private key (written with mode 0600).")
def keygen(out) -> None:
    """Create an Ed25519 signing key (for --sign). Prints the public key; export the file's content as
    CNAI_LABEL_SIGNING_KEY."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cnai.label.integrity import public_b64

    if os.path.exists(out):
        raise InputError("refusing to overwrite an existing key file", path=out)
    k = Ed25519PrivateKey.generate()
    seed = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(seed).decode() + "\n")
    click.echo(public_b64(k))
