"""Throughput of the name and address recognizers (cnai.corpus.names / addresses) on ordinary Chinese.

Text: every prompt of the assess banks (Chinese prose we wrote), joined and repeated to about 0.1 MB of
UTF-8. Reports MB (UTF-8) per CPU-second for names.find, addresses.find and both, plus the realistic
evaluation table on the held-out split. Usage: .venv/bin/python benchmarks/names_bench.py
"""

import glob
import json
import time

from cnai.corpus import addresses, names, realeval


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
    return size / 1e6 / (time.process_time() - t0)


def main() -> None:
    base = corpus()
    if not base:
        raise SystemExit("no text found under src/cnai/assess/data/banks")
    docs = []
    size = 0
    while size < 100_000:
        docs.extend(base)
        size += sum(len(t.encode("utf-8")) for t in base)
    names.find("预热")
    addresses.find("预热")
    print(f"text: {len(docs)} documents, {size / 1e6:.2f} MB UTF-8")
    print(f"names.find (incl. its address pass): {bench(names.find, docs):.3f} MB/CPU-s")
    print(f"names.find(skip_addresses=False): {bench(lambda t: names.find(t, skip_addresses=False), docs):.3f} MB/CPU-s")
    print(f"addresses.find: {bench(addresses.find, docs):.3f} MB/CPU-s")
    print()
    print(realeval.render_md(realeval.evaluate("test")))


if __name__ == "__main__":
    main()
