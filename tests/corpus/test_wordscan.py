"""The compiled keyword + name-cue pass (cnai/corpus/_wordscan.c) against its definition and the Python path.

The Python path (CNAI_CORPUS_MATCHER=python: cnai.core.matcher's automaton) is the reference: the compiled pass
must give the same findings, in the same order, on every text. The Makefile builds the extension, so its absence is a
failure here, not a skip.
"""

from __future__ import annotations

import random

import pytest

from cnai.corpus import _wordscan
from cnai.corpus.detect import Detector
from cnai.corpus.evalset import generate
from cnai.corpus.lexicon import (
    NAME_PREFIX_CUES,
    NAME_SUFFIX_CUES,
    NAME_VERB_CUES,
    SENSITIVE_SIGNALS,
    SURNAMES_2,
)
from cnai.corpus.screening import KeywordList, load_keywords

VALS = _wordscan.F_VALS


def plain(words, flags=None):
    """A scanner over `words` with no name rules (empty surname and boundary sets)."""
    return _wordscan.Scanner(words, flags or [VALS] * len(words), "", [], "", "", "", [])


def test_overlapping_matches_in_end_then_index_order():
    # the textbook Aho-Corasick case: every occurrence, overlapping, ordered by (end, word index)
    sc = plain(["he", "she", "his", "hers"])
    events, has_digit = sc.scan("ushers")
    assert events == [(0, 0, 2, 4), (0, 1, 1, 4), (0, 3, 2, 6)]
    assert has_digit is False
    assert sc.scan("aaaa")[0] == []
    assert plain(["aa", "a"]).scan("aaa")[0] == [(0, 1, 0, 1), (0, 0, 0, 2), (0, 1, 1, 2), (0, 0, 1, 3),
                                                 (0, 1, 2, 3)]


def test_folding_matches_the_shared_matcher():
    # cnai.assess.keywords.fold: full-width -> ASCII, U+3000 -> space, upper -> lower (same length)
    sc = plain(["abc", "a b", "ä"])
    assert [e[1:] for e in sc.scan("ＡＢＣ")[0]] == [(0, 0, 3)]
    assert [e[1:] for e in sc.scan("A\u3000B")[0]] == [(1, 0, 3)]
    assert [e[1:] for e in sc.scan("xÄx")[0]] == [(2, 1, 2)]
    # the two characters whose str.lower() is not a per-character mapping go to the Python path
    assert sc.scan("ΑΣ abc") is None
    assert sc.scan("İabc") is None


def test_whole_word_rule_for_ascii_keywords():
    sc = plain(["dna"], [VALS | _wordscan.F_ASCII])
    hits = {t: [e[2:] for e in sc.scan(t)[0]] for t in ("DNA检测", "xDNA", "DNA_1", "ＤＮＡ", "ＸDNA", "2dna", "(dna)")}
    assert hits == {"DNA检测": [(0, 3)], "xDNA": [], "DNA_1": [], "ＤＮＡ": [(0, 3)], "ＸDNA": [], "2dna": [],
                    "(dna)": [(1, 4)]}


def test_astral_characters_and_string_kinds():
    sc = plain(["𠀀字", "é", "ab"])
    assert sc.scan("😀𠀀字")[0] == [(0, 0, 1, 3)]  # 4-byte kind, offsets in characters
    assert sc.scan("café")[0] == [(0, 1, 3, 4)]  # 1-byte (Latin-1) kind
    assert sc.scan("ab中")[0] == [(0, 2, 0, 2)]  # 2-byte kind
    assert sc.scan("\ud800ab")[0] == [(0, 2, 1, 3)]  # a lone surrogate is a character like any other


def test_digit_flag_is_exactly_0_to_9_or_at():
    sc = plain(["x"])
    assert [sc.scan(t)[1] for t in ("abc", "a1", "a@b", "１２３", "²")] == [False, True, True, False, False]


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        _wordscan.Scanner(["a", ""], [VALS, VALS], "", [], "", "", "", [])
    with pytest.raises(ValueError):
        _wordscan.Scanner(["a"], [], "", [], "", "", "", [])
    with pytest.raises(TypeError):
        _wordscan.Scanner(["a", 3], [VALS, VALS], "", [], "", "", "", [])
    with pytest.raises(TypeError):
        plain(["a"]).scan(b"a")


def test_large_library_every_keyword_found():
    # 50,000 keywords over 6,000 distinct characters (BMP and astral): the double array must place them
    # all; each keyword is found where it was put, with its own index
    rnd = random.Random(5)
    chars = [chr(0x4E00 + i) for i in range(5000)] + [chr(0x20000 + i) for i in range(1000)]
    words = sorted({"".join(rnd.choice(chars) for _ in range(rnd.randint(2, 6))) for _ in range(50000)})
    sc = plain(words)
    for i in rnd.sample(range(len(words)), 500):
        text = "。" + words[i] + "。"
        found = [(w, s, e) for _k, w, s, e in sc.scan(text)[0]]
        assert (i, 1, 1 + len(words[i])) in found


def test_name_cue_events_follow_the_rules():
    det = Detector(KeywordList())
    assert det._fast is not None
    names = lambda t: [(t[f[1]:f[2]], f[3], f[4]) for f in det.detect(t) if f[0] == "person_name"]  # noqa: E731
    assert names("姓名：张三，") == [("张三", 0.7, "surname after cue 姓名")]
    assert names("请联系王小明先生") == [("王小明", 0.65, "surname before title 先生")]
    assert names("据李明介绍") == [("李明", 0.6, "surname before verb 介绍")]
    assert names("欧阳娜娜女士") == [("欧阳娜娜", 0.65, "surname before title 女士")]
    # weak cue: a name right after it needs a separator, an end mark or a title after the name
    assert names("学生王芳说") == []
    assert names("学生王芳。") == [("王芳", 0.7, "surname after cue 学生")]
    assert names("学生：王芳说") == [("王芳", 0.7, "surname after cue 学生")]


def _hostile_texts(n: int, seed: int) -> list[str]:
    """Random mixtures of cue words, keywords, surnames, digits, ASCII/full-width letters, Greek capital
    sigma, U+0130, astral characters, lone surrogates and control characters."""
    rnd = random.Random(seed)
    units = (NAME_PREFIX_CUES + NAME_SUFFIX_CUES + NAME_VERB_CUES + sorted(SURNAMES_2)
             + [w for ws in SENSITIVE_SIGNALS.values() for w in ws]
             + ["dna", "Dna", "ＤＮＡ", "xDNA", "DNA_", "hiv阳性", "ＧＰＳ坐标", "颠覆国家政权", "ABC违规", "ａｂｃ违规"])
    chars = list("张王李欧阳司马小明伟芳：: 是为，。、据和学生客户号路区县市０１２ＡＢａｂ＿_@.-1234567890ΣİÄäßǅⅠⒶ\x00\t\n")
    chars += ["\ud800", "𠀀", "😀"]
    return ["".join(rnd.choice(units) if rnd.random() < 0.35 else rnd.choice(chars) for _ in range(rnd.randint(1, 40)))
            for _ in range(n)]


@pytest.mark.parametrize("library", ["none", "small", "starter"])
def test_compiled_pass_equals_python_path(library, monkeypatch):
    kl = KeywordList()
    if library == "small":
        for w, c in [("颠覆国家", "A.1.a"), ("颠覆国家政权", "A.1.a"), ("国家政权", "A.1.b"), ("ABC违规", "A.3.e"),
                     ("abc", "A.1.c"), ("a b", "A.2.a"), ("学生", "A.2.b")]:
            kl.add(w, c)
    elif library == "starter":
        kl = load_keywords(None)
    fast = Detector(kl)
    monkeypatch.setenv("CNAI_CORPUS_MATCHER", "python")
    ref = Detector(kl)
    assert fast._fast is not None and ref._fast is None
    texts = [i["text"] for i in generate(600, seed=11)] + _hostile_texts(6000, seed=len(library))
    fallbacks = findings = 0
    for t in texts:
        got = fast.detect(t)
        assert got == ref.detect(t), t
        findings += len(got)
        fallbacks += fast._fast.scan(t) is None
    # the comparison is not vacuous: many findings, and some texts took the Python fallback
    assert findings > 5000 and 0 < fallbacks < len(texts) // 2


def test_audit_same_result_on_both_paths(tmp_path):
    """`cnai corpus audit` end to end: the compiled scanner and the Python path agree on every count,
    rate, verdict and the review sample; `run.scanner` says which one ran."""
    import json

    from tests.conftest import run_cli

    corpus = tmp_path / "c.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for i, item in enumerate(generate(800, seed=21)):
            fh.write(json.dumps({"id": f"d{i}", "text": item["text"]}, ensure_ascii=False) + "\n")
        for i, t in enumerate(_hostile_texts(400, seed=22)):
            fh.write(json.dumps({"id": f"h{i}", "text": t}) + "\n")  # \u escapes: lone surrogates stay valid JSON
    out = {}
    for name, matcher in (("c", "c"), ("py", "python")):
        r = run_cli("corpus", "audit", str(corpus), "--out", str(tmp_path / name), "--sample", "300",
                    "--workers", "1", "--format", "json", env={"CNAI_CORPUS_MATCHER": matcher})
        assert r.returncode in (0, 1), r.stderr
        out[name] = json.loads(r.stdout)
    assert out["c"]["run"]["scanner"] == "compiled" and out["py"]["run"]["scanner"] == "python"
    for key in ("documents", "findings", "sources", "skipped", "technical_check"):
        assert out["c"][key] == out["py"][key], key
    assert out["c"]["review_sample"]["items"] == out["py"]["review_sample"]["items"]
    assert sum(out["c"]["findings"]["by_type"].values()) > 500
