"""Train the person-name CRF (cnai.corpus.namemodel) and write data/names/names_crf.bin.

    python src/cnai/corpus/data/names/train_crf.py            # train on everything allowed, write the model
    python src/cnai/corpus/data/names/train_crf.py --loso     # development figures: leave one set out
    python src/cnai/corpus/data/names/train_crf.py --cv 5     # older development figures: k-fold CV

Training text:
- sentences from data/names/namegen.py (our templates x names sampled from the tables);
- the assess banks' prompts (ordinary prose we wrote; its real people, listed below, are labelled);
- the development sets, read by file name (DEV_SETS: items, dev2, heldout2-10, batch9a-c, each scored and read in
  earlier rounds; heldout9 joined in round 8d after it was scored), each sentence also copied with its names replaced by sampled names of the same kind,
  so the model learns the contexts rather than the names.
--loso: each set was written by a different author, so leaving one set out at a time estimates how the
model does on a new author's text (heldout9 is the newest; every set's errors have been read, so all folds
are optimistic to a degree, the newest set's fold the most).
CV folds (--cv) are fixed by a seeded hash of the item id (CV_SEED).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
CV_SEED = "cnai-names-cv-v1"
# real people in the assess prompts (everything else there is labelled O)
ASSESS_PEOPLE = "秦始皇 邱少云 黄继光 刘胡兰 钱学森 屠呦呦 杨靖宇 焦裕禄 黄文秀 赵一曼 董存瑞 张思德".split()
PARAMS = {"c1": 0.15, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True}


def fold_of(iid: str, k: int) -> int:
    return int(hashlib.sha256(f"{CV_SEED}:{iid}".encode()).hexdigest()[:8], 16) % k


# the development sets, one author each, named by file (heldout9: scored in round 8, development since 8d;
# heldout10 and the round-9 batches: scored in round 9/10, development since round 10)
DEV_SETS = ("items", "dev2", *(f"heldout{n}" for n in range(2, 11)), "batch9a", "batch9b", "batch9c")


def set_items() -> list[dict]:
    """Every development item, its "split" the name of the set (file) it comes from, each file read once."""
    from cnai.corpus import realeval

    out = []
    for name in DEV_SETS:
        path = realeval.DATA.with_name(f"{name}.txt")
        out += [{**it, "split": name} for it in realeval._read(path)]
    return out


def assess_prose() -> list[tuple[str, list[tuple[int, int]]]]:
    root = HERE.parents[2] / "assess" / "data" / "banks"
    seen, out = set(), []
    for p in sorted(root.glob("*.jsonl")):
        for ln in p.read_text("utf-8").splitlines():
            try:
                d = json.loads(ln)
            except ValueError:
                continue
            t = d.get("prompt") if isinstance(d, dict) else None
            if isinstance(t, str) and t not in seen:
                seen.add(t)
                spans = []
                for name in ASSESS_PEOPLE:
                    i = t.find(name)
                    while i >= 0:
                        spans.append((i, i + len(name)))
                        i = t.find(name, i + 1)
                out.append((t, sorted(spans)))
    return out


def _kind(name: str) -> str:
    from cnai.corpus import names

    sur1, sur2, *_ = names._tables()
    if any(c.isascii() for c in name):
        return "latin"
    if "·" in name or (len(name) >= 3 and all(c in names._TRANSLIT for c in name)):
        return "translit"
    if len(name) == 2 and name[0] in "小老阿":
        return "nick"
    if name[:2] in sur2 or name[0] in sur1:
        return "full"
    return "given"


def augment(items: list[dict], copies: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each item as written, plus copies with every name replaced by a sampled name of the same kind."""
    from namegen import Sampler

    rng = random.Random(seed)
    sampler = Sampler(rng)
    out = []
    for it in items:
        gold = sorted((g["start"], g["end"]) for g in it["labels"] if g["type"] == "person_name")
        out.append((it["text"], gold))
        if not gold:
            continue
        for _ in range(copies):
            text, spans, last = [], [], 0
            pos = 0
            for s, e in gold:
                text.append(it["text"][last:s])
                pos += s - last
                old = it["text"][s:e]
                k = _kind(old)
                new = {
                    "full": sampler.full,
                    "given": sampler.given_only,
                    "nick": sampler.nick,
                    "translit": sampler.translit,
                }.get(k, lambda o=old: o)()
                spans.append((pos, pos + len(new)))
                text.append(new)
                pos += len(new)
                last = e
            text.append(it["text"][last:])
            out.append(("".join(text), spans))
    return out


def labels_for(text: str, spans) -> list[str]:
    lab = ["O"] * len(text)
    for s, e in spans:
        lab[s] = "B"
        for k in range(s + 1, e - 1):
            lab[k] = "I"
        lab[e - 1] = "E"
    return lab


def rule_spans(text: str):
    from cnai.corpus import names

    return [(s, e, c) for s, e, _t, c, _r in names.find_rules(text)]


def train(data, path: Path, use_rules: bool) -> None:
    import pycrfsuite

    from cnai.corpus import namemodel

    tr = pycrfsuite.Trainer(verbose=False)
    for text, spans in data:
        if not text:
            continue
        tr.append(namemodel.features(text, rule_spans(text) if use_rules else None), labels_for(text, spans))
    tr.set_params(PARAMS)
    tr.train(str(path))


def build(dev: list[dict], seed: int, n_gen: int, copies: int):
    from namegen import generate

    return generate(n_gen, seed) + assess_prose() + augment(dev, copies, seed + 1)


def main() -> None:
    sys.path.insert(0, str(HERE))
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", type=int, default=0)
    ap.add_argument("--loso", action="store_true", help="development figures: leave one set (author) out")
    ap.add_argument("--n-gen", type=int, default=9000)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--rules", action="store_true", help="the rules' candidates as features (not shipped)")
    ap.add_argument("--errors", action="store_true", help="print CV errors (not those of heldout4's items)")
    ap.add_argument("--out", default=str(HERE / "names_crf.bin"))
    ap.add_argument("--keep", help="folder to keep the fold models in (to study gating/thresholds offline)")
    ap.add_argument("--famous-weight", type=int, default=None)
    ap.add_argument("--word-name-max-freq", type=int, default=None)
    ap.add_argument("--c1", type=float, default=PARAMS["c1"])
    ap.add_argument("--c2", type=float, default=PARAMS["c2"])
    ap.add_argument("--only", help="--loso: leave out only these sets (comma-separated), a quicker look")
    ap.add_argument(
        "--seed",
        type=int,
        default=100,
        help="--loso: fold k's generated text uses seed SEED + k (another seed: noise)",
    )
    ap.add_argument("--8d", dest="r8d", action="store_true", help="namegen.ROUND8D on (not shipped), for A/B")
    a = ap.parse_args()
    import pycrfsuite

    from cnai.corpus import namemodel, names, realeval

    use_rules = a.rules
    namemodel.USE_RULES = use_rules  # names.find passes the rules' candidates to the model only then
    PARAMS.update(c1=a.c1, c2=a.c2)
    if a.famous_weight is not None:
        import namegen

        namegen.FAMOUS_WEIGHT = a.famous_weight
    if a.r8d:
        import namegen

        namegen.ROUND8D = True
    if a.word_name_max_freq is not None:
        import namegen

        namegen.WORD_NAME_MAX_FREQ = a.word_name_max_freq
    dev = set_items()
    if a.loso:
        loso(dev, a)
        return
    if not a.cv:
        t0 = time.process_time()
        train(build(dev, 7, a.n_gen, a.copies), Path(a.out), use_rules)
        print(f"trained in {time.process_time() - t0:.0f} CPU-s -> {a.out}")
        return
    tmp = Path(f"/tmp/cnai-names-cv-{os.getpid()}.crfsuite")
    tot = {}
    for k in range(a.cv):
        train_items = [it for it in dev if fold_of(it["id"], a.cv) != k]
        test_items = [it for it in dev if fold_of(it["id"], a.cv) == k]
        train(build(train_items, 100 + k, a.n_gen, a.copies), tmp, use_rules)
        if a.keep:
            Path(a.keep).mkdir(parents=True, exist_ok=True)
            Path(a.keep, f"fold{k}.bin").write_bytes(tmp.read_bytes())
        tg = pycrfsuite.Tagger()
        tg.open(str(tmp))

        def model_only(text, tg=tg):
            rs = rule_spans(text) if use_rules else None
            return [(s, e, "person_name", c, "crf") for s, e, c in namemodel.tag(text, rs, tg)]

        def combined(text, tg=tg):
            return names.find(text, model=tg)

        if a.errors:
            for e in realeval.score([it for it in test_items if it["split"] != "heldout4"], [combined], 0.5)[
                "errors"
            ]:
                if e[2] == "person_name":
                    print(e[0], e[3], "|", e[4].replace("\n", " "), file=sys.stderr)
        for th in (0.5, 0.6, 0.7, 0.8, 0.9):
            for sub, its in (
                ("all", test_items),
                ("h4", [it for it in test_items if it["split"] == "heldout4"]),
            ):
                r = realeval.score(its, [combined], th, "exact")["per_type"].get("person_name", {})
                c = tot.setdefault((f"comb@{th}", sub, "exact"), [0, 0, 0])
                for j, key in enumerate(("tp", "fp", "fn")):
                    c[j] += r.get(key, 0)

        def ungated(text, tg=tg):
            return names.find(text, model=tg, gate=False)

        for name, fn in (
            ("rules", names.find_rules),
            ("crf", model_only),
            ("combined", combined),
            ("ungated", ungated),
        ):
            # "h4": heldout4's items, which the rules were never tuned on either
            for sub, its in (
                ("all", test_items),
                ("h4", [it for it in test_items if it["split"] == "heldout4"]),
            ):
                for m in ("exact", "overlap"):
                    r = realeval.score(its, [fn], 0.5, m)["per_type"].get("person_name", {})
                    c = tot.setdefault((name, sub, m), [0, 0, 0])
                    for j, key in enumerate(("tp", "fp", "fn")):
                        c[j] += r.get(key, 0)
        print(f"fold {k} done", file=sys.stderr)
    for (name, sub, m), (tp, fp, fn) in sorted(tot.items()):
        print(
            f"{name:9s} {sub:4s} {m:8s} P {tp / max(1, tp + fp):.3f} R {tp / max(1, tp + fn):.3f}  tp {tp} fp {fp} fn {fn}"
        )


def loso(dev: list[dict], a) -> None:
    """Leave-one-set-out: train on the other sets (+ generated text), score the left-out set's names."""
    import pycrfsuite

    from cnai.corpus import names, realeval

    tmp = Path(f"/tmp/cnai-names-loso-{os.getpid()}.crfsuite")
    rows, tot = [], {}
    for k, held in enumerate(s for s in DEV_SETS if any(it["split"] == s for it in dev)):
        if a.only and held not in a.only.split(","):
            continue
        test_items = [it for it in dev if it["split"] == held]
        train(build([it for it in dev if it["split"] != held], a.seed + k, a.n_gen, a.copies), tmp, False)
        if a.keep:
            Path(a.keep).mkdir(parents=True, exist_ok=True)
            Path(a.keep, f"{held}.bin").write_bytes(tmp.read_bytes())
        tg = pycrfsuite.Tagger()
        tg.open(str(tmp))
        fn = lambda text, tg=tg: names.find(text, model=tg)  # noqa: E731
        if a.errors:
            for e in realeval.score(test_items, [fn], 0.5)["errors"]:
                if e[2] == "person_name":
                    print(held, e[0], e[3], "|", e[4].replace("\n", " "), file=sys.stderr)
        for m in ("exact", "overlap"):
            r = realeval.score(test_items, [fn], 0.5, m)["per_type"].get("person_name", {})
            tp, fp, fn_ = r.get("tp", 0), r.get("fp", 0), r.get("fn", 0)
            rows.append((held, m, tp, fp, fn_))
            c = tot.setdefault(m, [0, 0, 0])
            c[0], c[1], c[2] = c[0] + tp, c[1] + fp, c[2] + fn_
        print(f"{held} done", file=sys.stderr)
    per = {}
    for held, m, tp, fp, fn_ in rows:
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn_)
        per.setdefault(m, []).append((p, r))
        print(f"{held:9s} {m:8s} P {p:.3f} R {r:.3f}  tp {tp} fp {fp} fn {fn_}")
    for m, pr in per.items():
        tp, fp, fn_ = tot[m]
        print(
            f"{m}: pooled P {tp / max(1, tp + fp):.3f} R {tp / max(1, tp + fn_):.3f}; mean over sets "
            f"P {sum(p for p, _ in pr) / len(pr):.3f} R {sum(r for _, r in pr) / len(pr):.3f}; "
            f"worst set P {min(p for p, _ in pr):.3f} R {min(r for _, r in pr):.3f}"
        )


if __name__ == "__main__":
    main()
