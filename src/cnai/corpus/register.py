"""Source and licence register: one manifest entry per training-data source, checked for completeness.

Requirements are our own summaries of TC260-003 / GB/T 45654 §5.1 and the Interim Measures Art. 7,
each with its source and confidence marker (see shared/reference/gbt-45654-security-assessment.md §2).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cnai.errors import InputError

ORIGINS = ("self_collected", "scraped", "purchased", "open_source", "user_inputs")

# id -> (applies to origins or "all", fields that must be non-empty, summary, citation, confidence)
REQUIREMENTS = [
    ("identity", "all", ["name", "origin"],
     "Every source is identified and its origin type recorded (traceability).",
     "gb-t-45654:5.1; generative-ai:7", "secondary"),
    ("collection_dates", "all", ["collected_from", "collected_to"],
     "Collection period recorded, so the data can be traced and re-checked.",
     "gb-t-45654:5.1 (traceability)", "unverified"),
    ("outside_mainland_share", "all", ["share_outside_mainland"],
     "Share of content from outside mainland China recorded (filing forms ask for domestic/foreign mix).",
     "gb-t-45654:5.1 (source diversity); filing-form practice", "secondary"),
    ("pre_collection_check", "all", ["pre_collection_check"],
     "Source assessed before collection; a source with more than 5% illegal/harmful content is not collected.",
     "gb-t-45654:5.1 (5% rule)", "secondary"),
    ("open_source_licence", ("open_source",), ["licence", "licence_evidence"],
     "Open-source data: the licence and a copy/link of the licence or authorisation document are kept.",
     "gb-t-45654:5.1 (traceability, open-source corpus)", "unverified"),
    ("collection_records", ("self_collected", "scraped"), ["collection_records", "robots_terms_notes"],
     "Self-collected/scraped data: collection records kept; sites whose robots.txt or terms forbid "
     "collection are not collected.",
     "gb-t-45654:5.1 (traceability, self-collected corpus)", "unverified"),
    ("commercial_contract", ("purchased",), ["contract_evidence", "supplier_commitments"],
     "Purchased data: a valid contract, and the supplier's commitments and proof on source, quality and "
     "security, reviewed by the provider.",
     "gb-t-45654:5.1 (traceability, commercial corpus)", "unverified"),
    ("user_authorisation", ("user_inputs",), ["authorisation_records"],
     "User inputs used for training: records of the users' authorisation are kept.",
     "gb-t-45654:5.1 (traceability, user inputs); gb-t-45654:7 (opt-out of training use)", "unverified"),
    ("pi_legal_basis", "pi", ["pi_legal_basis"],
     "Data with personal information: consent or another legal basis is recorded; sensitive PI needs "
     "separate consent.",
     "generative-ai:7(3); pipl:13; pipl:29; gb-t-45654:5.2", "verified"),
    ("ip_review", "all", ["ip_review"],
     "Intellectual-property infringement risk of the source reviewed before training.",
     "generative-ai:7(2); gb-t-45654:5.2", "secondary"),
]

FOREIGN_OPEN_SOURCE_CAP = 0.30  # filing-form practice, not found in the standard [S-weak]


def load_register(path: str | Path) -> list[dict]:
    from cnai.core.loaders import load_json, load_yaml

    p = Path(path)
    # aliases, duplicate keys, depth and size are refused with the file and line (cnai.core.loaders)
    data = load_json(p) if p.suffix.lower() == ".json" else load_yaml(p, dates_as_strings=True)
    if isinstance(data, dict):
        data = data.get("sources")
    if not isinstance(data, list):
        raise InputError("expected a list of sources (or a mapping with 'sources:')", path=str(p))
    for i, s in enumerate(data):
        if not isinstance(s, dict):
            raise InputError("each source must be a mapping", path=str(p), field=f"sources[{i}]")
        if s.get("origin") is not None and s["origin"] not in ORIGINS:
            raise InputError(f"origin must be one of {', '.join(ORIGINS)}, got {s['origin']!r}", path=str(p),
                             field=f"sources[{i}].origin")
        share = s.get("share_outside_mainland")
        if share is not None and (not isinstance(share, (int, float)) or not 0 <= share <= 1):
            raise InputError("share_outside_mainland must be a number from 0 to 1", path=str(p),
                             field=f"sources[{i}].share_outside_mainland")
        for fld in ("collected_from", "collected_to"):
            v = s.get(fld)
            if v is not None and not isinstance(v, _dt.date):
                try:
                    _dt.date.fromisoformat(str(v))
                except ValueError:
                    raise InputError("expected a date YYYY-MM-DD", path=str(p), field=f"sources[{i}].{fld}") from None
    return data


def _filled(v) -> bool:
    if v is None:
        return False
    if isinstance(v, str):
        return bool(v.strip())
    if isinstance(v, (list, dict)):
        return bool(v)
    return True


def check_register(sources: list[dict], audit_sources: dict | None = None) -> dict:
    """Completeness per source; optionally cross-check with the audit's per-source PI/risk rates."""
    results = []
    missing_total = 0
    for s in sources:
        origin = s.get("origin")
        items = []
        for rid, applies, fields, summary, cite, conf in REQUIREMENTS:
            if applies == "pi":
                audit = (audit_sources or {}).get(s.get("name"), {})
                if not (s.get("contains_personal_information") or audit.get("pi_doc_rate", 0) > 0):
                    continue
            elif applies != "all" and origin not in applies:
                continue
            missing = [f for f in fields if not _filled(s.get(f))]
            missing_total += len(missing)
            items.append({"requirement": rid, "status": "complete" if not missing else "incomplete",
                          "missing": missing, "summary": summary, "citation": cite, "confidence": conf})
        entry = {"name": s.get("name"), "origin": origin,
                 "complete": all(i["status"] == "complete" for i in items), "requirements": items}
        if audit_sources and s.get("name") in audit_sources:
            a = audit_sources[s["name"]]
            entry["audit"] = {"docs": a["docs"], "risk_doc_rate": a["risk_doc_rate"], "pi_doc_rate": a["pi_doc_rate"],
                              "verdict": a["verdict"]}
            if a["pi_doc_rate"] > 0 and not s.get("contains_personal_information"):
                entry.setdefault("warnings", []).append(
                    "audit found personal information but the register says contains_personal_information is false")
        results.append(entry)
    warnings = []
    names = {s.get("name") for s in sources}
    if audit_sources:
        unregistered = sorted(set(audit_sources) - names)
        if unregistered:
            warnings.append(f"sources in the corpus with no register entry: {', '.join(unregistered)}")
    def size(s):  # the audit's byte count wins over the register's own `bytes:` figure
        a = (audit_sources or {}).get(s.get("name"))
        return (a or {}).get("bytes") or s.get("bytes") or 1

    weights = [(size(s), s) for s in sources if s.get("origin") == "open_source"]
    total_w = sum(size(s) for s in sources) or 1
    foreign_os = sum(w * (s.get("share_outside_mainland") or 0) for w, s in weights) / total_w
    if foreign_os > FOREIGN_OPEN_SOURCE_CAP:
        warnings.append(f"foreign open-source share about {foreign_os:.0%} exceeds the 30% seen in filing practice "
                        "(not a rule found in the standard; secondary)")
    return {"sources": results, "complete": all(r["complete"] for r in results) and not
            any("no register entry" in w for w in warnings),
            "missing_fields": missing_total, "warnings": warnings}


TEMPLATE = """\
# Training-data source register for `cnai corpus audit --register` / `cnai corpus register check`.
# One entry per source; `name` matches the source name in the audit (the input file stem or directory name,
# or the value of --source-field).
sources:
  - name: web_news
    origin: scraped            # self_collected | scraped | purchased | open_source | user_inputs
    description: News sites crawled 2024-2025
    bytes: 4000000000          # optional; the audit's measured size is used when available
    collected_from: 2024-01-01
    collected_to: 2025-06-30
    share_outside_mainland: 0.05
    pre_collection_check: "sampled 4,000 pages per site before crawling; all sites < 1% harmful"
    collection_records: "crawl logs in s3://example/crawl-logs/"
    robots_terms_notes: "robots.txt honoured; sites with no-crawl terms excluded (list in crawl-policy.md)"
    ip_review: "news copyright reviewed by legal, 2025-07"
    contains_personal_information: true
    pi_legal_basis: "publicly disclosed information within a reasonable scope (PIPL Art. 13(6)); PI redacted"
  - name: open_wiki
    origin: open_source
    licence: CC-BY-SA-4.0
    licence_evidence: "LICENSE file archived with the snapshot"
    collected_from: 2025-03-01
    collected_to: 2025-03-01
    bytes: 6000000000
    share_outside_mainland: 0.6
    pre_collection_check: "keyword screening of a 4,000-item sample"
    ip_review: "licence permits training with attribution"
"""


class _Source(BaseModel):
    """One training-data source (requirement fields above are free text; these are the typed ones)."""

    model_config = ConfigDict(extra="allow")
    name: str | None = None
    origin: str | None = None
    share_outside_mainland: float | None = Field(None, ge=0, le=1)
    robots: str | None = None
    terms: str | None = None
    crawl_log: str | None = None
    user_agent: str | None = None
    crawl_limit_rps: float | None = Field(None, gt=0)
    competitor: bool | None = None
    licence: str | None = None


class SourceRegisterFile(BaseModel):
    """The source and licence register (`cnai corpus register check`, `cnai corpus sources check`)."""

    sources: list[_Source]
