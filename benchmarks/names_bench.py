"""Throughput of the person-name recognizer (cnai.corpus.names) on ordinary Chinese, side by side with Presidio.

Texts: (1) the assess banks' prompts (prose we wrote), (2) Faker zh_CN paragraphs (the "normal Chinese text"
of benchmarks/corpus_round2_bench.py). Reports MB (UTF-8) per CPU-second for:
- names.find_rules (the rules alone, round 2's recognizer),
- names.find (rules + the CRF on every sentence: the default),
- names.find(gate=True) (the CRF only on sentences holding a trigger),
- the corpus Detector with the name recognizer enabled, and Presidio (blank zh pipeline + predefined
  pattern recognizers, as in corpus_round2_bench.py; presidio-analyzer is not a cnai dependency).
Accuracy is not measured here (see data/names/train_crf.py --cv and `cnai corpus eval --set realistic`).
Usage: .venv/bin/python benchmarks/names_bench.py [--mb 0.2] [--presidio-mb 0.1]
"""

import argparse
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cnai.corpus import names  # noqa: E402


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


def bench(fn, docs: list[str]) -> float:
    size = sum(len(t.encode("utf-8")) for t in docs)
    t0 = time.process_time()
    for t in docs:
        fn(t)
    return round(size / 1e6 / (time.process_time() - t0), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=0.2)
    ap.add_argument("--presidio-mb", type=float, default=0.1)
    a = ap.parse_args()
    import corpus_round2_bench as r2

    prose = corpus()
    if not prose:
        raise SystemExit("no text found under src/cnai/assess/data/banks")
    faker_docs, fsize = r2.normal_docs(a.mb)
    names.find("预热 Zhang Wei")  # loads the tables, the model and pypinyin outside the timing
    names.find_rules("预热 Zhang Wei")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    out = {}
    for label, docs in (("assess prose", prose), (f"faker zh_CN ({fsize / 1e6:.2f} MB)", faker_docs)):
        out[label] = {
            "find_rules": bench(names.find_rules, docs),
            "find (default)": bench(names.find, docs),
            "find(gate=True)": bench(lambda t: names.find(t, gate=True), docs),
        }
    det = r2.detector("", [("person_name_free_text", names.RECOGNIZER, 0.5)])
    det.detect(faker_docs[0])
    out["detector with names (faker)"] = bench(det.detect, faker_docs)
    pdocs, psize = [], 0
    for d in faker_docs:
        if psize >= a.presidio_mb * 1e6:
            break
        pdocs.append(d)
        psize += len(d.encode("utf-8"))
    out["presidio (faker)"] = r2.presidio(pdocs, psize).get("mb_per_cpu_s")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
