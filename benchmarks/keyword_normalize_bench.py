"""Evasion-proof keyword matching (issue #18): MB per CPU-second with normalisation on, side by side with
plain matching (no normalisation), on ordinary Chinese text (Faker zh_CN paragraphs, the same filler as the
corpus benchmark), and the hits each view finds there. The text holds none of the library's terms on
purpose, so every hit is a false positive (or a term that occurs by chance); examples are printed.

Two ways of calling: one text at a time (`find`, what the keyword judge does per reply) and batches of
256 texts (`find_many`, one fold and one automaton pass per batch: what a corpus scan does).

Usage: python benchmarks/keyword_normalize_bench.py [--mb 5] [--keywords 10000] [--out FILE]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5)
    ap.add_argument("--keywords", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--out")
    a = ap.parse_args()
    import yaml
    from corpus_bench import gen_keywords
    from faker import Faker

    from cnai.core.normalize import EvasionMatcher

    fk = Faker("zh_CN")
    fk.seed_instance(3)
    rnd = random.Random(3)
    paras = [fk.paragraph(nb_sentences=rnd.randint(3, 8)) for _ in range(3000)]
    texts, size = [], 0
    while size < a.mb * 1e6:
        t = "".join(rnd.choice(paras) for _ in range(rnd.randint(2, 10)))
        texts.append(t)
        size += len(t.encode())
    starter = sorted({w for ws in yaml.safe_load(Path("src/cnai/assess/data/banks/keywords.yaml").read_text()).values()
                      for w in ws})
    rows, examples = [], {}
    from cnai.assess.keywords import load_keyword_library

    full = sorted({k.keyword for k in load_keyword_library(None).keywords})
    for label, lib in (("starter library", starter), (f"full built-in library ({len(full):,})", full),
                       (f"starter + {a.keywords:,} synthetic", starter + [k for k, _ in gen_keywords(a.keywords)])):
        t0 = time.process_time()
        m = EvasionMatcher(lib)
        build = time.process_time() - t0
        t0 = time.process_time()
        one = [m.find(t) for t in texts]
        norm1 = time.process_time() - t0
        t0 = time.process_time()
        many = [h for i in range(0, len(texts), a.batch) for h in m.find_many(texts[i:i + a.batch])]
        normb = time.process_time() - t0
        assert many == one, "find_many must equal find"
        hows = collections.Counter(h.how for hs in many for h in hs)
        ex = collections.Counter((h.how, h.keyword, texts[i][h.start:h.end]) for i, hs in enumerate(many) for h in hs)
        examples[label] = ex.most_common(8)
        from cnai.core.matcher import KeywordAutomaton

        auto = KeywordAutomaton(sorted({w.lower() for w in lib}))
        t0 = time.process_time()
        plain = sum(len(auto.find(t)) for t in texts)
        raw1 = time.process_time() - t0
        t0 = time.process_time()
        for i in range(0, len(texts), a.batch):
            auto.find("\0".join(texts[i:i + a.batch]))
        rawb = time.process_time() - t0
        rows.append((label, len(lib), build, size / 1e6 / norm1, size / 1e6 / normb, size / 1e6 / raw1,
                     size / 1e6 / rawb, dict(hows), plain, m.engine))
    lines = ["# Keyword matching with evasion normalisation", "",
             f"{size / 1e6:.1f} MB of ordinary Chinese text (Faker zh_CN paragraphs, {len(texts):,} documents of "
             f"~{size / len(texts) / 1e3:.1f} kB); one core; "
             f"`python benchmarks/keyword_normalize_bench.py --mb {a.mb:g} --keywords {a.keywords}`.", "",
             "MB/CPU-s. *per text*: one call per document; *batched*: one call per "
             f"{a.batch} documents. Plain = no normalisation (cnai.core.matcher, the same engine, on the raw text).", "",
             "| library | terms | build s | normalised per text | normalised batched | plain per text | "
             "plain batched | hits by view (normalised) | plain hits |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, n, b, m1, mb, r1, rb, hows, plain, _eng in rows:
        lines.append(f"| {label} | {n:,} | {b:.2f} | {m1:.1f} | **{mb:.1f}** | {r1:.1f} | {rb:.1f} | {hows} | {plain:,} |")
    lines += ["", "Most frequent hits on this ordinary text (view, entry, text matched):", ""]
    for label, ex in examples.items():
        lines.append(f"- {label}: " + ("; ".join(f"{how} {kw}←{txt} ×{n}" for (how, kw, txt), n in ex) or "none"))
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
