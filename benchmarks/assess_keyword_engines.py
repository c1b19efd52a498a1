"""Side by side: the automaton behind evasion-normalised keyword matching (issue #11, one keyword engine).

cnai.core.normalize runs its sound-view automaton on cnai.core.matcher (the project's compiled Aho-Corasick,
pure-Python fallback). This script measures it against ahocorasick_rs (the engine normalize used before) on
the same folded views, with the full built-in keyword library, so the choice rests on figures:

    python benchmarks/assess_keyword_engines.py [--mb 5] [--rounds 3]

Reports MB per CPU-second of EvasionMatcher.find_many (batches of 256 documents) and of find (one call per
document), best of --rounds, and checks both engines return identical hits. Needs ahocorasick_rs installed
(it is no longer a dependency of cnai).
"""

from __future__ import annotations

import argparse
import random
import time


class RsAutomaton:
    """The previous engine: ahocorasick_rs over UTF-16 code units of the sound view."""

    def __init__(self, patterns):
        import ahocorasick_rs
        import numpy as np

        from cnai.core.normalize import _hay16

        self._np, self._hay16 = np, _hay16
        self.empty = not patterns
        self.engine = "ahocorasick_rs"
        pats = [_hay16(np.frombuffer(p.encode("utf-32-le"), dtype=np.uint32)) for p in patterns]
        self._rs = ahocorasick_rs.BytesAhoCorasick(pats, matchkind=ahocorasick_rs.MatchKind.Standard,
                                                   implementation=ahocorasick_rs.Implementation.ContiguousNFA)

    def matches(self, snd):
        return sorted((i, a >> 1, b >> 1) for i, a, b in
                      self._rs.find_matches_as_indexes(self._hay16(snd), overlapping=True) if not a & 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    from faker import Faker

    from cnai.assess.keywords import load_keyword_library
    from cnai.core.normalize import EvasionMatcher

    fk = Faker("zh_CN")
    fk.seed_instance(3)
    rnd = random.Random(3)
    paras = [fk.paragraph(nb_sentences=rnd.randint(3, 8)) for _ in range(3000)]
    # a few library terms and evasions inside, so both engines have hits to agree on
    paras += ["有人在群里说制 作 炸 弹，还有人说zhizuozhadan。", "他们讨论了購買冰毒这件事。", "外地人都是小偷这种话不能说。"]
    texts, size = [], 0
    while size < a.mb * 1e6:
        t = "".join(rnd.choice(paras) for _ in range(rnd.randint(2, 10)))
        texts.append(t)
        size += len(t.encode())
    lib = sorted({k.keyword for k in load_keyword_library(None).keywords})
    m = EvasionMatcher(lib)
    engines = {m.engine: m._auto, "ahocorasick_rs": RsAutomaton(m._patterns)}
    res, hits = {}, {}
    for name, auto in engines.items():
        m._auto = auto
        best_b = best_1 = 0.0
        for _ in range(a.rounds):
            t0 = time.process_time()
            hb = [h for i in range(0, len(texts), 256) for h in m.find_many(texts[i:i + 256])]
            best_b = max(best_b, size / 1e6 / (time.process_time() - t0))
            t0 = time.process_time()
            h1 = [m.find(t) for t in texts]
            best_1 = max(best_1, size / 1e6 / (time.process_time() - t0))
        assert hb == h1
        res[name], hits[name] = (best_b, best_1), hb
    names = list(engines)
    same = hits[names[0]] == hits[names[1]]
    print(f"{size / 1e6:.1f} MB Faker zh text, {len(texts):,} documents, full built-in library ({len(lib):,} terms, "
          f"{len(m._patterns):,} automaton patterns); best of {a.rounds}; identical hits: {same} "
          f"({sum(map(len, hits[names[0]]))} hits)\n")
    print("| engine | normalised batched (MB/CPU-s) | normalised per text (MB/CPU-s) |\n|---|---|---|")
    for n, (b, o) in res.items():
        print(f"| {n} | {b:.1f} | {o:.1f} |")


if __name__ == "__main__":
    main()
