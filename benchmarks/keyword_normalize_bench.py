"""Evasion-proof keyword matching (issue #18): MB per CPU-second with normalisation on, side by side with
plain matching (pyahocorasick over the raw text), on ordinary Chinese text (Faker zh_CN paragraphs, the
same filler as the corpus benchmark), and the hits each view adds on that text (false positives: the text
holds none of the library's terms on purpose... except by chance).

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
    ap.add_argument("--out")
    a = ap.parse_args()
    import ahocorasick
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
    rows = []
    for label, lib in (("starter library", starter),
                       (f"starter + {a.keywords:,} synthetic", starter + [k for k, _ in gen_keywords(a.keywords)])):
        t0 = time.process_time()
        m = EvasionMatcher(lib)
        build = time.process_time() - t0
        t0 = time.process_time()
        hows = collections.Counter(h.how for t in texts for h in m.find(t))
        norm = time.process_time() - t0
        auto = ahocorasick.Automaton()
        for w in lib:
            auto.add_word(w.lower(), w)
        auto.make_automaton()
        t0 = time.process_time()
        plain = sum(1 for t in texts for _ in auto.iter(t.lower()))
        raw = time.process_time() - t0
        rows.append((label, len(lib), build, size / 1e6 / norm, size / 1e6 / raw, dict(hows), plain))
    lines = ["# Keyword matching with evasion normalisation", "",
             f"{size / 1e6:.1f} MB of ordinary Chinese text (Faker zh_CN paragraphs, {len(texts):,} documents); "
             f"one core; `python benchmarks/keyword_normalize_bench.py --mb {a.mb:g} --keywords {a.keywords}`.", "",
             "| library | terms | build s | normalised MB/CPU-s | plain MB/CPU-s | ratio | hits by view (normalised) | plain hits |",
             "|---|---|---|---|---|---|---|---|"]
    for label, n, b, ms, rs, hows, plain in rows:
        lines.append(f"| {label} | {n:,} | {b:.2f} | {ms:.1f} | {rs:.1f} | {ms / rs:.2f} | {hows} | {plain:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
