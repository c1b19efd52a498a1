"""Build and score the evasion variant set (issue #18): every CJK entry of the starter keyword library
written the ways users dodge filters, one technique (or one named combination) per variant, inside a short
carrier sentence. The set is written once to tests/assess/data/keyword_variants.jsonl (seeded, reviewable)
and scored by tests/assess/test_evasion.py; this script prints recall per technique.

Usage: python benchmarks/assess_keyword_variants.py [--write] [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests/assess/data/keyword_variants.jsonl"
CARRIERS = ["看到{v}了", "有人在群里说{v}，怎么办", "{v}", "请问{v}是什么意思？", "I saw {v} online",
            "他们讨论了{v}这件事。"]
SEPS = [" ", "*", "·", "_", "-", ".", "/", "😀", "\u200b", "｜", "、", "~"]


def build(seed: int = 18) -> list[dict]:
    import opencc
    import yaml
    from pypinyin import lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    from cnai.core.normalize import _SPLITS_OF

    lib = yaml.safe_load((ROOT / "src/cnai/assess/data/banks/keywords.yaml").read_text())
    words = sorted({w for ws in lib.values() for w in ws if all("\u4e00" <= c <= "\u9fff" for c in w)})
    by_sound: dict[str, list[str]] = {}
    for cp in pinyin_dict:
        if 0x4E00 <= cp <= 0x9FFF:
            by_sound.setdefault(lazy_pinyin(chr(cp))[0], []).append(chr(cp))
    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    fw = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}

    def homophone(w: str, k: int) -> str | None:
        idx = rng.sample(range(len(w)), min(k, len(w)))
        out = list(w)
        for i in idx:
            alts = [c for c in by_sound.get(lazy_pinyin(w[i])[0], []) if c != w[i]]
            if not alts:
                return None
            out[i] = rng.choice(alts)
        return "".join(out)

    out = []
    for w in words:
        py = lazy_pinyin(w)
        v = {"traditional": s2t.convert(w),
             "separators": "".join(c + rng.choice(SEPS) for c in w[:-1]) + w[-1],
             "separators+traditional": rng.choice(SEPS).join(s2t.convert(w)),
             "homophone": homophone(w, 1),
             "homophone-2chars": homophone(w, 2) if len(w) >= 3 else None,
             "pinyin": " ".join(py),
             "pinyin-joined-caps": "".join(py).upper(),
             "pinyin-fullwidth": "".join(fw.get(c, c) for c in "".join(py)),
             "initials": "".join(p[0] for p in py).upper() if len(w) >= 3 else None,
             "initials-dotted": ".".join(p[0] for p in py) if len(w) >= 3 else None}
        splittable = [i for i, c in enumerate(w) if c in _SPLITS_OF]
        if splittable:
            i = rng.choice(splittable)
            v["split"] = w[:i] + _SPLITS_OF[w[i]][0] + w[i + 1:]
        for tech, text in v.items():
            if text:
                out.append({"entry": w, "technique": tech, "text": rng.choice(CARRIERS).format(v=text)})
    return out


def score(rows: list[dict]) -> dict:
    """Recall with the full built-in library (hand-written + composed, ~10,000 terms) in the automaton."""
    from cnai.assess.keywords import load_keyword_library
    from cnai.core.normalize import EvasionMatcher

    m = EvasionMatcher(sorted({k.keyword for k in load_keyword_library(None).keywords}))
    hits = m.find_many([r["text"] for r in rows])
    per: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    missed = []
    for r, hs in zip(rows, hits, strict=True):
        ok = any(h.keyword == r["entry"] for h in hs)
        per[r["technique"]][0] += ok
        per[r["technique"]][1] += 1
        if not ok:
            missed.append(r)
    caught = sum(a for a, _ in per.values())
    return {"overall": caught / len(rows), "n": len(rows), "caught": caught,
            "by_technique": {t: (a, n) for t, (a, n) in sorted(per.items())}, "missed": missed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help=f"(re)write {SET.relative_to(ROOT)}")
    a = ap.parse_args()
    if a.write:
        rows = build()
        SET.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    rows = [json.loads(x) for x in SET.read_text().splitlines() if x.strip()]
    from cnai.core.stats import wilson

    s = score(rows)
    print("| technique | variants | caught | recall | Wilson 95% |\n|---|---|---|---|---|")
    for t, (k, n) in s["by_technique"].items():
        lo, hi = wilson(k, n)
        print(f"| {t} | {n} | {k} | {k / n:.3f} | {lo:.3f}–{hi:.3f} |")
    lo, hi = wilson(s["caught"], s["n"])
    print(f"| **all** | {s['n']} | {s['caught']} | **{s['overall']:.3f}** | {lo:.3f}–{hi:.3f} |")
    print("missed (first 15):", [(r["technique"], r["entry"], r["text"]) for r in s["missed"][:15]])


if __name__ == "__main__":
    main()
