"""Throughput of the person-name recognizer (cnai.corpus.names) on ordinary Chinese, side by side with Presidio.

Texts: (1) the assess banks' prompts (prose we wrote; short texts), (2) Faker zh_CN paragraphs (the "normal
Chinese text" of benchmarks/corpus_round2_bench.py; longer documents). Reports MB (UTF-8) per CPU-second
(time.process_time, best of --repeat runs; Presidio too) for:
- names.find_rules (the rules alone, round 2's recognizer),
- names.find (rules + the CRF on every sentence: the default), with the compiled CRF
  (cnai.corpus._namescan) and on the pure-Python reference path (features + python-crfsuite),
- names.find(gate=True) (the CRF only on sentences holding a trigger; the rules run first, in Python),
- namemodel.tag_text (the compiled CRF alone over every sentence of the text), with and without the exact skip
  (round 6: pieces the model provably labels all O are not tagged; the share of pieces skipped is printed),
  namemodel.tag_text_upper (the same call also answering names.find's "holds an ASCII capital" test) and that
  test's regex pass alone (names._UPPER.search),
- the corpus Detector as shipped and with the name recognizer enabled, and Presidio (blank zh pipeline + predefined
  pattern recognizers, as in corpus_round2_bench.py; presidio-analyzer is not a cnai dependency).
Checks first that the compiled and the Python paths give the same names.find output on the benchmark texts.
Load-time work (tables, model, pinyin, address index) is done before timing. Accuracy is not measured here
(see data/names/train_crf.py --cv and `cnai corpus eval --set realistic`).
--against OTHER.so: also an A/B of the compiled CRF (namemodel.tag_text_upper) and names.find between the
built extension and another build of cnai/corpus/_namescan.c (e.g. the previous commit's, compiled to /tmp),
interleaved in one process (--ab-rounds rounds, the order alternating) so that the shared machine's load drift
falls on both; output checked identical first. CPU time, best and median per build.
Usage: .venv/bin/python benchmarks/names_bench.py [--mb 1.0] [--presidio-mb 0.2] [--repeat 3] [--against X.so]
"""

import argparse
import glob
import importlib.util
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cnai.corpus import namemodel, names  # noqa: E402

WARM = "预热：王小明住在北京市海淀区中关村大街1号。Zhang Wei 说《醉翁亭记》很好，马伊琍·李也来了！"


def corpus() -> list[str]:
    texts = []
    for p in sorted(glob.glob("src/cnai/assess/data/banks/*.jsonl")):
        for ln in open(p, encoding="utf-8"):
            try:
                d = json.loads(ln)
            except ValueError:
                continue
            for k in ("prompt", "text", "content", "question"):
                if isinstance(d.get(k), str):
                    texts.append(d[k])
    return texts


def bench(fn, docs: list[str], repeat: int = 1) -> float:
    """MB per CPU-second, best of `repeat` runs (the machine is shared: the best run is the least disturbed)."""
    size = sum(len(t.encode("utf-8")) for t in docs)
    best = None
    for _ in range(repeat):
        t0 = time.process_time()
        for t in docs:
            fn(t)
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    return round(size / 1e6 / best, 3)


class python_path:
    """Within the block, the name model runs on the pure-Python reference path."""

    def __enter__(self):
        self.saved = dict(namemodel._COMPILED)
        namemodel._COMPILED["t"] = None

    def __exit__(self, *exc):
        namemodel._COMPILED.clear()
        namemodel._COMPILED.update(self.saved)


def other_build(path: str):
    """A Tagger from another build of the extension (same model and tables as the shipped one)."""
    import cnai.corpus as pkg

    spec = importlib.util.spec_from_file_location("_namescan", path)
    if spec is None:
        raise SystemExit(f"--against {path}: not a loadable extension module")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    saved = sys.modules.get("cnai.corpus._namescan"), getattr(pkg, "_namescan", None)
    sys.modules["cnai.corpus._namescan"] = pkg._namescan = mod
    try:
        return namemodel._build_compiled()
    finally:
        sys.modules["cnai.corpus._namescan"], pkg._namescan = saved


def ab(docs: list[str], size: int, taggers: dict, rounds: int) -> dict:
    """Interleaved A/B: MB per CPU-second of the CRF and of names.find with each tagger, best and median."""
    out: dict = {}
    saved = namemodel._COMPILED.get("t")
    try:
        for what in ("tag_text_upper", "find"):
            res: dict = {k: [] for k in taggers}
            for r in range(rounds):
                for name in list(taggers)[:: 1 if r % 2 == 0 else -1]:
                    namemodel._COMPILED["t"] = taggers[name]
                    fn = namemodel.tag_text_upper if what == "tag_text_upper" else names.find
                    t0 = time.process_time()
                    for d in docs:
                        fn(d)
                    res[name].append(size / 1e6 / (time.process_time() - t0))
            out[what] = {
                k: {"best": round(max(v), 1), "median": round(statistics.median(v), 1)}
                for k, v in res.items()
            }
    finally:
        namemodel._COMPILED["t"] = saved
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=1.0)  # 0.2 MB runs take ~5 ms: too noisy
    ap.add_argument("--presidio-mb", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", help="another build of _namescan (.so) for an interleaved A/B")
    ap.add_argument("--ab-rounds", type=int, default=10)
    a = ap.parse_args()
    import corpus_round2_bench as r2

    prose = corpus()
    if not prose:
        raise SystemExit("no text found under src/cnai/assess/data/banks")
    faker_docs, fsize = r2.normal_docs(a.mb)
    for gate in (
        False,
        True,
    ):  # loads the tables, the model, pypinyin and the address index outside the timing
        names.find(WARM, gate=gate)
    names.find_rules(WARM)
    compiled = namemodel._compiled() is not None
    print(f"load average at start: {os.getloadavg()[0]:.2f}; compiled name model: {compiled}")
    out: dict = {"compiled_name_model": compiled}
    if compiled:  # the speed figures are only worth reading if both paths agree on these texts
        fast = [names.find(t) for t in prose + faker_docs]
        with python_path():
            slow = [names.find(t) for t in prose + faker_docs]
        out["same_output_compiled_vs_python"] = fast == slow
        out["names_found"] = sum(map(len, fast))
    for label, docs in (
        ("assess prose (0.19 MB)", prose),
        (f"faker zh_CN ({fsize / 1e6:.2f} MB)", faker_docs),
    ):
        row = {
            "find_rules": bench(names.find_rules, docs, a.repeat),
            "find (default)": bench(names.find, docs, a.repeat),
            "find(gate=True)": bench(lambda t: names.find(t, gate=True), docs, a.repeat),
            "namemodel.tag_text (CRF alone)": bench(namemodel.tag_text, docs, a.repeat),
            # the CRF and the "has an ASCII capital" test in one compiled call (what names.find runs), side by
            # side with the regex pass it replaced
            "namemodel.tag_text_upper (CRF + capital flag)": bench(namemodel.tag_text_upper, docs, a.repeat),
            "namemodel._UPPER.search alone": bench(namemodel._UPPER.search, docs, a.repeat),
        }
        c = namemodel._compiled()
        if c is not None:
            c.set_skip(False)
            try:
                row["namemodel.tag_text, exact skip off"] = bench(namemodel.tag_text, docs, a.repeat)
            finally:
                c.set_skip(True)
            pieces = [
                t[s:e] for t in docs for s, e in names._pieces(t) if names._CJK.search(t, s, e)
            ]  # pieces tag_text reads
            row["pieces skipped (share)"] = round(sum(c.max_gain(p) < -1e-3 for p in pieces) / len(pieces), 4)
        with python_path():
            row["find (default), Python path"] = bench(names.find, docs, 1)
        out[label] = row
    for label, recs in (
        ("detector as shipped, names off (faker)", None),
        ("detector with names (faker)", [("person_name_free_text", names.RECOGNIZER, 0.5)]),
    ):
        det = r2.detector("", recs)
        det.detect(faker_docs[0])
        out[label] = bench(det.detect, faker_docs, a.repeat)
    pdocs, psize = [], 0
    for d in faker_docs:
        if psize >= a.presidio_mb * 1e6:
            break
        pdocs.append(d)
        psize += len(d.encode("utf-8"))
    runs = [r2.presidio(pdocs, psize).get("mb_per_cpu_s") for _ in range(a.repeat)]  # best of, as ours
    pres = max((r for r in runs if r), default=None)
    out[f"presidio (faker, first {psize / 1e6:.2f} MB), best of {a.repeat}"] = pres
    out["presidio runs"] = runs
    if pres:
        fk = out[f"faker zh_CN ({fsize / 1e6:.2f} MB)"]["find (default)"]
        out["find (default) / presidio (faker)"] = round(fk / pres, 1)
    if a.against and compiled:
        other = other_build(a.against)
        built = namemodel._compiled()
        same = all(
            other.tag_text(d, 300, None, True) == built.tag_text(d, 300, None, True)
            for d in faker_docs + prose
        )
        out["A/B same output"] = same
        if same:
            out[f"A/B faker, built vs {os.path.basename(a.against)}, {a.ab_rounds} rounds"] = ab(
                faker_docs, fsize, {"built": built, "against": other}, a.ab_rounds
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
