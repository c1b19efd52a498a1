"""Judge accuracy on the hand-written held-out evaluation set (issue #18): tests/assess/data/judge_eval/heldout_r9.jsonl.

- refusal judge (rules + shipped model): accuracy with Wilson 95% interval, precision / recall of "refused",
  sensitivity and specificity, a confusion table per reply class and accuracy per language, the errors;
- harmful-content judge (the keyword judge: a reply the refusal judge did not call a refusal and that matches
  the built-in keyword library, normalised and plain): precision and recall of "harmful".

The held-out set `heldout_r9.jsonl` is written in round 10 by someone who has not seen the judge, committed before
any judge runs on it, and is scored only here, once, by the lead; nothing is fitted on it (its writer adds its
description). Its labelling rules
and apart-ness check are in tests/assess/data/judge_eval/README.md. The development replies (`replies.jsonl`, the
round-1 set, `dev_r2.jsonl` .. `dev_r13.jsonl`, among them the earlier held-out sets whose errors were seen: dev_r3,
dev_r4, dev_r9 = the former heldout_r4 (0.861 with the round-4 judge), dev_r10 = the former heldout_r5 (733 replies,
0.933 with the round-6 judge), dev_r11 = the former heldout_r6 (710 replies, 0.935 with the round-7 judge) and dev_r12 = the former
heldout_r7 (715 replies, 0.930 with the round-8 judge), dev_r13 = the former heldout_r8 (705 replies with their
requests, 0.901 with the round-8 judge)) are what the judge is fitted on and tuned against (`python -m cnai.assess.refusal cv`
gives the cross-validated development accuracy); `--dev` scores only them (never the held-out set) for reference — a
training-set figure, never an accuracy to publish. `--write` stores the held-out figures in
src/cnai/assess/data/judge_eval.json, which every report prints with the judge-adjusted intervals.

    python benchmarks/assess_judge_eval.py [--json FILE] [--write] [--dev]

The LLM judge's agreement with the `harmful` labels needs a real model; the command is
`cnai assess judge-eval --judge llm --endpoint URL --model NAME` (see docs/assess.md). No agreement figure is
published: no model was reachable where this was built.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests/assess/data/judge_eval/heldout_r9.jsonl"
DEV = [ROOT / "tests/assess/data/judge_eval" / f
       for f in ("replies.jsonl", *(f"dev_r{n}.jsonl" for n in range(2, 14)))]


SUMMARY = ROOT / "src/cnai/assess/data/judge_eval.json"


def load(dev: bool = False) -> list[dict]:
    files = DEV if dev else [SET]
    return [json.loads(x) for f in files for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]


from cnai.assess.judge_eval import binary  # noqa: E402  (one home for the confusion figures)


def evaluate(rows: list[dict] | None = None) -> dict:
    from cnai.assess.evasion import keyword_matcher
    from cnai.assess.keywords import load_keyword_library
    from cnai.assess.refusal import RefusalJudge

    rows = rows if rows is not None else load()
    judge = RefusalJudge.default()
    verdicts = [judge.judge(r["reply"]) for r in rows]
    ref = [(r["refused"], v.refused) for r, v in zip(rows, verdicts, strict=True)]
    out = {"set": str(SET.relative_to(ROOT)), "n": len(rows), "refusal": binary(ref)}
    if rows and rows[0]["id"].startswith(("je", "jd")):
        out["set"] = "development replies (fitted on: not an accuracy)"
    for key in ("category", "lang"):
        groups = collections.defaultdict(list)
        for r, (y, p) in zip(rows, ref, strict=True):
            groups[r[key]].append((y, p))
        out["refusal"][f"by_{key}"] = {g: {"n": len(v), "correct": sum(1 for y, p in v if y == p),
                                           "accuracy": sum(1 for y, p in v if y == p) / len(v)}
                                       for g, v in sorted(groups.items())}
    conf = collections.defaultdict(lambda: {"n": 0, "judged_refused": 0, "judged_not_refused": 0})
    for r, (y, p) in zip(rows, ref, strict=True):
        c = conf[r["category"]]
        c["n"] += 1
        c["label"] = "refused" if y else "not refused"
        c["judged_refused" if p else "judged_not_refused"] += 1
    out["refusal"]["confusion_by_category"] = dict(sorted(conf.items()))
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
    L += ["", "Refusal judge by reply class (confusion):", "",
          "| class | label | n | judged refused | judged not refused | accuracy |", "|---|---|---|---|---|---|"]
    for c, b in r["confusion_by_category"].items():
        L.append(f"| {c} | {b['label']} | {b['n']} | {b['judged_refused']} | {b['judged_not_refused']} | "
                 f"{r['by_category'][c]['accuracy']:.3f} |")
    L += ["", "By language: " + ", ".join(f"{k} {v['accuracy']:.3f} (n={v['n']})" for k, v in r["by_lang"].items())]
    return "\n".join(L) + "\n"


def summary(test: dict) -> dict:
    """What reports print: the test-split error of each judge (and the model it was measured on)."""
    import hashlib

    from cnai.assess.refusal import MODEL_BIN, rules_fingerprint

    keep = ("n", "accuracy", "accuracy_ci95", "precision", "precision_ci95", "recall", "recall_ci95",
            "specificity", "specificity_ci95")
    return {"set": test["set"], "n": test["n"],
            "split": "held-out (written blind by someone who had not seen the judge, scored once)",
            "refusal_model_sha256": hashlib.sha256(MODEL_BIN.read_bytes()).hexdigest(),
            "refusal_rules_sha256": rules_fingerprint(),
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
    ap.add_argument("--write", action="store_true", help="store the held-out figures for reports")
    ap.add_argument("--dev", action="store_true",
                    help="score ONLY the development replies (fitted on; never opens the held-out set)")
    a = ap.parse_args()
    if a.dev:
        # Tuners use this while the held-out set is sealed: it must not read or score that set.
        if a.write or a.json:
            ap.error("--dev figures are not an accuracy: --write/--json store held-out figures only")
        print("## Development replies (the judge is fitted on these: not an accuracy)\n")
        print(table(evaluate(load(dev=True))))
        return
    if not SET.exists():  # between rounds: the last set was scored and retired into development, the next not written
        ap.exit(1, f"{SET}: the held-out set of this round is not written yet (--dev scores the development replies)\n")
    test = evaluate(load())
    print("## Held-out evaluation set\n")
    print(table(test))
    print("held-out refusal errors:")
    for e in test["refusal"]["errors"]:
        print(" ", e)
    if a.json:
        Path(a.json).write_text(json.dumps(test, ensure_ascii=False, indent=1))
    if a.write:
        SUMMARY.write_text(json.dumps(summary(test), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
