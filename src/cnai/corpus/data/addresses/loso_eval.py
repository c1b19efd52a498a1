"""Round-5 development protocol for the address recognizer: leave-one-set-out over the realistic sets.

The six development sets were each written by a different author: items.txt, dev2.txt, heldout2.txt,
heldout3.txt, heldout4.txt and heldout5.txt. They are named here one by one (never through
realeval.HELDOUT, which points at the sealed set of the next round; this file never reads that set).

Protocol (fixed and committed before any round-5 rule change):
- a rule change may only be motivated by errors read from the sets listed in READ (the other sets'
  errors are not printed this round);
- heldout5.txt, the freshest author, is split by a seeded hash of the item id: its "study" part (60 %) is
  read, its "check" part (40 %) is scored only, its errors never printed. The check part is the most
  honest round-5 estimate; it is still development material (the same author's style is in the study part);
- the table gives, per set, exact and overlap P/R of addresses at threshold 0.5, then the mean and the
  worst set. Every set except heldout5-check was read in this round or an earlier one, so the table is a
  development estimate, not the result; the lead's score on the sealed set is.

    .venv/bin/python src/cnai/corpus/data/addresses/loso_eval.py [--errors SET ...]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from cnai.corpus import addresses, realeval

RE_DIR = Path(realeval.__file__).parent / "data" / "realeval"
SETS = ("items", "dev2", "heldout2", "heldout3", "heldout4", "heldout5")
SEED = "cnai-addr-round5-v1"
CHECK_SHARE = 40  # percent of heldout5 kept unread
READ = ("items", "dev2", "heldout2", "heldout3", "heldout4", "heldout5-study")


def part_of(iid: str) -> str:
    h = int(hashlib.sha256(f"{SEED}:{iid}".encode()).hexdigest()[:8], 16)
    return "check" if h % 100 < CHECK_SHARE else "study"


def load_set(name: str) -> list[dict]:
    """One development set by name; heldout5-study / heldout5-check are the two parts of heldout5."""
    base = name.split("-")[0]
    items = realeval._read(RE_DIR / f"{base}.txt")
    if "-" in name:
        items = [it for it in items if part_of(it["id"]) == name.split("-")[1]]
    return items


def _only_addresses(text: str):
    return [p for p in addresses.find(text) if p[2] == "address"]


def table(names=(*SETS[:-1], "heldout5-study", "heldout5-check")) -> list[dict]:
    rows = []
    for name in names:
        items = load_set(name)
        row = {"set": name, "items": len(items)}
        for match in ("exact", "overlap"):
            a = realeval.score(items, [_only_addresses], 0.5, match)["per_type"].get("address", {})
            row[match] = a
        rows.append(row)
    return rows


def main(argv: list[str]) -> None:
    rows = table()
    print("| set | items | gold | exact P | exact R | overlap P | overlap R |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        e, o = r["exact"], r["overlap"]
        print(
            f"| {r['set']} | {r['items']} | {e['tp'] + e['fn']} | {e['precision']} | {e['recall']} "
            f"| {o['precision']} | {o['recall']} |"
        )
    whole = [r for r in rows if not r["set"].startswith("heldout5")] + [
        {"set": "heldout5", **{m: _merge(rows[-2][m], rows[-1][m]) for m in ("exact", "overlap")}}
    ]
    for k in ("precision", "recall"):
        vals = [r["exact"][k] for r in whole]
        worst = min(whole, key=lambda r: r["exact"][k])
        print(
            f"exact {k}: mean over the 6 sets {sum(vals) / len(vals):.3f}, worst {worst['set']} {worst['exact'][k]}"
        )
    if "--errors" in argv:
        for name in argv[argv.index("--errors") + 1 :]:
            if name not in READ:
                raise SystemExit(f"{name}: errors of this set are not read in round 5 (see READ)")
            res = realeval.score(load_set(name), [_only_addresses], 0.5, "exact")
            for kind, _iid, typ, span, text in res["errors"]:
                if typ == "address":
                    print(f"{name}\t{kind}\t{span}\t{text!r}")


def _merge(a: dict, b: dict) -> dict:
    tp, fp, fn = (a[k] + b[k] for k in ("tp", "fp", "fn"))
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(tp / (tp + fp), 4),
        "recall": round(tp / (tp + fn), 4),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
