"""`cnai corpus`: training-data audit (personal information, risk screening, sampling, sources)."""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path

import click

from cnai.cli._common import dumps, emit_json, emit_jsonl, write_text_atomic
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
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _make_read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb, shard_mb=32.0):
    from cnai.corpus.readers import ReadOptions

    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", field="--encoding") from None
    if max_line_mb <= 0 or shard_mb <= 0:
        raise InputError("must be positive", field="--max-line-mb/--shard-mb")
    return ReadOptions(text_field=text_field, id_field=id_field or None, source_field=source_field,
                       encoding=encoding, text_unit=text_unit, max_line_bytes=int(max_line_mb * 1024 * 1024),
                       shard_bytes=int(shard_mb * 1024 * 1024))


def _make_detector(keywords_path, classifier, types=None, min_confidence=0.0):
    from cnai.corpus.detect import Detector
    from cnai.corpus.screening import load_classifier, load_keywords

    kl = load_keywords(keywords_path)
    return Detector(kl, types=types, min_confidence=min_confidence, classifier=load_classifier(classifier)), kl


def _workers(n):
    if n is None:
        return os.cpu_count() or 1
    if n < 1:
        raise InputError("must be at least 1", field="--workers")
    return n


@click.group()
def corpus() -> None:
    """Training-data audit: Chinese personal information, the 31 risks, sampling, sources."""


# ---------------------------------------------------------------------------- scan
_SCAN: dict = {}


def _scan_init(detector):
    _SCAN["d"] = detector


def _detect_safe(d, text):
    try:
        return d.detect(text)
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the scan
        return f"{type(exc).__name__}: {exc}"[:200]


def _scan_batch(texts):
    d = _SCAN["d"]
    return [_detect_safe(d, t) for t in texts]


@corpus.command()
@click.argument("paths", nargs=-1, required=True)
@_read_options
@click.option("--types", default=None, help="Comma-separated finding types to keep (add 'risk' for all risks).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--only-hits", is_flag=True, help="Print only documents with findings.")
@click.option("--with-text", is_flag=True, help="Include the matched text in each finding (contains PI!).")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
def scan(paths, text_field, id_field, source_field, encoding, text_unit, max_line_mb, keywords_path, classifier,
         workers, types, min_confidence, only_hits, with_text, fmt):
    """Find personal information and risk keywords; one JSON object per document on stdout.

    Skipped input (bad encoding, malformed JSON, missing field, ...) is counted by reason on stderr.
    """
    from cnai.corpus.pipeline import finding_dict, iter_rows
    from cnai.corpus.readers import Doc

    opts = _make_read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb)
    tset = {t.strip() for t in types.split(",") if t.strip()} if types else None
    detector, _ = _make_detector(keywords_path, classifier, tset, min_confidence)
    n_workers = _workers(workers)
    skips: dict[str, int] = {}
    counts = {"docs": 0, "with_findings": 0}

    def emit(docs, results):
        for doc, fs in zip(docs, results, strict=True):
            counts["docs"] += 1
            if isinstance(fs, str):
                skips["processing_error"] = skips.get("processing_error", 0) + 1
                click.echo(f"skip: {doc.id}: processing_error {fs}", err=True)
                emit_jsonl({"doc": doc.id, "source": doc.source, "findings": [], "error": fs})
                continue
            if fs:
                counts["with_findings"] += 1
            elif only_hits:
                continue
            items = []
            for f in fs:
                d = finding_dict(f)
                if with_text:
                    d["text"] = doc.text[f[1]:f[2]]
                items.append(d)
            emit_jsonl({"doc": doc.id, "source": doc.source, "findings": items})

    def batches():
        batch = []
        size = 0
        for item in iter_rows(list(paths), opts):
            if not isinstance(item, Doc):
                skips[item.reason] = skips.get(item.reason, 0) + 1
                click.echo(f"skip: {item.where}: {item.reason} {item.detail}".rstrip(), err=True)
                continue
            batch.append(item)
            size += len(item.text)
            if len(batch) >= 512 or size >= 4_000_000:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    if n_workers <= 1:
        for b in batches():
            emit(b, [_detect_safe(detector, d.text) for d in b])
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
        with ctx.Pool(n_workers, initializer=_scan_init, initargs=(detector,)) as pool:
            inflight: deque = deque()
            for b in batches():
                inflight.append((b, pool.apply_async(_scan_batch, ([d.text for d in b],))))
                while len(inflight) > 2 * n_workers:
                    docs, res = inflight.popleft()
                    emit(docs, res.get())
            while inflight:
                docs, res = inflight.popleft()
                emit(docs, res.get())
    total_skips = sum(skips.values())
    _no_documents(counts["docs"], skips, text_field)
    click.echo(f"scanned {counts['docs']} documents, {counts['with_findings']} with findings; "
               f"skipped {total_skips}" + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(skips.items()))})"
                                           if skips else ""), err=True)


def _no_documents(docs: int, skips: dict, text_field: str) -> None:
    """A run that read nothing is not a success: name the field when records lacked it, else say why."""
    if docs:
        return
    if skips.get("missing_field"):
        raise InputError(f"no record has the field {text_field!r} ({skips['missing_field']} records lack it); "
                         "name the text field with --text-field", field="--text-field")
    reasons = ", ".join(f"{v} × {k}" for k, v in sorted(skips.items())) or "the inputs hold no records"
    raise InputError(f"no documents could be read: {reasons}", field="PATHS")


class _Stopped(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def _stop_on_signals():
    """SIGINT and SIGTERM in the main process raise _Stopped (pools are then terminated by their `with`)."""
    import signal

    def handler(signum, frame):
        raise _Stopped(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    return lambda: [signal.signal(s, h) for s, h in old.items()]


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
          workers, engine, ray_address, sample_n, seed, sample_per_source, out_dir, redact, keep_risk, pi_min_confidence,
          write_findings, register_path, shard_mb, fresh, fmt):
    """Audit a corpus: rates per source and overall, 5% source rule, review sample, redaction, register.

    Exit 1 when a source breaks the 5% rule, the screening qualified rate is below 98%, or the register
    is incomplete.
    """
    import shutil

    from cnai.corpus import pipeline, register, review
    from cnai.corpus.readers import plan_shards

    if sample_n < 0:
        raise InputError("must be 0 or more", field="--sample")
    if sample_per_source < 0:
        raise InputError("must be 0 or more", field="--sample-per-source")
    opts = _make_read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb, shard_mb)
    detector, kl = _make_detector(keywords_path, classifier)
    reg = register.load_register(register_path) if register_path else None
    cfg = pipeline.AuditConfig(read=opts, sample=sample_n, seed=seed, redact=redact, drop_risk=not keep_risk,
                               pi_min_confidence=pi_min_confidence, write_findings=write_findings,
                               sample_per_source=sample_per_source)
    from cnai.core.safeio import MANIFEST_MARKER, OutputError, check_output, prepare_output_dir

    out_dir = Path(out_dir)
    try:
        check_output(out_dir, inputs=list(paths), directory=True)  # --out equal to an input is refused
        if out_dir.is_dir() and not (out_dir / MANIFEST_MARKER).exists() and (
                (out_dir / "summary.json").exists() or (out_dir / "shards").is_dir()):  # audits made before the marker
            (out_dir / MANIFEST_MARKER).write_text('{"kind": "corpus-audit", "tool": "cnai"}\n', encoding="utf-8")
        prepare_output_dir(out_dir, kind="corpus-audit")
    except OutputError as exc:
        raise InputError(str(exc).removeprefix(f"{out_dir}: "), path=str(out_dir), field="--out") from None
    if fresh:
        for sub in ("shards", "samples", "samples_by_source", "clean", "rejected", "findings"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
    try:
        probe = out_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write the output folder: {exc.strerror or exc}", path=str(out_dir),
                         field="--out") from None
    n_workers = _workers(workers)
    t0 = time.perf_counter()
    shards, plan_skips = plan_shards(list(paths), opts, exclude=[out_dir])
    for sk in plan_skips:
        if sk.reason == "cnai_output":
            click.echo(f"skip: {sk.where}: {sk.detail}", err=True)
    cfg.sample_key_limit = pipeline.sample_key_limit(shards, sample_n)
    cfg_hash = cfg.digest(kl) + (f"-{classifier}" if classifier else "")
    done = {"n": 0}

    def progress(st):
        done["n"] += 1
        tag = " (resumed)" if st.get("resumed") else ""
        click.echo(f"[{done['n']}/{len(shards)}] {st['path']}@{st['start']}: {st['docs']} docs{tag}", err=True)

    def run_all():
        if engine == "ray":
            return pipeline.run_ray(shards, cfg, detector, out_dir.resolve(), cfg_hash, n_workers, ray_address,
                                    progress)
        return pipeline.run_local(shards, cfg, detector, out_dir, cfg_hash, n_workers, progress)

    restore = _stop_on_signals()
    try:
        stats = run_all()
    except _Stopped as stop:
        restore()
        import shlex

        code = 130 if stop.signum == 2 else 143
        click.echo(f"stopped by {'SIGINT' if code == 130 else 'SIGTERM'} after {done['n']} of {len(shards)} "
                   "shards; finished shards are kept. Resume with the same command:", err=True)
        click.echo("  " + shlex.join(["cnai", "corpus", "audit", *sys.argv[sys.argv.index("audit") + 1:]])
                   if "audit" in sys.argv else "  (the same cnai corpus audit command)", err=True)
        sys.exit(code)
    finally:
        restore()
    summary = pipeline.merge(stats, cfg, out_dir, plan_skips)
    if summary["documents"] == 0 and summary["skipped"]["by_reason"].get("missing_field"):
        _no_documents(0, summary["skipped"]["by_reason"], text_field)  # the field is wrong: usage, exit 2
    if cfg.sample_key_limit is not None and summary["review_sample"]["size"] < min(sample_n, summary["documents"]):
        click.echo("sample short (many invalid lines): rerunning without the sample key limit", err=True)
        cfg.sample_key_limit = None
        cfg_hash = cfg.digest(kl) + (f"-{classifier}" if classifier else "")
        done["n"] = 0
        stats = run_all()
        summary = pipeline.merge(stats, cfg, out_dir, plan_skips)
    elapsed = time.perf_counter() - t0
    summary["run"] = {"engine": engine, "scanner": detector.scanner, "workers": n_workers,
                      "seconds": round(elapsed, 3),
                      "mb_per_s": round(summary["bytes"] / 1e6 / elapsed, 2) if elapsed else None,
                      "keywords": {"count": len(kl), "source": kl.source, "by_risk": kl.by_code()},
                      "config": cfg_hash, "out": str(out_dir)}
    if sample_n:
        xlsx = out_dir / "review-sample.xlsx"
        review.export_xlsx(Path(summary["review_sample"]["jsonl"]), xlsx)
        summary["review_sample"]["xlsx"] = str(xlsx)
    if sample_per_source:
        xlsx = out_dir / "review-sample-by-source.xlsx"
        review.export_xlsx(Path(summary["review_sample_by_source"]["jsonl"]), xlsx)
        summary["review_sample_by_source"]["xlsx"] = str(xlsx)
    if reg is not None:
        summary["register"] = register.check_register(reg, summary["sources"])
    failing = [n for n, s in summary["sources"].items() if s["verdict"] == "unusable"]
    summary["verdict"] = {
        "sources_unusable": failing,
        "technical_check": summary["technical_check"]["verdict"],
        "register_complete": None if reg is None else summary["register"]["complete"],
        "compliant": summary["documents"] > 0 and not failing and summary["technical_check"]["verdict"] == "pass"
        and (reg is None or summary["register"]["complete"]),
    }
    if summary["documents"] == 0:  # never a pass: exit 1 with the reasons grouped
        reasons = ", ".join(f"{v} × {k}" for k, v in summary["skipped"]["by_reason"].items()) or "no records"
        summary["verdict"]["reason"] = f"no documents could be read: {reasons}"
        click.echo(f"error: no documents could be read ({reasons}); nothing was audited", err=True)
    write_text_atomic(out_dir / "summary.json", dumps(summary))
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
def eval_cmd(n, seed, min_confidence, fmt, save):
    """Precision/recall per PI type on a generated labelled set (Faker zh_CN + hard negatives)."""
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
