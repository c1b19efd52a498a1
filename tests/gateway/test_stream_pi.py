"""PI rules on streamed output: chunk-proof redaction and blocking with a bounded hold-back."""

from __future__ import annotations

import random

import pytest

from cnai.gateway.engine import TOKEN_PI_MAX, Engine, StreamGuard
from cnai.gateway.policy import DEFAULT_POLICY_YAML, Direction, Policy

from .test_proxy import ID, MOBILE, _card, chat, sse_events, stream_text

REDACT = Policy(output=Direction(pi={"cn_resident_id": "redact", "cn_mobile": "redact", "bank_card": "redact",
                                     "email": "redact"}, keywords={"*": "block"}))
BLOCK_ID = Policy(output=Direction(pi={"cn_resident_id": "block", "cn_mobile": "log"}, keywords={"*": "block"}))


def run(guard: StreamGuard, pieces: list[str]) -> str:
    out = "".join(guard.feed(p) for p in pieces)
    return out + guard.finish()


def splits(text: str, rng: random.Random):
    for size in range(1, 9):
        yield [text[i:i + size] for i in range(0, len(text), size)]
    for _ in range(30):                     # random cut points
        cuts = sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(1, 12))))
        yield [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)], strict=True)]


TEXTS = [
    f"您的身份证号是{ID}，手机{MOBILE}。谢谢",
    f"卡号 {_card()} 已绑定，联系 zhang.san@example.com 或 +86 138 1234 5678",
    f"{MOBILE}",                                      # identifier at the very start and very end
    f"编号{MOBILE}9不是手机号；电话{MOBILE}是",       # a 12-digit run is not a mobile (same as non-streamed)
    "今天天气很好，没有任何个人信息。",
]


@pytest.mark.parametrize("text", TEXTS)
def test_streamed_redaction_equals_whole_text_redaction_for_any_chunking(text):
    eng = Engine(REDACT)
    whole = eng.check(text, output=True)
    expect = whole.text if whole.text is not None else text
    rng = random.Random(len(text))
    for pieces in splits(text, rng):
        g = StreamGuard(eng)
        assert run(g, pieces) == expect, pieces
        assert sorted(f["category"] for f in g.findings) == sorted(f["category"] for f in whole.findings)


def test_no_digit_of_a_blocked_id_is_ever_forwarded():
    eng = Engine(BLOCK_ID)
    text = f"好的，您的证件号码为{ID}，请妥善保管。"
    for pieces in splits(text, random.Random(7)):
        g = StreamGuard(eng)
        out = run(g, pieces)
        # what was released stops before the identifier (a chunk that completes it is withheld whole)
        assert g.blocked and "好的，您的证件号码为".startswith(out), pieces
        assert not any(c.isdigit() for c in out)


def test_hold_back_is_bounded_and_only_while_an_identifier_can_still_grow():
    eng = Engine(REDACT)
    g = StreamGuard(eng)
    assert g.feed("联系电话：") == "联系电话："          # nothing that can become an identifier: no hold
    assert g.feed("1381234") == ""                        # could still become a mobile / ID / card: held
    assert g.feed("5678") == ""                           # a complete mobile may still grow into a card
    assert g.feed("，好") == "[cn_mobile]，好"            # the token ended: redacted and released
    g = StreamGuard(eng)
    g.feed("x" + "9" * 200)                               # a long digit run holds at most the cap
    assert len(g.acc) - g.released <= max(TOKEN_PI_MAX[t] for t in REDACT.output.pi)
    # digit-only PI types: an English word at the end is not held
    g = StreamGuard(Engine(Policy(output=Direction(pi={"cn_mobile": "redact"}, keywords={}))))
    assert g.feed("call me tomorrow") == "call me tomorrow"


def test_context_dependent_pi_on_output_holds_the_whole_choice():
    eng = Engine(Policy(output=Direction(pi={"person_name": "redact"}, keywords={})))
    g = StreamGuard(eng)
    assert g.full_hold
    assert g.feed("你好，我是张") == "" and g.feed("伟，很高兴") == ""
    out = g.finish()
    assert out == eng.check("你好，我是张伟，很高兴", output=True).text


def test_gateway_redacts_pi_split_across_sse_chunks(start_gateway, client):
    pol = DEFAULT_POLICY_YAML.replace("  pi: {}", "  pi: {cn_resident_id: redact, cn_mobile: block}")
    base, gw, log_dir = start_gateway(pol)
    text = f"查询结果：身份证{ID}已核验。"
    for size in (1, 2, 3, 5, 7):
        r = chat(client, base, "x", model="say:" + text, stream=True, mock_chunk=size)
        ev = sse_events(r.text)
        got = stream_text(ev)
        assert ID not in got and ID[:6] not in got, size
        assert got == "查询结果：身份证[cn_resident_id]已核验。" + gw.policy.labels.text_notice
        assert ev[-1] == "[DONE]"
    from cnai.gateway.chainlog import export
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    assert rec["output_decision"]["findings"] == [{"kind": "pi", "category": "cn_resident_id", "action": "redact"}]
    # block: the stream stops before the identifier with a content_filter final event
    r = chat(client, base, "x", model=f"say:请拨打{MOBILE}联系我们", stream=True, mock_chunk=3)
    ev = sse_events(r.text)
    got = stream_text(ev)
    assert MOBILE[:3] not in got and got == "请拨打" + gw.policy.refusal
    assert ev[-2]["choices"][0]["finish_reason"] == "content_filter"
    m = client.get(f"{base}/metrics").text
    assert 'cnai_gateway_redactions_total{type="cn_resident_id"} 5.0' in m
    assert 'cnai_gateway_blocks_total{category="cn_mobile",direction="output"} 1.0' in m


def test_long_stream_keeps_working_after_old_context_is_dropped():
    """Past a few KB the guard drops text no rescan can reach; matches far into the stream still work."""
    eng = Engine(REDACT)
    filler = "这是一段很长的普通回答文字，用来测试流式输出。" * 40
    text = filler + f"证件{ID}。" + filler + f"电话 {MOBILE} 结束" + filler + "最后教你自制炸药"
    whole = eng.check(text, output=True)
    assert whole.action == "block"
    for size in (3, 7, 50):
        g = StreamGuard(eng)
        out = "".join(g.feed(text[i:i + size]) for i in range(0, len(text), size))
        assert g.blocked and len(g.buf) < 6000           # bounded working buffer
        assert ID not in out and MOBILE not in out and "[cn_resident_id]" in out and "[cn_mobile]" in out
        assert "自制炸药" not in out and g.acc == text[:len(g.acc)]
    eng2 = Engine(Policy(output=Direction(pi={"cn_mobile": "redact", "cn_resident_id": "redact"}, keywords={})))
    expect = eng2.check(text, output=True).text
    g = StreamGuard(eng2)
    assert "".join(g.feed(text[i:i + 5]) for i in range(0, len(text), 5)) + g.finish() == expect


def test_digit_only_types_are_never_found_without_a_digit():
    """PIScanner skips the detector for digit-only PI types on a text with no decimal digit. That holds only
    while the detector finds none of them without one: checked here on numbers written in Chinese numerals,
    capital numerals and letters (a detector that learns those must drop the shortcut) and, the other way, the
    shortcut must not hide a number written in ASCII or full-width digits."""
    import random

    from cnai.corpus.detect import Detector
    from cnai.gateway.matching import DIGIT_ONLY_PI, PIScanner
    det = Detector(types=set(DIGIT_ONLY_PI))
    small, capital = "〇一二三四五六七八九", "零壹贰叁肆伍陆柒捌玖"
    rnd = random.Random(4)
    digitless = ["我的手机号是" + "".join(small[int(c)] for c in "13812345678"),
                 "身份证" + "".join(capital[int(c)] for c in "110105194912310021"),
                 "卡号 六二二二 零二一二 三四五六 七八九零 一二八", "ip 一九二.一六八.一.一", "phone one three eight",
                 "Call me at thirteen eight", "请用三句话介绍一下杭州的西湖"]
    for _ in range(300):
        digitless.append("".join(rnd.choice(small + capital + "abcXYZ .-:+@号码电话") for _ in range(rnd.randint(5, 60))))
    for t in digitless:
        assert det.detect(t) == [], t
    sc = PIScanner(set(DIGIT_ONLY_PI))
    for t in ["我的手机号是13812345678", "身份证 11010519491231002X", "卡号 6222 0212 3456 7890 128", "ip 192.168.1.1"]:
        assert sc.find(t) == [(s, e, "pi", ty) for ty, s, e, _c, _r in det.detect(t)] != [], t
    full = "１９２.１６８.１.１"
    assert sc.find(full) == [(s, e, "pi", ty) for ty, s, e, _c, _r in det.detect(full)]
