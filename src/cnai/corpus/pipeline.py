"""The audit pipeline: shards -> per-shard results on disk -> one merged summary.

Each shard is processed independently (a local process pool or Ray Data), writes its outputs under
OUT/ and finally a small JSON marker OUT/shards/<id>.json; a rerun skips every shard whose marker
exists with the same configuration hash, so a crashed run resumes. Merging sorts by shard order,
so the summary does not depend on the engine or the number of workers.

Review sample: bottom-k by a seeded hash of the document id (a uniform random sample without
replacement that is identical whatever the sharding or engine).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cnai.corpus.detect import PI_TYPES, Detector
from cnai.corpus.readers import Doc, ReadOptions, Shard, Skip, plan_shards, read_shard
from cnai.corpus.screening import KeywordList

SAMPLE_TEXT_CHARS = 2000
SKIP_EXAMPLES = 20
PIPELINE_VERSION = "1"


@dataclass
class AuditConfig:
    read: ReadOptions = field(default_factory=ReadOptions)
    sample: int = 4000
    seed: int = 0
    redact: str | None = None  # mask | replace | drop
    drop_risk: bool = True
    pi_min_confidence: float = 0.6
    write_findings: bool = False
    source_threshold: float = 0.05
    sample_key_limit: int | None = None  # only documents with a smaller key can be in the sample
    sample_per_source: int = 0  # also a sample of this many documents from every source

    def digest(self, keywords: KeywordList) -> str:
        h = hashlib.sha256()
        h.update(json.dumps({**asdict(self), "v": PIPELINE_VERSION}, sort_keys=True, default=str).encode())
        for kw in sorted(keywords.entries):
            h.update(kw.encode() + b"\x00" + ",".join(sorted(keywords.entries[kw])).encode() + b"\x01")
        return h.hexdigest()[:16]


def sample_key_limit(shards, k: int, margin: float = 4.0) -> int | None:
    """An upper bound for sample keys from the planned line/row counts, so shards need not keep
    (and write) k candidates each. None when any shard's size in documents is unknown. If too many
    lines turn out to be invalid the merged sample is short; the CLI then reruns without the limit."""
    if k <= 0 or not shards or any(sh.lines < 0 for sh in shards):
        return None
    n = sum(sh.lines for sh in shards)
    if n <= k * margin:
        return None
    return int(min(1.0, margin * k / n) * 2**64)


def jdumps(obj) -> str:
    """JSON text that can always be written as UTF-8: lone surrogates (possible in JSON input) are
    kept as \\u escapes instead of failing the write."""
    out = json.dumps(obj, ensure_ascii=False)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = json.dumps(obj, ensure_ascii=True)
    return out


def sample_key(seed: int, doc_id: str) -> int:
    data = f"{seed}:{doc_id}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def finding_dict(f) -> dict:
    d = {"type": f[0], "start": f[1], "end": f[2], "confidence": round(f[3], 3), "reason": f[4]}
    return d


def redact_text(text: str, findings, mode: str, min_conf: float) -> tuple[str, int]:
    spans = sorted((f for f in findings if f[0] in PI_TYPES and f[3] >= min_conf), key=lambda f: (f[1], -f[2]))
    out, pos, n = [], 0, 0
    for typ, s, e, _c, _r in spans:
        if e <= pos:
            continue
        if s < pos:  # overlaps the previous span: extend it (mask) or let its placeholder cover it
            if mode == "mask":
                out.append("*" * (e - pos))
            pos = e
            continue
        out.append(text[pos:s])
        out.append("*" * (e - s) if mode == "mask" else f"[{typ}]")
        pos = e
        n += 1
    out.append(text[pos:])
    return "".join(out), n


class _ShardWriter:
    """Temp files in OUT/<kind>/ renamed into place only when the shard completes."""

    def __init__(self, out: Path, shard_id: str, kinds: list[str]):
        self.files = {}
        self.final = {}
        for k in kinds:
            d = out / k
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{shard_id}.", dir=d)
            self.files[k] = (os.fdopen(fd, "w", encoding="utf-8"), tmp)
            self.final[k] = d / f"{shard_id}.jsonl"

    def write(self, kind: str, obj: dict) -> None:
        self.files[kind][0].write(jdumps(obj) + "\n")

    def commit(self) -> None:
        for k, (fh, tmp) in self.files.items():
            fh.close()
            os.replace(tmp, self.final[k])

    def abort(self) -> None:
        for fh, tmp in self.files.values():
            fh.close()
            Path(tmp).unlink(missing_ok=True)


def _bump(d: dict, key: str, n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


def process_shard(shard: Shard, cfg: AuditConfig, detector: Detector, out: Path, cfg_hash: str) -> dict:
    """Process one shard; returns (and stores) its statistics. Skips work if already done."""
    marker = out / "shards" / f"{shard.id}.json"
    if marker.exists():
        try:
            prev = json.loads(marker.read_text("utf-8"))
            if prev.get("config") == cfg_hash:
                prev["resumed"] = True
                return prev
        except ValueError:
            pass
    kinds = ["samples"] + (["samples_by_source"] if cfg.sample_per_source else [])
    if cfg.redact:
        kinds += ["clean", "rejected"]
    if cfg.write_findings:
        kinds.append("findings")
    w = _ShardWriter(out, shard.id, kinds)
    st = {"shard": shard.id, "path": shard.path, "start": shard.start, "config": cfg_hash, "docs": 0,
          "bytes": 0, "chars": 0, "skips": {}, "skip_examples": [], "findings": {}, "docs_with": {},
          "docs_with_pi": 0, "docs_with_risk": 0, "by_source": {},
          "redaction": {"kept": 0, "modified": 0, "dropped": 0, "spans": 0, "dropped_by_reason": {}}}
    heap: list[tuple[int, tuple]] = []  # max-heap via negative keys: (-key, row)
    st_heaps: dict[str, list] = {}  # per-source heaps for --sample-per-source
    k = cfg.sample
    try:
        for item in read_shard(shard, cfg.read):
            if isinstance(item, Skip):
                _bump(st["skips"], item.reason)
                if len(st["skip_examples"]) < SKIP_EXAMPLES:
                    st["skip_examples"].append(asdict(item))
                if cfg.redact:
                    w.write("rejected", {"doc": item.where, "reasons": [f"skip:{item.reason}"],
                                         "detail": item.detail})
                continue
            try:
                _process_doc(item, cfg, detector, st, w, heap, k, st_heaps)
            except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
                _bump(st["skips"], "processing_error")
                info = {"where": item.id, "reason": "processing_error", "detail": f"{type(exc).__name__}: {exc}"[:200]}
                if len(st["skip_examples"]) < SKIP_EXAMPLES:
                    st["skip_examples"].append(info)
                if cfg.redact:
                    w.write("rejected", {"doc": item.id, "reasons": ["skip:processing_error"], "detail": info["detail"]})
        for kind, heaps in (("samples", [heap]), ("samples_by_source", [st_heaps[x] for x in sorted(st_heaps)])):
            for h in heaps:
                for negkey, (did, src, txt, trunc, auto) in sorted(h, key=lambda x: -x[0]):
                    w.write(kind, {"key": -negkey, "doc": did, "source": src, "text": txt, "truncated": trunc,
                                   "auto": auto})
        w.commit()
    except BaseException:
        w.abort()
        raise
    marker.parent.mkdir(parents=True, exist_ok=True)
    _atomic_json(marker, st)
    return st


def _push(heap: list, k: int, key: int, row_fn) -> None:
    if len(heap) < k:
        heapq.heappush(heap, (-key, row_fn()))
    elif -heap[0][0] > key:
        heapq.heapreplace(heap, (-key, row_fn()))


def _process_doc(doc: Doc, cfg: AuditConfig, detector: Detector, st: dict, w: _ShardWriter,
                 heap: list, k: int, st_heaps: dict | None = None) -> None:
    text = doc.text
    fs = detector.detect(text)
    st["docs"] += 1
    st["bytes"] += doc.nbytes
    st["chars"] += len(text)
    src = st["by_source"].get(doc.source)
    if src is None:
        src = st["by_source"][doc.source] = {"docs": 0, "bytes": 0, "docs_with_pi": 0, "docs_with_risk": 0,
                                             "findings": {}, "docs_with": {}}
    src["docs"] += 1
    src["bytes"] += doc.nbytes
    types = set()
    if fs:
        sf, srf = st["findings"], src["findings"]
        minc = cfg.pi_min_confidence
        for f in fs:
            t = f[0]
            if f[3] < minc and t in _PI_SET:
                continue
            sf[t] = sf.get(t, 0) + 1
            srf[t] = srf.get(t, 0) + 1
            types.add(t)
        for t in types:
            _bump(st["docs_with"], t)
            _bump(src["docs_with"], t)
    has_pi = not types.isdisjoint(_PI_SET)
    risks = sorted(t for t in types if t.startswith("risk:"))
    if has_pi:
        st["docs_with_pi"] += 1
        src["docs_with_pi"] += 1
    if risks:
        st["docs_with_risk"] += 1
        src["docs_with_risk"] += 1
    if cfg.write_findings:
        w.write("findings", {"doc": doc.id, "source": doc.source, "findings": [finding_dict(f) for f in fs]})
    if k > 0 or cfg.sample_per_source > 0:
        key = sample_key(cfg.seed, doc.id)

        def row():
            return doc.id, doc.source, text[:SAMPLE_TEXT_CHARS], len(text) > SAMPLE_TEXT_CHARS, sorted(types)

        if k > 0 and (cfg.sample_key_limit is None or key < cfg.sample_key_limit):
            _push(heap, k, key, row)
        if cfg.sample_per_source > 0 and st_heaps is not None:
            _push(st_heaps.setdefault(doc.source, []), cfg.sample_per_source, key, row)
    if cfg.redact:
        red = st["redaction"]
        reasons = []
        if cfg.drop_risk and risks:
            reasons += risks
        if cfg.redact == "drop" and has_pi:
            reasons += sorted(f"pi:{t}" for t in types if t in PI_TYPES)
        if reasons:
            red["dropped"] += 1
            for r in reasons:
                _bump(red["dropped_by_reason"], r)
            w.write("rejected", {"doc": doc.id, "source": doc.source, "reasons": reasons, "text": text})
            return
        new_text, n = (redact_text(text, fs, cfg.redact, cfg.pi_min_confidence) if cfg.redact != "drop"
                       else (text, 0))
        red["spans"] += n
        red["modified" if n else "kept"] += 1
        rec = dict(doc.record) if doc.record is not None else {"doc": doc.id}
        if doc.record is not None and "." not in cfg.read.text_field:
            rec[cfg.read.text_field] = new_text
        else:
            rec["text"] = new_text
        w.write("clean", rec)


def _atomic_json(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(jdumps(obj))
    os.replace(tmp, path)


# ---------------------------------------------------------------------- engines
_PI_SET = frozenset(PI_TYPES)
_WORKER: dict = {}
_RAY_DETECTORS: dict = {}


def _init_worker(cfg, detector, out, cfg_hash):
    import signal

    # the main process alone handles Ctrl-C and SIGTERM and then terminates the pool: workers must not
    # print KeyboardInterrupt tracebacks of their own, and die quietly on the pool's SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER.update(cfg=cfg, detector=detector, out=out, cfg_hash=cfg_hash)


def _run_one(shard: Shard) -> dict:
    return process_shard(shard, _WORKER["cfg"], _WORKER["detector"], _WORKER["out"], _WORKER["cfg_hash"])


def run_local(shards, cfg, detector, out, cfg_hash, workers: int, progress=None) -> list[dict]:
    results: dict[str, dict] = {}
    if workers <= 1 or len(shards) <= 1:
        for sh in shards:
            results[sh.id] = process_shard(sh, cfg, detector, out, cfg_hash)
            if progress:
                progress(results[sh.id])
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg, detector, out, cfg_hash)) as pool:
            for st in pool.imap_unordered(_run_one, shards):
                results[st["shard"]] = st
                if progress:
                    progress(st)
    return [results[sh.id] for sh in shards]


def run_ray(shards, cfg, detector, out, cfg_hash, workers: int, address: str | None, progress=None) -> list[dict]:
    try:
        import ray
    except ImportError:
        from cnai.errors import InputError

        raise InputError("Ray is not installed: pip install 'cnai[corpus]' (ray[data])", field="--engine") from None
    started = False
    if not ray.is_initialized():
        kwargs = {"address": address} if address else {"num_cpus": workers, "include_dashboard": False}
        try:
            ray.init(ignore_reinit_error=True, log_to_driver=False, logging_level="ERROR", **kwargs)
        except Exception as exc:  # noqa: BLE001 - report why Ray could not start, without a traceback
            from cnai.errors import InputError

            where = address or "a local Ray"
            raise InputError(f"could not start or reach {where}: {str(exc).splitlines()[0][:200]}",
                             field="--engine ray") from None
        started = True
    try:
        import ray.data

        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        items = [{"shard": json.dumps(sh.to_dict())} for sh in shards]
        det_ref = ray.put(detector)

        def fn(row):
            from cnai.corpus import pipeline as _p  # module state in the Ray worker process

            det = _p._RAY_DETECTORS.get(cfg_hash)
            if det is None:  # build the detector (automaton compile) once per worker, not per shard
                det = _p._RAY_DETECTORS[cfg_hash] = ray.get(det_ref)
            sh = Shard(**json.loads(row["shard"]))
            st = process_shard(sh, cfg, det, out, cfg_hash)
            return {"stats": json.dumps(st, ensure_ascii=False)}

        ds = ray.data.from_items(items, override_num_blocks=max(1, len(items))).map(fn, num_cpus=1)
        results = {}
        for row in ds.iter_rows():
            st = json.loads(row["stats"])
            results[st["shard"]] = st
            if progress:
                progress(st)
        return [results[sh.id] for sh in shards]
    finally:
        if started:
            ray.shutdown()


# ---------------------------------------------------------------------- merge
def merge(stats: list[dict], cfg: AuditConfig, out: Path, plan_skips: list[Skip]) -> dict:
    tot = {"docs": 0, "bytes": 0, "chars": 0, "docs_with_pi": 0, "docs_with_risk": 0}
    skips: Counter = Counter()
    examples: list[dict] = []
    findings: Counter = Counter()
    docs_with: Counter = Counter()
    by_source: dict[str, dict] = {}
    red = {"kept": 0, "modified": 0, "dropped": 0, "spans": 0, "dropped_by_reason": Counter()}
    resumed = 0
    for s in plan_skips:
        skips[s.reason] += 1
        if len(examples) < SKIP_EXAMPLES:
            examples.append(asdict(s))
    for st in stats:
        resumed += bool(st.get("resumed"))
        for k in tot:
            tot[k] += st[k]
        skips.update(st["skips"])
        for ex in st["skip_examples"]:
            if len(examples) < SKIP_EXAMPLES:
                examples.append(ex)
        findings.update(st["findings"])
        docs_with.update(st["docs_with"])
        for name, s in st["by_source"].items():
            d = by_source.setdefault(name, {"docs": 0, "bytes": 0, "docs_with_pi": 0, "docs_with_risk": 0,
                                            "findings": Counter(), "docs_with": Counter()})
            for k in ("docs", "bytes", "docs_with_pi", "docs_with_risk"):
                d[k] += s[k]
            d["findings"].update(s["findings"])
            d["docs_with"].update(s["docs_with"])
        r = st["redaction"]
        for k in ("kept", "modified", "dropped", "spans"):
            red[k] += r[k]
        red["dropped_by_reason"].update(r["dropped_by_reason"])
    sources = {}
    for name in sorted(by_source):
        d = by_source[name]
        n = d["docs"] or 1
        rate = d["docs_with_risk"] / n
        sources[name] = {
            "docs": d["docs"], "bytes": d["bytes"],
            "pi_doc_rate": round(d["docs_with_pi"] / n, 6),
            "risk_doc_rate": round(rate, 6),
            "docs_with": dict(sorted(d["docs_with"].items())),
            "findings": dict(sorted(d["findings"].items())),
            "verdict": "unusable" if rate > cfg.source_threshold else "usable",
            "rule": "a source with more than 5% illegal/harmful content may not be used (keyword screening "
                    "estimate; confirm with the human review sample)",
        }
    sample = _merge_samples(stats, cfg, out)
    by_source_sample = _merge_source_samples(stats, cfg, out) if cfg.sample_per_source else None
    n = tot["docs"] or 1
    clean_rate = 1 - tot["docs_with_risk"] / n
    summary = {
        "documents": tot["docs"], "bytes": tot["bytes"], "characters": tot["chars"],
        "shards": len(stats), "shards_resumed": resumed,
        "skipped": {"total": sum(skips.values()), "by_reason": dict(sorted(skips.items())),
                    "examples": examples},
        "findings": {
            "by_type": {t: c for t, c in sorted(findings.items()) if not t.startswith("risk:")},
            "by_risk": {t[5:]: c for t, c in sorted(findings.items()) if t.startswith("risk:")},
            "documents_with": dict(sorted(docs_with.items())),
            "pi_doc_rate": round(tot["docs_with_pi"] / n, 6),
            "risk_doc_rate": round(tot["docs_with_risk"] / n, 6),
            "pi_min_confidence": cfg.pi_min_confidence,
        },
        "sources": sources,
        "technical_check": {
            "method": "every document screened with the keyword library (and classifier, if given)",
            "coverage": 1.0 if tot["docs"] else 0.0,
            "qualified_rate": round(clean_rate, 6),
            "threshold": 0.98,
            "threshold_confidence": "unverified",
            "verdict": "pass" if clean_rate >= 0.98 else "fail",
        },
        "review_sample": sample,
    }
    if by_source_sample is not None:
        summary["review_sample_by_source"] = by_source_sample
    if cfg.redact:
        summary["redaction"] = {"mode": cfg.redact, **{k: red[k] for k in ("kept", "modified", "dropped", "spans")},
                                "dropped_by_reason": dict(sorted(red["dropped_by_reason"].items())),
                                "skipped_inputs_listed": sum(skips.values()) - len(plan_skips),
                                "clean_dir": str(out / "clean"), "rejected_dir": str(out / "rejected")}
    return summary


def _keep_lowest(heap: list[tuple[int, str]], k: int, key: int, line: str) -> None:
    """Bottom-k selection: keep the k lines with the smallest keys (a max-heap on negated keys)."""
    if len(heap) < k:
        heapq.heappush(heap, (-key, line))
    elif -heap[0][0] > key:
        heapq.heapreplace(heap, (-key, line))


def _shard_sample_lines(stats: list[dict], folder: Path) -> Iterator[tuple[str, dict]]:
    """(line, parsed row) of every shard's sample file in `folder`, in shard order."""
    for st in stats:
        p = folder / f"{st['shard']}.jsonl"
        if p.exists():
            with open(p, encoding="utf-8") as fh:
                for line in fh:
                    yield line, json.loads(line)


def _merge_samples(stats: list[dict], cfg: AuditConfig, out: Path) -> dict:
    k = cfg.sample
    heap: list[tuple[int, str]] = []
    for line, r in _shard_sample_lines(stats, out / "samples"):
        _keep_lowest(heap, k, r["key"], line)
    rows = [json.loads(line) for _, line in sorted(heap, key=lambda x: -x[0])]
    path = out / "review-sample.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i, r in enumerate(rows, 1):
            fh.write(jdumps({"n": i, **r}) + "\n")
    return {"requested": k, "size": len(rows), "seed": cfg.seed, "method": "bottom-k of blake2b(seed:doc id)",
            "jsonl": str(path), "standard_minimum": 4000, "minimum_confidence": "secondary",
            "meets_minimum": len(rows) >= 4000,
            "items": [{"n": i, "doc": r["doc"], "source": r["source"], "auto": r["auto"]}
                      for i, r in enumerate(rows, 1)]}


def _merge_source_samples(stats: list[dict], cfg: AuditConfig, out: Path) -> dict:
    """Bottom-m per source over all shards (m = --sample-per-source), in source order."""
    m = cfg.sample_per_source
    heaps: dict[str, list] = {}
    for line, r in _shard_sample_lines(stats, out / "samples_by_source"):
        _keep_lowest(heaps.setdefault(r["source"], []), m, r["key"], line)
    path = out / "review-sample-by-source.jsonl"
    sizes = {}
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for src in sorted(heaps):
            rows = [json.loads(line) for _, line in sorted(heaps[src], key=lambda x: -x[0])]
            sizes[src] = len(rows)
            for r in rows:
                n += 1
                fh.write(jdumps({"n": n, **r}) + "\n")
    return {"per_source": m, "seed": cfg.seed, "sizes": sizes, "jsonl": str(path),
            "method": "bottom-m of blake2b(seed:doc id) within each source"}


def iter_rows(paths, opts: ReadOptions) -> Iterator[Doc | Skip]:
    shards, skips = plan_shards(paths, opts)
    yield from skips
    for sh in shards:
        yield from read_shard(sh, opts)
