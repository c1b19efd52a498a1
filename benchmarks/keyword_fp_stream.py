"""False positives of evasion-normalised keyword matching on a large volume of ordinary Chinese text (issue #18).

The text is Faker zh_CN filler: N distinct paragraphs (default 30,000, ~6 MB) recombined at random into
documents until the requested volume has streamed through `find_many` (nothing is kept in memory). It holds
none of the library's terms on purpose, so every hit is a false positive; because the paragraphs repeat, the
count per MB measures the rate, not new examples. Reported: hits per view, per MB, the most frequent ones.

    python benchmarks/keyword_fp_stream.py [--mb 1000] [--paragraphs 30000] [--library full|starter]
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1000)
    ap.add_argument("--paragraphs", type=int, default=30000)
    ap.add_argument("--library", choices=["full", "starter"], default="full",
                    help="full = built-in library (hand-written + composed); starter = hand-written only")
    a = ap.parse_args()
    import yaml
    from faker import Faker

    from cnai.core.normalize import EvasionMatcher

    fk = Faker("zh_CN")
    fk.seed_instance(11)
    rnd = random.Random(11)
    paras = [fk.paragraph(nb_sentences=rnd.randint(3, 8)) for _ in range(a.paragraphs)]
    distinct = sum(len(p.encode()) for p in paras) / 1e6
    if a.library == "full":
        from cnai.assess.keywords import load_keyword_library

        lib = sorted({k.keyword for k in load_keyword_library(None).keywords})
    else:
        lib = sorted({w for ws in yaml.safe_load(Path("src/cnai/assess/data/banks/keywords.yaml").read_text()).values()
                      for w in ws})
    m = EvasionMatcher(lib)
    hows, ex = collections.Counter(), collections.Counter()
    size, t0 = 0, time.process_time()
    while size < a.mb * 1e6:
        batch = ["".join(rnd.choice(paras) for _ in range(rnd.randint(2, 10))) for _ in range(256)]
        size += sum(len(t.encode()) for t in batch)
        for t, hs in zip(batch, m.find_many(batch), strict=True):
            for h in hs:
                hows[h.how] += 1
                ex[(h.how, h.keyword, t[h.start:h.end])] += 1
    cpu = time.process_time() - t0
    total = sum(hows.values())
    print(f"{size / 1e6:,.0f} MB streamed ({distinct:.1f} MB of distinct paragraphs, {a.paragraphs:,} paragraphs), "
          f"{a.library} library ({len(lib)} terms), {cpu:.0f} CPU-s ({size / 1e6 / cpu:.1f} MB/CPU-s incl. text assembly)")
    print(f"false positives: {total:,} ({total / (size / 1e6):.2f} per MB) by view {dict(hows)}")
    print("most frequent:", "; ".join(f"{h} {k}←{t} ×{n:,}" for (h, k, t), n in ex.most_common(10)))


if __name__ == "__main__":
    main()
