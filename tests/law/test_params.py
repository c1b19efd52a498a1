"""Law parameters as dated data: thresholds in triggers are named parameters with dates and citations."""

import datetime as dt
import re

import pytest
from tests.scope.helpers import ob, run, status

from cnai.law.kb import load
from cnai.law.params import PATH, ParametersFile, load_file, parameters, value
from cnai.scope.expr import param_names, parse

KB = load()


def _triggers():
    for ins in KB.instruments.values():
        for c in ins.concepts:
            yield f"concept {c.id}", c.when
        for o in ins.obligations:
            yield f"obligation {o.id}", o.applies_if


def test_no_numeric_literal_of_1000_or_more_left_in_triggers():
    import ast

    found = []
    for where, src in _triggers():
        for node in ast.walk(parse(src)):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                    and not isinstance(node.value, bool) and node.value >= 1000:
                found.append(f"{where}: {node.value}")
    assert not found, found


def test_every_named_parameter_exists_and_every_parameter_cites_a_real_article():
    known = parameters()
    for where, src in _triggers():
        for name in param_names(src):
            assert name in known, f"{where} names unknown parameter {name}"
    for p in known.values():
        for v in p.values:
            ins, art = KB.resolve(v.citation)
            assert art is not None, v.citation
            # a value cannot start before the instrument that sets it exists
            assert ins.effective is None or v.from_ >= ins.effective or v.from_ >= (ins.issued or v.from_)


def test_every_parameter_is_used_by_a_trigger_or_a_deadline():
    used = {n for _, src in _triggers() for n in param_names(src)}
    deadline_periods = {("algorithm-recommendation:24(1)", 10), ("algorithm-recommendation:24(2)", 10),
                        ("algorithm-recommendation:24(3)", 20)}
    for p in parameters().values():
        if p.name in used:
            continue
        # periods and deadlines that the knowledge base states in a duty's deadline, or in the article cited
        cites = {v.citation.split("(")[0] for v in p.values}
        assert any(o.deadline or any(c.split("(")[0] in cites for c in o.citations) for o in KB.obligations
                   if any(c.split("(")[0] in cites for c in o.citations)), p.name
    # the filing periods stated in the duties' deadlines are the parameters' values (one home for the figure)
    for o in KB.obligations:
        if o.deadline and o.deadline.working_days:
            for cite, days in deadline_periods:
                if cite in o.citations:
                    assert o.deadline.working_days == days, o.id


def test_dated_values_cross_border_2024():
    # data-export-assessment:4 (2022): 100,000 individuals' PI abroad -> assessment;
    # cross-border-data:7 (from 2024-03-22): 1,000,000.
    assert value("pi_export.assessment_individuals", dt.date(2024, 3, 21)) == 100_000
    assert value("pi_export.assessment_individuals", dt.date(2024, 3, 22)) == 1_000_000
    # before the first date, the first value (whether a duty binds is decided by its own dates)
    assert value("pi_export.assessment_individuals", dt.date(2020, 1, 1)) == 100_000
    with pytest.raises(KeyError, match="unknown law parameter"):
        value("pi_export.nope", dt.date(2024, 1, 1))


def test_engine_uses_the_threshold_of_the_date_and_explains_it():
    # 500,000 individuals abroad: under Order 11 Art. 4 (>= 100,000) the assessment is needed on 2024-03-21;
    # under cross-border-data:7-8 (from 2024-03-22) it is the standard contract / certification route.
    s = {"cross_border.individuals_this_year": 500_000, "cross_border.sensitive_individuals_this_year": 0,
         "cross_border.important_data": False, "organization.critical_information_infrastructure_operator": False}
    before = run("foreign-api-provider", "2024-03-21", set_=s)
    after = run("foreign-api-provider", "2024-03-22", set_=s)
    assert status(before, "data-export-assessment.security-assessment") == "applies"
    assert status(after, "cross-border-data.security-assessment") == "not_applicable"
    o = ob(after, "cross-border-data.standard-contract-or-certification")
    assert o["status"] == "applies"
    assert any(r.startswith("threshold pi_export.contract_min_individuals = 100,000 on 2024-03-22 "
                            "(cross-border-data:8)") for r in o["reasons"]), o["reasons"]
    # upcoming duties are judged by the law of their start date: seen from 2024-03-01 the contract route
    # (not the old 100,000 assessment threshold) is what will apply on 2024-03-22
    early = run("foreign-api-provider", "2024-03-01", set_=s)
    up = {x["id"]: x for u in early["upcoming"] for x in u["obligations"]}
    assert up["cross-border-data.standard-contract-or-certification"]["status"] == "applies"
    assert up["cross-border-data.standard-contract-or-certification"]["starts"] == "2024-03-22"
    assert up["cross-border-data.security-assessment"]["status"] == "not_applicable" \
        if "cross-border-data.security-assessment" in up else True


def test_bad_parameter_files_are_one_line_errors(tmp_path):
    from cnai.errors import InputError

    p = tmp_path / "p.yaml"
    p.write_text("schema: cnai/law-parameters/v1\nparameters:\n  - name: a.b\n    description: x\n    unit: days\n"
                 "    values:\n      - {from: 2024-01-01, value: \"10\", citation: pipl:1, confidence: verified}\n")
    with pytest.raises(InputError, match=r"p\.yaml: law parameters: parameters\.0: .*unit days does not fit value '10'"):
        load_file(p)
    p.write_text("schema: cnai/law-parameters/v1\nparameters:\n  - name: A\n    description: x\n    unit: days\n"
                 "    values: [{from: 2024-01-01, value: 1, citation: pipl:1, confidence: verified}]\n")
    with pytest.raises(InputError, match="parameters.0.name"):
        load_file(p)
    ParametersFile.model_json_schema()
    assert load_file(PATH) == parameters()


def test_cli_params_json(cnai):
    import json

    r = cnai("law", "params", "--as-of", "2024-03-22", "--format", "json")
    assert r.returncode == 0, r
    doc = json.loads(r.stdout)
    rows = {x["name"]: x for x in doc["parameters"]}
    assert doc["as_of"] == "2024-03-22"
    row = rows["pi_export.assessment_individuals"]
    assert row["value"] == 1_000_000 and row["citation"] == "cross-border-data:7"
    assert [h["value"] for h in row["history"]] == [100_000, 1_000_000]
    assert rows["anthropomorphic.assessment_monthly_active_users"]["in_force_yet"] is False
    r = cnai("law", "params")
    assert r.returncode == 0 and re.search(r"pi_export", r.stdout)


def test_schema_registered(cnai):
    r = cnai("schema", "law-parameters")
    assert r.returncode == 0, r
    assert "ParameterValue" in r.stdout or "values" in r.stdout
