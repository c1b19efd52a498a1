"""Knowledge base round 2 (issue 15, data side): the three instruments added with their contract ids, the
certification route in the cross-border pathway, and the split face facts for deep-synthesis:14.

Every expectation is written from the law and cites the article it rests on; the profiles are built here,
small and explicit, so a reader sees which facts decide each duty."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from cnai.law.kb import load
from cnai.scope.engine import Engine
from cnai.scope.profile import parse_profile

KB = load()
ENGINE = Engine()

BASE = {
    "schema": "cnai/profile/v1",
    "service": {"name": "test service", "launch_date": "2025-03-03"},
    "organization": {"name": "测试科技有限公司", "location": "mainland",
                     "critical_information_infrastructure_operator": False, "important_data_processor": False},
    "roles": ["provider"],
    "audience": {"public_in_mainland": True, "research_or_internal_only": False, "minors": False},
    "capabilities": {"generates": ["text"], "facial_recognition": False, "face_generation_or_swap": False,
                     "edits_real_person_biometrics": False},
    "personal_information": {"processes": True, "individuals": 50000, "sensitive": False,
                             "sensitive_individuals": 0, "biometric": False, "shares_or_entrusts": False},
    "cross_border": {"transfers_personal_information": False, "important_data": False},
}


def run(as_of: str = "2026-12-04", **facts) -> dict[str, dict]:
    """Run the engine on BASE with dotted-path overrides (`cross_border__individuals_this_year=...`)."""
    data = copy.deepcopy(BASE)
    for key, value in facts.items():
        *parents, leaf = key.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    result = ENGINE.run(parse_profile(data, source="test"), dt.date.fromisoformat(as_of)).to_dict()
    return {o["id"]: o for o in result["obligations"]}


def status(obs: dict[str, dict], duty_id: str) -> str:
    assert duty_id in obs, f"{duty_id} not in the result"
    return obs[duty_id]["status"]


# --- contract ids ------------------------------------------------------------------------------------

@pytest.mark.parametrize("iid,effective", [
    ("cyber-incident-reporting", "2025-11-01"),  # the Measures' own commencement clause
    ("facial-recognition", "2025-06-01"),        # Order No. 19, in force 2025-06-01
    ("pi-export-certification", "2026-01-01"),  # Order No. 20, in force 2026-01-01
])
def test_new_instruments_are_dated_and_sourced(iid, effective):
    ins = KB.instruments[iid]
    assert ins.effective == dt.date.fromisoformat(effective)
    assert ins.status_on(dt.date.fromisoformat(effective) - dt.timedelta(days=1))[0] == "not_yet_in_force"
    assert ins.status_on(dt.date(2026, 12, 4))[0] == "in_force"
    assert ins.sources and ins.obligations


# --- cyber-incident-reporting ------------------------------------------------------------------------

def test_incident_reporting_binds_every_network_operator():
    # cyber-incident-reporting:2 — any operator that runs a network or offers services over one reports;
    # :4 — relatively major incidents and above, 1 hour (CII) / 4 hours (others).
    obs = run()
    assert status(obs, "cyber-incident-reporting.grade-and-report") == "applies"
    assert "4 hours" in obs["cyber-incident-reporting.grade-and-report"]["deadline"]


def test_incident_reporting_not_before_it_entered_into_force():
    # The Measures bind from 2025-11-01; on 2025-10-31 the duty is not yet in force.
    obs = run(as_of="2025-10-31")
    assert obs.get("cyber-incident-reporting.grade-and-report", {}).get("status") != "applies"


def test_incident_reporting_time_limits_in_article_4():
    # cyber-incident-reporting:4 — 1 hour for CII, 2 hours for central/state organs, 4 hours for others.
    text = KB.instruments["cyber-incident-reporting"].article("4").summary_en
    for figure in ("1 hour", "2 hours", "4 hours"):
        assert figure in text


# --- facial-recognition ------------------------------------------------------------------------------

def test_face_recognition_duties_follow_the_capability():
    # facial-recognition:2 — processing face information with face recognition; :6 separate consent;
    # :7 storage in the device; :10 not the only means of verification.
    on = run(capabilities__facial_recognition=True, personal_information__biometric=True,
             personal_information__face_data_individuals=5000)
    for duty in ("facial-recognition.separate-consent", "facial-recognition.store-on-device",
                 "facial-recognition.not-only-means", "facial-recognition.pipia"):
        assert status(on, duty) == "applies", duty
    off = run()
    assert status(off, "facial-recognition.separate-consent") == "not_applicable"


def test_face_recognition_filing_from_100000_individuals():
    # facial-recognition:15 — filing with the provincial CAC once stored face information reaches 100,000.
    below = run(capabilities__facial_recognition=True, personal_information__biometric=True,
                personal_information__face_data_individuals=99999)
    at = run(capabilities__facial_recognition=True, personal_information__biometric=True,
             personal_information__face_data_individuals=100000)
    unknown = run(capabilities__facial_recognition=True, personal_information__biometric=True)
    assert status(below, "facial-recognition.filing") == "not_applicable"
    assert status(at, "facial-recognition.filing") == "applies"
    assert status(unknown, "facial-recognition.filing") == "needs_info"


def test_face_recognition_not_before_1_june_2025():
    obs = run(as_of="2025-05-31", capabilities__facial_recognition=True)
    assert obs.get("facial-recognition.separate-consent", {}).get("status") != "applies"


# --- cross-border: certification route ---------------------------------------------------------------

def export(**extra):
    facts = {"cross_border__transfers_personal_information": True, "cross_border__important_data": False,
             "cross_border__exemption": "none"}
    facts.update(extra)
    return facts


def test_certification_route_in_the_100k_to_1m_band():
    # pi-export-certification:4 and cross-border-data:8 — non-CIIO, 100,000 to under 1,000,000 ordinary
    # individuals since 1 January, no important data: contract or certification, not assessment.
    obs = run(**export(cross_border__individuals_this_year=250000, cross_border__sensitive_individuals_this_year=0))
    assert status(obs, "pi-export-certification.eligibility") == "applies"
    assert status(obs, "cross-border-data.standard-contract-or-certification") == "applies"
    assert status(obs, "cross-border-data.security-assessment") == "not_applicable"
    # pi-export-certification:10 — certificate valid 3 years
    assert "3 years" in obs["pi-export-certification.eligibility"]["deadline"]


def test_certification_closed_at_one_million_or_for_ciio_or_important_data():
    # cross-border-data:7 — 1,000,000+ ordinary individuals, a CIIO, or important data: assessment only;
    # pi-export-certification:4 — certification is closed there.
    big = run(**export(cross_border__individuals_this_year=1000000, cross_border__sensitive_individuals_this_year=0))
    assert status(big, "pi-export-certification.eligibility") == "not_applicable"
    assert status(big, "cross-border-data.security-assessment") == "applies"
    ciio = run(organization__critical_information_infrastructure_operator=True,
               **export(cross_border__individuals_this_year=200000, cross_border__sensitive_individuals_this_year=0))
    assert status(ciio, "pi-export-certification.eligibility") == "not_applicable"
    important = run(**export(cross_border__important_data=True, cross_border__individuals_this_year=200000,
                             cross_border__sensitive_individuals_this_year=0))
    assert status(important, "pi-export-certification.eligibility") == "not_applicable"


def test_sensitive_under_10000_opens_certification():
    # pi-export-certification:4 — sensitive PI of under 10,000 individuals.
    obs = run(**export(cross_border__individuals_this_year=500, cross_border__sensitive_individuals_this_year=200))
    assert status(obs, "pi-export-certification.eligibility") == "applies"


def test_certification_route_not_before_2026():
    # The certification Measures are in force from 2026-01-01; the Art. 8 contract-or-certification duty of
    # cross-border-data applied before, the Measures' own duties did not.
    obs = run(as_of="2025-12-31", **export(cross_border__individuals_this_year=250000,
                                           cross_border__sensitive_individuals_this_year=0))
    assert status(obs, "cross-border-data.standard-contract-or-certification") == "applies"
    assert obs.get("pi-export-certification.eligibility", {}).get("status") != "applies"


def test_no_splitting_binds_any_exporter():
    # pi-export-certification:5 — no splitting of volumes to avoid the assessment.
    obs = run(**export(cross_border__individuals_this_year=50000, cross_border__sensitive_individuals_this_year=0))
    assert status(obs, "pi-export-certification.no-splitting") == "applies"
    assert status(run(), "pi-export-certification.no-splitting") == "not_applicable"


def test_cross_border_notes_no_longer_say_not_encoded():
    notes = KB.instruments["cross-border-data"].notes or ""
    assert "not encoded" not in notes.split("PI Export Certification")[0][-200:]
    assert "pi-export-certification" in notes


# --- deep-synthesis:14 decided by the split face facts ----------------------------------------------

DS = {"capabilities__generates": ["image", "video"]}


def test_biometric_consent_decided_by_real_face_editing():
    # deep-synthesis:14 — editing a real person's face needs that person's separate consent.
    real = run(**DS, capabilities__edits_real_person_biometrics=None, capabilities__face_generation_or_swap=None,
               capabilities__real_face_swap_or_edit=True)
    assert status(real, "deep-synthesis.biometric-consent") == "applies"


def test_synthetic_faces_only_do_not_need_biometric_consent():
    # deep-synthesis:14 — faces of nobody in particular edit no one's biometric information; a service that
    # says it makes synthetic faces, edits no real face and clones no real voice is outside the duty.
    synthetic = run(**DS, capabilities__face_generation_or_swap=None, capabilities__synthetic_face_generation=True,
                    capabilities__real_face_swap_or_edit=False, capabilities__edits_real_person_biometrics=False)
    assert status(synthetic, "deep-synthesis.biometric-consent") == "not_applicable"


def test_the_coarse_face_fact_alone_cannot_decide():
    # deep-synthesis:14 binds only editing of a real person's biometrics; "some face generation or swap"
    # does not say whose face, so the duty stays open until the split facts are answered.
    coarse = run(**DS, capabilities__face_generation_or_swap=True, capabilities__edits_real_person_biometrics=None)
    assert status(coarse, "deep-synthesis.biometric-consent") == "needs_info"


# --- GB/T 45654 figures ----------------------------------------------------------------------------

def test_gbt_45654_figures_are_marked_with_their_source_and_none_is_verified():
    # No full-text copy of GB/T 45654-2025 was available: a duty stating a figure must name the reference's
    # tag for it ([S], [S-weak], [R]) and may not be marked verified.
    import re
    ins = KB.instruments["gb-t-45654"]
    figured = [o for o in ins.obligations if re.search(r"\d[\d,]*\s*%|\b\d{2,}[\d,]*\b", o.title + " " + o.duty)]
    assert len(figured) >= 8
    for o in figured:
        assert o.confidence != "verified", o.id
        assert re.search(r"\[(S|S-weak|R)[\],/ ]", o.note or ""), f"{o.id}: figure without a source tag"
    assert "Round-2 check" in (ins.notes or "")


# --- audit finding: citations use the current article number ----------------------------------------

def test_every_citation_uses_the_current_article_number():
    # Audit 2026-12-04: cyber-incident-reporting cited the 2017 number of the CSL penalty article (59), which
    # is Art. 61 from 2026-01-01 (CSL 2025 amendment). Old numbers are reached through `numbering`, by date,
    # so a stored citation must name the current one.
    from cnai.law.models import CITATION_RE
    stale = []
    records = [(o.id, o.citations + o.penalty) for o in KB.obligations]
    records += [(c.id, c.citations) for c in KB.concepts.values()]
    records += [(t.id, t.citations) for t in KB.topics.values()]
    records += [(c.id, c.citations) for c in KB.cases.values()]
    for owner, cites in records:
        for c in cites:
            m = CITATION_RE.match(c)
            ins = KB.instruments.get(m["instrument"])
            if ins and m["article"] not in ("all", "*") and not any(a.number == m["article"] for a in ins.articles):
                stale.append((owner, c))
    assert not stale, stale
    assert "cybersecurity-law:61" in next(o for o in KB.obligations
                                          if o.id == "cyber-incident-reporting.grade-and-report").penalty


# --- pi-standard-contract (CAC Order 13): the contract route's own duties ---------------------------

def test_standard_contract_filing_in_the_band():
    # pi-standard-contract:7 — file within 10 working days of the contract taking effect; cross-border-data:8
    # sets the band since 2024-03-22 (100,000 to under 1,000,000 ordinary individuals).
    obs = run(**export(cross_border__individuals_this_year=300000, cross_border__sensitive_individuals_this_year=0))
    assert status(obs, "pi-standard-contract.filing") == "applies"
    assert "10 working days" in obs["pi-standard-contract.filing"]["deadline"]
    big = run(**export(cross_border__individuals_this_year=2000000, cross_border__sensitive_individuals_this_year=0))
    assert status(big, "pi-standard-contract.filing") == "not_applicable"  # cross-border-data:7 — assessment


def test_standard_contract_measures_not_before_june_2023():
    # The Measures took effect on 2023-06-01.
    ins = KB.instruments["pi-standard-contract"]
    assert ins.status_on(dt.date(2023, 5, 31))[0] == "not_yet_in_force"
    assert ins.status_on(dt.date(2023, 6, 1))[0] == "in_force"
