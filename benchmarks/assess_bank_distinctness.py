"""Distinctness of the built-in banks (issue #18): how close each item is to its nearest neighbour.

Method: every question is folded (cnai.core.normalize: full-width, case, traditional -> simplified, separators
between characters removed), cut into character 3-grams, and compared with every other question of the same
kind by Jaccard similarity of those 3-gram sets (exact, all pairs: a few hundred thousand pairs). An item whose
nearest neighbour has Jaccard >= 0.6 counts as a near-duplicate. Reported per file: items, exact duplicates
after folding, near-duplicates, and the median / 95th percentile / maximum nearest-neighbour similarity.

    python benchmarks/assess_bank_distinctness.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "src/cnai/assess/data/banks"
NEAR = 0.6


def grams(text: str) -> frozenset[str]:
    from cnai.core.normalize import fold

    t = fold(text).text
    return frozenset(t[i:i + 3] for i in range(max(1, len(t) - 2)))


def nearest(items: list[dict], pool: list[dict]) -> list[tuple[float, str]]:
    """For each item, (highest Jaccard with any other question in pool, that question's id)."""
    gp = [(p["id"], grams(p["question"])) for p in pool]
    out = []
    for it in items:
        g = grams(it["question"])
        best = (0.0, "")
        for pid, h in gp:
            if pid == it["id"]:
                continue
            j = len(g & h) / len(g | h) if g | h else 0.0
            if j > best[0]:
                best = (j, pid)
        out.append(best)
    return out


def load(name: str) -> list[dict]:
    return [json.loads(x) for x in (BANKS / name).read_text(encoding="utf-8").splitlines() if x.strip()]


def report() -> list[dict]:
    rows = []
    for kind in ("refuse", "nonrefuse", "generated"):
        files = [f for f in (f"{kind}.jsonl", f"{kind}_handwritten.jsonl") if (BANKS / f).exists()]
        pool = [it for f in files for it in load(f)]
        for f in files:
            items = load(f)
            nn = nearest(items, pool)
            sims = sorted(s for s, _ in nn)
            rows.append({"file": f, "items": len(items), "exact_duplicates": sum(1 for s in sims if s >= 0.999),
                         "near_duplicates": sum(1 for s in sims if s >= NEAR),
                         "median": statistics.median(sims), "p95": sims[int(0.95 * (len(sims) - 1))],
                         "max": sims[-1]})
    return rows


def main() -> None:
    print(f"| file | items | exact duplicates (folded) | near-duplicates (3-gram Jaccard >= {NEAR}) | "
          "nearest-neighbour Jaccard median | p95 | max |")
    print("|---|---|---|---|---|---|---|")
    for r in report():
        print(f"| {r['file']} | {r['items']} | {r['exact_duplicates']} | {r['near_duplicates']} | "
              f"{r['median']:.2f} | {r['p95']:.2f} | {r['max']:.2f} |")


if __name__ == "__main__":
    main()
