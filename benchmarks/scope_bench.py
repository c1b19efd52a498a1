"""Benchmark the applicability engine and CLI start-up.

Targets (issue 2): engine time per profile < 50 ms after the KB is loaded; whole `cnai scope` process
< 1 s; `cnai --help` < 0.3 s.  Writes benchmarks/results/scope.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def proc_times(args, n=7):
    env = dict(os.environ)
    return timed(lambda: subprocess.run([sys.executable, "-m", "cnai", *args], capture_output=True, check=False,
                                        env=env, cwd=ROOT), n)


def main() -> None:
    from cnai.law import kb as kbmod
    from cnai.law.search import Index, build_docs
    from cnai.scope.engine import Engine
    from cnai.scope.profile import load_profile

    t = time.perf_counter()
    kb = kbmod._parse()
    parse_s = time.perf_counter() - t
    kbmod.load()  # writes the cache
    kbmod.load.cache_clear()
    t = time.perf_counter()
    kb = kbmod.load()
    load_s = time.perf_counter() - t
    engine = Engine(kb)
    profiles = [load_profile(p) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    day = dt.date(2026, 11, 28)
    engine.run(profiles[0], day)  # warm
    per_profile = []
    for p in profiles:
        per_profile += timed(lambda p=p: engine.run(p, day), 20)
    t = time.perf_counter()
    idx = Index(build_docs(kb))
    index_s = time.perf_counter() - t
    queries = ["can an AI be named as inventor", "训练数据 个人信息 同意", "thresholds for transferring personal information abroad"]
    search_t = []
    for q in queries:
        search_t += timed(lambda q=q: idx.search(q, 10), 20)
    help_t = proc_times(["--help"])
    scope_t = proc_times(["scope", "examples/chatbot-startup.yaml", "--format", "json"])
    med = statistics.median
    rows = [
        ("knowledge base parse from YAML (instruments / obligations)",
         f"{parse_s * 1000:.0f} ms ({len(kb.instruments)} / {len(kb.obligations)})", "—"),
        ("knowledge base load from cache", f"{load_s * 1000:.0f} ms", "—"),
        ("engine, one profile (median of 120 runs, 6 examples)", f"{med(per_profile) * 1000:.1f} ms", "< 50 ms"),
        ("engine, one profile (95th percentile)", f"{sorted(per_profile)[int(len(per_profile) * .95)] * 1000:.1f} ms",
         "< 50 ms"),
        ("engine, one profile (max)", f"{max(per_profile) * 1000:.1f} ms", "< 50 ms"),
        ("search index build", f"{index_s * 1000:.0f} ms", "—"),
        ("search query (median)", f"{med(search_t) * 1000:.2f} ms", "—"),
        ("`cnai --help` process (median of 7)", f"{med(help_t) * 1000:.0f} ms", "< 300 ms"),
        ("`cnai scope … --format json` process (median of 7)", f"{med(scope_t) * 1000:.0f} ms", "< 1000 ms"),
    ]
    lines = [f"# Applicability engine — measured {dt.date.today()}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
             "| measure | result | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "scope.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
