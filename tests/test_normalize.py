"""Evasion-proof keyword matching (issue #18 item 2): each evasion technique on library entries, offsets
mapped back to the original text, and ordinary sentences left alone."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnai.core.normalize import EvasionMatcher, expand, fold

LIB = ["法轮功", "六四事件", "台独", "赌博网站", "制作冰毒", "颠覆国家政权", "overthrow the government"]


@pytest.fixture(scope="module")
def m():
    return EvasionMatcher(LIB)


@pytest.mark.parametrize("text, keyword, span, how", [
    ("他在練法輪功", "法轮功", "法輪功", "folded"),                 # traditional characters
    ("关于 法 . 轮 . 功 的帖子", "法轮功", "法 . 轮 . 功", "folded"),  # symbols and spaces between characters
    ("法\u200b轮\u200b功", "法轮功", "法\u200b轮\u200b功", "folded"),   # zero-width characters
    ("搜索发轮功资料", "法轮功", "发轮功", "sound"),                   # homophone substitution
    ("溜四事件三十周年", "六四事件", "溜四事件", "sound"),
    ("fa lun gong is", "法轮功", "fa lun gong", "pinyin"),           # pinyin
    ("加入FLG组织", "法轮功", "FLG", "initials"),                     # pinyin initials
    ("ＦＬＧ", "法轮功", "ＦＬＧ", "initials"),                        # full-width letters
    ("氵去车仑工力", "法轮功", "氵去车仑工力", "split"),                # split characters
    ("台獨分子", "台独", "台獨", "folded"),
    ("OVERTHROW  THE GOVERNMENT!", "overthrow the government", "OVERTHROW  THE GOVERNMENT", "folded"),
])
def test_each_evasion_is_caught_with_its_original_span(m, text, keyword, span, how):
    hits = [h for h in m.find(text) if h.keyword == keyword]
    assert hits, (text, m.find(text))
    assert text[hits[0].start:hits[0].end] == span and hits[0].how == how


@pytest.mark.parametrize("text", [
    "今天天气很好，我们去公园散步。", "这家公司的法律顾问很专业。", "他在论坛上发表了关于功能的文章。",
    "飞利浦灯泡很亮", "The government announced a new policy.", "台上独唱的是一位老师。",
])
def test_ordinary_sentences_give_no_hits(m, text):
    assert m.find(text) == []


def test_expand_lists_the_forms_one_entry_catches():
    e = expand("法轮功")
    assert e["folded"] == ["法轮功"] and e["pinyin"] == ["falungong"] and e["initials"] == ["flg"]
    assert "fa lun gong" in e["homophones"][0]
    assert expand("台独")["initials"] == []  # two characters: initials alone would match too much


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([" ", "*", "·", "_", "。", "😀", "-", "\u200b"]), min_size=5, max_size=5),
       st.text(alphabet="今天我们去公园", max_size=6), st.text(alphabet="散步很好", max_size=6))
def test_separators_between_characters_never_hide_a_term(seps, before, after):
    kw = "颠覆国家政权"
    evasive = "".join(c + s for c, s in zip(kw, seps + [""], strict=False))
    text = before + evasive + after
    hits = [h for h in EvasionMatcher([kw]).find(text) if h.keyword == kw]
    assert hits and text[hits[0].start] == "颠" and text[hits[0].end - 1] == "权"


def test_fold_keeps_a_map_to_every_original_offset():
    text = "A 法 轮 功 B"
    f = fold(text)
    assert f.text == "a 法轮功 b"
    assert [f.orig(i) for i in range(len(f.text))] == [0, 1, 2, 4, 6, 7, 8]


def test_variant_recall_on_the_starter_library():
    """Variants of every CJK entry of the starter library, one technique at a time (>= 0.95 caught)."""
    from pathlib import Path

    import opencc
    import yaml
    from pypinyin import lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    lib_path = Path(__file__).resolve().parents[1] / "src/cnai/assess/data/banks/keywords.yaml"
    words = sorted({w for ws in yaml.safe_load(lib_path.read_text()).values() for w in ws
                    if all("\u4e00" <= c <= "\u9fff" for c in w)})
    by_sound: dict[str, list[str]] = {}
    for cp in pinyin_dict:
        if 0x4E00 <= cp <= 0x9FFF:
            by_sound.setdefault(lazy_pinyin(chr(cp))[0], []).append(chr(cp))
    rng = random.Random(18)
    s2t = opencc.OpenCC("s2t")
    m = EvasionMatcher(words)
    variants: dict[str, list[tuple[str, str]]] = {"traditional": [], "separators": [], "homophone": [],
                                                  "pinyin": [], "initials": []}
    for w in words:
        variants["traditional"].append((w, s2t.convert(w)))
        variants["separators"].append((w, rng.choice(["*", " ", "·", "_"]).join(w)))
        i = rng.randrange(len(w))
        alts = [c for c in by_sound.get(lazy_pinyin(w[i])[0], []) if c != w[i]]
        if alts:
            variants["homophone"].append((w, w[:i] + rng.choice(alts) + w[i + 1:]))
        variants["pinyin"].append((w, " ".join(lazy_pinyin(w))))
        if len(w) >= 3:
            variants["initials"].append((w, "".join(p[0] for p in lazy_pinyin(w)).upper()))
    recall = {}
    for tech, pairs in variants.items():
        caught = sum(1 for w, v in pairs if any(h.keyword == w for h in m.find(f"看到{v}了")))
        recall[tech] = caught / len(pairs)
    total = sum(len(p) for p in variants.values())
    overall = sum(recall[t] * len(p) for t, p in variants.items()) / total
    print({k: round(v, 3) for k, v in recall.items()}, round(overall, 3))
    assert overall >= 0.95, recall


def test_homophones_that_cut_through_a_common_word_are_not_hits():
    """家新闻 sounds like 假新闻, but in 国家新闻 it is the end of 国家: ordinary text, no hit (word guard)."""
    m = EvasionMatcher(["假新闻", "法轮功"])
    assert m.find("今天的国家新闻报道了天气") == []
    assert m.find("网上有很多家新闻") == []                                 # 很多家 news outlets: ordinary
    assert [h.how for h in m.find("他在网上发了一篇家新闻")] == ["sound"]    # no word crossed: caught
    assert [h.how for h in m.find("搜索发轮功资料")] == ["sound"]
    assert EvasionMatcher(["假新闻"], word_guard=False).find("今天的国家新闻")[0].how == "sound"


def test_one_keyword_engine_under_normalisation():
    """The sound-view automaton is cnai.core.matcher (issue #11); its boundaries are checked by the caller,
    so the engine's ASCII whole-word rule is switched off there, and only there."""
    from cnai.core.matcher import KeywordAutomaton
    from cnai.core.normalize import EvasionMatcher

    assert EvasionMatcher(["炸弹"]).engine.startswith("cnai.core.matcher")
    assert KeywordAutomaton(["ab"]).find("xaby") == []
    assert KeywordAutomaton(["ab"], whole_words=False).find("xaby") == [(0, 1, 3)]
    import pickle

    assert pickle.loads(pickle.dumps(KeywordAutomaton(["ab"], whole_words=False))).find("xaby") == [(0, 1, 3)]
