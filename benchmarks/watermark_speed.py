"""Watermark speed on the issue's full count (issue #19: embed and detect on 1,000 pictures of 1 MP, pictures per
second side by side with a library used directly). benchmarks/watermark_bench.py measures speed on a sample (40
pictures) beside its robustness tables; this script runs the speed part alone on N pictures for the methods named,
so the full count fits in a run: cnai and invisible-watermark's dwtDct by default (dwtDctSvd and blind-watermark
embed 3.8 and 0.8 pictures/s and detect 5.5 and 1.1: about 7 and 35 minutes per 1,000; add them with --methods).

    .venv/bin/python benchmarks/watermark_speed.py [--n 1000] [--methods cnai,dwtDct]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import watermark_bench as wb  # noqa: E402 - the same pictures, methods and timing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--methods", default="cnai,dwtDct")
    a = ap.parse_args()
    want = [m.strip() for m in a.methods.split(",") if m.strip()]
    # a method is named by one word of its name: cnai, dwtDct, dwtDctSvd, blind-watermark
    ms = [m for m in wb.methods() if any(w in m.name.split() for w in want)]
    load0, t0 = os.getloadavg()[0], time.time()
    spd = wb.speed(ms, a.n)
    print(f"{a.n} pictures of ~1 MP (the benchmark's generated pictures), {os.cpu_count()} cores, load "
          f"{load0:.1f}-{os.getloadavg()[0]:.1f}, {time.time() - t0:.0f} s. Pictures per CPU-second (per wall "
          "second in brackets):\n")
    print("| method | embed/s | detect/s (marked) | detect/s (unmarked) | detect/s (cropped 10 %) |")
    print("|---|---|---|---|---|")
    keys = ("embed", "detect", "detect_unmarked", "detect_cropped")
    for name, row in spd.items():
        cells = [f"{row[k][1]:.1f} ({row[k][0]:.1f})" if k in row else "–" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
