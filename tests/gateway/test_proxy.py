"""Redaction reaching the upstream, blocking in and out, labels, streaming split terms, complaints."""

from __future__ import annotations

import base64
import json

from cnai.gateway.chainlog import export, verify
from cnai.gateway.policy import DEFAULT_POLICY_YAML

ID = "11010519491231002X"          # valid GB 11643 check digit
MOBILE = "13812345678"
CARD = "6222020200112233445"        # passes Luhn? checked below


def _luhn(n: str) -> bool:
    s = 0
    for i, d in enumerate(reversed(n)):
        k = int(d) * (2 if i % 2 else 1)
        s += k - 9 if k > 9 else k
    return s % 10 == 0


def _card() -> str:
    base = "622202020011223344"
    return next(base + str(d) for d in range(10) if _luhn(base + str(d)))


def chat(client, base, content, model="echo", stream=False, headers=None, **extra):
    return client.post(f"{base}/v1/chat/completions", headers=headers or {},
                       json={"model": model, "messages": [{"role": "user", "content": content}], "stream": stream,
                             **extra})


def sse_events(text: str) -> list:
    out = []
    for block in text.split("\n\n"):
        if block.startswith("data: "):
            p = block[6:]
            out.append(p if p == "[DONE]" else json.loads(p))
    return out


def stream_text(events) -> str:
    s = ""
    for e in events:
        if isinstance(e, dict) and "choices" in e:
            for c in e["choices"]:
                s += (c.get("delta") or {}).get("content") or c.get("text") or ""
    return s


def test_default_policy_redacts_pi_before_upstream(start_gateway, upstream, client):
    base, gw, log_dir = start_gateway()
    card = _card()
    n0 = len(upstream.received)
    r = chat(client, base, f"我的身份证{ID}，手机{MOBILE}，卡号{card}，请记住。")
    assert r.status_code == 200, r.text
    sent = upstream.received[n0]["messages"][0]["content"]
    # the model never saw the values (art. 28 PIPL sensitive PI), and saw the type placeholders instead
    assert ID not in sent and MOBILE not in sent and card not in sent
    assert "[cn_resident_id]" in sent and "[cn_mobile]" in sent and "[bank_card]" in sent
    # the upstream key came from the environment and was sent upstream
    assert upstream.headers[n0]["authorization"] == "Bearer sk-test-secret-123"
    recs = [x for x in export(log_dir) if x["kind"] == "request"]
    assert recs[-1]["data"]["input"]["action"] == "redact"
    # data minimisation: the log holds a hash, not the prompt or the values, and never the key
    raw = json.dumps(recs, ensure_ascii=False)
    assert ID not in raw and MOBILE not in raw and "sk-test-secret" not in raw
    assert len(recs[-1]["data"]["prompt_sha256"]) == 64 and "prompt" not in recs[-1]["data"]


def test_output_keyword_blocked_and_not_forwarded(start_gateway, client):
    base, gw, log_dir = start_gateway()
    r = chat(client, base, "hi", model="say:教你自制炸药的方法")
    assert r.status_code == 200
    msg = r.json()["choices"][0]
    assert "自制炸药" not in json.dumps(r.json()["choices"], ensure_ascii=False)
    assert msg["finish_reason"] == "content_filter"
    assert msg["message"]["content"] == gw.policy.refusal
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    assert rec["outcome"] == "blocked_output" and rec["output_decision"]["findings"][0]["category"] == "A.1.d"


def test_input_block_by_policy_never_reaches_upstream(start_gateway, upstream, client):
    pol = DEFAULT_POLICY_YAML.replace('"*": log', '"*": block', 1)
    base, gw, log_dir = start_gateway(pol)
    n0 = len(upstream.received)
    r = chat(client, base, "请告诉我如何自制炸药")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "content_policy_violation"
    assert len(upstream.received) == n0


def test_explicit_text_label_end_and_start(start_gateway, client):
    base, gw, _ = start_gateway()
    r = chat(client, base, "今天天气很好")
    assert r.json()["choices"][0]["message"]["content"] == "今天天气很好" + gw.policy.labels.text_notice
    pol = DEFAULT_POLICY_YAML.replace("position: end", "position: start").replace(
        'text_notice: "（本内容由人工智能生成）"', 'text_notice: "【AI生成】"')
    base2, gw2, _ = start_gateway(pol)
    r = chat(client, base2, "今天天气很好", stream=True)
    assert stream_text(sse_events(r.text)) == "【AI生成】今天天气很好"


def test_streamed_term_split_across_chunks_is_caught(start_gateway, client):
    base, gw, log_dir = start_gateway()
    text = "好的，下面是自制炸药的详细步骤：第一步……"
    for size in (1, 2, 3, 5):
        r = chat(client, base, "x", model="say:" + text, stream=True, mock_chunk=size)
        ev = sse_events(r.text)
        got = stream_text(ev)
        assert "自制炸药" not in got and "炸药" not in got.replace(gw.policy.refusal, "")
        # released text stops before the term; then the refusal and a content_filter final event
        assert got.endswith(gw.policy.refusal)
        released = got[: -len(gw.policy.refusal)]
        assert text.startswith(released) and len(released) <= text.index("自制炸药")
        assert ev[-1] == "[DONE]"
        assert ev[-2]["choices"][0]["finish_reason"] == "content_filter"


def test_stream_holds_back_only_a_possible_term_prefix(tmp_path):
    from cnai.gateway.engine import Engine
    from cnai.gateway.policy import Policy
    bank = tmp_path / "kw.txt"            # our own terms: the shared starter library grows over time
    bank.write_text("自制炸药\tA.1.d\nbuild a bomb\tA.1.d\n", encoding="utf-8")
    eng = Engine(Policy(keyword_library=[str(bank)]))
    from cnai.gateway.engine import StreamGuard
    g = StreamGuard(eng)
    assert g.feed("今天天气") == "今天天气"           # no term starts with these: nothing held
    assert g.feed("真好，自制") == "真好，"            # "自制" could become 自制炸药: held
    assert g.feed("面包") == "自制面包"                # it did not: released
    assert g.feed("，build a bo") == "，"             # ASCII prefix held
    assert g.feed("ok") == "build a book"             # and released once it cannot match
    assert g.feed(" then build a bomb") == " then "   # full ASCII term at the end: held, may grow
    assert g.feed("s.") == "build a bombs."           # grew into another word: whole-word rule, no match
    assert g.feed(" and build a bomb.") == ""
    assert g.blocked


def test_clean_stream_passes_with_label(start_gateway, client):
    base, gw, log_dir = start_gateway()
    r = chat(client, base, "x", model="say:一切正常，没有问题。", stream=True, mock_chunk=2)
    ev = sse_events(r.text)
    assert stream_text(ev) == "一切正常，没有问题。" + gw.policy.labels.text_notice
    assert ev[-1] == "[DONE]"
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    assert rec["stream"] is True and rec["outcome"] == "ok"


def test_completions_route(start_gateway, client):
    base, gw, _ = start_gateway()
    r = client.post(f"{base}/v1/completions", json={"model": "echo", "prompt": f"call {MOBILE}"})
    assert r.status_code == 200
    assert MOBILE not in r.text and "[cn_mobile]" in r.json()["choices"][0]["text"]


def test_image_gets_implicit_label_and_produce_id(start_gateway, client):
    pol = DEFAULT_POLICY_YAML.replace("producer: null", "producer: \"001191110102MACQD9K64010000\"")
    base, gw, log_dir = start_gateway(pol)
    r = client.post(f"{base}/v1/images/generations", json={"model": "img", "prompt": "a cat"})
    assert r.status_code == 200, r.text
    raw = base64.b64decode(r.json()["data"][0]["b64_json"])
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    pid = rec["produce_ids"][0]
    assert rec["images"][0]["status"] == "labelled"
    # read the label back with cnai.label's own reader
    import tempfile

    from cnai.label.api import read_file
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(raw)
        f.flush()
        info = read_file(f.name, with_c2pa=False)
    dumped = json.dumps(info, ensure_ascii=False, default=str)
    assert pid in dumped and "001191110102MACQD9K64010000" in dumped


def test_image_without_producer_is_recorded_unlabelled(start_gateway, client):
    base, gw, log_dir = start_gateway()
    r = client.post(f"{base}/v1/images/generations", json={"model": "img", "prompt": "a cat"})
    assert r.status_code == 200
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    assert rec["images"][0]["status"].startswith("not labelled")


def test_complaint_ticket_and_deadline(start_gateway, client):
    base, gw, log_dir = start_gateway()
    r = client.post(f"{base}/cnai/complaints", json={"text": "回答里有不实信息", "request_id": "req-1"})
    assert r.status_code == 201
    t = r.json()
    assert t["ticket"].startswith("C-") and t["deadline"]
    import datetime as dt
    assert dt.date.fromisoformat(t["deadline"]) - dt.datetime.now(dt.UTC).date() == dt.timedelta(days=15)
    recs = [x for x in export(log_dir) if x["kind"] == "complaint"]
    assert recs[-1]["data"]["ticket"] == t["ticket"]
    assert client.post(f"{base}/cnai/complaints", json={}).status_code == 400


def test_repeat_offender_suspended(start_gateway, client):
    pol = DEFAULT_POLICY_YAML.replace("violations: 5", "violations: 2")
    base, gw, log_dir = start_gateway(pol)
    h = {"x-cnai-user": "u42"}
    for _ in range(2):
        assert chat(client, base, "x", model="say:自制炸药", headers=h).json()["choices"][0]["finish_reason"] == \
            "content_filter"
    r = chat(client, base, "hello", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "user_suspended"
    assert chat(client, base, "hello", headers={"x-cnai-user": "other"}).status_code == 200
    assert any(x["kind"] == "event" and x["data"].get("event") == "user_suspended" for x in export(log_dir))


def test_health_metrics_models(start_gateway, client):
    base, gw, _ = start_gateway()
    chat(client, base, f"手机{MOBILE}")
    chat(client, base, "x", model="say:自制炸药")
    assert client.get(f"{base}/cnai/health").json()["status"] == "ok"
    m = client.get(f"{base}/metrics").text
    assert 'cnai_gateway_redactions_total{type="cn_mobile"} 1.0' in m
    assert 'cnai_gateway_blocks_total{category="A.1.d",direction="output"} 1.0' in m
    assert "cnai_gateway_latency_seconds_bucket" in m
    assert client.get(f"{base}/v1/models").json()["data"][0]["id"] == "echo"


def test_extra_keywords_file(start_gateway, client, tmp_path):
    kw = tmp_path / "extra.txt"
    kw.write_text("机密项目X\tA.1.b\n", encoding="utf-8")
    base, gw, _ = start_gateway(keywords=[str(kw)])
    r = chat(client, base, "x", model="say:关于机密项目X的细节")
    assert r.json()["choices"][0]["finish_reason"] == "content_filter"


def test_chain_verifies_and_hand_edit_is_named(start_gateway, client, cnai):
    base, gw, log_dir = start_gateway()
    for i in range(5):
        chat(client, base, f"hello {i}")
    assert verify(log_dir)["ok"]
    r = cnai("gateway", "log", "verify", log_dir)
    assert r.returncode == 0, r.stderr
    import sqlite3
    db = sqlite3.connect(gw.chain.path)
    db.execute("""UPDATE records SET data = replace(data, '"outcome":"ok"', '"outcome":"no"') WHERE seq = 3""")
    db.commit()
    db.close()
    res = verify(log_dir)
    assert not res["ok"] and res["chains"][0]["broken"]["seq"] == 3
    r = cnai("gateway", "log", "verify", log_dir)
    assert r.returncode == 1 and "record 3" in r.stdout


def test_deleted_record_is_named(start_gateway, client):
    base, gw, log_dir = start_gateway()
    for i in range(4):
        chat(client, base, f"hello {i}")
    import sqlite3
    db = sqlite3.connect(gw.chain.path)
    db.execute("DELETE FROM records WHERE seq = 2")
    db.commit()
    db.close()
    b = verify(log_dir)["chains"][0]["broken"]
    assert b["seq"] == 2 and "missing" in b["problem"]


def test_fast_keyword_engine_matches_the_bank_matcher():
    """The adapter's engine gives exactly the bank matcher's results (folding, ASCII whole words)."""
    from cnai.assess.keywords import Matcher, load_keyword_library
    from cnai.gateway.matching import _Engine
    lib = load_keyword_library(None)
    pairs = [(k.keyword, k.risk) for k in lib.keywords]
    a, b = _Engine(pairs), Matcher(pairs)
    texts = ["教你ＢＵＩＬＤ Ａ ＢＯＭＢ和自制炸药", "rebuild a bombs; build a bomb!", "恐怖袭击恐怖袭击", "",
             "How to KILL SOMEONE quietly", "ethnic cleansing", "xethnic cleansing"]
    for t in texts:
        assert a.find_all(t) == b.find_all(t), t
