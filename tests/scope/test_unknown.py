"""Omitted facts are unknown, never false: dependent duties become needs_info naming the field."""

from tests.scope.helpers import ob, run, status


def test_removing_emotional_companionship_makes_anthropomorphic_duties_need_info():
    r = run("companion-app-teens", drop=("capabilities.emotional_companionship",))
    o = ob(r, "anthropomorphic-ai.security-assessment")
    assert o["status"] == "needs_info"
    assert "capabilities.emotional_companionship" in o["missing"]
    assert "capabilities.emotional_companionship" in r["summary"]["missing_facts"]


def test_removing_cross_border_count_makes_mechanism_need_info():
    r = run("foreign-api-provider", drop=("cross_border.individuals_this_year",))
    o = ob(r, "cross-border-data.standard-contract-or-certification")
    assert o["status"] == "needs_info"
    assert "cross_border.individuals_this_year" in o["missing"]


def test_removing_public_flag_makes_generative_ai_duties_need_info():
    r = run("chatbot-startup", drop=("audience.public_in_mainland",))
    o = ob(r, "generative-ai.security-assessment-and-filing")
    assert o["status"] == "needs_info" and "audience.public_in_mainland" in o["missing"]


def test_a_decisive_false_fact_does_not_ask_for_more():
    # Not a provider at all: generative-ai duties are not applicable even with audience facts unknown.
    r = run("enterprise-coding-assistant", drop=("audience.public_in_mainland", "audience.research_or_internal_only"))
    assert status(r, "generative-ai.security-assessment-and-filing") == "not_applicable"
    assert ob(r, "generative-ai.security-assessment-and-filing")["missing"] == []


def test_minimal_profile_asks_for_the_gating_facts():
    import datetime as dt

    from cnai.scope.engine import Engine
    from cnai.scope.profile import parse_profile

    p = parse_profile({"schema": "cnai/profile/v1", "service": {"name": "bare"}})
    r = Engine().run(p, dt.date(2026, 11, 28)).to_dict()
    assert r["summary"]["counts"]["applies"] == 0 or all(
        o["status"] != "applies" or not o["missing"] for o in r["obligations"])
    missing = r["summary"]["missing_facts"]
    assert "roles" in missing


def test_facts_implied_by_an_answer_are_filled_and_explained():
    # A service that does not train has no training sources: scraping duties (network-data-security:18)
    # are not applicable rather than needing information.
    r = run("image-app-registration")
    o = ob(r, "network-data-security.automated-collection")
    assert o["status"] == "not_applicable"
    assert any("implied by training_data.trains_or_fine_tunes = false" in x for x in o["reasons"])
    # ...but when training is unknown, the sources stay unknown.
    r2 = run("image-app-registration", drop=("training_data.trains_or_fine_tunes",))
    assert ob(r2, "network-data-security.automated-collection")["status"] == "needs_info"
