"""`cnai corpus`: training-data audit (personal information, risk screening, sampling, sources)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cnai.cli._common import emit_json, emit_jsonl, write_text_atomic
from cnai.corpus.realeval import DEV_BATCHES, EARLIER_HELDOUT  # the set names (realeval imports only stdlib)
from cnai.errors import InputError


def _read_options(f):
    opts = [
        click.option("--text-field", default="text", show_default=True,
                     help="JSON key / column holding the text (dotted for nested JSON)."),
        click.option("--id-field", default="id", show_default=True,
                     help="JSON key / column with a document id (else FILE:LINE)."),
        click.option("--source-field", default=None,
                     help="JSON key / column naming the source (else the input file stem or directory name)."),
        click.option("--encoding", default=None,
                     help="Force a codec (e.g. gbk, gb18030); default tries UTF-8 then GB18030 per line."),
        click.option("--text-unit", type=click.Choice(["file", "line"]), default="file", show_default=True,
                     help="Plain-text files: one document per file or per line."),
        click.option("--max-line-mb", type=click.FloatRange(0.001, 4096), default=16.0, show_default=True,
                     help="Longer lines/documents are skipped (reason line_too_long)."),
        click.option("--keywords", "keywords_path", type=click.Path(path_type=Path), default=None,
                     help="Risk keyword library (TSV keyword<TAB>risk_code, JSON or YAML {code: [..]}); "
                          "default: the shared library if installed."),
        click.option("--classifier", default=None, help="Optional plug-in python:MODULE:FUNCTION(text) -> "
                                                         "[(risk_code, score)]."),
        click.option("--workers", type=click.IntRange(1, 512), default=None,
                     help="Worker processes (default: all cores)."),
        click.option("--recognizers", "recognizers_path", type=click.Path(dir_okay=False, path_type=Path),
                     default=None, help="YAML choosing which registered PI recognizers run (see `cnai plugins`)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _make_read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb, shard_mb=32.0):
    from cnai.corpus.api import read_options

    return read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb, shard_mb)


def _make_detector(keywords_path, classifier, types=None, min_confidence=0.0, recognizers_path=None):
    from cnai.corpus.api import make_detector

    return make_detector(keywords_path, classifier, types, min_confidence, recognizers_path)


def _workers(n):
    return n or os.cpu_count() or 1


@click.group()
def corpus() -> None:
    """Training-data audit: Chinese personal information, the 31 risks, sampling, sources."""


# ---------------------------------------------------------------------------- scan
@corpus.command()
@click.argument("paths", nargs=-1, required=True)
@_read_options
@click.option("--types", default=None, help="Comma-separated finding types to keep (add 'risk' for all risks).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--only-hits", is_flag=True, help="Print only documents with findings.")
@click.option("--with-text", is_flag=True, help="Include the matched text in each finding (contains PI!).")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
def scan(paths, text_field, id_field, source_field, encoding, text_unit, max_line_mb, keywords_path, classifier,
         workers, recognizers_path, types, min_confidence, only_hits, with_text, fmt):
    """Find personal information and risk keywords; one JSON object per document on stdout.

    Skipped input (bad encoding, malformed JSON, missing field, ...) is counted by reason on stderr.
    """
    from cnai.corpus.api import scan as scan_docs

    tset = {t.strip() for t in types.split(",") if t.strip()} if types else None
    stats: dict = {}
    for rec in scan_docs(paths, text_field=text_field, id_field=id_field, source_field=source_field,
                         encoding=encoding, text_unit=text_unit, max_line_mb=max_line_mb, keywords_path=keywords_path,
                         classifier=classifier, workers=_workers(workers), recognizers_path=recognizers_path,
                         types=tset, min_confidence=min_confidence, only_hits=only_hits, with_text=with_text,
                         stats=stats, say=lambda m: click.echo(m, err=True)):
        emit_jsonl(rec)
    skips = stats["skips"]
    total_skips = sum(skips.values())
    click.echo(f"scanned {stats['docs']} documents, {stats['with_findings']} with findings; "
               f"skipped {total_skips}" + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(skips.items()))})"
                                           if skips else ""), err=True)


# ---------------------------------------------------------------------------- audit
@corpus.command()
@click.argument("paths", nargs=-1, required=True)
@_read_options
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--ray-address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--sample", "sample_n", type=int, default=4000, show_default=True, help="Review sample size.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sample-per-source", type=int, default=0, show_default=True,
              help="Also draw this many documents from every source (review-sample-by-source.xlsx), for "
                   "checking the 5% rule per source by people.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("corpus-audit"), show_default=True,
              help="Output folder (shard results, sample, cleaned corpus, summary).")
@click.option("--redact", type=click.Choice(["mask", "replace", "drop"]), default=None,
              help="Write a cleaned corpus (OUT/clean) and rejected documents with reasons (OUT/rejected).")
@click.option("--keep-risk", is_flag=True, help="With --redact: keep documents with risk keyword hits.")
@click.option("--pi-min-confidence", type=click.FloatRange(0, 1), default=0.6, show_default=True)
@click.option("--findings", "write_findings", is_flag=True, help="Also write per-document findings (OUT/findings).")
@click.option("--register", "register_path", type=click.Path(path_type=Path), default=None,
              help="Source/licence register (YAML) to check and include in the report.")
@click.option("--shard-mb", type=click.FloatRange(0.001, 65536), default=32.0, show_default=True)
@click.option("--fresh", is_flag=True, help="Ignore completed shards from an earlier run.")
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
def audit(paths, text_field, id_field, source_field, encoding, text_unit, max_line_mb, keywords_path, classifier,
          workers, recognizers_path, engine, ray_address, sample_n, seed, sample_per_source, out_dir, redact, keep_risk,
          pi_min_confidence, write_findings, register_path, shard_mb, fresh, fmt):
    """Audit a corpus: rates per source and overall, 5% source rule, review sample, redaction, register.

    Exit 1 when a source breaks the 5% rule, the screening qualified rate is below 98%, or the register
    is incomplete.
    """
    from cnai.corpus.api import AuditInterrupted
    from cnai.corpus.api import audit as run_audit

    try:
        summary = run_audit(list(paths), out_dir, text_field=text_field, id_field=id_field, source_field=source_field,
                            encoding=encoding, text_unit=text_unit, max_line_mb=max_line_mb,
                            keywords_path=keywords_path, classifier=classifier, workers=workers, engine=engine,
                            ray_address=ray_address, sample_n=sample_n, seed=seed,
                            sample_per_source=sample_per_source, redact=redact, keep_risk=keep_risk,
                            pi_min_confidence=pi_min_confidence, write_findings=write_findings,
                            register_path=register_path, shard_mb=shard_mb, fresh=fresh,
                            recognizers_path=recognizers_path,
                            say=lambda m: click.echo(m, err=True))
    except AuditInterrupted as stop:
        import shlex

        code = 130 if stop.signum == 2 else 143
        click.echo(f"stopped by {'SIGINT' if code == 130 else 'SIGTERM'} after {stop.done} of {stop.total} "
                   "shards; finished shards are kept. Resume with the same command:", err=True)
        click.echo("  " + shlex.join(["cnai", "corpus", "audit", *sys.argv[sys.argv.index("audit") + 1:]])
                   if "audit" in sys.argv else "  (the same cnai corpus audit command)", err=True)
        sys.exit(code)
    if fmt == "json":
        emit_json(summary)
    else:
        click.echo(render_md(summary))
    sys.exit(0 if summary["verdict"]["compliant"] else 1)


def _md(text: str) -> str:
    """Source names come from files: keep them from breaking the Markdown table or adding markup."""
    return "".join("\\" + c if c in "\\|*_`[]<>#" else c for c in text).replace("\n", " ")


def render_md(s: dict) -> str:
    lines = ["# Training-data audit", "",
             f"- documents: {s['documents']}, bytes: {s['bytes']}, skipped: {s['skipped']['total']} "
             f"({', '.join(f'{k}: {v}' for k, v in s['skipped']['by_reason'].items()) or 'none'})",
             f"- documents with PI: {s['findings']['pi_doc_rate']:.2%}; with risk keywords: "
             f"{s['findings']['risk_doc_rate']:.2%}",
             f"- technical check: qualified {s['technical_check']['qualified_rate']:.2%} "
             f"(threshold 98%, unverified) -> {s['technical_check']['verdict']}",
             f"- review sample: {s['review_sample']['size']} documents -> {s['review_sample'].get('xlsx', '-')}",
             "", "| source | docs | PI docs | risk docs | verdict |", "|---|---|---|---|---|"]
    for name, src in s["sources"].items():
        lines.append(f"| {_md(name)} | {src['docs']} | {src['pi_doc_rate']:.2%} | {src['risk_doc_rate']:.2%} | "
                     f"{src['verdict']} |")
    lines += ["", "| finding type | count |", "|---|---|"]
    for t, c in {**s["findings"]["by_type"], **{f"risk:{k}": v for k, v in s["findings"]["by_risk"].items()}}.items():
        lines.append(f"| {t} | {c} |")
    if "redaction" in s:
        r = s["redaction"]
        lines += ["", f"Redaction ({r['mode']}): kept {r['kept']}, modified {r['modified']}, dropped {r['dropped']}",
                  ""] + [f"- {k}: {v}" for k, v in r["dropped_by_reason"].items()]
    if "register" in s:
        lines += ["", f"Register complete: {s['register']['complete']}"]
        for src in s["register"]["sources"]:
            miss = [f"{i['requirement']} ({', '.join(i['missing'])})" for i in src["requirements"] if i["missing"]]
            lines.append(f"- {_md(str(src['name']))}: " + ("complete" if not miss else "missing " + "; ".join(miss)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- review
@corpus.group()
def review() -> None:
    """Human review of the random sample (XLSX)."""


@review.command("export")
@click.argument("sample_jsonl", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), required=True)
def review_export(sample_jsonl, out):
    """Write OUT.xlsx from a review-sample.jsonl written by `cnai corpus audit`."""
    from cnai.corpus.review import export_xlsx

    if not sample_jsonl.is_file():
        raise InputError("no such file", path=str(sample_jsonl))
    try:
        n = export_xlsx(sample_jsonl, out)
    except (ValueError, KeyError) as exc:
        raise InputError(f"not a review-sample JSONL: {exc}", path=str(sample_jsonl)) from None
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=str(out)) from None
    click.echo(f"wrote {out} ({n} rows)", err=True)


@review.command("import")
@click.argument("xlsx", type=click.Path(path_type=Path))
@click.option("--threshold", type=float, default=0.96, show_default=True)
@click.option("--min-sample", type=int, default=4000, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json")
def review_import(xlsx, threshold, min_sample, fmt):
    """Qualified rate of a reviewed sample with its Wilson 95% interval; exit 1 unless the verdict is pass."""
    from cnai.corpus.review import import_xlsx

    res = import_xlsx(xlsx, threshold, min_sample)
    emit_json(res)
    sys.exit(0 if res["verdict"] == "pass" else 1)


# ---------------------------------------------------------------------------- register
@corpus.group("register")
def register_group() -> None:
    """Source and licence register."""


@register_group.command("template")
def register_template():
    """Print an example register (YAML)."""
    from cnai.corpus.register import TEMPLATE

    click.echo(TEMPLATE, nl=False)


@register_group.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--audit", "audit_summary", type=click.Path(path_type=Path), default=None,
              help="summary.json of an audit, to cross-check sources.")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json")
def register_check(path, audit_summary, fmt):
    """Check each source entry for the records the standard expects; exit 1 if incomplete."""
    import json

    from cnai.corpus.register import check_register, load_register

    srcs = None
    if audit_summary:
        try:
            srcs = json.loads(Path(audit_summary).read_text("utf-8"))["sources"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"not an audit summary.json: {exc}", path=str(audit_summary)) from None
    res = check_register(load_register(path), srcs)
    emit_json(res)
    sys.exit(0 if res["complete"] else 1)


# ---------------------------------------------------------------------------- eval
@corpus.command("eval")
@click.option("--n", "n", type=int, default=3000, show_default=True, help="Sentences to generate.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.6, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json")
@click.option("--save", type=click.Path(path_type=Path), default=None, help="Also write the labelled set (JSONL).")
@click.option("--set", "which", type=click.Choice(["generated", "realistic"]), default="generated", show_default=True,
              help="realistic: hand-written news/chat/forum/form sentences without cue words, scored with the "
                   "free-text name and address recognizers (P/R/F1, threshold curve).")
@click.option("--split", type=click.Choice(["heldout", "dev", *EARLIER_HELDOUT, *DEV_BATCHES]), default="heldout",
              show_default=True,
              help="realistic set only: heldout = the set no rule was tuned on (the reported figures); "
                   "dev = the development sentences the rules were tuned on; heldout2 .. heldout10, batch9a-c = "
                   "one earlier set alone (to reproduce the figure of its round).")
def eval_cmd(n, seed, min_confidence, fmt, save, which, split):
    """Precision/recall per PI type on a labelled set: generated (Faker zh_CN + hard negatives) or realistic."""
    if which == "realistic":
        from cnai.corpus import realeval

        try:
            res = realeval.evaluate(split=split, threshold=min_confidence)
        except (FileNotFoundError, ValueError) as e:
            raise click.ClickException(str(e)) from None
        emit_json(res) if fmt == "json" else click.echo(realeval.render_md(res))
        return
    from cnai.corpus.evalset import evaluate, generate, render_md

    items = generate(n, seed)
    if save:
        import json

        write_text_atomic(save, "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
    res = evaluate(items, min_confidence)
    if fmt == "json":
        emit_json(res)
    else:
        click.echo(render_md(res))
