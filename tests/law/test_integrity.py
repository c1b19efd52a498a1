"""Data integrity of the knowledge base: every citation resolves, every trigger names known facts or
concepts, ids are unique, dates agree with the status history."""

import datetime as dt
import re

from cnai.law.kb import load
from cnai.law.models import CITATION_RE
from cnai.scope import expr
from cnai.scope.profile import fact_paths

KB = load()
FACTS = fact_paths()
# The contract lives in the repo (docs/spec/, copied from the steering repo's shared/spec/).
SPEC_IDS = re.findall(r"^\| `([a-z0-9-]+)` \|", (__import__("pathlib").Path(__file__).resolve().parents[2]
                                                  / "docs/spec/instruments.md").read_text(), re.M)


def all_citations():
    for ins in KB.instruments.values():
        for o in ins.obligations:
            for c in (*o.citations, *o.penalty):
                yield f"{o.id}", c
        for c in ins.concepts:
            for x in c.citations:
                yield f"concept {c.id}", x
    for kind, table in (("topic", KB.topics), ("case", KB.cases), ("regulator", KB.regulators)):
        for rec in table.values():
            for x in rec.citations:
                yield f"{kind} {rec.id}", x


def test_kb_is_substantial():
    assert len(KB.instruments) >= 30
    assert len(KB.obligations) >= 100
    assert len(KB.concepts) >= 20


def test_every_citation_resolves_to_an_existing_article():
    bad = []
    for owner, cite in all_citations():
        if not CITATION_RE.match(cite):
            bad.append(f"{owner}: malformed {cite}")
            continue
        if cite.split(":", 1)[0].startswith("case-"):
            if cite.split(":", 1)[0] not in KB.cases:
                bad.append(f"{owner}: unknown case {cite}")
            continue
        try:
            KB.resolve(cite)
        except KeyError as exc:
            bad.append(f"{owner}: {exc}")
    assert not bad, "\n".join(bad)


def test_topic_case_references_exist():
    for t in KB.topics.values():
        for c in t.cases:
            assert c in KB.cases, f"topic {t.id} names unknown case {c}"


def test_every_trigger_names_known_facts_or_concepts():
    bad = []
    exprs = [(f"obligation {o.id}", o.applies_if) for o in KB.obligations]
    exprs += [(f"concept {c.id}", c.when) for c in KB.concepts.values()]
    for owner, src in exprs:
        try:
            used = expr.names(src)
        except expr.ExprError as exc:
            bad.append(f"{owner}: {exc}")
            continue
        for name in used:
            if name not in FACTS and name not in KB.concepts:
                bad.append(f"{owner}: unknown name {name!r}")
    assert not bad, "\n".join(bad)


def test_deadline_fact_paths_are_profile_fields():
    for o in KB.obligations:
        if o.deadline and o.deadline.after:
            assert o.deadline.after in FACTS, o.id


def test_concepts_do_not_shadow_facts_and_have_no_cycles():
    assert not set(KB.concepts) & FACTS
    ev = expr.Evaluator({}, {k: c.when for k, c in KB.concepts.items()}, dt.date(2026, 11, 28))
    for cid in KB.concepts:
        ev.concept(cid)  # raises on a cycle


def test_ids_are_unique_and_well_formed():
    ids = [o.id for o in KB.obligations]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for ins in KB.instruments.values():
        for o in ins.obligations:
            assert o.id.startswith(ins.id + "."), o.id
        numbers = [a.number for a in ins.articles]
        assert len(numbers) == len(set(numbers)), (ins.id, numbers)
    for case in KB.cases:
        assert case.startswith("case-")


def test_spec_instrument_ids_are_all_present():
    assert len(SPEC_IDS) >= 40, "docs/spec/instruments.md lists the contract ids"
    missing = sorted(set(SPEC_IDS) - set(KB.instruments))
    assert not missing, missing


def test_dates_are_consistent_with_status_history():
    for ins in KB.instruments.values():
        if ins.issued and ins.effective:
            assert ins.issued <= ins.effective, ins.id
        if ins.published and ins.issued:
            assert ins.issued <= ins.published, ins.id
        history = sorted(ins.status_history, key=lambda c: c.from_ or dt.date.min)
        assert history, ins.id
        in_force = [c for c in history if c.status == "in_force"]
        if in_force and ins.effective and in_force[0].from_:
            # `effective` is the current version's date; an amended law was in force earlier.
            assert in_force[0].from_ <= ins.effective, f"{ins.id}: in force from {in_force[0].from_}, effective {ins.effective}"
        if ins.kind not in ("law", "administrative_regulation") and in_force and ins.effective and in_force[0].from_:
            assert in_force[0].from_ == ins.effective, f"{ins.id}: in force from {in_force[0].from_}, effective {ins.effective}"
        for ch in history:
            if ch.status == "superseded":
                assert ch.by is None or ch.by in KB.instruments, f"{ins.id}: superseded by unknown {ch.by}"
        for o in ins.obligations:
            if o.from_ and o.until:
                assert o.from_ <= o.until, o.id


def test_every_record_has_a_source_and_confidence():
    for ins in KB.instruments.values():
        assert ins.sources and all(s.startswith("http") for s in ins.sources), ins.id
        for o in ins.obligations:
            assert o.confidence in ("verified", "secondary", "unverified")
            assert (o.source or ins.sources[0]).startswith("http")


def test_core_instruments_have_obligations():
    for ins in KB.instruments.values():
        if ins.depth == "core":
            assert len(ins.obligations) >= 3, ins.id
            assert len(ins.articles) >= 5, ins.id


PRESCRIBED_FILINGS = {
    "algorithm-recommendation.filing": "algorithm_filing",
    "deep-synthesis.filing": "algorithm_filing",
    "generative-ai.security-assessment-and-filing": "generative_ai_filing",
    "generative-ai.registration": "generative_ai_registration",
    "anthropomorphic-ai.security-assessment": "security_assessment",
    "pipl.pipia": "pipia",
    "pi-compliance-audit.regular-audit": "pi_compliance_audit",
    "cross-border-data.security-assessment": "cross_border_security_assessment",
    "cross-border-data.standard-contract-or-certification": "cross_border_standard_contract_or_certification",
    "data-export-assessment.security-assessment": "cross_border_security_assessment",
    "ethics-review.committee-review": "ethics_review",
    "public-opinion-assessment.self-assessment": "security_assessment",
}


def test_filing_duties_exist_with_their_kind():
    obs = {o.id: o for o in KB.obligations}
    for oid, kind in PRESCRIBED_FILINGS.items():
        assert oid in obs, oid
        assert obs[oid].filing == kind, (oid, obs[oid].filing)


def test_renumbered_articles_resolve_by_date():
    # AUCL internet article: Art. 12 of the 2019 text, Art. 13 of the 2025 revision (in force 2025-10-15).
    assert KB.cite_on("anti-unfair-competition-law:13", dt.date(2025, 6, 1)) == "anti-unfair-competition-law:12"
    assert KB.cite_on("anti-unfair-competition-law:13", dt.date(2025, 10, 15)) == "anti-unfair-competition-law:13"
    # Patent Law Implementing Rules: inventor definition Art. 13 (2010) -> Art. 14 (2023 rules, 2024-01-20).
    assert KB.cite_on("patent-law-rules:14", dt.date(2023, 6, 1)) == "patent-law-rules:13"
    assert KB.cite_on("patent-law-rules:14", dt.date(2024, 1, 20)) == "patent-law-rules:14"
    # Cybersecurity Law: old Art. 40 became Art. 42 on 2026-01-01.
    assert KB.cite_on("cybersecurity-law:42", dt.date(2025, 12, 31)) == "cybersecurity-law:40"
    assert KB.cite_on("cybersecurity-law:42", dt.date(2026, 1, 1)) == "cybersecurity-law:42"
    # Old numbers still find the article when asked on an old date.
    ins = KB.instruments["anti-unfair-competition-law"]
    assert ins.article("12", dt.date(2025, 1, 1)).number == "13"
