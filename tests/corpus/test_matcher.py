"""cnai.core.matcher: the compiled automaton and the pure-Python fallback give the same matches."""

import random

import pytest

from cnai.assess.keywords import Matcher, fold
from cnai.core.matcher import KeywordAutomaton

WORDS = ["法轮", "法轮功", "轮功", "ab", "abc", "c d", "炸弹", "zha dan", "x"]


def test_overlapping_and_whole_word():
    m = KeywordAutomaton([fold(w) for w in WORDS])
    got = {(m.words[i], s, e) for i, s, e in m.find("法轮功 ABC abcd Ｘ x1 炸弹")}
    assert ("法轮", 0, 2) in got and ("法轮功", 0, 3) in got and ("轮功", 1, 3) in got
    assert ("abc", 4, 7) in got          # full word, case folded
    assert not any(w == "abc" and s == 8 for w, s, _e in got)  # inside "abcd": not a whole word
    assert ("x", 13, 14) in got          # full-width Ｘ folds to x
    assert not any(w == "x" and s == 15 for w, s, _e in got)   # "x1" is one word
    assert ("炸弹", 18, 20) in got


def test_compiled_equals_python(monkeypatch):
    pytest.importorskip("cnai.corpus._wordscan")
    words = [fold(w) for w in WORDS]
    fast = KeywordAutomaton(words)
    assert fast.engine == "compiled"
    monkeypatch.setenv("CNAI_MATCHER", "python")
    slow = KeywordAutomaton(words)
    assert slow.engine == "python"
    rnd = random.Random(3)
    alphabet = "法轮功炸弹abcdxzhAN ＸＡ　_1-，İΣ"
    for _ in range(2000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        assert fast.find(t) == slow.find(t), t


def test_keyword_matcher_uses_it():
    m = Matcher([("法轮功", "A.1.1"), ("abc", "A.2.1")])
    assert m.engine in ("compiled", "python")
    hits = m.find_all("ABC 法轮功 abcd")
    assert [(h.start, h.end, h.keyword) for h in hits] == [(0, 3, "abc"), (4, 7, "法轮功")]
