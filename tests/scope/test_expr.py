"""Three-valued trigger expressions: unknown facts are never read as false."""

import datetime as dt

import pytest

from cnai.scope.expr import Evaluator, ExprError, names, parse

DAY = dt.date(2026, 11, 28)


def ev(facts, src, concepts=None):
    return Evaluator(facts, concepts or {}, DAY).evaluate(src)


def test_known_facts():
    facts = {"roles": ["provider"], "audience": {"public_in_mainland": True, "registered_users": 5}}
    assert ev(facts, "'provider' in roles")[0] is True
    assert ev(facts, "'user' in roles")[0] is False
    assert ev(facts, "audience.public_in_mainland and audience.registered_users >= 5")[0] is True
    assert ev(facts, "audience.registered_users > 5")[0] is False


def test_unknown_is_not_false_and_names_the_missing_path():
    value, trace = ev({}, "audience.minors")
    assert value is None and trace.missing == ["audience.minors"]
    value, trace = ev({}, "not audience.minors")
    assert value is None and trace.missing == ["audience.minors"]


def test_kleene_and_or_short_circuit_on_decisive_values():
    facts = {"audience": {"minors": False}}
    # false AND unknown = false: nothing is missing
    value, trace = ev(facts, "audience.minors and audience.elderly")
    assert value is False and trace.missing == []
    # true OR unknown = true
    value, trace = ev({"audience": {"minors": True}}, "audience.minors or audience.elderly")
    assert value is True and trace.missing == []
    # false OR unknown = unknown, naming only the unknown one
    value, trace = ev(facts, "audience.minors or audience.elderly")
    assert value is None and trace.missing == ["audience.elderly"]


def test_thresholds_and_lists():
    facts = {"cross_border": {"individuals_this_year": 100_000}, "capabilities": {"generates": ["image"]}}
    assert ev(facts, "cross_border.individuals_this_year >= 100000")[0] is True
    assert ev(facts, "cross_border.individuals_this_year >= 100001")[0] is False
    assert ev(facts, "any_in(capabilities.generates, ['video', 'image'])")[0] is True
    assert ev(facts, "any_in(capabilities.generates, ['video'])")[0] is False
    assert ev(facts, "count(capabilities.generates) > 0")[0] is True
    assert ev({}, "any_in(capabilities.generates, ['video'])")[0] is None


def test_concepts_compose_and_carry_missing_facts():
    concepts = {"public": "audience.public_in_mainland", "genai": "'provider' in roles and public"}
    value, trace = ev({"roles": ["provider"]}, "genai", concepts)
    assert value is None and trace.missing == ["audience.public_in_mainland"]
    assert trace.concepts == {"genai": None}
    value, _ = ev({"roles": ["provider"], "audience": {"public_in_mainland": True}}, "genai", concepts)
    assert value is True


def test_concept_cycle_is_reported():
    with pytest.raises(ExprError, match="cycle"):
        ev({}, "a", {"a": "b", "b": "a"})


def test_dates():
    assert ev({}, "as_of >= date('2025-09-01')")[0] is True
    assert ev({}, "as_of < date('2025-09-01')")[0] is False


@pytest.mark.parametrize("bad", ["__import__('os')", "roles.__class__", "lambda: 1", "open('x')", "a if b else c",
                                 "x[0]", "f(x=1)"])
def test_unsafe_or_unsupported_syntax_is_rejected(bad):
    with pytest.raises(ExprError):
        parse(bad)
        ev({}, bad)


def test_names_lists_facts_and_concepts():
    assert names("'provider' in roles and audience.minors or genai") == {"roles", "audience.minors", "genai"}
