"""Chinese summaries kept in law/data/zh/ overlays: loaded into summary_zh, complete per overlay file,
never orphaned, and a bad overlay is a one-line error naming the file and key."""

from __future__ import annotations

import pytest

from cnai.errors import InputError
from cnai.law import kb as kbmod

KB = kbmod.load()
ZH = kbmod.DATA / "zh"

COMPLETE = sorted(KB.instruments)


def test_overlays_exist_for_the_new_and_core_instruments():
    for iid in ("cyber-incident-reporting", "facial-recognition", "pi-export-certification", "generative-ai",
                "deep-synthesis", "ai-labeling"):
        assert (ZH / f"{iid}.yaml").exists()


@pytest.mark.parametrize("iid", COMPLETE)
def test_every_article_and_duty_has_a_chinese_summary(iid):
    ins = KB.instruments[iid]
    missing = [f"{iid}:{a.number}" for a in ins.articles if not a.summary_zh]
    missing += [o.id for o in ins.obligations if not o.summary_zh]
    assert not missing, missing


def test_every_instrument_has_a_chinese_summary():
    assert [i.id for i in KB.instruments.values() if not i.summary_zh] == []


def test_every_topic_has_a_chinese_summary():
    assert all(t.summary_zh for t in KB.topics.values())


def test_chinese_summaries_are_chinese():
    import re
    han = re.compile(r"[\u4e00-\u9fff]")
    for o in KB.obligations:
        assert len(han.findall(o.summary_zh or "")) >= 8, o.id
    for ins in KB.instruments.values():
        for a in ins.articles:
            assert len(han.findall(a.summary_zh or "")) >= 4, f"{ins.id}:{a.number}"


def _kb_copy():
    return kbmod._parse()


def test_orphaned_obligation_is_an_error(tmp_path):
    (tmp_path / "generative-ai.yaml").write_text("obligations:\n  generative-ai.no-such-duty: 无此义务的中文摘要。\n",
                                                 encoding="utf-8")
    with pytest.raises(InputError) as exc:
        kbmod._apply_zh_overlays(_kb_copy(), tmp_path)
    assert "orphaned" in str(exc.value) and "generative-ai.yaml" in str(exc.value)


def test_orphaned_instrument_and_article_are_errors(tmp_path):
    (tmp_path / "no-such-law.yaml").write_text("articles: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="orphaned"):
        kbmod._apply_zh_overlays(_kb_copy(), tmp_path)
    (tmp_path / "no-such-law.yaml").unlink()
    (tmp_path / "generative-ai.yaml").write_text('articles:\n  "999": 不存在的条文。\n', encoding="utf-8")
    with pytest.raises(InputError, match="no article"):
        kbmod._apply_zh_overlays(_kb_copy(), tmp_path)


def test_overlay_may_not_silently_replace_an_inline_summary(tmp_path):
    # generative-ai:7 carries summary_zh inline; one home for each fact.
    assert KB.instruments["generative-ai"].article("7").summary_zh
    (tmp_path / "generative-ai.yaml").write_text('articles:\n  "7": 另一份摘要。\n', encoding="utf-8")
    with pytest.raises(InputError, match="already has summary_zh"):
        kbmod._apply_zh_overlays(_kb_copy(), tmp_path)


def test_unknown_overlay_key_is_an_error(tmp_path):
    (tmp_path / "generative-ai.yaml").write_text("summaries: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="summaries"):
        kbmod._apply_zh_overlays(_kb_copy(), tmp_path)


def test_orphaned_topic_is_an_error(tmp_path):
    (tmp_path / "topics.yaml").write_text("no-such-topic: 中文。\n", encoding="utf-8")
    with pytest.raises(InputError, match="orphaned"):
        kbmod._apply_zh_topics(_kb_copy(), tmp_path)


def test_schemas_registered(cnai):
    import json
    for name in ("law-zh-overlay", "law-instrument"):
        r = cnai("schema", name)
        assert r.returncode == 0, r.stderr
        assert "properties" in json.loads(r.stdout)
