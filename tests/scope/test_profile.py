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


def test_examples_are_valid(cli):
    proc = cli("profile", "check", *map(str, EXAMPLES))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok:") == len(EXAMPLES) == 6


def test_schema_is_json_schema_with_contract_fields(cli):
    proc = cli("profile", "schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"schema", "service", "roles", "audience", "capabilities", "cross_border", "ethics"} <= set(schema["properties"])
    assert schema["required"] == ["schema", "service"]
    # closed enumerations are visible to form builders
    dumped = json.dumps(schema)
    assert "third_party_filed" in dumped and "free_trade_zone_negative_list" in dumped


def test_schema_validates_examples_with_jsonschema_semantics(cli):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli("profile", "schema").stdout)
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
def test_bad_profiles_give_one_clear_error(cli, tmp_path, label, text, expect, command):
    p = write(tmp_path, text)
    proc = cli(*command, str(p))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert str(p) in proc.stderr
    for needle in expect:
        assert needle in proc.stderr, (needle, proc.stderr)


def test_missing_file_and_bad_date_option(cli, tmp_path):
    proc = cli("scope", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("scope", str(EXAMPLES[0]), "--as-of", "2026-02-30")
    assert proc.returncode == 2 and "--as-of" in proc.stderr and "YYYY-MM-DD" in proc.stderr


def test_debug_shows_traceback(cli, tmp_path):
    p = write(tmp_path, "service: {name: x}\n")
    proc = cli("--debug", "scope", str(p))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_init_questionnaire_writes_a_valid_profile(cli, tmp_path):
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
    proc = cli("profile", "init", "-o", str(out), input="\n".join(answers) + "\n")
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
    assert cli("profile", "check", str(out)).returncode == 0


def test_init_refuses_to_overwrite(cli, tmp_path):
    out = write(tmp_path, "keep me")
    proc = cli("profile", "init", "-o", str(out), input="\n")
    assert proc.returncode == 2 and out.read_text() == "keep me"
