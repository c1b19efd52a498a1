"""Benchmark: training-data audit throughput on a generated Chinese corpus.

Measures, in one run on the same machine:
  * cnai PI detection + a 10,000-keyword library: MB/s on 1 and 2 worker processes (the full
    `cnai corpus audit` pipeline, review sample and all), peak memory of the whole process tree;
  * the same audit on cnai's pure-Python path (CNAI_CORPUS_MATCHER=python: no compiled scanner), the
    reference implementation, with a check that both give the same summary and review sample;
  * Presidio AnalyzerEngine (regex recognizers, blank spaCy pipeline because no model can be downloaded
    here) on a sample of the same corpus: MB/s;
  * ripgrep `rg -c -F -f keywords` on the same file: MB/s (the practical floor for multi-pattern scanning).

Usage: .venv/bin/python benchmarks/corpus_bench.py [--mb 300] [--presidio-mb 1] [--work DIR] [--json-out F]
Prints the result JSON (summarised by hand in benchmarks/results/corpus.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CJK_COMMON = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
              "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好"
              "应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命"
              "此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老"
              "头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即"
              "保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场")


def gen_keywords(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """n distinct synthetic keywords (3-6 common characters) spread over the 17 A.1/A.2 risks."""
    rnd = random.Random(seed)
    codes = [f"A.1.{c}" for c in "abcdefgh"] + [f"A.2.{c}" for c in "abcdefghi"]
    out, seen = [], set()
    while len(out) < n:
        kw = "".join(rnd.choice(CJK_COMMON) for _ in range(rnd.randint(3, 6)))
        if kw not in seen:
            seen.add(kw)
            out.append((kw, codes[len(out) % len(codes)]))
    return out


def gen_corpus(path: Path, mb: float, seed: int = 0) -> dict:
    """JSONL documents of Faker zh_CN filler with PI sentences from the evaluation generator mixed in."""
    from faker import Faker

    from cnai.corpus.evalset import generate

    fk = Faker("zh_CN")
    fk.seed_instance(seed)
    rnd = random.Random(seed)
    filler = [fk.paragraph(nb_sentences=rnd.randint(3, 8)).replace(".", "。") for _ in range(3000)]
    pi = [it["text"] for it in generate(3000, seed=seed + 1)]
    target = int(mb * 1_000_000)
    n = 0
    size = 0
    with open(path, "w", encoding="utf-8") as fh:
        while size < target:
            parts = [rnd.choice(filler) for _ in range(rnd.randint(2, 12))]
            if rnd.random() < 0.3:
                parts.insert(rnd.randrange(len(parts) + 1), rnd.choice(pi))
            line = json.dumps({"id": f"doc{n}", "text": "".join(parts)}, ensure_ascii=False) + "\n"
            fh.write(line)
            size += len(line.encode("utf-8"))
            n += 1
    return {"docs": n, "bytes": size}


class TreeMemory:
    """Polls the summed RSS of a process and its children (psutil), keeping the peak."""

    def __init__(self, pid: int):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        import psutil

        while not self._stop:
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, rss)
            except psutil.Error:
                break
            time.sleep(0.1)

    def stop(self):
        self._stop = True
        self.t.join()


def read_texts(corpus: Path, mb: float) -> tuple[list[str], int]:
    """The first `mb` megabytes of document texts from a generated JSONL corpus, and their UTF-8 size."""
    texts, size = [], 0
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line)["text"]
            texts.append(t)
            size += len(t.encode("utf-8"))
            if size > mb * 1e6:
                break
    return texts, size


def measure_audit(cmd: list[str], env: dict | None = None) -> tuple[dict, float, float, float]:
    """Run a `cnai corpus audit` command: (its JSON summary, wall s, CPU s of the process tree, peak RSS bytes)."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    mem = TreeMemory(p.pid)
    stdout, _ = p.communicate()
    mem.stop()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return json.loads(stdout), wall, cpu, mem.peak


def run_audit(corpus: Path, kw: Path, workers: int, out: Path, extra: list[str] | None = None,
              matcher: str = "") -> dict:
    cmd = [sys.executable, "-m", "cnai", "corpus", "audit", str(corpus), "--keywords", str(kw), "--workers",
           str(workers), "--out", str(out), "--fresh", "--shard-mb", "8", *(extra or [])]
    s, wall, cpu, peak = measure_audit(cmd, env={**os.environ, "CNAI_CORPUS_MATCHER": matcher})
    mb = s["bytes"] / 1e6
    return {"workers": workers, "matcher": matcher or "default (compiled scanner)",
            "summary_digest": summary_digest(s), "wall_s": round(wall, 2), "pipeline_wall_s": s["run"]["seconds"],
            "cpu_s": round(cpu, 2), "mb_per_s": round(mb / wall, 2),
            "mb_per_s_pipeline": round(mb / s["run"]["seconds"], 2),
            "mb_per_cpu_s": round(mb / cpu, 2), "peak_rss_mb": round(peak / 1e6, 1),
            "documents": s["documents"], "findings": sum(s["findings"]["by_type"].values()),
            "risk_hits": sum(s["findings"]["by_risk"].values())}


def summary_digest(s: dict) -> str:
    """A digest of what an audit found (counts, rates, verdicts, the review sample), not of timings or paths."""
    import hashlib

    keep = {k: s[k] for k in ("documents", "bytes", "characters", "findings", "sources", "skipped",
                              "technical_check")}
    keep["sample"] = s["review_sample"]["items"]
    return hashlib.sha256(json.dumps(keep, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def detector_only(corpus: Path, kw: Path, limit_mb: float) -> dict:
    """Single-core detector throughput on an in-memory slice (no I/O, no JSON): the inner loop."""
    from cnai.corpus.detect import Detector
    from cnai.corpus.screening import load_keywords

    det = Detector(load_keywords(kw))
    texts, size = read_texts(corpus, limit_mb)
    t0 = time.process_time()
    n = sum(len(det.detect(t)) for t in texts)
    dt = time.process_time() - t0
    return {"mb": round(size / 1e6, 2), "cpu_s": round(dt, 3), "mb_per_cpu_s": round(size / 1e6 / dt, 2),
            "findings": n,
            "keyword_engine": "compiled scanner (_wordscan)" if det._fast is not None else type(det._auto).__name__}


def detector_dense_pi(kw: Path, n: int = 40000) -> dict:
    """Worst case for the Python token classifier: short sentences from the evaluation generator, nearly
    every one with an identifier-like token (real IDs, phones, cards, plates, or hard negatives). Compiled
    scanner and pure-Python path, one core, in memory."""
    from cnai.corpus.detect import Detector
    from cnai.corpus.evalset import generate
    from cnai.corpus.screening import load_keywords

    texts = [it["text"] for it in generate(n, seed=9)]
    size = sum(len(t.encode("utf-8")) for t in texts)
    out = {"documents": n, "mb": round(size / 1e6, 2)}
    for name, matcher in (("compiled", ""), ("python_path", "python")):
        old = os.environ.get("CNAI_CORPUS_MATCHER")
        os.environ["CNAI_CORPUS_MATCHER"] = matcher
        try:
            det = Detector(load_keywords(kw))
        finally:
            if old is None:
                os.environ.pop("CNAI_CORPUS_MATCHER")
            else:
                os.environ["CNAI_CORPUS_MATCHER"] = old
        tokens = sum(1 for t in texts for _ in det._iter_tokens(t))
        t0 = time.process_time()
        found = sum(len(det.detect(t)) for t in texts)
        dt = time.process_time() - t0
        out[name] = {"cpu_s": round(dt, 3), "mb_per_cpu_s": round(size / 1e6 / dt, 2),
                     "us_per_document": round(dt / n * 1e6, 2), "tokens": tokens, "findings": found}
    return out


def presidio(corpus: Path, mb: float) -> dict:
    try:
        import tldextract

        # presidio's e-mail/URL recognizers call tldextract, which downloads the public suffix list by
        # default; use the snapshot bundled with tldextract instead (no network in benchmarks)
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as exc:
        return {"available": False, "reason": f"presidio-analyzer not installed: {exc}"}
    tmp = Path(tempfile.mkdtemp())
    spacy.blank("en").to_disk(tmp / "blank_en")  # no trained model can be downloaded here
    provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
                                                    "models": [{"lang_code": "en", "model_name": str(tmp / "blank_en")}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    texts, size = read_texts(corpus, mb)
    analyzer.analyze(texts[0], language="en")  # warm-up
    t0 = time.process_time()
    n = sum(len(analyzer.analyze(t, language="en")) for t in texts)
    dt = time.process_time() - t0
    shutil.rmtree(tmp, ignore_errors=True)
    return {"available": True, "mb": round(size / 1e6, 2), "cpu_s": round(dt, 2),
            "mb_per_cpu_s": round(size / 1e6 / dt, 3), "findings": n,
            "note": "AnalyzerEngine with default recognizers, blank spaCy 'en' pipeline (no NER model: "
                    "hub downloads are not possible here), one process"}


def ripgrep(corpus: Path, kw_plain: Path, size: int) -> dict:
    rg = shutil.which("rg")
    if not rg:
        return {"available": False, "reason": "ripgrep not installed (apt-get install ripgrep)"}
    import resource

    best = None
    for _ in range(3):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([rg, "-c", "-F", "-f", str(kw_plain), "-j", "1", str(corpus)], capture_output=True, text=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        dt = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best = dt if best is None else min(best, dt)
    ver = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"available": True, "version": ver, "cpu_s": round(best, 3), "mb_per_cpu_s": round(size / 1e6 / best, 1),
            "matching_lines": int(r.stdout.strip() or 0),
            "note": "best of 3, -j 1 (one thread), file in page cache, CPU time (user+sys)"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=200)
    ap.add_argument("--presidio-mb", type=float, default=1.0)
    ap.add_argument("--keywords", type=int, default=10000)
    ap.add_argument("--work", type=Path, default=None, help="keep the generated corpus and outputs here")
    ap.add_argument("--json-out", type=Path, default=None, help="also write the result JSON to this file")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cnai-corpus-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    t0 = time.perf_counter()
    info = gen_corpus(corpus, args.mb)
    gen_s = time.perf_counter() - t0
    kws = gen_keywords(args.keywords)
    kw = work / "keywords.txt"
    kw.write_text("".join(f"{k}\t{c}\n" for k, c in kws), encoding="utf-8")
    kw_plain = work / "keywords.plain"
    kw_plain.write_text("".join(f"{k}\n" for k, _ in kws), encoding="utf-8")
    import psutil

    res = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {**info, "mb": round(info["bytes"] / 1e6, 1), "generation_s": round(gen_s, 1),
                   "keywords": len(kws)},
        "detector_only_1core": detector_only(corpus, kw, min(50.0, args.mb)),
        "detector_dense_pi_1core": detector_dense_pi(kw),
        "audit_1_worker": run_audit(corpus, kw, 1, work / "out1"),
        "audit_2_workers": run_audit(corpus, kw, 2, work / "out2"),
        "audit_1_worker_python_path": run_audit(corpus, kw, 1, work / "out1py", matcher="python"),
        "presidio": presidio(corpus, args.presidio_mb),
        "ripgrep": ripgrep(corpus, kw_plain, info["bytes"]),
    }
    a1, a2, apy = res["audit_1_worker"], res["audit_2_workers"], res["audit_1_worker_python_path"]
    per_core = a1["mb_per_cpu_s"]
    res["ratios"] = {
        "basis": "MB per CPU-second (user+sys of all processes); robust to other load on a shared machine",
        "cnai_mb_per_core_s": per_core,
        "compiled_vs_python_path": round(per_core / apy["mb_per_cpu_s"], 2),
        "identical_results": a1["summary_digest"] == a2["summary_digest"] == apy["summary_digest"],
        "speedup_2_vs_1_workers_pipeline_wall": round(a2["mb_per_s_pipeline"] / a1["mb_per_s_pipeline"], 2),
        "cnai_vs_presidio": (round(per_core / res["presidio"]["mb_per_cpu_s"], 1)
                             if res["presidio"].get("available") else None),
        "cnai_vs_ripgrep": (round(per_core / res["ripgrep"]["mb_per_cpu_s"], 3)
                            if res["ripgrep"].get("available") else None),
    }
    res["load_average"] = os.getloadavg()
    res["extrapolation"] = {
        "1GB_seconds_2_workers": round(1000 / a2["mb_per_s_pipeline"], 1),
        "10GB_minutes_2_workers": round(10000 / a2["mb_per_s_pipeline"] / 60, 1),
        "memory_note": "shards are streamed (8 MB each here); per-process memory does not grow with corpus "
                       "size, only the review sample (bounded by --sample) and the shard list do",
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
