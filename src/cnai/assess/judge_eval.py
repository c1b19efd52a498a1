"""Measure a judge against a labelled reply set (issue #18): `cnai assess judge-eval`.

A labelled set is JSONL, one reply per line: ``{"reply": "...", "refused": true|false, "harmful": true|false}``
(optional ``id``, ``category``, ``lang``). The refusal judge is scored against ``refused``; the harmful-content
judges (keyword library, or an LLM judge at any OpenAI-compatible endpoint) against ``harmful``.

    rows = load_labelled("replies.jsonl")
    score(rows, "refusal") / score(rows, "keyword") / score(rows, "llm", target="openai:URL#MODEL")
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

from cnai.errors import InputError

JUDGES = ("refusal", "keyword", "llm")


def load_labelled(path: str | Path) -> list[dict]:
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", path=str(p))
    rows = []
    for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON ({exc.msg})", path=str(p), field=f"line {i}") from None
        if not isinstance(r, dict) or not isinstance(r.get("reply"), str):
            raise InputError("each line needs a string 'reply'", path=str(p), field=f"line {i}")
        for k in ("refused", "harmful"):
            if k in r and not isinstance(r[k], bool):
                raise InputError(f"'{k}' must be true or false", path=str(p), field=f"line {i}")
        r.setdefault("id", f"line {i}")
        rows.append(r)
    if not rows:
        raise InputError("no labelled replies", path=str(p))
    return rows


def _ci(k: int, n: int) -> list[float] | None:
    from cnai.core.stats import wilson

    ci = wilson(k, n)
    return None if ci is None else [round(ci[0], 4), round(ci[1], 4)]


def binary(pairs: list[tuple[bool, bool]]) -> dict:
    """(label, prediction) pairs -> accuracy, precision, recall, specificity with Wilson 95% intervals."""
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


def _by_class(rows: list[dict], pairs: list[tuple[bool, bool]]) -> dict:
    out: dict = collections.defaultdict(lambda: {"n": 0, "correct": 0, "judged_true": 0})
    for r, (y, p) in zip(rows, pairs, strict=True):
        c = out[r.get("category", "-")]
        c["n"] += 1
        c["correct"] += y == p
        c["judged_true"] += p
    return dict(sorted(out.items()))


def score(rows: list[dict], judge: str, *, target: str | None = None, keywords=None,
          concurrency: int = 8, timeout: float = 60.0) -> dict:
    """Agreement of one judge with the labels of `rows`."""
    if judge not in JUDGES:
        raise InputError(f"unknown judge {judge!r}; one of {', '.join(JUDGES)}", field="--judge")
    label = "refused" if judge == "refusal" else "harmful"
    rows = [r for r in rows if label in r]
    if not rows:
        raise InputError(f"no reply carries a '{label}' label", field="--set")
    no_verdict = 0
    if judge == "refusal":
        from .refusal import RefusalJudge

        j = RefusalJudge.default()
        pred = [j.judge(r["reply"]).refused for r in rows]
    elif judge == "keyword":
        from .evasion import keyword_matcher
        from .keywords import load_keyword_library
        from .refusal import RefusalJudge

        j = RefusalJudge.default()
        m = keyword_matcher(load_keyword_library(keywords), normalize=True)
        pred = [(not j.judge(r["reply"]).refused) and bool(m.find_all(r["reply"])) for r in rows]
    else:
        if not target:
            raise InputError("the llm judge needs --endpoint URL --model NAME (or --judge-target SPEC)",
                             field="--endpoint")
        verdicts = _ask_llm(target, [r["reply"] for r in rows], concurrency=concurrency, timeout=timeout)
        kept = [(r, v) for r, v in zip(rows, verdicts, strict=True) if v is not None]
        no_verdict = len(rows) - len(kept)
        if not kept:
            raise InputError(f"the judge at {target.split('#')[0]} gave no verdict for any reply", field="--endpoint")
        rows, pred = [r for r, _ in kept], [v for _, v in kept]
    pairs = [(r[label], p) for r, p in zip(rows, pred, strict=True)]
    res = {"judge": judge, "label": label, **binary(pairs), "by_category": _by_class(rows, pairs)}
    if judge == "llm":
        res["no_verdict"] = no_verdict
        res["target"] = target.split("#")[0]
    return res


def _ask_llm(spec: str, replies: list[str], *, concurrency: int, timeout: float) -> list[bool | None]:
    """The same prompt `assess run --judge-target` uses (general rubric: no risk code is known here)."""
    import asyncio

    from .judges import judge_prompt, parse_judge_reply
    from .targets import make_target

    async def go():
        t = make_target(spec, timeout=timeout, concurrency=concurrency)
        sem = asyncio.Semaphore(concurrency)

        async def one(reply: str):
            async with sem:
                try:
                    out = await t.complete([{"role": "user", "content": judge_prompt(None, "（未提供）", reply)}])
                except Exception:  # noqa: BLE001 - an unreachable or failing judge is counted as no verdict
                    return None
                return parse_judge_reply(out)

        try:
            return await asyncio.gather(*(one(r) for r in replies))
        finally:
            await t.aclose()

    return asyncio.run(go())
