"""Benchmark the applicability engine and CLI start-up.

Targets (issue 2): engine time per profile < 50 ms after the KB is loaded; whole `cnai scope` process
< 1 s; `cnai --help` < 0.3 s.  Writes the raw table to benchmarks/results/scope-run.md (scope.md keeps the before/after comparison).
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


med_ = statistics.median


def _peak_mb(bomb: bool = False) -> str:
    """Peak RSS of a real `cnai scope` process on a hostile file (the limit is per process)."""
    import re
    import tempfile

    if bomb:
        text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    else:
        items = ", ".join(f"k{i}: [1, 2]" for i in range(63_000))  # just under the 1 MiB limit
        text = "schema: cnai/profile/v1\nservice: {name: x}\naudience: {" + items + "}\n"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "nasty.yaml"
        p.write_text(text, encoding="utf-8")
        code = ("import resource, sys\nfrom cnai.cli import main\ntry:\n    main(sys.argv[1:])\n"
                "except SystemExit:\n    pass\nsys.stderr.write(f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}')")
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, "scope", str(p)], capture_output=True, text=True, cwd=ROOT)
        secs = time.perf_counter() - t
        kb = int(re.search(r"PEAK (\d+)", proc.stderr).group(1))
        return f"{kb / 1024:.0f} MB in {secs:.1f} s ({p.stat().st_size:,} bytes)"


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
    extra = []
    try:  # measures that exist only after issues #10/#11/#15 (the same script runs on older trees)
        from cnai.law.guide import guide

        guide()
        g_t = timed(lambda: guide(day), 5)
        extra.append(("`law guide`, 22 answers in the library (median of 5)", f"{med_(g_t) * 1000:.0f} ms", "—"))
        extra.append(("`cnai law guide --format json` process (median of 5)",
                      f"{med_(proc_times(['law', 'guide', '--format', 'json'], 5)) * 1000:.0f} ms", "—"))
        extra.append(("peak memory, `cnai scope` on a 1 MB node-dense YAML (rejected)", _peak_mb(), "< 300 MB"))
        extra.append(("peak memory, `cnai scope` on a 1 KB alias bomb (rejected)", _peak_mb(bomb=True), "< 300 MB"))
    except ImportError:
        pass
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
        *extra,
    ]
    lines = [f"# Applicability engine — measured {dt.date.today()}", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
             "| measure | result | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "scope-run.md"  # scope.md holds the before/after table
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
