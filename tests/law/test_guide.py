"""`cnai law guide`: the 22 country-guide questions answered from the knowledge base on a date.

Expectations come from the law and the case dates (cited), not from the guide's output."""

import copy
import datetime as dt
import json

import pytest

from cnai.law.guide import FALLBACK_ZH, guide, guide_file, render
from cnai.law.kb import load

TODAY = dt.date(2026, 11, 28)


def _valid_on(c: dict, day: dt.date) -> bool:
    return (c["valid_from"] is None or c["valid_from"] <= day.isoformat()) and (
        c["valid_until"] is None or c["valid_until"] >= day.isoformat())


@pytest.mark.parametrize("day", [TODAY, dt.date(2025, 6, 1)])
def test_22_answers_each_with_a_citation_valid_on_the_date(day):
    doc = guide(day).to_dict()
    assert [a["n"] for a in doc["answers"]] == list(range(1, 23))
    for a in doc["answers"]:
        assert a["citations"], a["n"]
        assert all(_valid_on(c, day) for c in a["citations"]), (a["n"], a["citations"])


def test_every_mapped_entry_exists_in_the_knowledge_base():
    kb = load()
    tables = {"instrument": kb.instruments, "concept": kb.concepts, "topic": kb.topics, "case": kb.cases,
              "regulator": kb.regulators}
    for q in guide_file().questions:
        for e in q.entries:
            if e.kind == "article":
                ins, art = kb.resolve(e.ref)
                assert art is not None, e.ref
            else:
                assert e.ref in tables[e.kind], (q.n, e.kind, e.ref)


def test_inventorship_follows_the_renumbering():
    # Patent Law Implementing Rules: the inventor article was Art. 13 until 2024-01-19, Art. 14 from 2024-01-20.
    before = {p.cited_as for p in guide(dt.date(2023, 6, 1), dt.date(2023, 1, 1), question=9).answers[0].parts}
    after = {p.cited_as for p in guide(TODAY, question=9).answers[0].parts}
    assert "patent-law-rules:13" in before and "patent-law-rules:14" in after


def test_cases_appear_only_once_decided():
    # Beijing Internet Court, AI image copyright judgment of 2023-11-27
    ref = "case-bjic-2023-ai-image-copyright"
    early = guide(dt.date(2023, 11, 26), dt.date(2023, 1, 1), question=10).answers[0]
    late = guide(dt.date(2023, 11, 27), dt.date(2023, 1, 1), question=10).answers[0]
    assert ref not in {p.ref for p in early.parts} and ref in {p.ref for p in late.parts}


def test_changing_an_entry_changes_the_answer():
    kb = copy.deepcopy(load())
    kb.topics["ai-inventorship"].summary_en = "Edited summary <b>marker</b>."
    a = guide(TODAY, question=9, kb=kb).answers[0]
    assert any(p.text.startswith("Edited summary <b>marker</b>.") for p in a.parts)
    html = render(guide(TODAY, question=9, kb=kb), "html")
    assert "&lt;b&gt;marker&lt;/b&gt;" in html and "<b>marker</b>" not in html


def test_changes_since_and_opinion_marks():
    g = guide(TODAY, dt.date(2024, 6, 1))
    q3 = g.answers[2]
    # AI Labeling Measures in force 2025-09-01 (ai-labeling:14): a change since the 2024 edition
    assert any(c["ref"] == "ai-labeling" and c["kind"] == "entered_into_force" for c in q3.changed_since)
    assert guide(TODAY, TODAY, question=3).answers[0].changed_since == [] or all(
        c["date"] == TODAY.isoformat() for c in guide(TODAY, TODAY, question=3).answers[0].changed_since)
    assert [a.opinion for a in g.answers if a.n >= 19] == [True] * 4
    assert not any(a.opinion for a in g.answers if a.n <= 18)
    md = render(g, "md")
    assert md.count("**Opinion**") == 4
    assert g.since == guide_file().edition_date == dt.date(2024, 6, 1)


def test_upcoming_question_lists_law_adopted_but_not_in_force():
    # Anthropomorphic AI Measures: published 2026-04-10, in force 2026-07-15
    q22 = guide(dt.date(2026, 5, 1), dt.date(2024, 6, 1), question=22).answers[0]
    assert "anthropomorphic-ai" in {p.ref for p in q22.parts}
    assert "anthropomorphic-ai" not in {p.ref for p in guide(TODAY, question=22).answers[0].parts}


def test_chinese_answers_or_marked_fallback():
    g = guide(TODAY, lang="zh")
    assert g.answers[8].question.startswith("人工智能能否")
    for a in g.answers:
        for p in a.parts:
            assert p.fallback == p.text.startswith(FALLBACK_ZH)
    doc = g.to_dict()
    assert doc["chinese_fallbacks"] == sum(p["fallback"] for a in doc["answers"] for p in a["answer"])


def test_cli(cnai, tmp_path):
    r = cnai("law", "guide", "--as-of", "2026-11-28", "--format", "json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert len(doc["answers"]) == 22 and doc["since"] == "2024-06-01"
    r = cnai("law", "guide", "--question", "9", "--format", "json")
    assert [a["n"] for a in json.loads(r.stdout)["answers"]] == [9]
    r = cnai("law", "guide", "--as-of", "2025-01-01", "--since", "2025-06-01")
    assert r.returncode == 2 and "--since" in r.stderr
    out = tmp_path / "g.html"
    r = cnai("law", "guide", "--lang", "zh", "--format", "html", "-o", str(out))
    assert r.returncode == 0 and "<html lang=\"zh\">" in out.read_text(encoding="utf-8")


def test_stats(cnai):
    kb = load()
    r = cnai("law", "stats", "--format", "json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    assert doc["totals"]["obligations"] == len(kb.obligations)
    row = next(x for x in doc["instruments"] if x["id"] == "generative-ai")
    obs = kb.instruments["generative-ai"].obligations
    assert row["obligations_verified"] == sum(o.confidence == "verified" for o in obs)
    assert row["obligations_verified_share"] == round(row["obligations_verified"] / len(obs), 4)
    assert "verified: duties" in cnai("law", "stats").stdout


@pytest.mark.parametrize("entry, message", [
    ({"instrument": "generative-ai", "article": "generative-ai:7"}, "name exactly one of"),
    ({}, "name exactly one of"),
    ({"statute": "x"}, "Input should be 'instrument'"),
    ({"article": 7}, "Input should be a valid string"),
])
def test_guide_entry_names_exactly_one_known_kind(entry, message):
    from cnai.core.loaders import validate
    from cnai.errors import InputError
    from cnai.law.guide import GuideEntry

    with pytest.raises(InputError, match=message):
        validate(GuideEntry, entry, source="guide.yaml", what="guide entry")


def test_guide_entry_kind_and_ref():
    from cnai.law.guide import GuideEntry

    e = GuideEntry.model_validate({"article": "generative-ai:7"})
    assert (e.kind, e.ref) == ("article", "generative-ai:7")
