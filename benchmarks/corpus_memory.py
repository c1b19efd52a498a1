"""Peak memory of `cnai corpus audit` on a large generated corpus (default 10 GB), one worker.

Usage: .venv/bin/python benchmarks/corpus_memory.py [--gb 10] [--workers 1] [--work DIR]
Prints a JSON result: input size, documents, wall/CPU time, peak RSS of the whole process tree
(polled every 0.1 s with psutil). Needs about GB x 1 free disk space plus a little for the outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_bench import gen_corpus, gen_keywords, measure_audit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cnai-corpus-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    t0 = time.perf_counter()
    info = gen_corpus(corpus, args.gb * 1000)
    gen_s = time.perf_counter() - t0
    kw = work / "keywords.txt"
    kw.write_text("".join(f"{k}\t{c}\n" for k, c in gen_keywords(10000)), encoding="utf-8")
    cmd = [sys.executable, "-m", "cnai", "corpus", "audit", str(corpus), "--keywords", str(kw), "--workers",
           str(args.workers), "--out", str(work / "out"), "--fresh"]
    s, wall, cpu, peak = measure_audit(cmd)
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "input_bytes": info["bytes"],
           "documents": s["documents"], "shards": s["shards"], "workers": args.workers,
           "generation_s": round(gen_s, 1), "wall_s": round(wall, 1),
           "cpu_s": round(cpu, 1),
           "peak_rss_mb": round(peak / 1e6, 1), "review_sample": s["review_sample"]["size"],
           "load_average_end": os.getloadavg()}
    print(json.dumps(res, indent=2))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
