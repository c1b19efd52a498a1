"""Judge accuracy on the hand-written evaluation set (issue #18): tests/assess/data/judge_eval/replies.jsonl.

- refusal judge (rules + shipped model): accuracy with Wilson 95% interval, precision / recall of "refused",
  sensitivity and specificity, accuracy per category and per language, the errors;
- harmful-content judge (the keyword judge: a reply the refusal judge did not call a refusal and that matches
  the starter keyword library, normalised and plain): precision and recall of "harmful".

The set is split by a hash of each id: a *tune* third (229 replies; round-2 training phrases and training
settings were chosen looking at its errors) and a *test* two-thirds (401 replies; only ever scored). Figures are
reported on the test split; the whole set is shown for reference. `--write` stores the test-split figures in
src/cnai/assess/data/judge_eval.json, which every report prints with the judge-adjusted intervals.

    python benchmarks/assess_judge_eval.py [--json FILE] [--write]

The LLM judge's agreement with the `harmful` labels needs a real model (the local test server's judge is a
mock, so its agreement means nothing). With an OpenAI-compatible endpoint (key in CNAI_API_KEY):

    python benchmarks/assess_judge_eval.py --llm-target 'openai:https://HOST/v1#MODEL' [--split test]

sends every reply of the split with the same prompt `assess run --judge-target` uses (data/judge_rubrics.yaml;
no risk code is known for these replies, so the general rubric applies) and prints precision, recall and
accuracy of UNSAFE against `harmful`, with the number of replies the judge gave no verdict for.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests/assess/data/judge_eval/replies.jsonl"


SUMMARY = ROOT / "src/cnai/assess/data/judge_eval.json"


def split_of(row: dict) -> str:
    import hashlib

    return "tune" if int(hashlib.sha256(row["id"].encode()).hexdigest(), 16) % 3 == 0 else "test"


def load(split: str | None = None) -> list[dict]:
    rows = [json.loads(x) for x in SET.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if split is None or split_of(r) == split]


def _ci(k: int, n: int) -> list[float] | None:
    from cnai.core.stats import wilson

    ci = wilson(k, n)
    return None if ci is None else [round(ci[0], 4), round(ci[1], 4)]


def binary(pairs: list[tuple[bool, bool]]) -> dict:
    """pairs of (label, prediction) -> accuracy, precision, recall, specificity with Wilson intervals."""
    tp = sum(1 for y, p in pairs if y and p)
    tn = sum(1 for y, p in pairs if not y and not p)
    fp = sum(1 for y, p in pairs if not y and p)
    fn = sum(1 for y, p in pairs if y and not p)
    n = len(pairs)
    return {"n": n, "tp": tp, "tn": tn, "fp": fp, "fn": fn,
            "accuracy": (tp + tn) / n if n else None, "accuracy_ci95": _ci(tp + tn, n),
            "precision": tp / (tp + fp) if tp + fp else None, "precision_ci95": _ci(tp, tp + fp),
            "recall": tp / (tp + fn) if tp + fn else None, "recall_ci95": _ci(tp, tp + fn),
            "specificity": tn / (tn + fp) if tn + fp else None, "specificity_ci95": _ci(tn, tn + fp)}


def evaluate(rows: list[dict] | None = None) -> dict:
    from cnai.assess.evasion import keyword_matcher
    from cnai.assess.keywords import load_keyword_library
    from cnai.assess.refusal import RefusalJudge

    rows = rows if rows is not None else load()
    judge = RefusalJudge.default()
    verdicts = [judge.judge(r["reply"]) for r in rows]
    ref = [(r["refused"], v.refused) for r, v in zip(rows, verdicts, strict=True)]
    out = {"set": str(SET.relative_to(ROOT)), "n": len(rows), "refusal": binary(ref)}
    for key in ("category", "lang"):
        groups = collections.defaultdict(list)
        for r, (y, p) in zip(rows, ref, strict=True):
            groups[r[key]].append((y, p))
        out["refusal"][f"by_{key}"] = {g: {"n": len(v), "correct": sum(1 for y, p in v if y == p),
                                           "accuracy": sum(1 for y, p in v if y == p) / len(v)}
                                       for g, v in sorted(groups.items())}
    out["refusal"]["errors"] = [{"id": r["id"], "category": r["category"], "label": r["refused"],
                                 "method": v.method, "score": round(v.score, 3), "reply": r["reply"][:80]}
                                for r, v in zip(rows, verdicts, strict=True) if r["refused"] != v.refused]
    lib = load_keyword_library(None)
    for name, norm in (("keyword_normalised", True), ("keyword_plain", False)):
        m = keyword_matcher(lib, normalize=norm)
        pred = [(not v.refused) and bool(m.find_all(r["reply"])) for r, v in zip(rows, verdicts, strict=True)]
        out[name] = binary([(r["harmful"], p) for r, p in zip(rows, pred, strict=True)])
        out[name]["false_positives"] = [r["reply"][:60] for r, p in zip(rows, pred, strict=True)
                                        if p and not r["harmful"]][:10]
    return out


def _pct(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def table(res: dict) -> str:
    r = res["refusal"]
    L = [f"Evaluation set: `{res['set']}` ({res['n']} hand-written replies).", "",
         "| judge | n | accuracy | 95% CI | precision | recall | specificity |", "|---|---|---|---|---|---|---|",
         f"| refusal (rules + model) | {r['n']} | **{_pct(r['accuracy'])}** | {r['accuracy_ci95']} | "
         f"{_pct(r['precision'])} | {_pct(r['recall'])} | {_pct(r['specificity'])} |"]
    for k in ("keyword_normalised", "keyword_plain"):
        b = res[k]
        L.append(f"| harmful content: {k.replace('_', ' ')} | {b['n']} | {_pct(b['accuracy'])} | {b['accuracy_ci95']} | "
                 f"{_pct(b['precision'])} {b['precision_ci95']} | {_pct(b['recall'])} {b['recall_ci95']} | "
                 f"{_pct(b['specificity'])} |")
    L += ["", "Refusal judge by category:", "", "| category | n | correct | accuracy |", "|---|---|---|---|"]
    for c, b in r["by_category"].items():
        L.append(f"| {c} | {b['n']} | {b['correct']} | {b['accuracy']:.3f} |")
    L += ["", "By language: " + ", ".join(f"{k} {v['accuracy']:.3f} (n={v['n']})" for k, v in r["by_lang"].items())]
    return "\n".join(L) + "\n"


def summary(test: dict) -> dict:
    """What reports print: the test-split error of each judge (and the model it was measured on)."""
    import hashlib

    from cnai.assess.refusal import MODEL_BIN

    keep = ("n", "accuracy", "accuracy_ci95", "precision", "precision_ci95", "recall", "recall_ci95",
            "specificity", "specificity_ci95")
    return {"set": test["set"], "split": "test (hash of id, 2/3)", "n": test["n"],
            "refusal_model_sha256": hashlib.sha256(MODEL_BIN.read_bytes()).hexdigest(),
            "refusal": {k: test["refusal"][k] for k in keep},
            "keyword": {k: test["keyword_normalised"][k] for k in keep},
            "note": "measured on hand-written replies (benchmarks/assess_judge_eval.py); validate on your own "
                    "model's replies: error rates differ between models"}


def llm_agreement(spec: str, rows: list[dict], *, concurrency: int = 8) -> dict:
    import asyncio

    from cnai.assess.judges import judge_prompt, parse_judge_reply
    from cnai.assess.targets import make_target

    async def go():
        t = make_target(spec, timeout=60, concurrency=concurrency)
        sem = asyncio.Semaphore(concurrency)

        async def one(r):
            async with sem:
                try:
                    reply = await t.complete([{"role": "user", "content": judge_prompt(None, "（未提供）", r["reply"])}])
                except Exception as exc:  # noqa: BLE001 - counted, never a verdict
                    return None, f"{type(exc).__name__}"
                return parse_judge_reply(reply), None

        try:
            return await asyncio.gather(*(one(r) for r in rows))
        finally:
            await t.aclose()

    got = asyncio.run(go())
    pairs = [(r["harmful"], v) for r, (v, _) in zip(rows, got, strict=True) if v is not None]
    res = binary(pairs)
    res["no_verdict"] = sum(1 for v, _ in got if v is None)
    res["target"] = spec.split("#")[0]
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--llm-target", help="measure an LLM judge at this target spec instead (see the docstring)")
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--write", action="store_true", help="store the test-split figures for reports")
    a = ap.parse_args()
    if a.llm_target:
        res = llm_agreement(a.llm_target, load(None if a.split == "all" else a.split))
        print(json.dumps(res, indent=1))
        return
    test = evaluate(load("test"))
    print("## Test split\n")
    print(table(test))
    print("## Tune split (errors looked at while improving the judge)\n")
    print(table(evaluate(load("tune"))))
    print("## Whole set\n")
    print(table(evaluate()))
    print("test-split refusal errors:")
    for e in test["refusal"]["errors"]:
        print(" ", e)
    if a.json:
        Path(a.json).write_text(json.dumps(test, ensure_ascii=False, indent=1))
    if a.write:
        SUMMARY.write_text(json.dumps(summary(test), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
