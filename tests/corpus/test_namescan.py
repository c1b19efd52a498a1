"""The compiled name CRF (cnai.corpus._namescan) against the reference path (namemodel.features +
python-crfsuite): same labels, same marginals (bit for bit), same spans and confidences, and the same
names.find output, on every development sentence, on generated text and on random strings."""

import functools
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pycrfsuite")
_namescan = pytest.importorskip("cnai.corpus._namescan")

from cnai.corpus import namemodel, names, realeval  # noqa: E402


@pytest.fixture(scope="module")
def compiled():
    c = namemodel._compiled()
    assert c is not None, "the shipped model must run compiled when the extension is built"
    return c


@pytest.fixture(scope="module")
def dev_texts() -> list[str]:
    """The realeval "dev" split (items, dev2 and the earlier held-out sets); the sealed held-out set is
    never read."""
    out = [it["text"] for it in realeval.load("dev")]
    assert len(out) > 1000
    return out


@pytest.fixture(scope="module")
def generated() -> list[str]:
    sys.path.insert(0, str(namemodel.DATA))
    try:
        import namegen
    finally:
        sys.path.remove(str(namemodel.DATA))
    return [t for t, _spans in namegen.generate(400, seed=11)]


def _reference(text: str):
    """Labels and every label's marginal from python-crfsuite on the Python feature strings."""
    t = namemodel.tagger()
    t.set(namemodel.features(text))
    labels = "".join(t.tag())
    return labels, [{y: t.marginal(y, k) for y in namemodel.LABELS} for k in range(len(text))]


def _same(c, text: str) -> None:
    assert c.tag(text) is not None
    got = [(s, e, round(m, 3)) for s, e, m in c.tag(text)]
    assert got == namemodel.tag_python(text), text
    if text and not namemodel._SURROGATE.search(text):
        labels, marg = _reference(text)
        assert c.labels(text) == labels, text
        assert c.marginals(text) == marg, text  # exact doubles: same sums in the same order as crfsuite


def test_dev_sentences_identical(compiled, dev_texts):
    n_spans = 0
    for text in dev_texts:
        _same(compiled, text)
        n_spans += len(compiled.tag(text))
    assert n_spans > 600  # the sets are full of names: the comparison covers real spans


def test_generated_sentences_identical(compiled, generated):
    for text in generated:
        _same(compiled, text)


def test_tag_uses_compiled_path_and_python_fallback(compiled, monkeypatch):
    text = "昨天王小明和李华在北京见了马伊琍。"
    assert namemodel.tag(text) == namemodel.tag_python(text) != []
    calls = []
    monkeypatch.setattr(namemodel, "_COMPILED", {"t": None})
    monkeypatch.setattr(namemodel, "tag_python", lambda *a: calls.append(a) or [])
    assert namemodel.tag(text) == [] and calls  # no compiled tagger: the reference path runs


def test_env_switch_and_missing_extension(monkeypatch):
    monkeypatch.setenv("CNAI_NAMES_PYTHON", "1")
    assert namemodel._build_compiled() is None
    monkeypatch.delenv("CNAI_NAMES_PYTHON")
    import cnai.corpus

    monkeypatch.setitem(sys.modules, "cnai.corpus._namescan", None)  # import fails as without a compiler
    monkeypatch.delattr(cnai.corpus, "_namescan", raising=False)
    assert namemodel._build_compiled() is None


def test_other_models_and_rule_features_use_python(compiled, monkeypatch):
    import pycrfsuite

    other = pycrfsuite.Tagger()
    other.open(str(namemodel.MODEL))
    monkeypatch.setattr(namemodel, "tag_python", lambda text, rs=None, model=None: [("python", model, rs)])
    assert namemodel.tag("王小明说", model=other) == [("python", other, None)]
    assert namemodel.tag("王小明说", [(0, 3, 0.9)]) == [("python", namemodel.tagger(), [(0, 3, 0.9)])]


_ALPHABET = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "欧阳司马诸葛上官小明伟芳娜秀英敏静丽强磊军洋勇艳杰涛超霞平刚桂子轩梓涵浩宇欣怡"
    "的了是在和与说不人我他她们这有个上来到大中国北京上海广州市区县路号楼省公司银行华为阿里巴巴"
    "鲁迅李白杜甫马云周杰伦伊琍高明方便文明黄山江南王府井张家口斯特朗普克龙·"
    "，。、；：！？,.;:!?()（）《》“”\"' \t\n\u3000^$0123456789０１２AaZzQq"
    "\U00020000\U0001f600\U0002a6d6\x00\x7f\ud800\udc00\udfff"
)


def test_every_bigram_attribute(compiled):
    """Each bigram attribute of the model (b-= b+= b--= b++=) in a sentence: the compiled path finds it
    through its per-character bit filter (CharInfo.bm) and its list, so labels, marginals and the skip
    bound equal the reference (a filter bit wrongly clear would drop the attribute's weights)."""
    _labels, attrs, _trans = _weights()
    bigrams = [a for a in attrs if a[:2] in ("b-", "b+") and len(a.split("=", 1)[1]) == 2]
    assert len(bigrams) > 400
    for a in bigrams:
        tm, xy = a.split("=", 1)
        # where the attribute fires: b-= (left, self), b+= (self, right), b--= (second left, left),
        # b++= (right, second right); the pair sits mid-sentence, at the start and at the end
        assert any(a in fs for fs in namemodel.features("王小" + xy + "说了")), a
        for text in ("王小" + xy + "说了", xy + "是", "他叫" + xy):
            _same(compiled, text)
            ref = _gain_reference(text)
            assert abs(compiled.max_gain(text) - ref) <= 1e-9 * max(1.0, abs(ref)), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80) | st.text(max_size=40))
def test_random_strings_identical(text):
    c = namemodel._compiled()
    _same(c, text)


def test_empty_and_very_long(compiled):
    assert compiled.tag("") == [] and compiled.labels("") == "" and namemodel.tag("") == []
    long_text = ("据报道，王小明与张伟昨日抵达上海市浦东新区，" * 300) + "没有标点的长句子" * 200
    _same(compiled, long_text)


def test_names_find_identical_on_dev_sets(dev_texts, monkeypatch):
    """The whole pipeline (rules, gate, snapping, addresses) gives the same output on both paths."""
    subset = dev_texts[::3]
    fast = [names.find(t) for t in subset]
    fast_gate = [names.find(t, gate=True) for t in subset]
    monkeypatch.setattr(namemodel, "_COMPILED", {"t": None})
    assert [names.find(t) for t in subset] == fast
    assert [names.find(t, gate=True) for t in subset] == fast_gate
    assert sum(map(len, fast)) > 200


def test_read_model_errors_name_the_file(tmp_path):
    bad = tmp_path / "m.bin"
    bad.write_bytes(namemodel.MODEL.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"m\.bin: byte \d+"):
        namemodel.read_model(bad)
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad header"):
        namemodel.read_model(bad)


def test_read_model_weights_match_the_dump(tmp_path):
    """read_model's weights agree with crfsuite's own text dump (which has 6 decimals)."""
    labels, attrs, trans = namemodel.read_model(namemodel.MODEL)
    assert sorted(labels) == sorted(namemodel.LABELS)
    dump = tmp_path / "dump.txt"
    namemodel.tagger().dump(str(dump))
    state = {}
    for ln in dump.read_text("utf-8").splitlines():
        if " --> " in ln and ln.startswith("  ("):
            left, w = ln.rsplit(": ", 1)
            a, y = left.split(") ", 1)[1].rsplit(" --> ", 1)
            state[(a, y)] = float(w)
    n_trans = sum(1 for r in trans for w in r if w)
    flat = {(a, labels[k]): w for a, ws in attrs.items() for k, w in enumerate(ws) if w}
    flat.update({(labels[i], labels[j]): w for i, r in enumerate(trans) for j, w in enumerate(r) if w})
    assert len(flat) == sum(1 for ws in attrs.values() for w in ws if w) + n_trans
    # the dump is one line per feature: attributes holding a line break (c=\n) do not parse back
    broken = {k for k in flat if len((k[0] + "x").splitlines()) != 1}
    assert len(state) == len(flat) - len(broken) and set(state) == set(flat) - broken
    assert all(abs(flat[k] - w) <= 5e-7 for k, w in state.items())


def _pieces_reference(text, triggers=None):
    """names.find's former loop: the model on each piece of names._pieces, one tag() call per piece."""
    out = []
    for a, b in names._pieces(text):
        if (triggers is not None and not any(s < b and a < e for s, e in triggers)) or not names._CJK.search(
            text, a, b
        ):
            continue
        out += [(a + s, a + e, c) for s, e, c in namemodel.tag_python(text[a:b])]
    return out


def test_tag_text_matches_the_piece_loop(compiled, dev_texts, generated):
    assert namemodel._MAX_PIECE == names._MAX_PIECE
    long_lines = [
        "，。！" + "王小明说" * 120 + "没有标点的长句子" * 60,
        "张伟、李娜 " * 70 + "\n\n！！王芳？",
        "a" * 700 + "王小明。",
        "!!!",
        "",
        "\n王伟\n",
    ]
    texts = (
        ["".join(dev_texts[k : k + 7]) for k in range(0, len(dev_texts), 7)] + generated[:100] + long_lines
    )
    for text in texts:
        assert namemodel.tag_text(text) == _pieces_reference(text), text[:40]
        trig = [(i, i + 2) for i in range(0, len(text), 53)]
        assert namemodel.tag_text(text, trig) == _pieces_reference(text, trig), text[:40]
        trig = [(i, i + 90) for i in range(len(text) - 1, 0, -71)] + [(len(text) // 2, len(text) // 2 + 1)]
        assert namemodel.tag_text(text, trig) == _pieces_reference(text, trig), text[:40]  # unsorted, long
        assert namemodel.tag_text(text, []) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from(_ALPHABET), max_size=400),
    st.none() | st.lists(st.tuples(st.integers(0, 400), st.integers(1, 60)), max_size=8),
)
def test_tag_text_random(text, trig):
    trig = None if trig is None else [(s, s + n) for s, n in trig]
    assert namemodel.tag_text(text, trig) == _pieces_reference(text, trig)


def _upper_cases() -> list[str]:
    """Texts of every str kind (1, 2, 4 bytes per character) with a capital at the start, end, just past the
    4096-character blocks of the C scan, and none (lower-case, digits, the characters just around A-Z)."""
    out = []
    for filler in ("a", "王", "\U00020000"):
        for n in (0, 1, 4095, 4096, 4097, 9000):
            base = filler * n
            out += [base, "@[" + base + "`{", base + "Z", "A" + base, base[: n // 2] + "Q" + base[n // 2 :]]
            out.append(base + "Ａ")  # a full-width capital is not an ASCII capital (namemodel._UPPER)
    return out


def test_tag_text_upper_flag(compiled, dev_texts, generated):
    texts = (
        _upper_cases()
        + ["".join(dev_texts[k : k + 7]) for k in range(0, len(dev_texts), 7)]
        + generated[:100]
    )
    texts += ["Zhang Wei 和王小明。", "wang xiaoming 和王小明。"]
    for text in texts:
        spans, up = compiled.tag_text(text, namemodel._MAX_PIECE, None, True)
        assert up is (namemodel._UPPER.search(text) is not None), text[:40]
        assert spans == compiled.tag_text(text, namemodel._MAX_PIECE, None)
        assert namemodel.tag_text_upper(text) == (namemodel.tag_text(text), up)
    seen = {type(compiled.tag_text(t, namemodel._MAX_PIECE, None, True)[1]) for t in texts}
    assert seen == {bool}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(_ALPHABET + "AZaz@[`{"), max_size=200) | st.text(max_size=60))
def test_tag_text_upper_random(text):
    up = namemodel._UPPER.search(text) is not None
    assert namemodel.tag_text_upper(text) == (namemodel.tag_text(text), up)


def test_tag_text_upper_python_path(monkeypatch):
    text = "Zhang Wei 和王小明说，李娜也来了。"
    fast = namemodel.tag_text_upper(text)
    monkeypatch.setitem(namemodel._COMPILED, "t", None)  # no extension: tag_text's loop and the regex
    assert namemodel.tag_text_upper(text) == fast == (namemodel.tag_text(text), True)
    assert namemodel.tag_text_upper("王小明说。")[1] is False


def test_constructor_rejects_bad_input():
    kinds = [([], [], [], [], [])] * 5
    rest = ({}, kinds, [], [], {}, [], ([-1] * 5,) * 3, [])
    empty = _namescan.Tagger("BIEO", b"\0" * 128, b"", *rest)  # a model without attributes still runs
    assert len(empty.labels("王小明")) == 3 and set(empty.labels("王小明")) <= set("BIEO")
    for labels in ("BIEX", "BIE", "BI\0O"):
        with pytest.raises(ValueError, match="labels"):
            _namescan.Tagger(labels, b"\0" * 128, b"", *rest)
    with pytest.raises(ValueError):  # weight vectors must be 4 doubles each
        _namescan.Tagger("BIEO", b"\0" * 128, b"\0" * 8, *rest)
    with pytest.raises(ValueError, match="out of range"):  # a vector index past the table
        _namescan.Tagger(
            "BIEO", b"\0" * 128, b"", {ord("王"): ([0, -1, -1, -1, -1], [], [], [], [], [])}, *rest[1:]
        )
    with pytest.raises(RuntimeError):
        empty.__init__("BIEO", b"\0" * 128, b"", *rest)


def test_uninitialised_tagger_raises():
    """A Tagger whose __init__ never ran, or failed, has no tables: its methods raise instead of crashing."""
    bare = _namescan.Tagger.__new__(_namescan.Tagger)
    failed = _namescan.Tagger.__new__(_namescan.Tagger)
    with pytest.raises(ValueError):
        failed.__init__(
            "BIEX", b"\0" * 128, b"", {}, [([], [], [], [], [])] * 5, [], [], {}, [], ([-1] * 5,) * 3, []
        )
    for t in (bare, failed):
        for call in (t.tag, t.labels, t.marginals, t.max_gain):
            with pytest.raises(RuntimeError, match="not initialised"):
                call("王小明说")
        with pytest.raises(RuntimeError, match="not initialised"):
            t.tag_text("王小明说", 300)


# --- the exact skip (_namescan.c, max_gain): a piece whose every run of non-O labels provably lowers the
# path score by more than SKIP_SLACK is labelled all O by Viterbi, so it is not tagged


SKIP_SLACK = 1e-3  # _namescan.c SKIP_SLACK


@functools.lru_cache(maxsize=1)
def _weights():
    return namemodel.read_model(namemodel.MODEL)


def _gain_reference(text: str) -> float:
    """The largest gain of a run of non-O labels (see max_gain in _namescan.c), from the Python feature
    strings and read_model's weights: an independent computation of the bound."""
    labels, attrs, trans = _weights()
    o = labels.index("O")
    ys = [k for k in range(len(labels)) if k != o]
    n = len(text)
    too = trans[o][o]
    best, g = -float("inf"), {}
    for i, fs in enumerate(namemodel.features(text)):
        s = [0.0] * len(labels)
        for x in fs:
            for k, w in enumerate(attrs.get(x, ())):
                s[k] += w
        ng = {}
        for y in ys:
            start = trans[o][y] - too if i else 0.0
            ext = max((g[z] + trans[z][y] - too for z in ys), default=start) if i else start
            ng[y] = s[y] - s[o] + max(start, ext)
            best = max(best, ng[y] + (trans[y][o] - too if i < n - 1 else 0.0))
        g = ng
    return best


def _check_skip(c, text: str) -> bool:
    """The skip's claim on text: when max_gain is below -SKIP_SLACK the full Viterbi labels are all O.
    Returns whether text would be skipped."""
    g = c.max_gain(text)
    skipped = g < -SKIP_SLACK
    if skipped:
        assert c.labels(text) == "O" * len(text), text
    if text:
        assert not skipped or c.tag(text) == []
    return skipped


def test_skip_bound_on_dev_and_generated_text(compiled, dev_texts, generated):
    skipped = kept = 0
    for text in dev_texts + generated:
        for a, b in names._pieces(text):
            if _check_skip(compiled, text[a:b]):
                skipped += 1
            else:
                kept += 1
    assert skipped > 1000 and kept > 1000  # both branches are exercised (these sets are full of names)


def test_skip_gain_equals_the_python_computation(compiled, dev_texts, generated):
    pieces = [text[a:b] for text in dev_texts[::9] + generated[::5] for a, b in names._pieces(text)]
    pieces += ["王", "王小明", "的", "。", "他说：", "^$", "a"]
    for p in pieces:
        ref = _gain_reference(p)
        assert abs(compiled.max_gain(p) - ref) <= 1e-9 * max(1.0, abs(ref)), p


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=60) | st.text(max_size=30))
def test_skip_bound_random(text):
    c = namemodel._compiled()
    _check_skip(c, text)
    if text and not namemodel._SURROGATE.search(text):
        ref = _gain_reference(text)
        assert abs(c.max_gain(text) - ref) <= 1e-9 * max(1.0, abs(ref)), text


def test_skip_on_and_off_identical(compiled, dev_texts, generated):
    """tag_text with the skip equals tag_text tagging every piece in full, on dev and plain prose."""
    texts = ["".join(dev_texts[k : k + 5]) for k in range(0, len(dev_texts), 5)] + generated
    texts.append("我们今天讨论一下这个问题，大家都觉得应该尽快解决。明天继续开会，请准时参加。" * 20)
    with_skip = [compiled.tag_text(t, 300, None) for t in texts]
    compiled.set_skip(False)
    try:
        without = [compiled.tag_text(t, 300, None) for t in texts]
    finally:
        compiled.set_skip(True)
    assert with_skip == without
    assert sum(map(len, with_skip)) > 1000
