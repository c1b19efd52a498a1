"""Service profile: schema, validation errors (file + field, exit 2, no traceback), questionnaire."""

import json
from pathlib import Path

import pytest
import yaml
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def write(tmp_path: Path, text: str, name="p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_examples_are_valid(cnai):
    proc = cnai("profile", "check", *map(str, EXAMPLES))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok:") == len(EXAMPLES) == 6


def test_schema_is_json_schema_with_contract_fields(cnai):
    proc = cnai("profile", "schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"schema", "service", "roles", "audience", "capabilities", "cross_border", "ethics"} <= set(schema["properties"])
    assert schema["required"] == ["schema", "service"]
    # closed enumerations are visible to form builders
    dumped = json.dumps(schema)
    assert "third_party_filed" in dumped and "free_trade_zone_negative_list" in dumped


def test_schema_validates_examples_with_jsonschema_semantics(cnai):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cnai("profile", "schema").stdout)
    for p in EXAMPLES:
        data = yaml.safe_load(p.read_text())
        jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)


BAD = [
    ("malformed", "schema: cnai/profile/v1\nservice: {name: x\n", ["malformed YAML", "line"]),
    ("unknown key", "schema: cnai/profile/v1\nservice: {name: x}\naudience: {minor: true}\n",
     ["audience.minor", "unknown field", "did you mean 'minors'", "line 3"]),
    ("wrong type", "schema: cnai/profile/v1\nservice: {name: x}\naudience: {registered_users: many}\n",
     ["audience.registered_users", "many"]),
    ("negative count", "schema: cnai/profile/v1\nservice: {name: x}\naudience: {registered_users: -5}\n",
     ["audience.registered_users", "greater than or equal to 0"]),
    ("enum", "schema: cnai/profile/v1\nservice: {name: x}\nroles: [provider, operator]\n",
     ["roles.1", "'operator' is not allowed", "technical_supporter"]),
    ("bad date", "schema: cnai/profile/v1\nservice: {name: x, launch_date: 2025-13-40}\n",
     ["service.launch_date"]),
    ("missing schema", "service: {name: x}\n", ["schema", "cnai/profile/v1"]),
    ("missing name", "schema: cnai/profile/v1\nservice: {description: y}\n", ["service.name", "required"]),
    ("not a mapping", "- a\n- b\n", ["expected a mapping"]),
    ("top-level typo", "schema: cnai/profile/v1\nservice: {name: x}\ncapabilites: {}\n",
     ["capabilites", "did you mean 'capabilities'"]),
]


@pytest.mark.parametrize("label,text,expect", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("command", [("profile", "check"), ("scope",)])
def test_bad_profiles_give_one_clear_error(cnai, tmp_path, label, text, expect, command):
    p = write(tmp_path, text)
    proc = cnai(*command, str(p))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert str(p) in proc.stderr
    for needle in expect:
        assert needle in proc.stderr, (needle, proc.stderr)


def test_missing_file_and_bad_date_option(cnai, tmp_path):
    proc = cnai("scope", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = cnai("scope", str(EXAMPLES[0]), "--as-of", "2026-02-30")
    assert proc.returncode == 2 and "--as-of" in proc.stderr and "YYYY-MM-DD" in proc.stderr


def test_debug_shows_traceback(cli, tmp_path):
    p = write(tmp_path, "service: {name: x}\n")
    proc = cli("--debug", "scope", str(p))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_init_questionnaire_writes_a_valid_profile(cnai, tmp_path):
    from cnai.scope.questionnaire import Profile  # noqa: F401  (import check)

    out = tmp_path / "new.yaml"
    # service: name, description (skip), launch date; organization yes: name, location, uscc skip, ciio n;
    # roles; audience yes: public y, internal n, minors (skip) ...; then decline all other sections.
    answers = ["Demo bot", "", "2026-01-05",
               "y", "Demo Co", "moon", "mainland", "", "n", "",
               "provider, app",  # invalid item, re-asked
               "provider",
               "y", "y", "n", "", "", "", "", "lots", "1200", "",
               "n", "n", "n", "n", "n", "n", "n",
               "", ""]
    proc = cnai("profile", "init", "-o", str(out), input="\n".join(answers) + "\n")
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(out.read_text())
    assert data["schema"] == "cnai/profile/v1"
    assert data["service"] == {"name": "Demo bot", "launch_date": __import__("datetime").date(2026, 1, 5)}
    assert data["organization"] == {"name": "Demo Co", "location": "mainland",
                                    "critical_information_infrastructure_operator": False}
    assert data["roles"] == ["provider"]
    assert data["audience"] == {"public_in_mainland": True, "research_or_internal_only": False,
                                "registered_users": 1200}
    assert "minors" not in data["audience"]  # skipped = unknown, not false
    assert "not one of" in proc.stderr and "unknown: app" in proc.stderr
    assert cnai("profile", "check", str(out)).returncode == 0


def test_init_refuses_to_overwrite(cnai, tmp_path):
    out = write(tmp_path, "keep me")
    proc = cnai("profile", "init", "-o", str(out), input="\n")
    assert proc.returncode == 2 and out.read_text() == "keep me"


def _facts(**caps):
    from cnai.scope.profile import parse_profile, with_implied

    p = parse_profile({"schema": "cnai/profile/v1", "service": {"name": "x"}, "capabilities": caps})
    return with_implied(p.facts())


def test_face_alias_is_honest():
    # old coarse field false -> both finer facts false (implied, explained)
    facts, implied = _facts(face_generation_or_swap=False)
    assert facts["capabilities"]["real_face_swap_or_edit"] is False
    assert facts["capabilities"]["synthetic_face_generation"] is False
    assert implied["capabilities.real_face_swap_or_edit"] == "capabilities.face_generation_or_swap = false"
    # true says only that one of them holds: both stay unknown
    facts, _ = _facts(face_generation_or_swap=True)
    assert "real_face_swap_or_edit" not in facts["capabilities"]
    assert "synthetic_face_generation" not in facts["capabilities"]
    # the finer facts settle the coarse one; editing a real face is editing a real person's biometrics
    facts, _ = _facts(real_face_swap_or_edit=True)
    assert facts["capabilities"]["face_generation_or_swap"] is True
    assert facts["capabilities"]["edits_real_person_biometrics"] is True
    facts, _ = _facts(real_face_swap_or_edit=False, synthetic_face_generation=False)
    assert facts["capabilities"]["face_generation_or_swap"] is False


def test_face_facts_decide_the_biometric_consent_duty():
    # deep-synthesis:14 — separate consent when editing a real person's face: a service generating only
    # synthetic faces is not caught; the coarse field alone leaves it open.
    from tests.scope.helpers import run, status

    # (the duty also covers cloning a real person's voice, so "no real face" alone leaves it open)
    synthetic = run("image-app-registration", set_={"capabilities.face_generation_or_swap": None,
                                                     "capabilities.edits_real_person_biometrics": None,
                                                     "capabilities.synthetic_face_generation": True,
                                                     "capabilities.real_face_swap_or_edit": False})
    assert status(synthetic, "deep-synthesis.biometric-consent") == "needs_info"
    synthetic = run("image-app-registration", set_={"capabilities.face_generation_or_swap": None,
                                                     "capabilities.synthetic_face_generation": True,
                                                     "capabilities.edits_real_person_biometrics": False})
    assert status(synthetic, "deep-synthesis.biometric-consent") == "not_applicable"
    real = run("image-app-registration", set_={"capabilities.face_generation_or_swap": None,
                                                "capabilities.edits_real_person_biometrics": None,
                                                "capabilities.real_face_swap_or_edit": True})
    assert status(real, "deep-synthesis.biometric-consent") == "applies"


def test_new_profile_facts_validate(cnai, tmp_path):
    p = write(tmp_path, "schema: cnai/profile/v1\nservice: {name: x}\ncapabilities: {facial_recognition: true}\n"
                        "personal_information: {face_data_individuals: 120000}\n")
    assert cnai("profile", "check", str(p)).returncode == 0


def test_questionnaire_does_not_import_the_cli():
    import ast

    src = (ROOT / "src" / "cnai" / "scope" / "questionnaire.py").read_text(encoding="utf-8")
    mods = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)}
    mods |= {a.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.startswith("cnai.cli") for m in mods)


def test_scope_report_formats_are_registered():
    from cnai.core.reports import formats_for

    assert {"md", "html", "json"} <= set(formats_for("scope"))


def test_check_goes_on_past_a_bad_profile(cnai, tmp_path):
    bad = write(tmp_path, "schema: cnai/profile/v1\nservice: {name: x}\naudience: {minors: \"yes\"}\n", "bad.yaml")
    r = cnai("profile", "check", str(bad), str(EXAMPLES[0]))
    assert r.returncode == 2
    assert r.stdout.count("ok:") == 1
    assert "bad.yaml" in r.stderr and "1 of 2 profiles invalid" in r.stderr
