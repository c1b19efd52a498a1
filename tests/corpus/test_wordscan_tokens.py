"""The compiled token pass (_wordscan.Tokens) against its reference, the Python token path of detect.py.

Both must give the same findings (type, span, confidence, reason), in the same order, on every text:
random text over the characters the token rules care about, adversarial shapes (long tokens, the 4096
window, e-mail and IPv4 backtracking cases, separators, plates after dots), and the evaluation generator.
The Makefile builds the extension, so its absence is a failure here, not a skip.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnai.corpus import checks
from cnai.corpus.detect import Detector
from cnai.corpus.evalset import generate

DET = Detector()
assert DET._tok is not None, "compiled token pass not active (extension not built?)"

# characters that matter to the token rules, plus CJK context words, dots before plates, Unicode digits
ALPHABET = ("0123456789" * 4 + "XxEGCHMDFABZ" + "abcz" + ".-@:_%+ " * 2 + "·•号\n\t" + "京粤沪B"
            + "身份证电话手机护照卡号信用代码IP地址" + "١²１" + "é")


def both(text: str):
    py: list = []
    DET._scan_tokens_py(text, py)
    c: list = []
    DET._scan_tokens(text, c)
    return py, c


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_text_same_findings(text):
    py, c = both(text)
    assert c == py


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "110105194912310021", "91350100M000100Y43", "13800138000", "+86 138 0013 8000",
    "0086-13800138000", "6222021234567890128", "4111111111111111", "010-12345678", "0571 7470900",
    "E12345678", "EA1234567", "C12345678", "H1234567801", "粤B·D12345", "京A12345", "a.b@c.de", "x@y.z.co1",
    "1.2.3.4", "256.1.1.1", "01.2.3.4", "1.2.3.4.5", "1.2.3.4.", "a@b-c.d-e.fg", "ab@cd", "@@@", "::1",
    "fe80::1:2", "12345 67890", "1-2-3-4-5-6", " ", "，", "身份证号", "电话", "IP", "x", "9", "-", ".",
]), max_size=12))
def test_adversarial_pieces_same_findings(parts):
    py, c = both("".join(parts))
    assert c == py
    py, c = both(" ".join(parts))
    assert c == py


def test_long_tokens_and_the_search_window():
    rnd = random.Random(7)
    texts = ["a" * 5000 + "1" + "b" * 5000, "1" * 9000, ("a." * 3000) + "@b.cd", "x" * 100 + "@" + "y." * 2000 + "zz",
             "1 " * 3000 + "1", "+" + "1" * 4200 + "." + "2" * 10, "A-" * 3000 + "110105194912310021"]
    texts += ["".join(rnd.choice("0123456789.@-: aZ") for _ in range(rnd.randint(4000, 9000))) for _ in range(20)]
    for t in texts:
        py, c = both(t)
        assert c == py, t[:60]


def test_generated_sentences_same_findings_and_real_identifiers_found():
    items = generate(3000, seed=11)
    found = set()
    for it in items:
        py, c = both(it["text"])
        assert c == py, it["text"]
        found.update(f[0] for f in c if len(f) == 5)
    # every token type of the table is exercised by the generator
    assert {r.type for r in checks.TOKEN_RULES} <= found | {"license_plate"}
    assert {"email", "ip_address"} <= found


def test_ipv6_candidates_follow_python_ipaddress():
    # the compiled pass re-implements ipaddress.IPv6Address's rules; random strings over its alphabet
    rnd = random.Random(3)
    alphabet = "0123456789abcdefABCDEF::::...."
    texts = ["服务器 fe80::1ff:fe23:4567:890a 已上线", "::ffff:192.168.1.1", ":::1:2:3:4", "1:2:3:4:5:6:7:8",
             "1:2:3:4:5:6:7:8:9", "1::2::3", "::1.2.3.04", "a:b:c:d:e:f:1.2.3.4", "12345::1", ":::::", "1:2:3:4:5:6:7::"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(5, 40))) for _ in range(3000)]
    for t in texts:
        py, c = both("地址 " + t + " 结束")
        assert c == py, t
    assert [f[:3] for f in both("服务器 fe80::1ff:fe23:4567:890a 已上线")[1]] == [("ip_address", 4, 28)]


def test_table_with_an_uncompiled_rule_uses_the_python_path(monkeypatch):
    # a type added to checks.TOKEN_RULES without a C implementation must not be silently skipped
    from cnai.corpus import detect

    extra = checks.TokenRule("employee_id", False, (8,), lambda n, raw: (0.8, "test rule") if n.startswith("EMP") else None)
    table = [*checks.TOKEN_RULES, extra]
    monkeypatch.setattr(checks, "TOKEN_RULES", table)
    assert detect._compiled_tokens() is None
    # what an edit of checks.py gives at import time: the detector finds the new type on the Python path
    monkeypatch.setattr(detect, "_RULES_BY_KIND", {d: [r for r in table if r.digits == d] for d in (True, False)})
    det = Detector()
    assert det._tok is None
    found = [f for f in det.detect("工号 EMP12345，手机 13800138000") if f[0] in ("employee_id", "cn_mobile")]
    assert [(f[0], f[1], f[2]) for f in found] == [("employee_id", 3, 11), ("cn_mobile", 15, 26)]


def test_compiled_dedupe_matches_the_python_loop(monkeypatch):
    from cnai.corpus import detect

    rnd = random.Random(5)
    for _ in range(300):
        fs = sorted(((rnd.choice(["email", "address", "cn_mobile"]), s, s + rnd.randint(1, 3), rnd.random(), "r")
                     for s in (rnd.randint(0, 20) for _ in range(rnd.randint(0, 30)))), key=detect._sort_key)
        compiled = detect._dedupe(list(fs))
        monkeypatch.setattr(detect, "_dedupe_sorted", None)
        assert detect._dedupe(list(fs)) == compiled
        monkeypatch.undo()
        assert len({f[:3] for f in compiled}) == len(compiled)
