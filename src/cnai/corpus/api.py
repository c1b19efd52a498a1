"""Library API of the training-data audit: what `cnai corpus audit` does, as a function.

    from cnai.corpus import audit
    summary = audit(["data/"], out="audit/", sample=4000)
    summary["verdict"]["compliant"], summary["sources"]

The CLI only parses options and prints; messages go through `say` (stderr in the CLI).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cnai.core.jsonutil import dumps
from cnai.core.safeio import write_text
from cnai.errors import InputError


class AuditInterrupted(Exception):
    """SIGINT/SIGTERM stopped the audit; finished shards are kept and a rerun resumes from them."""

    def __init__(self, signum: int, done: int, total: int):
        self.signum, self.done, self.total = signum, done, total
        super().__init__(f"stopped by signal {signum} after {done} of {total} shards")


class _Stopped(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def _stop_on_signals():
    """SIGINT and SIGTERM in the main process raise _Stopped (pools are then terminated by their `with`)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise _Stopped(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    return lambda: [signal.signal(s, h) for s, h in old.items()]


def read_options(text_field="text", id_field="id", source_field=None, encoding=None, text_unit="file",
                 max_line_mb=16.0, shard_mb=32.0):
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


def make_detector(keywords_path=None, classifier=None, types=None, min_confidence=0.0, recognizers_path=None):
    from cnai.corpus.detect import Detector
    from cnai.corpus.recognizers import active
    from cnai.corpus.screening import load_classifier, load_keywords

    kl = load_keywords(keywords_path)
    return Detector(kl, types=types, min_confidence=min_confidence, classifier=load_classifier(classifier),
                    recognizers=active(recognizers_path)), kl


def no_documents(docs: int, skips: dict, text_field: str) -> None:
    """A run that read nothing is not a success: name the field when records lacked it, else say why."""
    if docs:
        return
    if skips.get("missing_field"):
        raise InputError(f"no record has the field {text_field!r} ({skips['missing_field']} records lack it); "
                         "name the text field with --text-field", field="--text-field")
    reasons = ", ".join(f"{v} × {k}" for k, v in sorted(skips.items())) or "the inputs hold no records"
    raise InputError(f"no documents could be read: {reasons}", field="PATHS")


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


def scan(paths, *, text_field="text", id_field="id", source_field=None, encoding=None, text_unit="file",
         max_line_mb=16.0, keywords_path=None, classifier=None, workers=1, recognizers_path=None, types=None,
         min_confidence=0.0, only_hits=False, with_text=False, stats=None, say=None):
    """What `cnai corpus scan` does: yields one record per document
    {"doc", "source", "findings": [{type, start, end, confidence, reason[, text]}] [, "error"]}.

        from cnai.corpus import scan
        for rec in scan(["data.jsonl"], types={"cn_mobile"}):
            print(rec["doc"], rec["findings"])

    Skipped input is counted by reason in `stats["skips"]` (and told through `say`); a run that read no
    document raises InputError naming the reason (e.g. a --text-field no record has) once the inputs are read.
    """
    from cnai.corpus.pipeline import finding_dict, iter_rows
    from cnai.corpus.readers import Doc

    say = say or (lambda _msg: None)
    stats = stats if stats is not None else {}
    stats.update(docs=0, with_findings=0, skips={})
    skips = stats["skips"]
    opts = read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb)
    tset = set(types) if types else None
    detector, _ = make_detector(keywords_path, classifier, tset, min_confidence, recognizers_path)
    n_workers = workers or os.cpu_count() or 1

    def records(docs, results):
        for doc, fs in zip(docs, results, strict=True):
            stats["docs"] += 1
            if isinstance(fs, str):
                skips["processing_error"] = skips.get("processing_error", 0) + 1
                say(f"skip: {doc.id}: processing_error {fs}")
                yield {"doc": doc.id, "source": doc.source, "findings": [], "error": fs}
                continue
            if fs:
                stats["with_findings"] += 1
            elif only_hits:
                continue
            items = []
            for f in fs:
                d = finding_dict(f)
                if with_text:
                    d["text"] = doc.text[f[1]:f[2]]
                items.append(d)
            yield {"doc": doc.id, "source": doc.source, "findings": items}

    def batches():
        batch = []
        size = 0
        for item in iter_rows(list(paths), opts):
            if not isinstance(item, Doc):
                skips[item.reason] = skips.get(item.reason, 0) + 1
                say(f"skip: {item.where}: {item.reason} {item.detail}".rstrip())
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
            yield from records(b, [_detect_safe(detector, d.text) for d in b])
    else:
        import multiprocessing as mp
        from collections import deque

        ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
        with ctx.Pool(n_workers, initializer=_scan_init, initargs=(detector,)) as pool:
            inflight: deque = deque()
            for b in batches():
                inflight.append((b, pool.apply_async(_scan_batch, ([d.text for d in b],))))
                while len(inflight) > 2 * n_workers:
                    docs, res = inflight.popleft()
                    yield from records(docs, res.get())
            while inflight:
                docs, res = inflight.popleft()
                yield from records(docs, res.get())
    no_documents(stats["docs"], skips, text_field)


def audit(paths, out_dir="corpus-audit", *, text_field="text", id_field="id", source_field=None, encoding=None,
          text_unit="file", max_line_mb=16.0, keywords_path=None, classifier=None, workers=None, engine="local",
          ray_address=None, sample_n=4000, seed=0, sample_per_source=0, redact=None, keep_risk=False,
          pi_min_confidence=0.6, write_findings=False, register_path=None, shard_mb=32.0, fresh=False,
          recognizers_path=None, say=lambda msg: None) -> dict:
    """Audit a corpus (rates per source and overall, 5% source rule, review sample, redaction, register)
    into out_dir; returns the summary (also written to out_dir/summary.json). summary["verdict"]["compliant"]
    is what the CLI's exit code reports. Raises InputError on bad input, AuditInterrupted on SIGINT/SIGTERM."""
    import shutil

    from cnai.corpus import pipeline, register, review
    from cnai.corpus.readers import plan_shards

    paths = [str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if workers is not None and workers < 1:
        raise InputError("must be at least 1", field="--workers")
    n_workers = workers or os.cpu_count() or 1
    if sample_n < 0:
        raise InputError("must be 0 or more", field="--sample")
    if sample_per_source < 0:
        raise InputError("must be 0 or more", field="--sample-per-source")
    opts = read_options(text_field, id_field, source_field, encoding, text_unit, max_line_mb, shard_mb)
    detector, kl = make_detector(keywords_path, classifier, recognizers_path=recognizers_path)
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
    t0 = time.perf_counter()
    shards, plan_skips = plan_shards(list(paths), opts, exclude=[out_dir])
    for sk in plan_skips:
        if sk.reason == "cnai_output":
            say(f"skip: {sk.where}: {sk.detail}")
    cfg.sample_key_limit = pipeline.sample_key_limit(shards, sample_n)
    cfg_hash = cfg.digest(kl) + (f"-{classifier}" if classifier else "")
    done = {"n": 0}

    def progress(st):
        done["n"] += 1
        tag = " (resumed)" if st.get("resumed") else ""
        say(f"[{done['n']}/{len(shards)}] {st['path']}@{st['start']}: {st['docs']} docs{tag}")

    def run_all():
        if engine == "ray":
            return pipeline.run_ray(shards, cfg, detector, out_dir.resolve(), cfg_hash, n_workers, ray_address,
                                    progress)
        return pipeline.run_local(shards, cfg, detector, out_dir, cfg_hash, n_workers, progress)

    restore = _stop_on_signals()
    try:
        stats = run_all()
    except _Stopped as stop:
        raise AuditInterrupted(stop.signum, done["n"], len(shards)) from None
    finally:
        restore()
    summary = pipeline.merge(stats, cfg, out_dir, plan_skips)
    if summary["documents"] == 0 and summary["skipped"]["by_reason"].get("missing_field"):
        no_documents(0, summary["skipped"]["by_reason"], text_field)  # the field is wrong: usage, exit 2
    if cfg.sample_key_limit is not None and summary["review_sample"]["size"] < min(sample_n, summary["documents"]):
        say("sample short (many invalid lines): rerunning without the sample key limit")
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
        say(f"error: no documents could be read ({reasons}); nothing was audited")
    write_text(out_dir / "summary.json", dumps(summary))

    return summary
