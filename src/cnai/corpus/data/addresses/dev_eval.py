"""Development scoring of the address recognizer (round 3), on development material only.

The material is the realistic set's development files, named one by one (items.txt, dev2.txt and the
earlier held-out sets heldout2/3/4.txt, all scored and read in earlier rounds). The current held-out file
(realeval.HELDOUT once it points at a fresh set) is never read here.

The items are split by a seeded hash of their id into a "tune" part (about 70 %, whose errors are read
while changing rules) and a "check" part (about 30 %, scored but its errors not printed): the split was
fixed in this file and committed before any round-3 rule change. Figures from either part are
development figures, not the result.

    .venv/bin/python src/cnai/corpus/data/addresses/dev_eval.py [tune|check|all] [--errors]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from cnai.corpus import addresses, realeval

RE_DIR = Path(realeval.__file__).parent / "data" / "realeval"
DEV_FILES = ("items.txt", "dev2.txt", "heldout2.txt", "heldout3.txt", "heldout4.txt")
# round-3 address sentences; each batch was committed, then scored with the code of that same commit before any
# change it prompted: dev3 86231b6 (before the round-3 rules), dev4 b3bbe63, dev5 06e675b, dev6 55c4b3a, dev7
# fd1cda5, dev8 0a40b9b, dev9 1f6498e, dev10 85921aa, dev11 31a04d2, dev12 b91a704, dev13 7bae464, dev14 0009359,
# dev15 d8d881f (no rule change afterwards). Round 5 (loso_eval.py is its protocol): dev16 3e36d40, dev17 41b85b5,
# dev18 4852d26, dev19 22ecbd6, dev20 64b5ac5, each committed and then scored once before the change it prompted.
# Round 8 (round8_eval.py is its table): dev21 436726e (scored with ea30b47), dev22 8322027 (145cc98), dev23 38c32fa
# (e7feb34), dev24 5be562e (810b4c7), dev25 9bf23c0 (7466d88), dev26 26d6305 (1505272), dev27 90dd852 (82aed0f)
# Round 8, second pass (addr_tuner8b), each committed and scored once before the change it prompted: dev28 63ce879
# (scored with c2acb28), dev29 fd8b65e (cdae085), dev30 286fd22 (e672331), dev31 528e99b (21f30bf), dev32 eb5efbf
# (403a33c), dev33 fed8257 (57837e3), dev34 1529886 (1f4e48d), dev35 a7ad349 (aa13113), dev36 882a73e (2389411),
# dev37 dea2daa (c0b2fff), dev38 01f4cad (2d6ceb4; no change afterwards), dev39 95ac878 (fcbb022), dev40 29c2a9b
# (0c71a2d), dev41 77cd934 (de9893f), dev42 31beb45 (9966694), dev43 7755373 (0e6cd7e), dev44 a1e1c37 (839d235),
# dev45 92e7855 (a1e1c37), dev46 7651aeb (92e7855), dev47 ad04a1a (3581c49), dev48 2d5518d (34ebd69), dev49 d3f9cf7
# (db512c9), dev50 94e14aa (a726450), dev51 1c0e0ff (589e3be), dev52 6d408ee (9493524), dev53 31fdedc (6d408ee;
# labels fixed afterwards, see its header), dev54 c017185 (8e3e622), dev55 580fe7b (c952a36), dev56 154bc2b
# (6b27951), dev57 cb52a9b (efcd4f5), dev58 7f6f69f (5c52a4d), dev59 f1042c0 (1bf518e), dev60 d28fcd3 (b54b942),
# dev61 6f4515a (3b9ab7e); dev38, dev44-46, dev52-54, dev57, dev60 and dev61 prompted no change
ROUND3 = sorted(Path(__file__).parent.glob("dev[0-9]*.txt"), key=lambda p: int(p.stem[3:]))
SEED = "cnai-addr-round3-v1"
CHECK_SHARE = 30  # percent


def part_of(iid: str) -> str:
    h = int(hashlib.sha256(f"{SEED}:{iid}".encode()).hexdigest()[:8], 16)
    return "check" if h % 100 < CHECK_SHARE else "tune"


def load(part: str = "all") -> list[dict]:
    items = []
    for path in [RE_DIR / n for n in DEV_FILES] + ROUND3:
        for it in realeval._read(path):
            it = {**it, "split": part_of(it["id"]), "file": path.name}
            if part in ("all", it["split"]):
                items.append(it)
    return items


def main(argv: list[str]) -> None:
    part = argv[0] if argv and not argv[0].startswith("-") else "tune"
    items = load(part)
    only_addr = [lambda t: [p for p in addresses.find(t) if p[2] == "address"]]
    for match in ("exact", "overlap"):
        res = realeval.score(items, only_addr, 0.5, match)
        a = res["per_type"].get("address", {})
        print(
            f"{part} ({len(items)} items) {match}: P {a.get('precision')} R {a.get('recall')} "
            f"tp {a.get('tp')} fp {a.get('fp')} fn {a.get('fn')}"
        )
        if match == "exact" and "--errors" in argv:
            if part != "tune":
                sys.exit("errors are printed for the tune part only")
            gold = {it["id"]: it for it in items}
            for kind, iid, t, span, text in res["errors"]:
                if t != "address":
                    continue
                golds = [text[g["start"] : g["end"]] for g in gold[iid]["labels"] if g["type"] == "address"]
                print(f"  {kind} {span!r} gold={golds} | {text!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
