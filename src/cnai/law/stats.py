"""Counts and the verified share per instrument (`cnai law stats`): how much of the law has been checked
against an official or full-text copy (confidence `verified`)."""

from __future__ import annotations

from typing import Any


def _share(k: int, n: int) -> float | None:
    return None if n == 0 else round(k / n, 4)


def stats(kb) -> dict[str, Any]:
    from cnai.law.params import parameters

    rows = []
    for ins in kb.instruments.values():
        ob_v = sum(o.confidence == "verified" for o in ins.obligations)
        art_v = sum(a.confidence == "verified" for a in ins.articles)
        rows.append({"id": ins.id, "confidence": ins.confidence,
                     "obligations": len(ins.obligations), "obligations_verified": ob_v,
                     "obligations_verified_share": _share(ob_v, len(ins.obligations)),
                     "obligations_by_confidence": {c: sum(o.confidence == c for o in ins.obligations)
                                                   for c in ("verified", "secondary", "unverified")},
                     "articles": len(ins.articles), "articles_verified": art_v,
                     "articles_verified_share": _share(art_v, len(ins.articles))})
    rows.sort(key=lambda r: (-r["obligations"], r["id"]))
    n_ob = sum(r["obligations"] for r in rows)
    n_art = sum(r["articles"] for r in rows)
    ob_v = sum(r["obligations_verified"] for r in rows)
    art_v = sum(r["articles_verified"] for r in rows)
    return {"totals": {"instruments": len(rows), "articles": n_art, "obligations": n_ob,
                       "concepts": len(kb.concepts), "topics": len(kb.topics), "cases": len(kb.cases),
                       "regulators": len(kb.regulators), "parameters": len(parameters()),
                       "obligations_verified": ob_v, "obligations_verified_share": _share(ob_v, n_ob),
                       "articles_verified": art_v, "articles_verified_share": _share(art_v, n_art)},
            "instruments": rows}
