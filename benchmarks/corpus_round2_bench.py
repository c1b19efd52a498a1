"""Benchmark for issue #16 round 2: the compiled token pass and the free-text name recognizer.

Measures, one process, CPU time (user+sys of this process), text in memory:
  1. identifier-dense text: documents of about 2 KB with one identifier-like token per 20 characters
     (Chinese filler + token, at least 2 filler characters) (resident IDs, mobiles, landlines, bank cards, USCC, passports, permits, plates,
     e-mail, IPv4, and the evaluation generator's hard negatives such as wrong check digits): the detector
     with the compiled pass (_wordscan: keyword/cue pass + token pass) and on the pure-Python path
     (CNAI_CORPUS_MATCHER=python), with a check that both give the same findings;
  2. normal Chinese text (Faker zh_CN paragraphs, as in corpus_bench.py): the detector as shipped, the
     detector with the free-text name and address recognizers enabled (names.py/addresses.py), and
     Presidio AnalyzerEngine on a sample of the same text.

Presidio: presidio-analyzer from PyPI (`.venv/bin/pip install presidio-analyzer`, not a cnai dependency).
Its Chinese spaCy model (zh_core_web_sm) is distributed as a download from GitHub, not through PyPI (the
PyPI name is a placeholder), so no Chinese NER model can be installed here; the best configuration
available is a blank spaCy "zh" pipeline (character segmentation, no model) with Presidio's predefined
pattern recognizers registered for "zh" (e-mail, phone, credit card, IP, IBAN, URL, crypto, date...).

Usage: .venv/bin/python benchmarks/corpus_round2_bench.py [--dense-mb 3] [--normal-mb 3] [--presidio-mb 0.3]
Prints a JSON result (summarised by hand in benchmarks/results/corpus.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from corpus_bench import CJK_COMMON  # noqa: E402

_TOKEN = re.compile(r"[+0-9A-Za-z][0-9A-Za-z._%@:+\- ]{4,}[0-9A-Za-z]")
_TOKEN_TYPES = {"cn_resident_id", "cn_mobile", "cn_landline", "bank_card", "uscc", "passport", "hk_macao_permit",
                "ip_address", "email", "license_plate"}


def identifier_pool(n: int = 6000, seed: int = 21) -> list[str]:
    """Identifier strings from the evaluation generator: gold spans of the token types, and the tokens of
    its hard-negative sentences (wrong check digits, order numbers, dates ...)."""
    from cnai.corpus.evalset import generate

    pool = []
    for it in generate(n, seed=seed):
        spans = [it["text"][g["start"]:g["end"]] for g in it["labels"] if g["type"] in _TOKEN_TYPES]
        if spans:
            pool.extend(spans)
        elif not it["labels"]:
            pool.extend(m.group() for m in _TOKEN.finditer(it["text"]))
    return pool


def dense_docs(mb: float, seed: int = 3) -> tuple[list[str], int, int]:
    rnd = random.Random(seed)
    pool = identifier_pool()
    punct = "，。、；：的了在是和"
    docs, size, ids = [], 0, 0
    while size < mb * 1e6:
        parts = []
        while sum(len(p) for p in parts) < 700:  # about 2 KB of UTF-8 per document
            tok = rnd.choice(pool)  # Chinese filler up to 20 characters per identifier, identifier included
            parts.append("".join(rnd.choice(CJK_COMMON + punct) for _ in range(max(2, 20 - len(tok)))))
            parts.append(tok)
            ids += 1
        doc = "".join(parts)
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    return docs, size, ids


def normal_docs(mb: float, seed: int = 0) -> tuple[list[str], int]:
    from faker import Faker

    fk = Faker("zh_CN")
    fk.seed_instance(seed)
    rnd = random.Random(seed)
    filler = [fk.paragraph(nb_sentences=rnd.randint(3, 8)).replace(".", "。") for _ in range(2000)]
    docs, size = [], 0
    while size < mb * 1e6:
        doc = "".join(rnd.choice(filler) for _ in range(rnd.randint(2, 12)))
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    return docs, size


def timed(fn, docs) -> tuple[float, int]:
    t0 = time.process_time()
    n = sum(len(fn(d)) for d in docs)
    return time.process_time() - t0, n


def detector(matcher: str = "", recognizers: list | None = None):
    from cnai.corpus.detect import Detector

    old = os.environ.get("CNAI_CORPUS_MATCHER")
    os.environ["CNAI_CORPUS_MATCHER"] = matcher
    try:
        return Detector(recognizers=recognizers)
    finally:
        if old is None:
            os.environ.pop("CNAI_CORPUS_MATCHER")
        else:
            os.environ["CNAI_CORPUS_MATCHER"] = old


def bench_dense(mb: float) -> dict:
    docs, size, ids = dense_docs(mb)
    out = {"documents": len(docs), "mb": round(size / 1e6, 2), "identifiers": ids,
           "characters_per_identifier": round(sum(len(d) for d in docs) / ids, 1)}
    results = {}
    for name, matcher in (("compiled", ""), ("python_path", "python")):
        det = detector(matcher)
        det.detect(docs[0])
        dt, n = timed(det.detect, docs)
        results[name] = [det.detect(d) for d in docs[:300]]
        out[name] = {"cpu_s": round(dt, 3), "mb_per_cpu_s": round(size / 1e6 / dt, 1), "findings": n,
                     "token_pass": "compiled" if det._tok is not None else "python"}
    out["same_findings_first_300_docs"] = results["compiled"] == results["python_path"]
    out["compiled_vs_python"] = round(out["python_path"]["cpu_s"] / out["compiled"]["cpu_s"], 2)
    return out


def presidio(docs: list[str], size: int) -> dict:
    try:
        import tldextract

        # e-mail/URL recognizers call tldextract: use its bundled suffix list (no network)
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as exc:
        return {"available": False, "reason": f"presidio-analyzer not installed: {exc}"}
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp())
    spacy.blank("zh").to_disk(tmp / "blank_zh")  # character segmentation; no Chinese model can be downloaded
    provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
                                                    "models": [{"lang_code": "zh", "model_name": str(tmp / "blank_zh")}]})
    registry = RecognizerRegistry(supported_languages=["zh"])
    registry.load_predefined_recognizers(languages=["zh"])
    if not registry.recognizers:  # predefined recognizers are declared for "en": re-declare them for "zh"
        registry.load_predefined_recognizers(languages=["en"])
        for r in registry.recognizers:
            r.supported_language = "zh"
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), registry=registry, supported_languages=["zh"])
    analyzer.analyze(docs[0], language="zh")
    dt, n = timed(lambda t: analyzer.analyze(t, language="zh"), docs)
    return {"available": True, "mb": round(size / 1e6, 2), "cpu_s": round(dt, 2), "mb_per_cpu_s": round(size / 1e6 / dt, 3),
            "findings": n, "recognizers": sorted({type(r).__name__ for r in registry.recognizers}),
            "note": "blank spaCy 'zh' pipeline (no model: zh_core_web_sm is a GitHub download), predefined "
                    "pattern recognizers for 'zh', one process"}


def bench_normal(mb: float, presidio_mb: float) -> dict:
    from cnai.corpus.addresses import RECOGNIZER as ADDR
    from cnai.corpus.names import RECOGNIZER as NAMES

    docs, size = normal_docs(mb)
    out = {"documents": len(docs), "mb": round(size / 1e6, 2)}
    for name, recs in (("detector_default", None),
                       ("detector_with_names", [("person_name_free_text", NAMES, 0.5)]),
                       ("detector_with_names_and_addresses", [("person_name_free_text", NAMES, 0.5),
                                                              ("address_free_text", ADDR, 0.5)])):
        det = detector("", recs)
        det.detect(docs[0])
        sub = docs if name == "detector_default" else docs[: max(1, len(docs) // 10)]  # the slow ones on a tenth
        sub_size = sum(len(d.encode("utf-8")) for d in sub)
        dt, n = timed(det.detect, sub)
        out[name] = {"mb": round(sub_size / 1e6, 2), "cpu_s": round(dt, 3), "mb_per_cpu_s": round(sub_size / 1e6 / dt, 2),
                     "findings": n}
    pdocs, psize = [], 0
    for d in docs:
        if psize >= presidio_mb * 1e6:
            break
        pdocs.append(d)
        psize += len(d.encode("utf-8"))
    out["presidio"] = presidio(pdocs, psize)
    if out["presidio"].get("available"):
        p = out["presidio"]["mb_per_cpu_s"]
        out["ratios_vs_presidio"] = {k: round(out[k]["mb_per_cpu_s"] / p, 1) for k in
                                     ("detector_default", "detector_with_names", "detector_with_names_and_addresses")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dense-mb", type=float, default=3.0)
    ap.add_argument("--normal-mb", type=float, default=3.0)
    ap.add_argument("--presidio-mb", type=float, default=0.3)
    args = ap.parse_args()
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version(),
           "cpus": os.cpu_count(), "load_average_before": os.getloadavg(),
           "identifier_dense": bench_dense(args.dense_mb),
           "normal_chinese": bench_normal(args.normal_mb, args.presidio_mb)}
    res["load_average_after"] = os.getloadavg()
    print(json.dumps(res, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
