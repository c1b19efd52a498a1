"""Legal bounds on keeping the gateway log, each read from the knowledge base (one home for each fact)."""

from __future__ import annotations

# Six months is at most 184 days (e.g. 1 July - 31 December), so 184 is the safe minimum.
# (citation, bound, days or None, what the bound means for this log). Numbers here restate the article the
# citation names; the article text, source and confidence come from the knowledge base at run time.
BOUNDS = [
    ("cybersecurity-law:23", "minimum", 184, "network logs (this request log) kept at least six months"),
    ("ai-labeling:9", "minimum", 184, "records of content delivered without an explicit label kept at least six months"),
    ("generative-ai:11", "maximum", None, "no unlawful keeping of inputs/usage records that identify a user: "
                                          "hashes by default, full text only when the policy says so"),
    ("pipl:47", "maximum", None, "delete personal information when the stated retention period ends"),
]


def legal_minimum_days() -> int:
    """The longest of the legal minimum keeping periods above (days)."""
    return max(days for _c, bound, days, _m in BOUNDS if bound == "minimum" and days)


def retention_report(retention_days: int, store_text: bool) -> dict:
    from cnai.law.kb import load
    kb = load()
    rows = []
    for cite, bound, days, meaning in BOUNDS:
        try:
            ins, art = kb.resolve(cite)
            rows.append({"citation": cite, "bound": bound, "days": days, "meaning": meaning,
                         "article_title": art.title if art else None, "confidence": art.confidence if art else None,
                         "source": ins.sources[0] if ins.sources else None})
        except KeyError as e:
            rows.append({"citation": cite, "bound": bound, "days": days, "meaning": meaning,
                         "problem": f"not in the knowledge base: {e}"})
    minimum = legal_minimum_days()
    problems = []
    if retention_days < minimum:
        problems.append(f"retention_days {retention_days} is below the legal minimum of {minimum} days "
                        "(cybersecurity-law:23)")
    return {"retention_days": retention_days, "store_text": store_text, "legal_minimum_days": minimum,
            "legal_maximum": "no fixed number: as short as the purpose needs (generative-ai:11, pipl:47)",
            "bounds": rows, "problems": problems, "ok": not problems}
