"""ai-labeling:9 switch: replies without the explicit (visible) label only for registered users who ask; the
implicit label stays; every request for it is logged (granted with the agreement, or refused with why)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from cnai.errors import InputError
from cnai.gateway.chainlog import export
from cnai.gateway.policy import DEFAULT_POLICY_YAML, load_policy, opt_out

from .test_proxy import chat, sse_events, stream_text

PRODUCER = "001191110102MACQD9K64010000"


def policy_yaml(tmp_path, register_rows: str | None = None, inline: str = "[]", enabled: bool = True) -> str:
    y = DEFAULT_POLICY_YAML.replace('producer: null', f'producer: "{PRODUCER}"')
    y = y.replace("    enabled: false           # and only", f"    enabled: {str(enabled).lower()}           # and only")
    y = y.replace("    users: []                #", f"    users: {inline}                #")
    if register_rows is not None:
        reg = tmp_path / "register.csv"
        reg.write_text("user,agreement,agreed,until\n" + register_rows, encoding="utf-8")
        y = y.replace("    register_file: null", f"    register_file: {reg}")
    return y


def last_request(log_dir) -> dict:
    return [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]


def test_registered_user_who_asks_gets_no_visible_label_and_the_record_names_the_agreement(
        start_gateway, client, upstream, tmp_path):
    base, gw, log_dir = start_gateway(policy_yaml(tmp_path, "alice,TOS v3 §7 labelling duties,2025-09-01,\n"))
    notice = gw.policy.labels.text_notice
    h = {"x-cnai-user": "alice", "x-cnai-no-visible-label": "1"}
    r = chat(client, base, "今天天气很好", headers=h)
    assert r.json()["choices"][0]["message"]["content"] == "今天天气很好"        # no explicit label
    rec = last_request(log_dir)
    oo = rec["label_opt_out"]
    assert oo["granted"] is True and oo["agreement"] == "TOS v3 §7 labelling duties"
    assert oo["agreed"] == "2025-09-01" and oo["basis"] == "ai-labeling:9" and oo["produce_id"]
    assert rec["user"] == "alice"
    # the same user without asking: labelled as usual, nothing about an opt-out in the record
    r = chat(client, base, "今天天气很好", headers={"x-cnai-user": "alice"})
    assert r.json()["choices"][0]["message"]["content"] == "今天天气很好" + notice
    assert "label_opt_out" not in last_request(log_dir)
    # streamed, asked through the body field, which never reaches the upstream
    n = len(upstream.received)
    r = chat(client, base, "x", model="say:一切正常。", stream=True, mock_chunk=2, headers={"x-cnai-user": "alice"},
             cnai_no_visible_label=True)
    assert stream_text(sse_events(r.text)) == "一切正常。"
    assert "cnai_no_visible_label" not in upstream.received[n]
    assert last_request(log_dir)["label_opt_out"]["granted"] is True
    m = client.get(f"{base}/metrics").text
    assert 'cnai_gateway_label_opt_out_total{outcome="granted"} 2.0' in m


def test_unknown_user_asking_gets_the_label_and_a_logged_refusal(start_gateway, client, tmp_path):
    base, gw, log_dir = start_gateway(policy_yaml(tmp_path, "alice,TOS v3,2025-09-01,\n"))
    notice = gw.policy.labels.text_notice
    for headers, why in [({"x-cnai-user": "mallory", "x-cnai-no-visible-label": "true"}, "not in the register"),
                         ({"x-cnai-no-visible-label": "yes"}, "no user id")]:
        r = chat(client, base, "今天天气很好", headers=headers)
        assert r.json()["choices"][0]["message"]["content"] == "今天天气很好" + notice
        oo = last_request(log_dir)["label_opt_out"]
        assert oo["granted"] is False and why in oo["reason"] and oo["basis"] == "ai-labeling:9"
    r = chat(client, base, "x", model="say:一切正常。", stream=True, mock_chunk=3,
             headers={"x-cnai-user": "mallory", "x-cnai-no-visible-label": "1"})
    assert stream_text(sse_events(r.text)) == "一切正常。" + notice
    assert last_request(log_dir)["label_opt_out"]["granted"] is False
    assert 'cnai_gateway_label_opt_out_total{outcome="refused"} 3.0' in client.get(f"{base}/metrics").text


def test_switch_off_by_default_refuses_even_registered_users(start_gateway, client, tmp_path):
    y = policy_yaml(tmp_path, inline='[{user: alice, agreement: "TOS v3", agreed: 2025-09-01}]', enabled=False)
    base, gw, log_dir = start_gateway(y)
    r = chat(client, base, "你好", headers={"x-cnai-user": "alice", "x-cnai-no-visible-label": "1"})
    assert r.json()["choices"][0]["message"]["content"].endswith(gw.policy.labels.text_notice)
    assert "not enabled" in last_request(log_dir)["label_opt_out"]["reason"]


def test_implicit_label_kept_on_images_for_an_opted_out_user(start_gateway, client, tmp_path):
    base, gw, log_dir = start_gateway(policy_yaml(tmp_path, "alice,TOS v3,2025-09-01,\n"))
    r = client.post(f"{base}/v1/images/generations", json={"model": "img", "prompt": "a cat"},
                    headers={"x-cnai-user": "alice", "x-cnai-no-visible-label": "1"})
    assert r.status_code == 200
    rec = last_request(log_dir)
    assert rec["label_opt_out"]["granted"] is True
    assert rec["images"][0]["status"] == "labelled"
    import tempfile

    from cnai.label.api import read_file
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(base64.b64decode(r.json()["data"][0]["b64_json"]))
        f.flush()
        dumped = json.dumps(read_file(f.name, with_c2pa=False), ensure_ascii=False, default=str)
    assert rec["produce_ids"][0] in dumped and PRODUCER in dumped


def test_agreement_dates_bound_the_opt_out(tmp_path):
    pol = load_policy(str(_write(tmp_path, policy_yaml(
        tmp_path, "alice,TOS v3,2026-01-10,2026-06-30\nbob,TOS v3,2025-01-01,\n"))))
    day = dt.date
    assert opt_out(pol, "alice", day(2026, 1, 9))[0] is None           # before acceptance
    assert "accepted only from 2026-01-10" in opt_out(pol, "alice", day(2026, 1, 9))[1]
    assert opt_out(pol, "alice", day(2026, 1, 10))[0].agreement == "TOS v3"
    assert opt_out(pol, "alice", day(2026, 6, 30))[0] is not None
    assert "ended 2026-06-30" in opt_out(pol, "alice", day(2026, 7, 1))[1]
    assert opt_out(pol, "bob", day(2030, 1, 1))[0] is not None


def _write(tmp_path, text: str):
    p = tmp_path / "policy.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("rows, msg", [
    ("alice,TOS v3,not-a-date,\n", "row 2"),
    ("alice,,2025-01-01,\n", "row 2"),
    ("alice,TOS,2025-01-01,\nalice,TOS,2025-02-01,\n", "listed twice"),
    ("alice,TOS,2025-05-01,2025-01-01\n", "until is before agreed"),
])
def test_bad_register_is_one_clear_error(tmp_path, rows, msg):
    p = _write(tmp_path, policy_yaml(tmp_path, rows))
    with pytest.raises(InputError) as e:
        load_policy(str(p))
    assert msg in str(e.value) and "register.csv" in str(e.value)


def test_register_header_and_yaml_register(tmp_path):
    reg = tmp_path / "reg.csv"
    reg.write_text("name,agreement\nalice,TOS\n", encoding="utf-8")
    y = DEFAULT_POLICY_YAML.replace("    register_file: null", f"    register_file: {reg}")
    with pytest.raises(InputError, match="CSV header"):
        load_policy(str(_write(tmp_path, y)))
    (tmp_path / "reg.yaml").write_text("users:\n  - {user: alice, agreement: TOS v3, agreed: 2025-09-01}\n",
                                       encoding="utf-8")
    y = DEFAULT_POLICY_YAML.replace("    register_file: null", "    register_file: reg.yaml")   # beside the policy
    pol = load_policy(str(_write(tmp_path, y)))
    assert [a.user for a in pol.labels.no_visible_label.users] == ["alice"]
