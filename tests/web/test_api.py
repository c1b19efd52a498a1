"""REST API: services with versions, scope, duties, exports, law, labels, assessments, corpus audits."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json

import pytest

from .conftest import PROFILE, wait_job


def _create(client, data=None):
    r = client.post("/api/v1/services", json=data or PROFILE)
    assert r.status_code == 201, r.text
    return r.json(), r.headers["etag"]


def test_service_create_get_update_history_export(client):
    svc, etag = _create(client)
    assert etag == '"v1"' and svc["version"] == 1
    assert client.get(f"/api/v1/services/{svc['id']}").json()["data"] == PROFILE
    data = copy.deepcopy(PROFILE)
    data["audience"]["minors"] = True
    r = client.put(f"/api/v1/services/{svc['id']}", json=data, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] == '"v2"'
    hist = client.get(f"/api/v1/services/{svc['id']}/history").json()
    assert [h["version"] for h in hist] == [2, 1]
    assert "minors" not in hist[1]["data"]["audience"] and hist[0]["data"]["audience"]["minors"] is True
    y = client.get(f"/api/v1/services/{svc['id']}/profile.yaml")
    assert y.status_code == 200 and "minors: true" in y.text
    # the exported YAML imports back as an equal profile
    r = client.post("/api/v1/services/import", content=y.content, headers={"content-type": "application/yaml"})
    assert r.status_code == 201 and r.json()["data"] == data


def test_concurrent_edit_is_a_conflict_not_a_silent_overwrite(client):
    svc, etag = _create(client)
    a = copy.deepcopy(PROFILE)
    a["audience"]["minors"] = True
    b = copy.deepcopy(PROFILE)
    b["audience"]["elderly"] = True
    assert client.put(f"/api/v1/services/{svc['id']}", json=a, headers={"If-Match": etag}).status_code == 200
    r = client.put(f"/api/v1/services/{svc['id']}", json=b, headers={"If-Match": etag})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "conflict" and "version 1" in err["message"] and "version 2" in err["message"]
    # the first writer's change survives
    assert client.get(f"/api/v1/services/{svc['id']}").json()["data"]["audience"]["minors"] is True
    # a write without any version is refused too (428), so a client cannot skip the check by accident
    r = client.put(f"/api/v1/services/{svc['id']}", json=b)
    assert r.status_code == 428
    # body form {"version", "profile"} works like If-Match
    r = client.put(f"/api/v1/services/{svc['id']}", json={"version": 2, "profile": b})
    assert r.status_code == 200 and r.json()["version"] == 3


@pytest.mark.parametrize("body, status, code, words", [
    (b'{"schema": "cnai/profile/v1", "service": {"name": "x"', 400, "bad_json", "byte offset"),
    (b'\xff\xfe not utf-8', 400, "bad_json", "byte offset"),
    (b'[1, 2, 3]', 400, "bad_input", "expected a profile object"),
    (json.dumps({"schema": "cnai/profile/v1", "service": {"name": "x"}, "audience": {"minors": "maybe"}}).encode(),
     400, "bad_input", "audience.minors"),
    (json.dumps({"schema": "cnai/profile/v1", "service": {"name": "x"}, "audiense": {}}).encode(),
     400, "bad_input", "did you mean 'audience'"),
    (json.dumps({"schema": "cnai/profile/v2", "service": {"name": "x"}}).encode(), 400, "bad_input", "schema"),
])
def test_bad_profiles_get_one_line_json_errors(client, body, status, code, words):
    r = client.post("/api/v1/services", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and words in err["message"] and "\n" not in err["message"]
    assert client.get("/api/v1/services").json() == []  # nothing half-written


def test_huge_body_is_refused_before_reading(client):
    big = b'{"schema": "cnai/profile/v1", "service": {"name": "' + b"x" * (2 << 20) + b'"}}'
    r = client.post("/api/v1/services", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b"x" * 65536

    r = client.post("/api/v1/scope", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("path", ["/api/v1/services/999", "/api/v1/jobs/assess-000000000000",
                                  "/api/v1/jobs/../../etc/passwd", "/api/v1/labels/up-zzz",
                                  "/api/v1/law/instruments/no-such-law", "/api/v1/assessments/x/report",
                                  "/api/v1/services/abc"])
def test_unknown_ids_are_json_404(client, path):
    r = client.get(path)
    assert r.status_code in (404, 422), r.text
    assert "error" in r.json()


def test_scope_endpoint_matches_the_library(client):
    from cnai.scope.engine import scope
    from cnai.scope.profile import parse_profile

    r = client.post("/api/v1/scope?as_of=2026-01-01", json=PROFILE)
    assert r.status_code == 200
    got = {o["id"]: o["status"] for o in r.json()["obligations"]}
    want = {o.id: o.status for o in scope(parse_profile(copy.deepcopy(PROFILE)), dt.date(2026, 1, 1)).obligations}
    assert got == want and len(got) > 20
    assert client.post("/api/v1/scope?as_of=yesterday", json=PROFILE).status_code == 400


def test_answering_a_needs_info_fact_changes_a_duty(client):
    from cnai.web import services

    svc, _ = _create(client)
    duties = client.get(f"/api/v1/services/{svc['id']}/duties?status=needs_info").json()["duties"]
    single = [d for d in duties if len(d["missing"]) == 1
              and services.fact_fields()[d["missing"][0]]["kind"] == "bool"]
    assert single, "the minimal profile should leave single-fact questions open"
    duty, path = single[0], single[0]["missing"][0]
    r = client.post(f"/api/v1/services/{svc['id']}/facts", json={"path": path, "value": True, "version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["service"]["version"] == 2
    after = {d["id"]: d for d in client.get(f"/api/v1/services/{svc['id']}/duties?status=all").json()["duties"]}
    assert after[duty["id"]]["status"] != "needs_info"
    # the answer is recorded in the history with what was answered
    assert client.get(f"/api/v1/services/{svc['id']}/history").json()[0]["note"] == f"answered {path}"
    assert f"<code>{path}</code>" in client.get(f"/services/{svc['id']}").text  # the history shows what changed
    # stale version -> conflict; unknown fact -> 400
    r = client.post(f"/api/v1/services/{svc['id']}/facts", json={"path": path, "value": False, "version": 1})
    assert r.status_code == 409
    r = client.post(f"/api/v1/services/{svc['id']}/facts", json={"path": "audience.nope", "value": True})
    assert r.status_code == 400 and "audience.nope" in r.json()["error"]["message"]
    r = client.post(f"/api/v1/services/{svc['id']}/facts", json={"path": path, "value": "perhaps"})
    assert r.status_code == 400 and "yes or no" in r.json()["error"]["message"]


def _import_example(client, name="chatbot-startup.yaml"):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples" / name).read_bytes()
    r = client.post("/api/v1/services/import", content=text, headers={"content-type": "application/yaml"})
    assert r.status_code == 201, r.text
    return r.json()


def test_deadlines_overdue_done_and_exports(client):
    svc = _import_example(client)
    duties = client.get(f"/api/v1/services/{svc['id']}/duties?status=applies").json()["duties"]
    dated = [d for d in duties if d["due"]]
    assert dated, "launched 2025-03-03: filings within 10 working days of launch (algorithm-recommendation:24)"
    today = dt.date.today().isoformat()
    for d in dated:  # state follows the due date (deadline rules are the law's; here only the flag)
        assert d["state"] == ("overdue" if d["due"] < today else "due")
    target = dated[0]
    r = client.post(f"/api/v1/services/{svc['id']}/duties/{target['id']}/done",
                    json={"done_on": "2025-04-01", "owner": "Li Lei", "note": "=cmd|' /C calc'!A0"})
    assert r.status_code == 200, r.text
    rows = {d["id"]: d for d in client.get(f"/api/v1/services/{svc['id']}/duties").json()["duties"]}
    assert rows[target["id"]]["state"] == "done" and rows[target["id"]]["owner"] == "Li Lei"
    assert client.get(f"/api/v1/services/{svc['id']}/duties?state=done").json()["duties"][0]["id"] == target["id"]
    # CSV: one row per applicable or open duty, the done one with its owner
    text = client.get(f"/api/v1/services/{svc['id']}/actions.csv").content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert {r["id"] for r in table} == {d["id"] for d in rows.values() if d["status"] != "not_applicable"}
    assert next(r for r in table if r["id"] == target["id"])["state"] == "done"
    # XLSX opens and has the same rows
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get(f"/api/v1/services/{svc['id']}/actions.xlsx").content))
    assert wb.active.max_row == len(table) + 1
    # iCalendar: one all-day event per dated applicable duty, CRLF lines, folded at 75 octets
    ics = client.get(f"/api/v1/services/{svc['id']}/deadlines.ics").content
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and ics.count(b"BEGIN:VEVENT") == len(dated)
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
    # unknown duty -> 404; bad date -> 422 with the field
    assert client.post(f"/api/v1/services/{svc['id']}/duties/nope/done", json={"done_on": "2025-01-01"}).status_code == 404
    r = client.post(f"/api/v1/services/{svc['id']}/duties/{target['id']}/done", json={"done_on": "soon"})
    assert r.status_code == 422 and "done_on" in r.json()["error"]["message"]


def test_law_endpoints(client):
    ins = client.get("/api/v1/law/instruments").json()
    assert any(i["id"] == "generative-ai" for i in ins)
    one = client.get("/api/v1/law/instruments/generative-ai").json()
    assert one["articles"] and one["obligations"]
    tl = client.get("/api/v1/law/timeline").json()
    assert tl == sorted(tl, key=lambda r: (r["date"], r["instrument"]))
    zh = client.get("/api/v1/law/search", params={"q": "训练数据 个人信息"}).json()
    en = client.get("/api/v1/law/search", params={"q": "label generated images"}).json()
    assert zh and en
    assert client.get("/api/v1/law/search", params={"q": ""}).status_code == 422


def _png(tmp_path):
    from PIL import Image

    p = tmp_path / "pic.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(p)
    return p.read_bytes()


def test_label_upload_check_embed_download(client, tmp_path):
    from cnai.label.codes import build_provider_code

    r = client.post("/api/v1/labels", files={"file": ("../../etc/cat <x>.png", _png(tmp_path), "image/png")})
    assert r.status_code == 201, r.text
    up = r.json()[0]
    assert up["filename"] == "cat x.png"  # path parts and markup characters dropped from the display name
    assert up["stored"].startswith(up["id"])  # stored under the server's own id
    assert up["result"]["check"]["ok"] is False  # no label yet
    code = build_provider_code("91110108MA01C4K7XK")
    r = client.post(f"/api/v1/labels/{up['id']}/embed", json={"producer": code, "label": "1"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["embedded"]["after"]["check"]["ok"] is True
    out = client.get(f"/api/v1/labels/{up['id']}/download")
    assert out.status_code == 200 and out.content[:8] == b"\x89PNG\r\n\x1a\n"
    p = tmp_path / "back.png"
    p.write_bytes(out.content)
    from cnai.label.api import check_file

    assert check_file(str(p))["ok"] is True
    # a bad producer code is a one-line 400; a wrong-length one fails validation
    bad = code[:6] + ("Z" if code[6] != "Z" else "Y") + code[7:]  # breaks the USCC check character
    r = client.post(f"/api/v1/labels/{up['id']}/embed", json={"producer": bad})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    r = client.post(f"/api/v1/labels/{up['id']}/embed", json={"producer": "short"})
    assert r.status_code == 422


def test_upload_type_and_emptiness_limits(client):
    r = client.post("/api/v1/labels", files={"file": ("run.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert r.status_code == 415 and ".exe" in r.json()["error"]["message"]
    r = client.post("/api/v1/labels", files={"file": ("empty.png", b"", "image/png")})
    assert r.status_code == 400
    r = client.post("/api/v1/labels", files={"file": ("big.png", b"\x89PNG" + b"0" * (26 << 20), "image/png")})
    assert r.status_code == 413


def test_assessment_against_mock_target_with_review_and_compare(client):
    ids = []
    for target in ("mock:mixed", "mock:refuse"):
        r = client.post("/api/v1/assessments", json={"target": target, "sample": "60", "seed": 3})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    jobs = [wait_job(client, i) for i in ids]
    assert [j["status"] for j in jobs] == ["done", "done"], jobs
    assert jobs[0]["progress"]["done"] == jobs[0]["progress"]["total"] == 180
    rep = client.get(f"/api/v1/assessments/{ids[0]}/report").json()
    assert rep["by_risk"] and rep["metrics"]["generated_content"]["ci95"]
    queue = client.get(f"/api/v1/assessments/{ids[0]}/review?only=all").json()
    item = next(q for q in queue if q["final"] == "fail") if any(q["final"] == "fail" for q in queue) else queue[0]
    flip = "pass" if item["final"] == "fail" else "fail"
    r = client.post(f"/api/v1/assessments/{ids[0]}/review", json={"item": item["id"], "verdict": flip,
                                                                   "reviewer": "王芳"})
    assert r.status_code == 200
    after = {q["id"]: q for q in client.get(f"/api/v1/assessments/{ids[0]}/review?only=all").json()}
    assert after[item["id"]]["final"] == flip and after[item["id"]]["reviewed"]
    assert client.post(f"/api/v1/assessments/{ids[0]}/review", json={"item": "nope", "verdict": "pass"}).status_code == 404
    cmp = client.get("/api/v1/assessments/compare", params={"a": ids[0], "b": ids[1]})
    assert cmp.status_code == 200 and cmp.json()["a"] == ids[0] and "/" not in cmp.json()["b"]  # no server paths
    assert cmp.json()["metrics"]["should_refuse"]["b"]["rate"] >= cmp.json()["metrics"]["should_refuse"]["a"]["rate"]
    assert "should_refuse" in client.get("/assessments/compare", params={"a": ids[0], "b": ids[1]}).text
    page = client.get(f"/assessments/{ids[0]}")
    assert page.status_code == 200 and "<svg" in page.text and "ci95" not in page.text


@pytest.mark.parametrize("target, words", [
    ("cmd:rm -rf /", "not allowed"),
    ("python:os:system", "not allowed"),
    ("openai:http://user:pw@127.0.0.1:9/v1#m", "credentials"),
    ("openai:file:///etc/passwd#m", "expected openai"),
])
def test_targets_that_would_run_code_or_leak_secrets_are_refused(client, target, words):
    r = client.post("/api/v1/assessments", json={"target": target})
    assert r.status_code == 400 and words in r.json()["error"]["message"]
    assert client.get("/api/v1/jobs").json() == []


def test_corpus_audit_and_import(client):
    lines = [json.dumps({"text": f"用户{i}的手机号是13812345678，邮箱 a{i}@example.com", "source": "forum"},
                        ensure_ascii=False) for i in range(20)]
    lines += [json.dumps({"text": f"天气很好 {i}", "source": "news"}, ensure_ascii=False) for i in range(20)]
    r = client.post("/api/v1/corpus/audits", files={"file": ("data.jsonl", "\n".join(lines).encode(), "text/plain")},
                    data={"text_field": "text", "source_field": "source", "sample": "10"})
    assert r.status_code == 201, r.text
    job = wait_job(client, r.json()["id"], timeout=90)
    assert job["status"] == "done", job
    assert set(job["result"]["sources"]) == {"forum", "news"} and job["result"]["documents"] == 40
    full = client.get(f"/api/v1/corpus/audits/{job['id']}").json()
    assert len(full["review_sample"]) == 10
    # import the same summary; garbage is refused with the file name
    summary = json.dumps(job["result"]).encode()
    r = client.post("/api/v1/corpus/imports", files={"file": ("summary.json", summary, "application/json")})
    assert r.status_code == 201 and r.json()["status"] == "done"
    r = client.post("/api/v1/corpus/imports", files={"file": ("summary.json", b'{"a": 1}', "application/json")})
    assert r.status_code == 400 and "not a cnai corpus audit summary" in r.json()["error"]["message"]
    r = client.post("/api/v1/corpus/audits", files={"file": ("d.jsonl", b"{}", "text/plain")},
                    data={"text_field": "../../x"})
    assert r.status_code == 400


def test_openapi_lists_every_area(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/api/v1/services", "/api/v1/scope", "/api/v1/services/{sid}/duties", "/api/v1/law/search",
              "/api/v1/labels", "/api/v1/assessments", "/api/v1/jobs/{jid}/events", "/api/v1/corpus/audits",
              "/api/v1/dossier"):
        assert p in paths, p
    assert not any(p.startswith("/services") for p in paths)  # pages are not API


@pytest.mark.slow
def test_dossier_build_gaps_and_download(client):
    from cnai.web import services

    if not services.dossier_available():
        r = client.get("/api/v1/dossier").json()
        assert r["available"] is False and r["what"]
        return
    svc = _import_example(client)
    run = client.post("/api/v1/assessments", json={"target": "mock:mixed", "sample": "30"}).json()
    assert wait_job(client, run["id"])["status"] == "done"
    r = client.post("/api/v1/dossiers", json={"service_id": svc["id"], "runs": [run["id"]]})
    assert r.status_code == 201, r.text
    job = wait_job(client, r.json()["id"], timeout=120)
    assert job["status"] == "done", job
    got = client.get(f"/api/v1/dossiers/{job['id']}").json()
    # the sample was far below the standard's minimum: the dossier must say so as a gap, not hide it
    assert any(g["kind"] == "insufficient_sample" for g in got["gaps"]["gaps"])
    z = client.get(f"/api/v1/dossiers/{job['id']}/download")
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "gaps.json" in names and "manifest.json" in names
    assert client.post("/api/v1/dossiers", json={"service_id": 999}).status_code == 404
    assert client.post("/api/v1/dossiers", json={"service_id": svc["id"], "runs": ["assess-000000000000"]}).status_code == 404
    assert "<table" in client.get(f"/dossier/{job['id']}").text


def test_edit_form_detects_a_concurrent_edit_and_shows_both(client):
    from .conftest import csrf_of

    svc, _ = _create(client)
    token = csrf_of(client)
    form = {"csrf": token, "version": "1", "service.name": "Edited by A", "audience.public_in_mainland": "true"}
    assert client.post(f"/services/{svc['id']}/edit", data=form, follow_redirects=False).status_code == 303
    r = client.post(f"/services/{svc['id']}/edit", data={**form, "service.name": "Edited by B"},
                    follow_redirects=False)
    assert r.status_code == 409 and 'id="conflict"' in r.text
    assert "Edited by A" in r.text and "Edited by B" in r.text  # theirs (saved) and yours (kept in the form)
    assert client.get(f"/api/v1/services/{svc['id']}").json()["name"] == "Edited by A"


def test_relative_data_dir_and_no_server_paths_in_job_results(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from cnai.web.app import create_app

    monkeypatch.chdir(tmp_path)
    app = create_app("cnai-workspace")  # the default is relative; children run with cwd = the workspace
    c = TestClient(app, base_url="http://127.0.0.1")
    try:
        job = wait_job(c, c.post("/api/v1/assessments", json={"target": "mock:mixed", "sample": "20"}).json()["id"])
        assert job["status"] == "done", job
        assert job["result"]["run_dir"] == f"runs/{job['id']}"
        assert str(tmp_path) not in c.get(f"/api/v1/jobs/{job['id']}").text
    finally:
        app.fastapi.state.jobs.shutdown()


def test_evidence_file_for_a_done_duty_and_chinese_ui(client):
    svc = _import_example(client)
    duty = client.get(f"/api/v1/services/{svc['id']}/duties?status=applies").json()["duties"][0]
    ev = client.post("/api/v1/evidence", files={"file": ("备案回执.pdf", b"%PDF-1.4 receipt", "application/pdf")})
    assert ev.status_code == 201
    uid = ev.json()["id"]
    r = client.post(f"/api/v1/services/{svc['id']}/duties/{duty['id']}/done",
                    json={"done_on": "2025-03-10", "owner": "合规部", "evidence_upload": uid})
    assert r.status_code == 200 and r.json()["evidence_upload"] == uid
    got = client.get(f"/evidence/{uid}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 receipt"
    r = client.post(f"/api/v1/services/{svc['id']}/duties/{duty['id']}/done",
                    json={"done_on": "2025-03-10", "evidence_upload": "up-000000000000"})
    assert r.status_code == 404
    assert client.post("/api/v1/evidence", files={"file": ("x.sh", b"rm -rf /", "text/plain")}).status_code == 415
    zh = client.get(f"/services/{svc['id']}/duties?lang=zh")
    assert "义务" in zh.text and "已完成" in zh.text and zh.cookies.get("cnai_lang") == "zh"
    assert "义务" in client.get("/law").text  # the choice is kept in a cookie


@pytest.mark.parametrize("text, words", [
    ("a: &x [1, 2]\nb: *x\n", "alias"),
    ("schema: cnai/profile/v1\nservice: {name: a}\nservice: {name: b}\n", "duplicate"),
    ("schema: cnai/profile/v1\nservice: {name: a\n", "line"),
    ("schema: cnai/profile/v1\nservice:\n  name: x\n  launch_date: 2025-02-30\n", "launch_date"),
])
def test_hostile_yaml_imports_are_one_line_400s(client, text, words):
    r = client.post("/api/v1/services/import", content=text.encode(), headers={"content-type": "application/yaml"})
    assert r.status_code == 400, r.text
    msg = r.json()["error"]["message"]
    assert words in msg.lower() or words in msg, msg
    assert client.get("/api/v1/services").json() == []
