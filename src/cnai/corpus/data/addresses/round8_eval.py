"""Round-8 development table for the address recognizer: every realistic development set by its author.

Sets (each written by a different author): items, dev2, heldout2 ... heldout9, loaded by file name.
heldout9 was scored once blind by the lead and then unsealed (round 8c); it is development data since. heldout8, the freshest author, is split by
a seeded hash of the item id (seed below, fixed and committed before any round-8 rule change) into a "study"
part (60 %, errors read) and a "check" part (40 %, scored only; `--errors heldout8-check` refuses). The
check part is the closest thing to a new author this round; it is still development material.
The row "batches" is every sentence batch in this folder (dev3.txt ... ), all read in earlier rounds.

    .venv/bin/python src/cnai/corpus/data/addresses/round8_eval.py [--before REV] [--errors SET ...]

The rows dev3-dev20, dev21-dev27 and dev28- split "batches" by round. --before REV adds the exact and overlap
figures of addresses.py as it was at git revision REV (loaded from git, same items and labels).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from cnai.corpus import addresses, realeval

RE_DIR = Path(realeval.__file__).parent / "data" / "realeval"
HERE = Path(__file__).parent
SETS = (
    "items",
    "dev2",
    *(f"heldout{n}" for n in range(2, 8)),
    "heldout8-study",
    "heldout8-check",
    "heldout9",
    "heldout10",
    "batch9a",
    "batch9b",
    "batch9c",
    "batches",
)
BATCH_ROWS = {"dev3-dev20": (3, 20), "dev21-dev27": (21, 27), "dev28-": (28, 10**6)}
SEED = "cnai-addr-round8-v1"
CHECK_SHARE = 40  # percent of heldout8 kept unread


def part_of(iid: str) -> str:
    h = int(hashlib.sha256(f"{SEED}:{iid}".encode()).hexdigest()[:8], 16)
    return "check" if h % 100 < CHECK_SHARE else "study"


def load_set(name: str) -> list[dict]:
    if name == "batches" or name in BATCH_ROWS:
        lo, hi = BATCH_ROWS.get(name, (0, 10**6))
        paths = sorted(HERE.glob("dev[0-9]*.txt"), key=lambda p: int(p.stem[3:]))
        return [it for p in paths if lo <= int(p.stem[3:]) <= hi for it in realeval._read(p)]
    base = name.split("-")[0]
    items = realeval._read(RE_DIR / f"{base}.txt")
    if "-" in name:
        items = [it for it in items if part_of(it["id"]) == name.split("-")[1]]
    return items


def _only_addresses(text: str, module=addresses):
    return [p for p in module.find(text) if p[2] == "address"]


def module_at(rev: str):
    """addresses.py as it was at a git revision, loaded beside the current one (benchmarks/addresses_bench.py)."""
    sys.path.insert(0, str(HERE.parents[4] / "benchmarks"))
    from addresses_bench import addresses_at

    return addresses_at(rev)


def table(names=SETS, module=addresses) -> list[dict]:
    rows = []
    for name in names:
        items = load_set(name)
        row = {"set": name, "items": len(items)}
        for match in ("exact", "overlap"):
            row[match] = realeval.score(items, [lambda t: _only_addresses(t, module)], 0.5, match)[
                "per_type"
            ].get("address", {})
        rows.append(row)
    return rows


def main(argv: list[str]) -> None:
    names = (*SETS, *BATCH_ROWS)
    if "--before" in argv:
        rev = argv[argv.index("--before") + 1]
        print(
            f"| set | items | gold | at {rev} exact P / R | overlap P / R | now exact P / R | overlap P / R |"
        )
        print("|---|---|---|---|---|---|---|")
        for b, r in zip(table(names, module_at(rev)), table(names), strict=True):
            e0, o0, e, o = b["exact"], b["overlap"], r["exact"], r["overlap"]
            print(
                f"| {r['set']} | {r['items']} | {e['tp'] + e['fn']} | {e0['precision']} / {e0['recall']} "
                f"| {o0['precision']} / {o0['recall']} | {e['precision']} / {e['recall']} "
                f"| {o['precision']} / {o['recall']} |"
            )
    else:
        print("| set | items | gold | exact P | exact R | overlap P | overlap R |")
        print("|---|---|---|---|---|---|---|")
        for r in table(names):
            e, o = r["exact"], r["overlap"]
            print(
                f"| {r['set']} | {r['items']} | {e['tp'] + e['fn']} | {e['precision']} | {e['recall']} "
                f"| {o['precision']} | {o['recall']} |"
            )
    if "--errors" in argv:
        for name in argv[argv.index("--errors") + 1 :]:
            if name == "heldout8-check" or name not in (*SETS, *BATCH_ROWS):
                raise SystemExit(f"{name}: errors of this set are not printed in round 8")
            items = load_set(name)
            res = realeval.score(items, [_only_addresses], 0.5, "exact")
            gold = {it["id"]: it for it in items}
            for kind, iid, typ, span, text in res["errors"]:
                if typ == "address":
                    golds = [
                        text[g["start"] : g["end"]] for g in gold[iid]["labels"] if g["type"] == "address"
                    ]
                    print(f"{name}\t{kind}\t{span!r}\tgold={golds}\t{text!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
