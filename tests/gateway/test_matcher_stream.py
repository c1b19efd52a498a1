"""cnai.core.matcher.StreamScan: any chunking of a text gives the matches of find() on the whole text, and
`hold` is the longest suffix that could still grow into a match; compiled and pure-Python twins agree."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnai.assess.keywords import fold
from cnai.core.matcher import KeywordAutomaton

WORDS = ["法轮", "法轮功", "轮功", "ab", "abc", "c d", "炸弹", "zha dan", "x", "b_", "bcd"]
ALPHABET = "法轮功炸弹abcdxzhAN ＸＡ　_1-，K"   # K: Kelvin sign, folds to an ASCII word character


def auto(python: bool, monkeypatch) -> KeywordAutomaton:
    if python:
        monkeypatch.setenv("CNAI_MATCHER", "python")
    else:
        monkeypatch.delenv("CNAI_MATCHER", raising=False)
    a = KeywordAutomaton([fold(w) for w in WORDS])
    if not python and a.engine != "compiled":
        pytest.skip("compiled scanner not built")
    return a


def run(a: KeywordAutomaton, pieces: list[str]):
    sc = a.stream()
    got, holds = [], []
    for p in pieces:
        got += sc.feed(p)
        holds.append(sc.hold)
    got += sc.end()
    return sorted(got), holds


def ref_hold(a: KeywordAutomaton, text: str) -> int:
    """Longest suffix that is a proper prefix of a word, or a whole ASCII word (the rule's reference)."""
    ft = fold(text)
    for k in range(min(len(ft), max(len(w) for w in a.words)), 0, -1):
        suf = ft[-k:]
        if any(w.startswith(suf) and (len(w) > k or a._ascii[i]) for i, w in enumerate(a.words)):
            return k
    return 0


def cuts(text: str, points: list[int]) -> list[str]:
    pts = sorted({p % (len(text) + 1) for p in points} | {0, len(text)})
    return [text[i:j] for i, j in zip(pts, pts[1:], strict=False)]


@pytest.mark.parametrize("python", [False, True])
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=40), points=st.lists(st.integers(0, 40), max_size=12))
def test_any_chunking_equals_whole_text(python, text, points):
    import _pytest.monkeypatch

    mp = _pytest.monkeypatch.MonkeyPatch()
    try:
        a = auto(python, mp)
        pieces = cuts(text, points)
        got, holds = run(a, pieces)
        assert got == a.find(text), (pieces, got)
        # hold after each piece = the reference hold of the text up to there
        upto = 0
        for p, h in zip(pieces, holds, strict=True):
            upto += len(p)
            assert h == ref_hold(a, text[:upto]), (text[:upto], h)
    finally:
        mp.undo()


def test_compiled_and_python_twins_agree_char_by_char(monkeypatch):
    fast = auto(False, monkeypatch)
    slow = auto(True, monkeypatch)
    text = "法轮功 ABC abcd Ｘ x1 炸弹 zha dan b_c 法轮"
    assert run(fast, list(text)) == run(slow, list(text))
    assert run(fast, list(text))[0] == fast.find(text)


def test_split_term_found_when_its_last_character_arrives(monkeypatch):
    a = auto(False, monkeypatch)
    sc = a.stream()
    assert sc.feed("看法") == [] and sc.hold == 1        # "法" could start 法轮 / 法轮功
    assert [(a.words[i], s, e) for i, s, e in sc.feed("轮")] == [("法轮", 1, 3)]
    assert sc.hold == 2
    assert sorted((a.words[i], s, e) for i, s, e in sc.feed("功")) == [("法轮功", 1, 4), ("轮功", 2, 4)]


def test_ascii_word_waits_for_the_next_character(monkeypatch):
    a = auto(False, monkeypatch)
    sc = a.stream()
    assert sc.feed(" ab") == [] and sc.hold == 2          # "ab" may become "abc" or "abd" (not a word)
    assert sc.feed("d") == [] and sc.hold == 0             # "abd": inside a longer word, no match
    sc = a.stream()
    sc.feed(" ab")
    assert [(a.words[i], s, e) for i, s, e in sc.feed(" ")] == [("ab", 1, 3)]
    sc = a.stream()
    sc.feed("ab")
    assert [(a.words[i], s, e) for i, s, e in sc.end()] == [("ab", 0, 2)]


def test_python_takeover_mid_stream(monkeypatch):
    """A character the compiled fold leaves to Python (U+0130) switches the rest of the stream to the twin,
    its state rebuilt from the last characters: a term split around the switch is still found."""
    a = auto(False, monkeypatch)
    sc = a.stream()
    assert sc.feed("法") == []
    got = sc.feed("轮\u0130")
    assert [(a.words[i], s, e) for i, s, e in got] == [("法轮", 0, 2)]
    assert sc._fast is None
    sc2 = a.stream()
    sc2.feed("x炸")
    sc2.feed("\u0130")
    assert sc2.feed("炸弹") and sc2.pos == 5
