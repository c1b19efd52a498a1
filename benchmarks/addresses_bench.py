"""Throughput of the address recognizer (cnai.corpus.addresses.find), round 5 side by side with round 4.

Same terms as benchmarks/names_bench.py: MB of UTF-8 per CPU-second (time.process_time) on
- ordinary Chinese: every prompt of the assess banks (Chinese prose we wrote), joined and repeated to
  about 0.1 MB, one find() per prompt (names_bench.py's text);
- address-dense text: sentences from cnai.corpus.address_gen (one address per sentence, about 30
  characters each), about 0.1 MB;
- names.find with its address pass (what a names-enabled audit pays).
Round 4 is the addresses.py of commit dd5677c (before the round-5 rules; the code that scored heldout5), loaded
from git beside the current one.
The best of --repeat runs is kept (the machine is shared: load is printed).

Usage: .venv/bin/python benchmarks/addresses_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from names_bench import corpus  # noqa: E402  (the same ordinary-text corpus as names_bench.py)

from cnai.corpus import address_gen, addresses, names  # noqa: E402

PREVIOUS = "dd5677c"


def addresses_at(rev: str):
    """addresses.py as it was at a git revision, loaded beside the current one (with the current data folder).
    The one home of this loader: round8_eval.py and round8_speed.py in data/addresses use it too."""
    src = subprocess.run(
        ["git", "show", f"{rev}:src/cnai/corpus/addresses.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    mod = types.ModuleType(f"addresses_{rev}")
    mod.__file__ = addresses.__file__
    exec(compile(src, f"addresses_{rev}.py", "exec"), mod.__dict__)
    return mod


def previous_module():
    """addresses.py as of round 4, run with the current data folder (divisions.tsv, places.txt unchanged)."""
    return addresses_at(PREVIOUS)


def fill(base: list[str], target: int = 100_000) -> list[str]:
    docs, size = [], 0
    while size < target:
        docs.extend(base)
        size += sum(len(t.encode("utf-8")) for t in base)
    return docs


def bench(fn, docs: list[str], repeat: int) -> float:
    size = sum(len(t.encode("utf-8")) for t in docs)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for t in docs:
            fn(t)
        best = min(best, time.process_time() - t0)
    return size / 1e6 / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    old = previous_module()
    ordinary = fill(corpus())
    dense = fill([c.text for c in address_gen.cases(2000, seed=3)])
    for f in (addresses.find, old.find, names.find):
        f("预热上海市徐汇区华山路1954号")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rows = [
        ("ordinary Chinese (assess banks)", ordinary),
        ("address-dense (generated, 1 address / sentence)", dense),
    ]
    print("| text | MB | round 5 addresses.find | round 4 addresses.find | names.find (incl. address pass) |")
    print("|---|---|---|---|---|")
    for label, docs in rows:
        mb = sum(len(t.encode("utf-8")) for t in docs) / 1e6
        new = bench(addresses.find, docs, args.repeat)
        prev = bench(old.find, docs, args.repeat)
        nm = bench(names.find, docs, 1)
        print(f"| {label} | {mb:.2f} | {new:.3f} MB/CPU-s | {prev:.3f} MB/CPU-s | {nm:.3f} MB/CPU-s |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for kind, gen in (
        ("round-3 generator", address_gen.cases(1000, seed=99)),
        ("round-5 generator", address_gen.cases_round5(1000, seed=99)),
    ):
        for label, fn in (("round 5", addresses.find), ("round 4", old.find)):
            ok = sum(
                1
                for c in gen
                if [(s, e) for s, e, _t, conf, _r in fn(c.text) if conf >= 0.5] == [(c.start, c.end)]
            )
            print(
                f"generated structure cases ({kind}, seed 99, diagnostic, not the evaluation): {label} {ok}/{len(gen)}"
            )


if __name__ == "__main__":
    main()
