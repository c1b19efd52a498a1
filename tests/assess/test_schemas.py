"""Data files of the self-assessment validate against their registered pydantic models (issue #11 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnai.assess import checklist, schemas, thresholds
from cnai.core import plugins
from cnai.core.loaders import load_yaml, validate
from cnai.core.taxonomy import DATA as TAX_DATA
from cnai.core.taxonomy import TaxonomyFile, load_taxonomy_file
from cnai.errors import InputError

ASSESS_DATA = Path(thresholds.__file__).parent / "data"
SHIPPED = {
    "thresholds": ASSESS_DATA / "thresholds.yaml",
    "checklist": ASSESS_DATA / "checklist.yaml",
    "judge-rubrics": ASSESS_DATA / "judge_rubrics.yaml",
    "keyword-library": ASSESS_DATA / "banks" / "keywords.yaml",
    "taxonomy": TAX_DATA / "taxonomy.yaml",
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_file_validates_against_its_registered_schema(name):
    model = plugins.registry("schemas")[name]
    validate(model, load_yaml(SHIPPED[name]), source=str(SHIPPED[name]))
    assert model.model_json_schema()  # `cnai schema NAME` can print it


def test_cnai_schema_lists_the_assess_models(cnai):
    r = cnai("schema")
    assert r.returncode == 0
    for name in (*SHIPPED, "checklist-answers"):
        assert name in r.stdout
    js = json.loads(cnai("schema", "thresholds").stdout)
    assert "documents" in js["properties"]


def _copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = SHIPPED[name].read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / SHIPPED[name].name
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def test_bad_threshold_names_the_path_inside_the_file(tmp_path):
    p = _copy_with(tmp_path, "thresholds", "pass_rate_min: {value: 0.90", "pass_rate_min: {value: 1.5")
    with pytest.raises(InputError) as ei:
        thresholds.load_thresholds_file(p)
    msg = str(ei.value)
    assert msg.startswith(str(p)) and "documents.tc260-003-2024.assessment.generated_content" in msg
    assert "\n" not in msg


def test_unknown_carried_over_document_is_refused(tmp_path):
    p = _copy_with(tmp_path, "thresholds", "carried_over_from: tc260-003-2024", "carried_over_from: nope")
    with pytest.raises(InputError, match="carried_over_from: unknown document 'nope'"):
        thresholds.load_thresholds_file(p)


def test_taxonomy_with_bad_code_and_commas_in_flow_mappings(tmp_path):
    # an unquoted comma inside a flow mapping silently split a name before validation existed
    p = _copy_with(tmp_path, "taxonomy", 'en: "Promoting violence, obscenity or pornography"',
                   "en: Promoting violence, obscenity or pornography")
    with pytest.raises(InputError, match=r"risks\.5\.obscenity or pornography: Extra inputs"):
        load_taxonomy_file(p)
    p = _copy_with(tmp_path, "taxonomy", "{code: A.1.f,", "{code: A.1.z,")
    with pytest.raises(InputError, match="not a risk code"):
        load_taxonomy_file(p)
    assert TaxonomyFile.model_json_schema()["properties"]["risks"]


def test_checklist_duplicate_ids_and_rubric_gaps():
    data = load_yaml(SHIPPED["checklist"])
    data["items"].append(dict(data["items"][0]))
    with pytest.raises(InputError, match="duplicate id"):
        validate(schemas.Checklist, data, source="checklist.yaml")
    rub = load_yaml(SHIPPED["judge-rubrics"])
    del rub["groups"]["A.3"]
    with pytest.raises(InputError, match="no rubric for A.3"):
        validate(schemas.JudgeRubrics, rub, source="judge_rubrics.yaml")
    assert checklist.items()[0]["id"]


def test_filled_checklist_with_duplicate_key_is_one_line(tmp_path):
    p = tmp_path / "filled.yaml"
    p.write_text("clauses:\n  data.source.screening: {result: meets, evidence: x}\n"
                 "  data.source.screening: {result: meets, evidence: y}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: duplicate key 'data.source.screening'"):
        checklist.load_filled(p)
