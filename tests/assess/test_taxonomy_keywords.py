"""Taxonomy and keyword library/matcher (the API reused by the training-data audit)."""

from __future__ import annotations

import random

import pytest

from cnai.assess.keywords import (
    Keyword,
    KeywordLibrary,
    Matcher,
    fold,
    load_keyword_library,
    read_keyword_file,
)
from cnai.core.taxonomy import KEYWORD_RISK_CODES, RISK_CODES, load_taxonomy, normalize_risk_code
from cnai.errors import InputError


def test_taxonomy_has_31_risks_in_order():
    assert len(RISK_CODES) == 31
    assert RISK_CODES[0] == "A.1.a" and RISK_CODES[-1] == "A.5.b"
    groups = [c[:3] for c in RISK_CODES]
    assert [groups.count(g) for g in ("A.1", "A.2", "A.3", "A.4", "A.5")] == [8, 9, 5, 7, 2]
    assert len(KEYWORD_RISK_CODES) == 17
    tax = load_taxonomy()
    assert tax.risk("A.3.c").zh == "泄露他人商业秘密"
    assert all(r.en and r.zh and r.clause for r in tax.risks)
    assert tax.confidence in ("verified", "secondary", "unverified")


@pytest.mark.parametrize("raw", ["A.1.a", "A.1 a)", "a1a", "A.1（a）", " A.1.A "])
def test_normalize_variants(raw):
    assert normalize_risk_code(raw) == "A.1.a"


@pytest.mark.parametrize("raw", ["A.1.j", "A.6.a", "B.1.a", "", "A.5.c"])
def test_unknown_codes_rejected(raw):
    with pytest.raises(InputError):
        normalize_risk_code(raw)


def test_starter_library_covers_the_17_keyword_risks():
    lib = load_keyword_library(None)
    counts = lib.by_risk()
    assert all(counts.get(c, 0) >= 10 for c in KEYWORD_RISK_CODES)
    assert set(counts) <= set(RISK_CODES)


def test_matcher_offsets_fullwidth_and_word_boundaries():
    lib = KeywordLibrary([Keyword("制作炸弹", "A.1.d"), Keyword("bomb", "A.1.d"), Keyword("炸弹", "A.1.f"),
                          Keyword("fake news", "A.1.g")])
    m = lib.matcher()
    text = "他想制作炸弹。a BOMB, not bombastic. ＦＡＫＥ ＮＥＷＳ!"
    hits = m.find_all(text)
    got = [(h.keyword, h.risk_code, text[h.start:h.end]) for h in hits]
    assert ("制作炸弹", "A.1.d", "制作炸弹") in got
    assert ("炸弹", "A.1.f", "炸弹") in got            # overlapping matches are all reported
    assert ("bomb", "A.1.d", "BOMB") in got
    assert ("fake news", "A.1.g", "ＦＡＫＥ ＮＥＷＳ") in got
    assert sum(1 for g in got if g[0] == "bomb") == 1   # 'bombastic' is not a whole-word hit
    assert m.risks_in("nothing here") == set()
    assert m.find_all("") == []


def test_fold_keeps_length():
    for s in ["ＡＢＣ", "İstanbul", "ǅ", "中文ABC　x"]:
        assert len(fold(s)) == len(s)


def test_pure_python_automaton_agrees_with_compiled(monkeypatch):
    lib = load_keyword_library(None)
    m = lib.matcher()
    monkeypatch.setenv("CNAI_MATCHER", "python")  # cnai.core.matcher: pure-Python fallback
    py = Matcher((k.keyword, k.risk) for k in lib.keywords)
    assert py.engine == "python"
    rng = random.Random(1)
    words = [k.keyword for k in lib.keywords] + ["的", "是", "在", "abc ", "，", "国家", "制作"]
    for _ in range(200):
        text = "".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        assert m.find_all(text) == py.find_all(text)


def test_keyword_file_formats(tmp_path):
    y = tmp_path / "k.yaml"
    y.write_text("A.1.a: [词一, 词二]\nA.2.e: [词三]\n", encoding="utf-8")
    j = tmp_path / "k.jsonl"
    j.write_text('{"keyword": "词四", "risk": "A.1 b)"}\n{"keyword": "词五", "risk": "地域歧视内容"}\n',
                 encoding="utf-8")
    t = tmp_path / "k.txt"
    t.write_text("# comment\n词六\tA.1.c\n", encoding="utf-8")
    lib = load_keyword_library([y, j, t])
    assert {(k.keyword, k.risk) for k in lib.keywords} == {
        ("词一", "A.1.a"), ("词二", "A.1.a"), ("词三", "A.2.e"), ("词四", "A.1.b"), ("词五", "A.2.d"), ("词六", "A.1.c")}
    assert lib.matcher().find_all("这里有词五和词六")[0].risk_code == "A.2.d"


def test_keyword_file_errors_name_file_and_row(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"keyword": "a", "risk": "A.1.a"}\n{"keyword": "b", "risk": "A.9.z"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl: line 2"):
        read_keyword_file(p)
    lib, problems = read_keyword_file(p, strict=False)
    assert len(lib) == 1 and len(problems) == 1
    d = tmp_path / "dup.txt"
    d.write_text("词\tA.1.a\n词\tA.1.a\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2.*duplicate"):
        read_keyword_file(d)
    g = tmp_path / "gbk.txt"
    g.write_bytes("关键词\tA.1.a\n".encode("gbk"))
    with pytest.raises(InputError, match=r"gbk.txt.*offset 0"):
        read_keyword_file(g)


def test_empty_matcher():
    assert Matcher([]).find_all("abc") == []


def test_matcher_pickles_for_worker_processes():
    import pickle

    m = load_keyword_library(None).matcher()
    m2 = pickle.loads(pickle.dumps(m))
    text = "他们在讨论如何制作炸弹和恐怖袭击。"
    assert m2.find_all(text) == m.find_all(text) != []


def test_fallback_matcher_without_compiled_scanner(monkeypatch):
    import sys

    lib = load_keyword_library(None)
    text = "ＦＡＫＥ ＮＥＷＳ和制作炸弹，以及 build a bomb 与 bombastic。"
    fast = lib.matcher().find_all(text)
    monkeypatch.setitem(sys.modules, "cnai.corpus._wordscan", None)      # import now fails
    slow = Matcher((k.keyword, k.risk) for k in lib.keywords)
    assert slow.engine == "python"
    assert slow.find_all(text) == fast and fast
