"""`cnai label conformance`: which label variant each file carries, whether it conforms to GB 45438 and the
TC260 guides (with clauses and confidence), what to fix; `--write-corpus DIR` writes the sample corpus."""

from __future__ import annotations

import sys

import click

from cnai.cli._common import emit_json


def _row(rec: dict) -> str:
    if rec.get("error"):
        return f"{rec['path']}\tERROR\t{rec['error']}"
    errs = [f"{f['code']} ({f['clause']}; {f['confidence']})" for f in rec["findings"]
            if f["severity"] in ("error", "warning")]
    match = {True: "\tmatches expected", False: "\tDIFFERS FROM EXPECTED"}.get(rec.get("expected_match"), "")
    return (f"{rec['path']}\t{rec['variant']}\tconforms={rec['conforms']} (GB 45438 {rec['gb45438']}, "
            f"TC260 {rec['tc260']})\t" + ("; ".join(errs) or "-") + match)


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--write-corpus", "corpus_dir", type=click.Path(file_okay=False),
              help="Write one sample per label variant (with corpus_expected.yaml) into this folder and exit.")
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Public key (PEM or base64url) whose integrity signatures are trusted; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "table"]), default="jsonl", show_default=True)
@click.option("--workers", "-j", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: if a TTY).")
def conformance(paths, corpus_dir, trust, fmt, workers, progress) -> None:
    """Report per file the label variant found, GB 45438 / TC260 conformance with the clause behind each
    finding, and the fixes. Exit 1 if any file does not conform (on a corpus folder: if any reading differs
    from corpus_expected.yaml)."""
    from cnai.label import conformance as C

    if corpus_dir:
        if paths:
            raise click.UsageError("give either PATHS to check or --write-corpus DIR")
        res = C.write_corpus(corpus_dir)
        if fmt == "json":
            emit_json(res)
        else:
            for f in res["written"]:
                click.echo(f)
        click.echo(f"summary: conformance corpus: {len(res['written'])} files written to {res['dir']}" +
                   (f", {len(res['skipped'])} skipped (" + "; ".join(f"{s['id']}: {s['reason']}"
                                                                 for s in res["skipped"]) + ")"
                    if res["skipped"] else ""), err=True)
        sys.exit(0 if res["written"] else 1)
    if not paths:
        raise click.UsageError("give files or folders to check (or --write-corpus DIR)")
    from cnai.cli.label import _printer
    from cnai.label.integrity import load_trusted

    res = C.conformance(paths, trusted=load_trusted(list(trust)) if trust else None, workers=workers,
                        progress=progress, on_record=_printer(fmt, _row))
    if fmt == "json":
        emit_json(res.records)
    line = res.tally.line()
    if any("expected_match" in r for r in res.records):
        bad = sum(1 for r in res.records if r.get("expected_match") is False)
        line += f"; corpus: {bad} reading(s) differ from corpus_expected.yaml"
    click.echo(line, err=True)
    if not res.records and not res.interrupted:
        click.echo("error: no files to process (empty folder or nothing given)", err=True)
    sys.exit(res.exit_code)
