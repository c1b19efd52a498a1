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
    assert r == "name model"
    assert regs["address_free_text"].find("明天要去张家口滑雪。") == []


# --- the name model (cnai.corpus.namemodel + data/names/train_crf.py) ---------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [  # sentences written for these tests, in none of the evaluation files
        ("据庞海涛介绍，新馆下个月开放。", ["庞海涛"]),
        ("晓峰今天下午没来上班", ["晓峰"]),
        ("我跟老周说好了，明天一起去", ["老周"]),
        ("鲁迅的杂文今天读来仍然有力。", ["鲁迅"]),
        ("维克多·雨果的小说被多次改编。", ["维克多·雨果"]),
    ],
)
def test_model_finds_names_without_cue_words(text, expected):
    assert _names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "黎明前最冷，大家多穿点",
        "海尔的冰箱用了很多年了",
        "常德的米粉在外地也很受欢迎",
        "提高明显的是服务质量",
    ],
)
def test_model_hard_negatives(text):
    assert _names(text) == []


def test_without_the_model_the_rules_answer(monkeypatch):
    from cnai.corpus import namemodel

    text = "我和刘晓燕是大学同学，陈志强也在。"
    monkeypatch.setattr(namemodel, "tagger", lambda: None)
    assert names.find(text) == names.find_rules(text)


def test_features_one_list_per_character_and_deterministic():
    from cnai.corpus import namemodel

    text = "据庞海涛介绍，Zhang Wei 和 李宁 都来了\n"
    f1 = namemodel.features(text, [(1, 4, 0.9)])
    assert len(f1) == len(text) and f1 == namemodel.features(text, [(1, 4, 0.9)])
    assert "RB9" in f1[1] and "RE9" in f1[3] and {"gBF", "gBR", "gBN"} <= set(f1[text.index("李宁")])
    assert namemodel.to_spans(list("OBIEOBEO")) == [(1, 4), (5, 7)]
    assert namemodel.to_spans(list("BIOE")) == []  # an E without its B is no span


def test_gate_reads_only_triggered_sentences():
    text = "今天天气不错，我们去公园散步。" * 3 + "据庞海涛介绍，新馆下个月开放。"
    assert [text[s:e] for s, e, *_ in names.find(text, gate=True) if _[1] >= 0.5] == ["庞海涛"]
    assert names.find("今天天气不错，我们去公园散步。", gate=True) == []


def test_damaged_model_file_is_a_clear_error(tmp_path, monkeypatch):
    from cnai.corpus import namemodel

    bad = tmp_path / "names_crf.bin"
    bad.write_bytes(b"not a model")
    monkeypatch.setattr(namemodel, "MODEL", bad)
    monkeypatch.setattr(namemodel, "_LOCAL", __import__("threading").local())
    with pytest.raises(RuntimeError, match="names_crf.bin: not a readable python-crfsuite model"):
        namemodel.tagger()


def test_generator_and_training_script_make_a_working_model(tmp_path, monkeypatch):
    import sys

    import pycrfsuite

    from cnai.corpus import namemodel

    sys.path.insert(0, str(namemodel.DATA))
    try:
        import namegen
        import train_crf
    finally:
        sys.path.remove(str(namemodel.DATA))
    data = namegen.generate(300, seed=5)
    assert data == namegen.generate(300, seed=5)  # seeded: the shipped model can be rebuilt
    for text, spans in data:
        assert all(0 <= s < e <= len(text) for s, e in spans)
    monkeypatch.setitem(train_crf.PARAMS, "max_iterations", 50)
    out = tmp_path / "m.bin"
    train_crf.train(data, out, use_rules=False)
    tg = pycrfsuite.Tagger()
    tg.open(str(out))
    text = "据庞海涛介绍，新馆下个月开放。"
    assert [text[s:e] for s, e, _c in namemodel.tag(text, None, tg)] == ["庞海涛"]


def test_long_line_without_punctuation_is_cut_into_pieces():
    text = "我们去公园散步" * 200 + "，王建华昨天去了超市"
    pieces = list(names._pieces(text))
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(b - a <= names._MAX_PIECE for a, b in pieces)
    assert all(p[1] == q[0] for p, q in zip(pieces, pieces[1:], strict=False))  # contiguous, nothing dropped
    assert [text[s:e] for s, e, *_ in names.find(text)] == ["王建华"]


def _rep(text, spans):
    return [
        text[s:e] for s, e, *_ in names._repair(text, [(s, e, "person_name", 0.9, "m") for s, e in spans])
    ]


def test_repair_trims_words_glued_to_the_end_of_a_name():
    assert _rep("黄毅副市长在调研。", [(0, 3)]) == ["黄毅"]
    assert _rep("老蒋刚说他孙子考上大学了", [(0, 3)]) == ["老蒋"]
    assert _rep("符晓宇因个人原因申请辞职", [(0, 4)]) == ["符晓宇"]
    assert _rep("老陈先帮我占个座", [(0, 4)]) == ["老陈"]
    assert _rep("上官雨桐刚在群里@你了", [(0, 5)]) == ["上官雨桐"]
    assert _rep("梓轩刚下高铁", [(0, 3)]) == ["梓轩"]  # a given name alone
    # a name ending in such a character elsewhere is left alone
    assert _rep("王刚说他来了", [(0, 2)]) == ["王刚"]
    assert _rep("欧阳振华认为可行", [(0, 4)]) == ["欧阳振华"]


def test_repair_drops_place_like_dictionary_words_but_not_names():
    assert _rep("岳麓山的红叶来得更早。", [(0, 3)]) == []
    assert _rep("钱塘江大潮什么时候最好看？", [(0, 3)]) == []
    assert _rep("王建林昨天去了超市。", [(0, 3)]) == ["王建林"]


def test_repair_joins_a_dotted_transliteration():
    t = "米哈伊尔·彼得罗夫和安娜·伊万诺娃获得银牌。"
    assert _rep(t, [(7, 9), (10, 17)]) == ["米哈伊尔·彼得罗夫", "安娜·伊万诺娃"]
    t = "伊万·彼得罗维奇第三次来到黑河"
    assert _rep(t, [(0, 4), (5, 8)]) == ["伊万·彼得罗维奇"]
    assert _rep("凯文·李明天的航班改到下午了", [(0, 6)]) == ["凯文·李"]


def test_training_reads_each_development_set_once():
    import sys

    from cnai.corpus import namemodel, realeval

    sys.path.insert(0, str(namemodel.DATA))
    try:
        import train_crf
    finally:
        sys.path.remove(str(namemodel.DATA))
    items = train_crf.set_items()
    assert len({it["id"] for it in items}) == len(items)  # no set (heldout4) read twice
    assert {it["split"] for it in items} == set(train_crf.DEV_SETS)
    assert all(realeval.DATA.with_name(f"{s}.txt").exists() for s in train_crf.DEV_SETS)
    # scored once, now development data (heldout9 since round 8d); the judge's heldout_r7 is no names set
    assert {"heldout7", "heldout8", "heldout9"} <= set(train_crf.DEV_SETS)


def test_a_latin_name_in_three_parts_is_whole():
    t = "在香港的书展上，Chan Tai Man为读者签名。"
    assert _names(t) == ["Chan Tai Man"]


def _repaired(text: str, span: str) -> list[str]:
    s = text.index(span)
    return [text[a:b] for a, b, *_ in names._repair(text, [(s, s + len(span), "person_name", 0.9, "model")])]


def test_repair_cuts_interjections_and_role_words_off_a_name_start():
    assert _repaired("哈哈曼曼又在晒娃了", "哈哈曼曼") == ["曼曼"]
    assert _repaired("诶司马琦在不在", "诶司马琦") == ["司马琦"]
    assert _repaired("求助！房东麦志成不退押金", "房东麦志成") == ["麦志成"]
    assert _repaired("学籍信息：父毛建军，母纪红", "母纪红") == ["纪红"]
    assert _repaired("借用登记：借用人方晴", "人方晴") == ["方晴"]
    # 哈 alone may start a name (哈斯); a name whose first character is also a surname stays whole
    assert _repaired("失主哈斯其其格", "哈斯其其格") == ["哈斯其其格"]
    assert _repaired("获奖的是向晓峰", "向晓峰") == ["向晓峰"]


def test_repair_trims_a_word_start_glued_to_a_name_end():
    assert _repaired("原店长顾倩调往六盘水", "顾倩调") == ["顾倩"]
    assert _repaired("兰芳家的猫又上热门了", "兰芳家") == ["兰芳"]
    assert _repaired("志强哥明天去钓鱼不", "志强哥") == ["志强"]
    assert _repaired("演出排班：阿米尔·汗第一场", "阿米尔·汗第") == ["阿米尔·汗"]
    assert _repaired("王小家在楼下", "王小家") == ["王小"]  # surname + one character left: still a name
    assert _repaired("欧阳志强说", "欧阳志强") == ["欧阳志强"]


def test_repair_drops_brand_starts_and_kinship_words_with_lao():
    assert _repaired("乔丹体育的官司有了判决", "乔丹") == []
    assert _repaired("老妈说晚上回家吃饭", "老妈") == []
    assert _repaired("老王说晚上回家吃饭", "老王") == ["老王"]


def test_repair_drops_demonstratives_and_frequent_da_words_and_joins_transliterations():
    assert _repaired("邵文博那小子终于脱单了", "那小子") == []
    assert _repaired("跟大家说一声", "大家") == []
    assert _repaired("大刘你太逗了", "大刘") == ["大刘"]
    t = "叶卡捷琳娜的花滑表演"
    got = names._repair(t, [(0, 3, "person_name", 0.9, "m"), (3, 5, "person_name", 0.8, "m")])
    assert [t[a:b] for a, b, *_ in got] == ["叶卡捷琳娜"]


def test_repair7_dotted_names_and_amounts():
    # a name after a dotted one stays apart (詹姆斯·李 | 汤慧), a dotted name takes its whole first part
    t = "詹姆斯·李和汤慧组织了读书会"
    spans = [(0, 5, "person_name", 0.9, "m"), (6, 8, "person_name", 0.9, "m")]
    assert [t[a:b] for a, b, *_ in names._repair(t, spans)] == ["詹姆斯·李", "汤慧"]
    assert _repaired("亚历山大·彼得罗夫称合作前景广阔", "罗夫") == ["亚历山大·彼得罗夫"]
    # an amount in capital numerals is no name; a name with 伍 or 万 is kept
    assert _repaired("今借到人民币伍仟元整", "伍仟元") == []
    assert _repaired("伊万说他在哈尔滨学的中文", "伊万") == ["伊万"]


def test_repair7_compound_surname_takes_its_second_given_character():
    t = "闻人秀英今年八十九岁"
    assert "闻人" in names._tables()[1]  # the shipped compound-surname table holds it (round 7)
    assert _repaired(t, "闻人秀") == ["闻人秀英"]
    assert _repaired("宇文嘉博士说", "宇文嘉") == ["宇文嘉"]  # 博士 is a word: not 宇文嘉博


def test_list_of_names_extends_to_the_next_item():
    t = "嘉琪 雅琴 海燕 明天都来吗"
    found = [(0, 2, "person_name", 0.9, "m"), (3, 5, "person_name", 0.9, "m")]
    assert [t[a:b] for a, b, *_ in names._list_items(t, found)] == ["海燕"]
    t2 = "嘉琪 雅琴 明天 都来吗"  # an ordinary word is no name
    assert names._list_items(t2, found) == []


def test_latin_name_alone_only_inside_chinese_text():
    assert names._latin_alone("Amy和Tony也来", 0, 3) and names._latin_alone("Amy和Tony也来", 4, 8)
    assert names._latin_alone("入住登记：Anna Müller（德国）", 5, 16)
    t = "《Deep Synthesis Provisions》规定"  # an English title quoted in Chinese prose
    assert not names._latin_alone(t, 1, 5) and not names._latin_alone(t, 6, 15)
    assert not names._latin_alone("见Interim Measures第三条", 1, 8)  # the next word is Latin too


def test_repair8_drops_a_surname_alone_words_of_address_and_drugs():
    assert _repaired("他姓司马，祖上是河内人", "司马") == []  # a compound surname alone is no name
    assert _repaired("我家老公今天加班", "老公") == []
    assert _repaired("兄弟帮我占个座", "兄弟") == []
    assert _repaired("医生给开了布洛芬缓释胶囊", "布洛芬") == []  # a drug: a dosage form follows
    assert _repaired("司马琦今天没来", "司马琦") == ["司马琦"]
    assert _repaired("小王今天没来", "小王") == ["小王"]


def test_repair8_splits_two_names_run_together_over_he():
    t = "哪吒和敖丙谁的人气更高？"
    assert _repaired(t, "哪吒和敖丙") == ["哪吒", "敖丙"]
    assert _repaired("欧阳和平今年退休", "欧阳和平") == ["欧阳和平"]  # 和 as a given-name character


def test_latin_name_alone_on_its_line_of_a_chinese_form():
    t = "值班表\n08:00 孔令辉\n08:30 Emma Clarke\n09:00 盛晓雯"
    assert "Emma Clarke" in [t[a:b] for a, b, *_ in names.find_rules(t)]
    t = "接机名单：\n2. Oliver Stone 14:20"
    assert "Oliver Stone" in [t[a:b] for a, b, *_ in names.find_rules(t)]
    # three parts (a Cantonese name) read up to the Chinese beside them
    t = "Chan Siu Ming就是陈少明"
    assert "Chan Siu Ming" in [t[a:b] for a, b, *_ in names.find(t)]
    # a line of English text in a Chinese document: no name
    t = "参考文献：\nMachine Learning for Text Classification\n第二章"
    assert not any(t[a].isascii() for a, *_ in names.find_rules(t))


def test_list_of_names_takes_word_like_items_after_surnames_and_the_line_end():
    t = "值日生：唐果、白露、江山、冷静"
    found = [(4, 6, "person_name", 0.9, "m"), (7, 9, "person_name", 0.9, "m")]
    assert [t[a:b] for a, b, *_ in names._list_items(t, found)] == ["江山", "冷静"]
    t = "值日生：唐果、白露、明天再排"  # a most frequent word (明天) is no name even after a surname character
    assert names._list_items(t, found) == []
    t = "三号房 葛天明 孔一凡 段文军"
    found = [(4, 7, "person_name", 0.9, "m"), (8, 11, "person_name", 0.9, "m")]
    assert [t[a:b] for a, b, *_ in names._list_items(t, found)] == ["段文军"]  # the list ends the text
    t = "我买了苹果、香蕉、明天再说"  # no names found: no list of names
    assert names._list_items(t, []) == []


def test_generator_samples_word_given_names_and_minority_names():
    import random
    import sys

    from cnai.corpus import namemodel

    sys.path.insert(0, str(namemodel.DATA))
    try:
        import namegen
    finally:
        sys.path.remove(str(namemodel.DATA))
    s = namegen.Sampler(random.Random(3))
    fulls = [s.full() for _ in range(2000)]
    assert any(f[1:] in namegen._WORD_GIVEN or f[2:] in namegen._WORD_GIVEN for f in fulls)  # 宿海军
    text, spans = namegen.fill("收货：{N} {A}", s, "form")
    assert len(spans) == 1 and text.startswith("收货：") and spans[0][0] == 3
    assert any("·" in m for m in (s.minority() for _ in range(200)))  # 吐尔逊江·阿不都
    # round 8d (A/B only, off in the shipped generator): casual names ({J}) are labelled: 老X/阿X, Latin
    # given names, and with CASUAL_WORDS pet names and word names alone
    assert not any("{J}" in t for _, t in namegen.templates())
    casual = [s.casual() for _ in range(2000)]
    assert set(namegen._LATIN_GIVEN) & set(casual) and any(c[0] in "老阿" and len(c) == 2 for c in casual)
    namegen.CASUAL_WORDS, namegen.ROUND8D = True, True
    try:
        casual = [s.casual() for _ in range(2000)]
        assert set(namegen._PET) & set(casual) and set(namegen._WORD_GIVEN) & set(casual)
        assert any("{J}" in t for _, t in namegen.templates())
    finally:
        namegen.CASUAL_WORDS, namegen.ROUND8D = False, False
    text, spans = namegen.fill("主播{J}今晚九点开播", s, "chat")
    assert text.startswith("主播") and spans == [(2, len(text) - 6)]  # the role word stays outside


def _fix(text: str, word: str):
    """names._class_fix on the first occurrence of word in text: the repaired word, or None if dropped."""
    from cnai.corpus import namemodel

    sur1, sur2, given = names._tables()[:3]
    s = text.index(word)
    got = names._class_fix(
        text, s, s + len(word), sur1, sur2, given, namemodel.gazetteer(), namemodel.lexicon()
    )
    return None if got is None else text[got[0] : got[1]]


@pytest.mark.parametrize(
    "text, word",
    [
        ("四姨下周回老家过年", "四姨"),  # an order word and a kinship character
        ("我问过大舅了", "大舅"),
        ("记得叫谭哥一起来", "谭哥"),  # a surname and a form of address
        ("周婶做的包子最好吃", "周婶"),
        ("爸妈新房装修好了", "爸妈新房"),
        ("霜降以后要收柿子", "霜降"),  # a solar term used as a date
        ("端午假期别出门", "端午"),
        ("年夜饭先上六冷盘", "六冷盘"),  # a count of dishes
        ("冬天喝鸡汤最暖", "鸡汤"),
        ("买了两盒百香果", "百香果"),
        ("中班的孩子午睡", "中班"),  # classes, school years, shifts
        ("高三学生放假了", "高三"),
        ("她今晚上夜班", "夜班"),
        ("挂了皮肤科的号", "皮肤科"),  # a department
        ("陈氏家族在这里住了三百年", "陈氏"),  # a clan
        ("群里的球友都来了", "球友"),  # a role word alone
        ("菜市场多少钱一斤", "钱一斤"),  # an amount
    ],
)
def test_word_classes_taken_for_names_are_dropped(text, word):
    assert _fix(text, word) is None


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("同事谷雨今天请假", "谷雨", "谷雨"),  # a solar term written as a given name, not a date here
        ("清明叔叔帮我修了车", "清明", "清明"),
        ("韦伯的书很难读", "韦伯", "韦伯"),  # Weber: 伯 is not read as a form of address
        ("有事问秋菊姐", "菊姐", "秋菊"),  # the model's span one character late: the name is before 姐
        ("约了球友邱志远打球", "球友邱志远", "邱志远"),  # the role word stays outside
        ("导游阿珍带我们上山", "导游阿珍", "阿珍"),
        ("周末和棋友阿强下棋", "棋友阿", "阿强"),  # a nickname cut after 阿: completed
        ("决赛 6:1 6:2 胜孟凡宇", "胜孟凡宇", "孟凡宇"),  # a result word on a score line
        ("半决赛击败宇文嘉", "击败宇文嘉", "宇文嘉"),
        ("郑一凡晋级决赛", "郑一凡晋", "郑一凡"),  # the span ran into the verb 晋级
        ("奶奶说这是外婆李秀芝传下来的", "李秀芝传", "李秀芝"),
    ],
)
def test_word_classes_repaired_around_names(text, span, expected):
    assert _fix(text, span) == expected


def test_dotted_name_leaves_the_role_word_before_it_out():
    t = "魔术师安德烈·马丁今晚登台"
    s = t.index("师")
    out = names._repair(t, [(s, t.index("今"), "person_name", 0.9, "m")])
    assert [t[a:b] for a, b, *_ in out] == ["安德烈·马丁"]


def test_class_repairs_leave_every_development_gold_name_alone():
    # the word-class lists must not swallow a real name: no gold name of the development sets (heldout9
    # included since round 9) is dropped or moved when it is given to the repair as a span; the sealed
    # held-out set is never read here
    from cnai.corpus import realeval

    moved = [
        (it["text"][g["start"] : g["end"]], _fix(it["text"][g["start"] :], it["text"][g["start"] : g["end"]]))
        for it in realeval.load("dev")
        for g in it["labels"]
        if g["type"] == "person_name"
    ]
    assert len(moved) > 2400
    assert [m for m in moved if m[0] != m[1]] == []


# --- round 10: classes a new persona's text showed (development batches batch9a-c); sentences written here ---


@pytest.mark.parametrize(
    "text, want",
    [
        # a name spaced out one character at a time (an OCR'd form), kept with its spaces; a spaced heading is no name
        ("借款人：邵 明 远\n日期：2026年3月1日", ["邵 明 远"]),
        ("通 知\n明天停水。", []),
        # Tibetan and Mongolian names from their parts, whole (the model alone cut or missed them)
        ("向导索朗多吉带我们上山看日出。", ["索朗多吉"]),
        ("教练苏和巴特尔昨天到场指导。", ["苏和巴特尔"]),
        ("来自拉萨的格桑卓玛今年考上了大学。", ["格桑卓玛"]),
        # a rare compound surname and its given name; the idiom 事后诸葛亮 is no person
        ("被告闾丘明辉未到庭。", ["闾丘明辉"]),
        ("令狐敏已经到了，在门口等你。", ["令狐敏"]),
        ("事后诸葛亮谁都会当。", []),
        # a kinship word after a given name and a role word before a name stay outside the span
        ("跟桂兰婶去镇上赶集了。", ["桂兰"]),
        ("孝男 章大山 孝女 章小梅", ["章大山", "章小梅"]),
        # a surname spoken of as a surname; parts of a serial; a solar term before its date
        ("他姓钱，不姓王。", []),
        ("连载 第三章 风起", []),
        ("节气表｜芒种 6月5日｜夏至 6月21日", []),
        # an @-handle of a name's shape is a name; a long handle is not, nor a word inside it
        ("@阿珍 你看一下这个表", ["阿珍"]),
        ("回复@不吃香菜的猫：好的，明天见", []),
        # what a person is called (他叫 ...), but not the question
        ("他叫铁蛋，是村里的放羊娃。", ["铁蛋"]),
        ("你叫什么？", []),
    ],
)
def test_round10_classes(text, want):
    assert _names(text) == want


def test_round10_a_name_found_once_marks_its_other_occurrences():
    # the second 林晓棠 alone scores under 0.5; found surely at the start, it is the same person
    t = "林晓棠推门进来，屋里没人。过了很久，林晓棠才开口。"
    assert _names(t) == ["林晓棠", "林晓棠"]
    # and the given name alone, when it stands where a name stands
    t2 = "沈青禾把信放下。青禾，你过来一下，外婆喊。"
    assert "青禾" in _names(t2)


def test_round10_switch_restores_the_round9_output(monkeypatch):
    t = "借款人：邵 明 远\n日期：2026年3月1日"
    monkeypatch.setattr(names, "ROUND10", False)
    assert _names(t) == []


def test_minority_first_pass_compiled_and_python_agree():
    texts = [
        "向导索朗多吉带我们上山看日出。",
        "次仁次仁央宗",
        "巴图孟和巴图",
        "多吉次仁扎西卓玛",
        "敖日格勒",
        "X次仁央宗被告闾丘明辉",
        "",
        "abc",
        "令狐",
        "\U0001f600次仁央宗",  # a character outside the BMP before the name (a 4-byte str)
    ]
    for t in texts:
        assert names._minority_chain(t, [m.start() for m in names._MIN_PAIR.finditer(t)]) == names._minority_names(t)


@pytest.mark.parametrize(
    "text",
    [
        "排练表：女高 两个声部，男低 一个声部",  # voice parts of a choir
        "“周海涛”这三个字重名的人太多。",  # a name spoken of as characters
        "周末去买了张飞牛肉，给爸妈带一包。",  # a dish named after a person
    ],
)
def test_round10_words_that_are_no_names(text):
    assert _names(text) == []


@pytest.mark.parametrize(
    "text, want",
    [
        ("排班：早班 Vivian 晚班 小周", ["Vivian", "小周"]),
        ("你家Oscar几点下课？", ["Oscar"]),
        ("@Coco 快来看这家店", ["Coco"]),  # an @-handle that is also a given name: one span, not two
        ("这个Python脚本跑不动了", []),  # a capitalised word that is no given name
    ],
)
def test_round10_english_given_names_standing_alone(text, want):
    assert _names(text) == want


def test_round10_roster_column():
    # the column that holds found names holds a name on the other lines too (a word-like given name), not a unit
    t = "值日表\n1 周婷婷 周一\n2 袁志强 周二\n3 远航 周三\n4 后勤部 周四"
    assert _names(t) == ["周婷婷", "袁志强", "远航"]


def test_round10_a_part_of_an_at_handle_gives_way_to_the_handle():
    assert _names("@能海燕 周末的票还有吗") == ["能海燕"]


@pytest.mark.parametrize(
    "text, want",
    [
        ("值班：高翔、孙晴、阿不都热合曼", ["高翔", "孙晴", "阿不都热合曼"]),  # Uyghur parts written without a dot
        ("司机阿不都热合曼和乘客王磊吵了起来", ["阿不都热合曼", "王磊"]),
        ("帕提古丽·艾买提今天值班", ["帕提古丽·艾买提"]),  # a dotted name stays whole, not cut at a listed part
    ],
)
def test_round10_uyghur_names(text, want):
    assert _names(text) == want


@pytest.mark.parametrize(
    "text, want",
    [
        ("护士帕提古丽·吐尔逊和医生陈刚", ["帕提古丽·吐尔逊", "陈刚"]),  # a role word in 士 stays outside
        ("博士约翰·史密斯到了", ["约翰·史密斯"]),
        ("威廉·莎士比亚的剧本", ["威廉·莎士比亚"]),  # 士 inside the transliteration is no role word
    ],
)
def test_round10_role_words_in_shi_before_a_dotted_name(text, want):
    assert _names(text) == want
