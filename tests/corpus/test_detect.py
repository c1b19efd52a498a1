"""PI detectors on real Chinese sentences: types, exact character spans, and hard negatives."""

from __future__ import annotations

import pytest

from cnai.corpus import checks
from cnai.corpus.detect import PI_TYPES, Detector
from cnai.corpus.pipeline import redact_text
from cnai.corpus.screening import KeywordList, load_keywords


@pytest.fixture(scope="module")
def det():
    return Detector(load_keywords(None))


def spans(det, text, min_conf=0.6):
    return {(f[0], text[f[1]:f[2]]) for f in det.detect(text) if f[3] >= min_conf}


def _uscc():
    org = "MA1234567"
    org = org[:8] + checks.org_check_char(org[:8])
    code = "91110000" + org
    return code + checks.uscc_check_char(code)


@pytest.mark.parametrize("text,typ,value", [
    ("身份证号11010519491231002X，请核对", "cn_resident_id", "11010519491231002X"),
    ("手机：138 0013 8000，随时联系", "cn_mobile", "138 0013 8000"),
    ("电话+86 13900139000", "cn_mobile", "86 13900139000"),
    ("办公室电话0755-88886666转8", "cn_landline", "0755-88886666"),
    ("简历请发至 hr.team@example.com.cn。", "email", "hr.team@example.com.cn"),
    ("卡号6222021234567890128，开户行建设银行", "bank_card", "6222021234567890128"),
    ("护照号码EA1234567", "passport", "EA1234567"),
    ("往来港澳通行证C12345678", "hk_macao_permit", "C12345678"),
    ("服务器IP为10.0.12.7，端口8080", "ip_address", "10.0.12.7"),
    ("来源地址2001:db8::8a2e:370:7334被封禁", "ip_address", "2001:db8::8a2e:370:7334"),
    ("一辆京A·12345的车", "license_plate", "京A·12345"),
    ("新能源车粤B·D12345停在门口", "license_plate", "粤B·D12345"),
    ("姓名：欧阳娜娜，年龄20", "person_name", "欧阳娜娜"),
    ("请联系王小明先生。", "person_name", "王小明"),
    ("他住在浙江省杭州市西湖区文三路90号3幢，离公司很近", "address", "浙江省杭州市西湖区文三路90号3幢"),
    ("公司位于深圳市南山区科技园路，交通便利", "address", "深圳市南山区科技园路"),
    # addresses without a house number, one per street word the detector's pre-scan gates the address scan on
    ("店在广州市越秀区北京街，好找", "address", "广州市越秀区北京街"),
    ("他家在北京市东城区南锣鼓巷，", "address", "北京市东城区南锣鼓巷"),
    ("就在北京市西城区大栅栏胡同里", "address", "北京市西城区大栅栏胡同"),
    ("武汉市江汉区解放大道上", "address", "武汉市江汉区解放大道"),
])
def test_positive(det, text, typ, value):
    assert (typ, value) in spans(det, text)


def test_uscc_found(det):
    code = _uscc()
    assert ("uscc", code) in spans(det, f"统一社会信用代码：{code}。")


@pytest.mark.parametrize("text", [
    "证件号110105194912310021校验失败",  # wrong ID check digit
    "订单号202403151380013800已发货",  # order number
    "日志时间戳20240315123045",  # timestamp
    "时间1710000000123毫秒",  # ms timestamp
    "设备序列号SN13812345678",  # phone-like serial glued to letters
    "流水号1381234567890请保存",  # 13 digits
    "参考编号6222021234567890127",  # card-like, Luhn fails
    "当前版本1.20.300已停止维护",  # not an IP
    "今天天气不错，我们去公园散步。",
    "本市各区要加强道路管理，全县城区主要街道已完成改造。",  # administrative words, no address
    "杭州市西湖区政府门前的路",
])
def test_hard_negatives(det, text):
    pi = {t for t, _ in spans(det, text) if not t.startswith(("risk:", "sensitive:"))}
    assert pi == set(), spans(det, text)


def test_offsets_are_character_offsets(det):
    text = "😀中文前缀 手机13800138000"
    f = [x for x in det.detect(text) if x[0] == "cn_mobile"][0]
    assert text[f[1]:f[2]] == "13800138000"


def test_sensitive_signals_and_risk(det):
    found = spans(det, "患者确诊糖尿病，已采集指纹。有人煽动颠覆国家政权。", 0.0)
    types = {t for t, _ in found}
    assert {"sensitive:health", "sensitive:biometric", "risk:A.1.a"} <= types


def test_custom_keyword_list_and_classifier():
    kl = KeywordList()
    kl.add("测试违禁词", "A.1.h")
    det = Detector(kl, classifier=lambda text: [("A.4.c", 0.9)] if "诽谤" in text else [])
    found = {f[0] for f in det.detect("这里有测试违禁词，还有诽谤。")}
    assert {"risk:A.1.h", "risk:A.4.c"} <= found
    assert not {f[0] for f in det.detect("普通文本")} & {"risk:A.1.h", "risk:A.4.c"}


def test_fullwidth_keyword_matching_via_shared_library():
    kl = KeywordList()
    kl.add("ABC违规", "A.3.e")
    det = Detector(kl)
    assert "risk:A.3.e" in {f[0] for f in det.detect("出现ａｂｃ违规内容")}


def test_redaction_modes(det):
    text = "我叫王小明，手机13800138000。"
    fs = det.detect(text)
    masked, n = redact_text(text, fs, "mask", 0.6)
    assert n == 2 and "13800138000" not in masked and len(masked) == len(text)
    replaced, _ = redact_text(text, fs, "replace", 0.6)
    assert replaced == "我叫[person_name]，手机[cn_mobile]。"


def test_detector_pickles(det):
    import pickle

    d2 = pickle.loads(pickle.dumps(det))
    t = "手机13800138000，有人煽动颠覆国家政权"
    assert d2.detect(t) == det.detect(t)


@pytest.mark.parametrize("engine", ["c", "python"])
def test_matcher_engines_agree(engine, monkeypatch):
    """The compiled pass and the Python fallback give the same findings (offsets incl. astral characters)."""
    from cnai.corpus.evalset import generate

    kl = KeywordList()
    for w, c in [("颠覆国家", "A.1.a"), ("颠覆国家政权", "A.1.a"), ("国家政权", "A.1.b"), ("ABC违规", "A.3.e")]:
        kl.add(w, c)
    texts = [i["text"] for i in generate(400, seed=3)] + [
        "😀𠀀有人煽动颠覆国家政权，ａｂｃ违规，患者确诊糖尿病，联系人：张伟先生", "abc违规x", "据李明介绍"]
    monkeypatch.setenv("CNAI_CORPUS_MATCHER", "python")
    ref = Detector(kl)
    monkeypatch.setenv("CNAI_CORPUS_MATCHER", engine)
    other = Detector(kl)
    for t in texts:
        assert other.detect(t) == ref.detect(t), t


def test_mask_redaction_keeps_everything_outside_pi_spans(det):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["手机13800138000", "身份证号11010519491231002X", "，", "今天天气不错", "a@b.cn ",
                              "京A12345", "姓名：王小明", "😀", "\n", "订单202403151380013800"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(pieces, max_size=8))
    def check(parts):
        text = "".join(parts)
        fs = det.detect(text)
        masked, n = redact_text(text, fs, "mask", 0.6)
        assert len(masked) == len(text)
        covered = set()
        for f in fs:
            if f[0] in PI_TYPES and f[3] >= 0.6:
                covered.update(range(f[1], f[2]))
        for i, (a, b) in enumerate(zip(text, masked, strict=True)):
            assert a == b or (i in covered and b == "*")
        for f in fs:
            if f[0] in PI_TYPES and f[3] >= 0.6:
                assert set(masked[f[1]:f[2]]) == {"*"}

    check()


@pytest.mark.parametrize(
    "text, address",
    [
        ("号码不对，请寄到北京市朝阳区建国路88号", "北京市朝阳区建国路88号"),  # house-number scan
        ("区别很大：广州市天河区天河路", "广州市天河区天河路"),  # admin-address scan, 区 first
        ("县里说了，寄到湖州市长兴县画溪街", "湖州市长兴县画溪街"),  # admin-address scan, 县 first
    ],
)
def test_a_gate_character_opening_the_text_does_not_hide_the_addresses_after_it(det, text, address):
    # the scans walked 号 / 区 / 县 with `while k > 0`, so one at offset 0 ended the walk before any later one
    found = [text[f[1]:f[2]] for f in det.detect(text) if f[0] == "address"]
    assert found == [address]
    # the Python matcher (no compiled scanner) goes through the same scans
    py = Detector(load_keywords(None))
    py._fast = None
    assert [text[f[1]:f[2]] for f in py.detect(text) if f[0] == "address"] == [address]


def test_dedupe_drops_an_address_inside_another_as_the_pairwise_rule_did():
    """Round 10: the inner-address rule of _dedupe is a sweep now (a text with thousands of addresses was compared
    pair by pair); it must drop exactly what the pairwise definition drops."""
    import random

    from cnai.corpus.detect import _dedupe

    def pairwise(findings):
        addrs = [f for f in findings if f[0] == "address"]
        inner = {
            f
            for f in addrs
            for g in addrs
            if g is not f and g[1] <= f[1] and f[2] <= g[2] and (g[1], g[2]) != (f[1], f[2])
        }
        kept = [f for f in findings if f not in inner]
        out = []
        for f in kept:  # and exact duplicates once, as _dedupe does
            if not out or (f[0], f[1], f[2]) != (out[-1][0], out[-1][1], out[-1][2]):
                out.append(f)
        return out

    rng = random.Random(7)
    for _ in range(3000):
        fs = []
        for _ in range(rng.randint(2, 8)):
            a = rng.randint(0, 12)
            fs.append((rng.choice(["address", "address", "person_name"]), a, a + rng.randint(1, 6), 0.9, "r"))
        fs.sort(key=lambda f: (f[1], f[2], f[0]))
        assert _dedupe(fs) == pairwise(fs), fs
