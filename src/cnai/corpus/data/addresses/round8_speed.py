"""Round-8 throughput check of the address pass: addresses.find before (commit 8b844a4, the code that scored
heldout8) and after the round-8 rules, side by side in one process, on
- the 1 MB ordinary-text benchmark of benchmarks/names_bench.py (the assess banks' prompts, repeated to 1 MB;
  the text a names-enabled `cnai corpus` audit runs the address pass on), and
- 0.2 MB of address-dense text (address_gen.cases_round8 sentences, one address each).
MB of UTF-8 per CPU-second (time.process_time), best of --repeat runs; the load average is printed (the machine
is shared; the lead re-runs on a quiet machine).

    .venv/bin/python src/cnai/corpus/data/addresses/round8_speed.py [--repeat 3] [--before REV]

--before c2acb28 compares with the code before the second round-8 pass (addr_tuner8b).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "benchmarks"))
from names_bench import bench, corpus  # noqa: E402

from cnai.corpus import address_gen, addresses  # noqa: E402

BEFORE = "8b844a4"


def before_module(rev: str = BEFORE):
    from addresses_bench import addresses_at  # benchmarks/ is on sys.path (above)

    return addresses_at(rev)


def fill(base: list[str], mb: float) -> list[str]:
    docs, size = [], 0
    while size < mb * 1e6:
        docs.extend(base)
        size += sum(len(t.encode("utf-8")) for t in base)
    return docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", default=BEFORE, help="git revision of the code to compare with")
    args = ap.parse_args()
    old = before_module(args.before)
    rows = [
        ("ordinary Chinese (names_bench.py text)", fill(corpus(), 1.0)),
        ("address-dense (cases_round8)", fill([c.text for c in address_gen.cases_round8(2000, seed=3)], 0.2)),
    ]
    for f in (addresses.find, old.find):
        f("预热上海市徐汇区华山路1954号")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"| text | MB | now | at {args.before} |")
    print("|---|---|---|---|")
    for label, docs in rows:
        mb = sum(len(t.encode("utf-8")) for t in docs) / 1e6
        print(
            f"| {label} | {mb:.2f} | {bench(addresses.find, docs, args.repeat)} MB/CPU-s "
            f"| {bench(old.find, docs, args.repeat)} MB/CPU-s |"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
