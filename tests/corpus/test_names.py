"""Name and address recognizers on running text: exact spans, hard negatives, addresses broken by spaces."""

import pytest

from cnai.corpus import addresses, names


def _names(text, th=0.5):
    return [text[s:e] for s, e, t, c, _r in names.find(text) if c >= th]


def _addrs(text, th=0.5):
    return [text[s:e] for s, e, t, c, _r in addresses.find(text) if c >= th]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("王建华昨天去了超市。", ["王建华"]),
        ("我和刘晓燕是大学同学，陈志强也在。", ["刘晓燕", "陈志强"]),
        ("欧阳振华认为这个方案可行。", ["欧阳振华"]),
        ("他把钥匙交给了孙立军。", ["孙立军"]),
        ("Zhang Wei是这次比赛中年纪最小的选手。", ["Zhang Wei"]),
    ],
)
def test_names_found_with_exact_spans(text, expected):
    assert _names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "高明的骗术往往利用人们的同情心。",
        "方便的话帮我带杯咖啡。",
        "专家指出，文明城市创建需要每一位市民参与。",
        "黄山风景区本周接待游客超过十万人次。",
        "我想买双李宁的鞋，你有推荐吗",
        "明天要去张家口滑雪。",
        "今天天气不错，我们去公园散步。",
        "这个问题其实很好解决，方法如下。",
    ],
)
def test_hard_negatives_not_flagged_as_names(text):
    assert _names(text) == []


def test_no_name_inside_an_address():
    text = "四川省成都市武侯区人民南路四段11号附近新开了一家书店。"
    assert _names(text) == []
    assert _addrs(text) == ["四川省成都市武侯区人民南路四段11号"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("快递放到朝阳区望京西路 48号院 3号楼 2单元 501就行", "朝阳区望京西路 48号院 3号楼 2单元 501"),
        ("你把东西寄到南京市玄武区\n珠江路 88号吧", "南京市玄武区\n珠江路 88号"),
        ("云南省大理白族自治州大理市 \n 人民路 216号", "云南省大理白族自治州大理市 \n 人民路 216号"),
        ("我周五去成都市锦江区春熙路逛街", "成都市锦江区春熙路"),
        (
            "包贝尔\t内蒙古自治区呼和浩特市赛罕区 大学西街 235号",
            "内蒙古自治区呼和浩特市赛罕区 大学西街 235号",
        ),
    ],
)
def test_addresses_exact_spans_across_spaces_and_line_breaks(text, expected):
    assert _addrs(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "本市各区要加强道路管理。",
        "全县城区主要街道已完成改造。",
        "城市新区的道路四通八达。",
        "张家口市今年冬天的降雪量比往年多了三成。",
        "北京市民到郊区游玩。",
        "黄山风景区本周接待游客。",
    ],
)
def test_administrative_prose_is_not_an_address(text):
    assert _addrs(text) == []


def test_finding_shape():
    for s, e, t, c, r in names.find("刘洋说他周末要加班") + addresses.find("上海市徐汇区华山路 1954号"):
        assert 0 <= s < e and t in ("person_name", "address") and 0.0 <= c <= 1.0 and r


def test_registered_as_recognizers_and_off_by_default(tmp_path):
    from cnai.core import plugins
    from cnai.corpus import recognizers

    regs = plugins.registry("recognizers")
    assert {"person_name_free_text", "address_free_text"} <= set(regs)
    assert isinstance(regs["person_name_free_text"], recognizers.Recognizer)
    assert not {"person_name_free_text", "address_free_text"} & {n for n, _r, _c in recognizers.active()}
    cfg = tmp_path / "r.yaml"
    cfg.write_text("recognizers:\n  person_name_free_text: {enabled: true}\n", encoding="utf-8")
    assert "person_name_free_text" in {n for n, _r, _c in recognizers.active(cfg)}
    got = regs["person_name_free_text"].find("刘洋说他周末要加班")
    s, e, _t, c, r = names.find("刘洋说他周末要加班")[0]
    assert got == [(0, 2, c, r)] and c >= 0.5
    assert r == "name model; rules: surname + given-name characters (person context)"
    assert regs["address_free_text"].find("明天要去张家口滑雪。") == []
