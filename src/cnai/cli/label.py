"""`cnai label`: GB 45438 implicit labels (embed/read/check/classify/propagate) and explicit labels (visible)."""

from __future__ import annotations

import sys

import click

from cnai.cli._common import dumps, emit_json, emit_jsonl

FORMATS = click.Choice(["jsonl", "json", "table"])
MAX_ERROR_LINES = 50


def _printer(fmt: str, row=None):
    """on_record callback: jsonl/table lines as files finish, one error line per failed file on stderr
    (the first MAX_ERROR_LINES of them). `row` formats a table line (default: this module's _row)."""
    shown = [0]
    row = row or _row

    def on_record(rec: dict) -> None:
        if fmt == "jsonl":
            emit_jsonl(rec)
        elif fmt == "table":
            click.echo(row(rec))
        if rec.get("error"):
            shown[0] += 1
            if shown[0] <= MAX_ERROR_LINES:
                click.echo(f"error: {rec['path']}: {rec['error']}", err=True)
            elif shown[0] == MAX_ERROR_LINES + 1:
                click.echo("error: ... more failed files (see skip_reason in the records)", err=True)
    return on_record


def _resume_command(verb_has_outputs: bool) -> str:
    import shlex

    argv = [a for a in sys.argv[1:]]
    if verb_has_outputs and "--in-place" not in argv and "--resume" not in argv:
        argv.append("--resume")
    return "cnai " + shlex.join(argv)


def _finish(res, fmt: str, *, outputs: bool = False) -> None:
    if fmt == "json":
        emit_json(res.records)
    click.echo(res.tally.line(), err=True)
    if not res.records and not res.interrupted:
        click.echo("error: no files to process (empty folder or nothing given)", err=True)
    if res.interrupted:
        import signal

        name = signal.Signals(res.interrupted).name
        click.echo(f"interrupted by {name} after {len(res.records)} of {res.total} files; finished files are kept, "
                   f"none is half-written. Resume with: {_resume_command(outputs)}", err=True)
    sys.exit(res.exit_code)


def _row(rec: dict) -> str:
    if rec.get("error"):
        return f"{rec['path']}\tERROR\t{rec['error']}"
    state = rec.get("category") or rec.get("status") or ("ok" if rec.get("ok") else "FAIL" if "ok" in rec else "")
    lab = rec.get("label")
    where = ",".join(rec.get("found_in") or [])
    extra = "; ".join(rec.get("problems") or rec.get("reasons") or [])
    return "\t".join(x for x in [rec["path"], rec.get("format") or "", state,
                                 (dumps(lab, indent=None) if lab else "no label"), where, extra] if x is not None)


_FORMAT = click.option("--format", "fmt", type=FORMATS, default="jsonl", show_default=True, help="Output format.")
_PROGRESS = click.option("--progress/--no-progress", default=None,
                         help="Progress bar on stderr (default: if a TTY).")
_WORKERS_RANGE = click.IntRange(1, 64)
common_batch = [
    _FORMAT,
    click.option("--workers", "-j", type=_WORKERS_RANGE, default=1, show_default=True,
                 help="Parallel worker processes."),
    _PROGRESS,
]


class _Jobs(click.ParamType):
    """-j N as every batch command takes it (the same range and messages), or `auto` (None)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value in (None, "auto"):
            return None
        if not str(value).strip().isdigit():
            self.fail(f"{value!r} is not a whole number or 'auto'", param, ctx)
        return _WORKERS_RANGE.convert(value, param, ctx)


# embed's -j defaults to auto: labelling new copies spends most of its time in the kernel's copy, so two worker
# threads overlap one file's copy with the next file's parsing (issue #19: a labelled copy within 1.2x of `cp`)
embed_batch = [
    _FORMAT,
    click.option("--workers", "-j", type=_Jobs(), default="auto", show_default=True,
                 help="Parallel workers; auto = 2 threads for plain labelling on a machine with 2 or more cores, "
                 "1 when signing (SM2 or C2PA) or for a single file."),
    _PROGRESS,
]


def _with(opts, f):
    for o in reversed(opts):
        f = o(f)
    return f


def batch_opts(f):
    return _with(common_batch, f)


def embed_batch_opts(f):
    return _with(embed_batch, f)


def producer_opts(*, producer_help: str, produce_id_help: str, out_help: str, out_required: bool = False):
    """The label fields a writing command takes (paths, producer, ProduceID, Label, -o), shared by
    `embed` and `watermark embed` so they parse and document them alike."""
    opts = [click.argument("paths", nargs=-1, required=True),
            click.option("--producer", required=True, help=producer_help),
            click.option("--produce-id", help=produce_id_help),
            click.option("--label", "label_value", default="1", show_default=True,
                         help="1 AI-generated, 2 possibly, 3 suspected."),
            click.option("-o", "--out", "outdir", required=out_required, type=click.Path(file_okay=False),
                         help=out_help)]

    def deco(f):
        for o in reversed(opts):
            f = o(f)
        return f
    return deco


@click.group()
def label() -> None:
    """GB 45438-2025 AI-content labels.

    Implicit labels: the seven-key AIGC JSON in file metadata (embed, read, check, classify, propagate).
    Explicit labels: visible/audible marks (visible). Directories are processed recursively.
    """


@label.command()
@producer_opts(producer_help="ContentProducer: 27-character provider code (or a name).",
               produce_id_help="ProduceID; default: keep an existing one from the same producer, else new. "
               "For many files use {n} or {stem} in it.", out_help="Write labelled copies here.")
@click.option("--in-place", is_flag=True, help="Replace the input files (atomically, via a temp file).")
@click.option("--fill-propagator", is_flag=True, help="Also set ContentPropagator/PropagateID to the producer's "
              "(the 'first write' convention some validators cite; secondary, unverified).")
@click.option("--hash", "hash_only", is_flag=True, help="Put a content hash in ReservedCode1 (cnai extension).")
@click.option("--sign", is_flag=True, help="Sign hash+label with Ed25519 or SM2 (the key's kind); key from "
              "$CNAI_LABEL_SIGNING_KEY (cnai extension). An SM2 key signs an SM3 digest.")
@click.option("--iptc", is_flag=True, help="Also write IPTC DigitalSourceType trainedAlgorithmicMedia (XMP images).")
@click.option("--hash-alg", type=click.Choice(["sha256", "sm3"]), default="sha256", show_default=True,
              help="Content digest for --hash/--sign (SM3 = GB/T 32905, via OpenSSL).")
@click.option("--allow-damaged", is_flag=True, help="Label structurally damaged files (truncated image data, bad "
              "checksums) anyway; the damage is recorded in the output record.")
@click.option("--resume", is_flag=True, help="Skip files whose output already exists (after an interrupted run).")
@click.option("--c2pa-cert", type=click.Path(dir_okay=False), help="Also sign a C2PA manifest (GB 45438 assertion + "
              "c2pa.actions with the IPTC source type) with this PEM certificate chain, signer first.")
@click.option("--c2pa-key", type=click.Path(dir_okay=False), help="PEM private key of the C2PA signer (default: "
              "the PEM in $CNAI_C2PA_KEY). Never logged.")
@embed_batch_opts
def embed(paths, producer, produce_id, label_value, outdir, in_place, fill_propagator, hash_only, sign, iptc, hash_alg,
          allow_damaged, resume, c2pa_cert, c2pa_key, fmt, workers, progress) -> None:
    """Write (or replace) the implicit label. Pixels and samples are never re-encoded."""
    from cnai.label import verbs

    res = verbs.embed(paths, producer=producer, out=outdir, in_place=in_place, produce_id=produce_id,
                      label=label_value, fill_propagator=fill_propagator, hash=hash_only, sign=sign, iptc=iptc,
                      hash_alg=hash_alg, allow_damaged=allow_damaged, resume=resume, workers=workers,
                      progress=progress, on_record=_printer(fmt), c2pa_cert=c2pa_cert, c2pa_key=c2pa_key)
    _finish(res, fmt, outputs=True)


C2PA_TRUST = click.option("--c2pa-trust", type=click.Path(exists=True, dir_okay=False),
                          help="PEM certificates trusted as C2PA signing anchors (else: signer reported untrusted).")


@label.command()
@click.argument("paths", nargs=-1, required=True)
@C2PA_TRUST
@batch_opts
def read(paths, c2pa_trust, fmt, workers, progress) -> None:
    """Report the labels a file carries and where they were found (plus IPTC/C2PA findings and whether the
    C2PA manifest agrees with the label)."""
    from cnai.label import verbs

    _finish(verbs.read(paths, c2pa_trust=c2pa_trust, workers=workers, progress=progress,
                       on_record=_printer(fmt)), fmt)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Public key (PEM or base64url) whose signatures are trusted; repeatable.")
@click.option("--loose-charset", is_flag=True, help="Accept 0x20-0x7E (the looser reading of Annex E j).")
@C2PA_TRUST
@batch_opts
def check(paths, trust, loose_charset, c2pa_trust, fmt, workers, progress) -> None:
    """Provider-side conformance. Exit 1 if any file lacks a valid implicit label or carries a bad one, or
    carries a C2PA manifest that fails validation or contradicts the label."""
    from cnai.label import verbs

    _finish(verbs.check(paths, trust=trust, loose_charset=loose_charset, c2pa_trust=c2pa_trust, workers=workers,
                        progress=progress, on_record=_printer(fmt)), fmt)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--declared", help="Files the uploader declared as AI-generated: '*', a list file, or a comma list.")
@click.option("--watermark/--no-watermark", default=True, show_default=True,
              help="Search images without a valid metadata label for the invisible watermark (~0.3 s per 1 MP).")
@batch_opts
def classify(paths, declared, watermark, fmt, workers, progress) -> None:
    """Platform-side category per file (Labeling Measures Art. 6): confirmed, possible, suspected or none."""
    from cnai.label import verbs

    _finish(verbs.classify(paths, declared=verbs.load_declared(declared), watermark=watermark, workers=workers,
                           progress=progress, on_record=_printer(fmt)), fmt)


@label.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--propagator", required=True, help="ContentPropagator: the platform's 27-character code (or name).")
@click.option("--propagate-id", help="PropagateID; default: new unique ID. For many files use {n} or {stem}.")
@click.option("--declared", help="Files the uploader declared as AI-generated: '*', a list file, or a comma list.")
@click.option("-o", "--out", "outdir", type=click.Path(file_okay=False))
@click.option("--in-place", is_flag=True)
@click.option("--hash", "hash_only", is_flag=True, help="Content hash in ReservedCode2 (cnai extension).")
@click.option("--sign", is_flag=True, help="Ed25519 or SM2 signature in ReservedCode2; key from "
              "$CNAI_LABEL_SIGNING_KEY.")
@click.option("--hash-alg", type=click.Choice(["sha256", "sm3"]), default="sha256", show_default=True)
@click.option("--allow-damaged", is_flag=True, help="Label structurally damaged files anyway (damage recorded).")
@click.option("--resume", is_flag=True, help="Skip files whose output already exists (after an interrupted run).")
@batch_opts
def propagate(paths, propagator, propagate_id, declared, outdir, in_place, hash_only, sign, hash_alg, allow_damaged,
              resume, fmt, workers, progress) -> None:
    """Add propagation fields without touching producer fields (Measures Art. 6)."""
    from cnai.label import verbs

    res = verbs.propagate(paths, propagator=propagator, out=outdir, in_place=in_place, propagate_id=propagate_id,
                          declared=verbs.load_declared(declared), hash=hash_only, sign=sign, hash_alg=hash_alg,
                          allow_damaged=allow_damaged, resume=resume, workers=workers, progress=progress,
                          on_record=_printer(fmt))
    _finish(res, fmt, outputs=True)


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
@click.option("--resume", is_flag=True, help="Skip files whose output already exists (after an interrupted run).")
@batch_opts
def visible(paths, text, outdir, position, seconds, persistent, text_mode, audio_where, audio_mode, voice_text, resume,
            fmt, workers, progress) -> None:
    """Explicit labels: image text, video burn-in (ffmpeg), audio Morse 'AI' rhythm, text prefix/suffix."""
    from cnai.label import verbs

    res = verbs.visible(paths, out=outdir, text=text, position=position, seconds=seconds, persistent=persistent,
                        text_mode=text_mode, audio_where=audio_where, audio_mode=audio_mode, voice_text=voice_text,
                        resume=resume, workers=workers, progress=progress, on_record=_printer(fmt))
    _finish(res, fmt, outputs=True)


@label.command()
@click.argument("uscc", required=False)
@click.option("--service", type=click.Choice(["0", "1", "2"]), default="1", show_default=True,
              help="1 generation, 2 propagation, 0 unused.")
@click.option("--app-code", default="0000", show_default=True, help="4-character model/app code.")
@click.option("--check", "check_code", help="Validate an existing 27-character code instead.")
def code(uscc, service, app_code, check_code) -> None:
    """Build a 27-character provider code from a USCC (GB 32100 check character verified), or --check one."""
    from cnai.label import verbs

    info = verbs.code(uscc, service=service, app_code=app_code, check=check_code)
    emit_json(info)
    sys.exit(0 if info["valid"] else 1)


@label.command()
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File for the private key (written with mode 0600).")
@click.option("--alg", type=click.Choice(["ed25519", "sm2"]), default="ed25519", show_default=True,
              help="Signature algorithm: Ed25519, or SM2 (GB/T 32918, signs an SM3 digest).")
def keygen(out, alg) -> None:
    """Create a signing key (for --sign). Prints the public key; export the file's content as
    CNAI_LABEL_SIGNING_KEY."""
    from cnai.label import verbs

    click.echo(verbs.keygen(out, alg=alg))
