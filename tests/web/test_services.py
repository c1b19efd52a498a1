"""The adapter (cnai.web.services) against the libraries it wraps: drift shows up here first."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from .conftest import PROFILE


def test_fast_scope_dict_equals_the_engines_to_dict():
    from cnai.web import services

    for day in (dt.date(2024, 1, 1), dt.date(2026, 8, 1)):
        fast = services.scope_dict(copy.deepcopy(PROFILE), day)
        slow = services.run_scope(copy.deepcopy(PROFILE), day).to_dict()
        assert json.dumps(fast, sort_keys=True, default=str) == json.dumps(slow, sort_keys=True, default=str)


def test_form_covers_every_profile_fact():
    from cnai.scope.profile import fact_paths
    from cnai.web import services

    assert set(services.fact_fields()) == fact_paths()
    f = services.fact_fields()
    assert f["audience.minors"]["kind"] == "bool" and f["audience.minors"]["help"]
    assert f["capabilities.generates"]["kind"] == "multi" and "image" in f["capabilities.generates"]["choices"]
    assert f["audience.registered_users"]["kind"] == "int"
    assert f["service.launch_date"]["kind"] == "date"


@pytest.mark.parametrize("path, raw, want", [
    ("audience.minors", "true", True), ("audience.minors", "否", False), ("audience.minors", "", None),
    ("capabilities.generates", ["text", "image"], ["text", "image"]), ("capabilities.generates", ["__none__"], []),
    ("capabilities.generates", [], None), ("audience.registered_users", "1,000", 1000),
    ("service.launch_date", "2025-03-03", "2025-03-03"), ("model.source", "fine_tuned", "fine_tuned"),
])
def test_convert_answer(path, raw, want):
    from cnai.web import services

    assert services.convert_answer(path, raw) == want


@pytest.mark.parametrize("path, raw, words", [
    ("audience.minors", "maybe", "yes or no"), ("capabilities.generates", ["smell"], "unknown value"),
    ("audience.registered_users", "lots", "not a number"), ("service.launch_date", "03/03/2025", "YYYY-MM-DD"),
    ("model.source", "stolen", "not allowed"), ("nope.nope", "1", "not a profile fact"),
])
def test_convert_answer_errors_name_the_field(path, raw, words):
    from cnai.errors import InputError
    from cnai.web import services

    with pytest.raises(InputError, match=words) as e:
        services.convert_answer(path, raw)
    assert path in str(e.value)


def test_set_fact_unknown_again_removes_it():
    from cnai.web import services

    d = services.set_fact(PROFILE, "ethics.mobilises_public_opinion", True)
    assert d["ethics"] == {"mobilises_public_opinion": True} and "ethics" not in PROFILE
    assert "ethics" not in services.set_fact(d, "ethics.mobilises_public_opinion", None)


def test_ics_folding_and_escaping():
    from cnai.web.exports import _fold, _ics_text

    line = "SUMMARY:" + _ics_text("生成式人工智能服务备案, 截止; 日期\n第二行" * 4)
    folded = _fold(line)
    assert all(len(x.encode()) <= 75 for x in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line and "\\," in line and "\\;" in line and "\\n" in line


def test_csv_cells_cannot_become_formulas():
    from cnai.web.exports import actions_csv

    rows = [{"id": "x", "title": "=HYPERLINK(\"http://evil\")", "status": "applies", "state": "due",
             "citations": [], "evidence_upload": None}]
    assert b"'=HYPERLINK" in actions_csv(rows)


def test_migrations_apply_in_order_and_a_failing_one_rolls_back(tmp_path, monkeypatch):
    import sqlite3

    from cnai.web import db

    ws = db.Workspace(tmp_path / "ws")
    sid = ws.create_service(copy.deepcopy(PROFILE))["id"]
    assert ws.schema_version() == len(db.MIGRATIONS)
    base = list(db.MIGRATIONS)
    # a broken migration: its first statement would succeed, the second fails -> nothing of it sticks
    monkeypatch.setattr(db, "MIGRATIONS", base + ["CREATE TABLE half (x); INSERT INTO nowhere VALUES (1)"])
    from cnai.errors import InputError

    with pytest.raises(InputError, match="schema 2 failed .*left unchanged at schema 1"):
        db.Workspace(tmp_path / "ws")
    with sqlite3.connect(tmp_path / "ws" / db.DB_NAME) as con:
        assert not con.execute("SELECT name FROM sqlite_master WHERE name='half'").fetchall()
    monkeypatch.setattr(db, "MIGRATIONS", base + ["ALTER TABLE services ADD COLUMN tags TEXT"])
    again = db.Workspace(tmp_path / "ws")
    assert again.schema_version() == len(base) + 1
    assert again.get_service(sid)["data"] == PROFILE  # data kept across the upgrade


def test_profile_diff_lists_changed_facts():
    from cnai.web import services

    new = services.set_fact(services.set_fact(PROFILE, "audience.minors", True), "roles", ["provider", "user"])
    new = services.set_fact(new, "capabilities.dialogue_simulating_person", None)
    got = {c["path"]: (c["old"], c["new"]) for c in services.profile_diff(PROFILE, new)}
    assert got == {"audience.minors": (None, True), "roles": (["provider"], ["provider", "user"]),
                   "capabilities.dialogue_simulating_person": (True, None)}


def test_two_processes_opening_a_new_workspace_at_once_migrate_it_once(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from cnai.web.db import Workspace; w = Workspace(sys.argv[1]); "
            "print(w.schema_version())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "ws")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    from cnai.web.db import MIGRATIONS

    assert [o[0].strip() for o in outs] == [str(len(MIGRATIONS))] * 4, outs


def test_scope_cache_is_keyed_on_profile_date_and_law_version(monkeypatch):
    from cnai.web import services

    services.SCOPE_CACHE.clear()
    day = dt.date(2026, 8, 1)
    first = services.scope_dict(copy.deepcopy(PROFILE), day)
    assert (services.SCOPE_CACHE.hits, services.SCOPE_CACHE.misses) == (0, 1)
    # The same facts in another key order (and a date as a date, not a string) are the same profile.
    reordered = {k: PROFILE[k] for k in reversed(list(PROFILE))}
    reordered["service"] = {"launch_date": dt.date(2025, 3, 3), "name": PROFILE["service"]["name"]}
    again = services.scope_dict(reordered, day)
    assert again == first and again is not first  # every caller gets its own copy
    assert services.SCOPE_CACHE.hits == 1
    # Another day, another fact or another law version is another result, computed afresh.
    other_day = services.scope_dict(copy.deepcopy(PROFILE), dt.date(2024, 1, 1))
    assert other_day["as_of"] == "2024-01-01" and other_day != first
    minors = copy.deepcopy(PROFILE)
    minors["audience"]["minors"] = True
    changed = services.scope_dict(minors, day)
    assert changed != first
    assert _same(changed, services.run_scope(copy.deepcopy(minors), day).to_dict())
    monkeypatch.setattr(services, "kb_version", lambda: "law-data-edited")
    assert services.scope_dict(copy.deepcopy(PROFILE), day) == first
    assert (services.SCOPE_CACHE.hits, services.SCOPE_CACHE.misses) == (1, 4)


def test_scope_cache_never_holds_an_invalid_profile_and_is_bounded():
    from cnai.errors import InputError
    from cnai.web import services

    services.SCOPE_CACHE.clear()
    bad = copy.deepcopy(PROFILE)
    bad["audience"]["minors"] = "maybe"
    for _ in range(2):
        with pytest.raises(InputError, match="audience.minors"):
            services.scope_dict(bad, dt.date(2026, 8, 1))
    assert len(services.SCOPE_CACHE._items) == 0
    for i in range(services.SCOPE_CACHE.size + 5):
        p = copy.deepcopy(PROFILE)
        p["service"]["name"] = f"service {i}"
        services.scope_dict(p, dt.date(2026, 8, 1))
    assert len(services.SCOPE_CACHE._items) == services.SCOPE_CACHE.size


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_pages_and_api_leave_the_shared_cached_result_unchanged(client):
    """Cached results are shared between requests: no route may change one in place."""
    from cnai.web import services

    services.SCOPE_CACHE.clear()
    sid = client.post("/api/v1/services", json=copy.deepcopy(PROFILE)).json()["id"]
    duties = client.get(f"/api/v1/services/{sid}/duties").json()["duties"]
    duty = next(d for d in duties if d["status"] == "applies")
    r = client.post(f"/api/v1/services/{sid}/duties/{duty['id']}/done", json={"done_on": "2025-01-01", "owner": "A"})
    assert r.status_code == 200
    for path in (f"/services/{sid}/duties", f"/api/v1/services/{sid}/duties", f"/services/{sid}/actions.csv",
                 f"/api/v1/services/{sid}/actions.xlsx", f"/services/{sid}/deadlines.ics"):
        assert client.get(path).status_code == 200, path
    assert client.post("/api/v1/scope", json=copy.deepcopy(PROFILE)).status_code == 200
    assert services.SCOPE_CACHE.hits >= 5
    today = dt.date.today()
    cached = services.scope_dict(copy.deepcopy(PROFILE), today)
    assert _same(cached, services.run_scope(copy.deepcopy(PROFILE), today).to_dict())


def test_scope_json_is_the_cached_dict_serialised():
    from cnai.web import services

    services.SCOPE_CACHE.clear()
    day = dt.date(2026, 8, 1)
    body = services.scope_json(copy.deepcopy(PROFILE), day)
    assert services.scope_json(copy.deepcopy(PROFILE), day) is body
    assert json.loads(body) == json.loads(json.dumps(services.run_scope(copy.deepcopy(PROFILE), day).to_dict(),
                                                     default=str))


def test_every_ui_string_a_template_asks_for_is_in_the_table_in_both_languages():
    import re
    from pathlib import Path

    from cnai.web import i18n

    templates = Path(i18n.__file__).with_name("templates")
    used = {m for f in templates.glob("*.html") for m in re.findall(r"\bt\('([a-z_.]+)'\)", f.read_text("utf-8"))}
    assert len(used) > 50
    assert used - set(i18n.STRINGS) == set()
    assert i18n.translate("nav.services", "zh") == "服务" and i18n.translate("nav.services", "en") == "Services"
    assert i18n.translate("section.audience", "zh") == "用户是谁"


@pytest.mark.parametrize("text, error", [
    ("a\tA\n", "expected key<TAB>English<TAB>Chinese"), ("a\tA\t \n", "expected key"),
    ("a\tA\t甲\nb\tB\t乙\na\tA2\t甲2\n", "t.tsv:4: key 'a' is given twice"),
])
def test_ui_string_table_refuses_malformed_lines(tmp_path, text, error):
    from cnai.web import i18n

    p = tmp_path / "t.tsv"
    p.write_text("# comment\n" + text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        i18n.load_table(p)
