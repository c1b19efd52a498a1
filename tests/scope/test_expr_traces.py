"""What an and/or reports as missing when operands nest (the compiled evaluator writes operands straight into
the caller's trace; these pin the rule it must keep): an unknown operand's missing facts are reported, a
known operand that decides nothing drops its own, and a decided and/or drops only what its own operands
missed — never the facts an enclosing condition is still waiting for."""

import datetime as dt

import pytest

from cnai.scope.expr import Evaluator

DAY = dt.date(2026, 11, 28)


@pytest.mark.parametrize("src, facts, value, missing", [
    # the inner `or` is decided by b; the outer `and` still needs a
    ("a and (b or c)", {"b": True}, None, ["a"]),
    ("(b or c) and a", {"b": True}, None, ["a"]),
    # the inner `and` is decided false by b, which decides the outer `and` too: nothing is missing
    ("a and (b and c)", {"b": False}, False, []),
    # false or unknown = unknown, then unknown and unknown: both named, in the order met
    ("(a or b) and c", {"a": False}, None, ["b", "c"]),
    ("a or (b and c)", {"b": False}, None, ["a"]),
    # a known operand that decides nothing reports no missing facts of its own
    ("(a or b) and (c or d)", {"a": True, "c": False}, None, ["d"]),
])
def test_nested_and_or_report_exactly_the_facts_still_needed(src, facts, value, missing):
    v, trace = Evaluator(facts, {}, DAY).evaluate(src)
    assert v is value and trace.missing == missing


def test_a_concept_decided_inside_an_and_keeps_the_outer_missing_fact():
    concepts = {"k": "b or c"}
    v, trace = Evaluator({"b": True}, concepts, DAY).evaluate("a and k")
    assert v is None and trace.missing == ["a"] and trace.concepts == {"k": True}
