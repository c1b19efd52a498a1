"""Person-name recognizer for running Chinese text, without cue words.

Candidates are a surname (data/names/surnames.txt, single and compound) followed by one or two
given-name characters. Each candidate is scored from:
- how typical its given characters are of names: log ratio of a character's share among given names
  to its share in ordinary words (data/names/given_chars.tsv, derived from jieba's dictionary);
- whether it is an ordinary word or would break one (data/names/common_words.tsv: 高明, 方便, 文明,
  黄山, 张家口 ... are words, and "提高明显" does not hold 高明 because 提高 is a word);
- the characters around it (start, punctuation, 和/与/是 ... on the left; 说/的/在/和 ... on the right);
- hard negatives we list ourselves (brands used as words, data/names/negatives.txt).
Also: pinyin names in Latin letters (Zhang Wei, Wang Xiaoming) and western names (John Smith) set inside
Chinese text, and 小王 / 老赵 forms.

find(text) -> [(start, end, "person_name", confidence, reason)], non-overlapping.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from pathlib import Path

from cnai.corpus import namemodel as _namemodel  # imports nothing of this module at load

DATA = Path(__file__).parent / "data" / "names"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# characters that are never given-name characters in running text (function words, pronouns, particles)
_STOP = set(
    "的了是在和与及或对向给把被从到为于说也都就又还很这那你我他她它们个吗呢吧啊嘛呀哦哈么啦着过地得"
    "不没有要会能可以去来看想让请将已被等各每某该此其"
    "省市区县路街号楼室镇乡村州旗巷弄层"
)  # address parts: 红谷滩区 is not 谷 + 滩区
# surname characters far more often something else (那, 阿姨, 区, 楼主): a name needs more evidence
_WEAK_SURNAMES = set("那阿区楼关门车时生都和成干权边封井公")
_LEFT_OK = set("，。、；：！？,.;:!?()（）[]【】“”\"' \t\n\u3000/|和与跟同给对让叫问被由据是把向找跟请")
_RIGHT_OK = set(
    "，。、；：！？,.;:!?()（）[]【】“”\"' \t\n\u3000/|说的和与在是也都已又还就今昨明刚又要会将等发去到"
    "认表指回告接获当透主分共同曾一这那"
)


@lru_cache(maxsize=1)
def _tables():
    sur1: dict[str, float] = {}
    sur2: set[str] = set()
    for ln in (DATA / "surnames.txt").read_text("utf-8").splitlines():
        if not ln or ln.startswith("#"):
            continue
        s, w = ln.split("\t")
        if len(s) == 1:
            sur1[s] = float(w)
        else:
            sur2.add(s)
    given: dict[str, float] = {}
    rows = [
        ln.split("\t")
        for ln in (DATA / "given_chars.tsv").read_text("utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    ng = sum(int(r[1]) for r in rows) or 1
    nw = sum(float(r[2]) for r in rows) or 1.0
    for c, g, w in rows:
        given[c] = math.log((int(g) + 0.5) / ng) - math.log((float(w) + 5.0) / nw)
    words: dict[str, int] = {}
    for ln in (DATA / "common_words.tsv").read_text("utf-8").splitlines():
        if ln and not ln.startswith("#"):
            w, f = ln.split("\t")
            words[w] = int(f)
    neg = {
        ln.strip()
        for ln in (DATA / "negatives.txt").read_text("utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    return sur1, sur2, given, words, neg


@lru_cache(maxsize=1)
def _scan_patterns():
    """Regexes for the positions find() looks at: surname starts, and pairs of strong given-name characters."""
    sur1, sur2, given, _words, _neg = _tables()
    sur = re.compile(
        "(?=" + "|".join(sorted(sur2, key=len, reverse=True)) + "|[" + "".join(sorted(sur1)) + "])"
    )
    strong = "".join(sorted(c for c, v in given.items() if v >= 0.9 and _CJK.match(c)))
    mid = "".join(sorted(c for c, v in given.items() if v >= 0.3 and _CJK.match(c)))
    return sur, re.compile(f"(?=[{strong}][{strong}]|([{mid}])\\1)")  # strong pairs, reduplications


def _given_score(c: str, given: dict[str, float]) -> float:
    return given.get(c, -3.0)


def _score(text: str, s: int, sl: int, gl: int, tables) -> tuple[float, str]:
    sur1, _sur2, given, words, neg = tables
    e = s + sl + gl
    cand = text[s:e]
    if cand in neg:
        return -9.0, "listed negative"
    sc = 0.0
    why = []
    g = [_given_score(c, given) for c in text[s + sl : e]]
    sc += sum(g) / len(g) + (0.6 if gl == 2 else 0.0)
    if sl == 1 and (sur1.get(text[s], 1.0) < 1.0 or text[s] in _WEAK_SURNAMES):
        sc -= 1.0
        why.append("ambiguous surname")
        if text[s] in "和与跟同" and s > 0 and _CJK.match(text[s - 1]):  # 我和佳琪: the conjunction
            sc -= 2.0
    f = words.get(cand, 0)
    human = text.startswith(_HUMAN_RIGHT, e)
    if cand in _ROLE_WORDS:  # 师傅, 同学: words for a person, not names (窦建华师傅说)
        return -9.0, "role word"
    if human:  # followed by what only a person does or has (金庸的小说, 韩寒早年)
        sc += 0.8
        why.append("person context")
    if f >= 3:  # an ordinary word, even before 说 (明明说好的); person context lifts name-tagged words only
        sc -= 2.0 + min(3.0, math.log10(f))
        why.append("ordinary word")
    elif (
        f < 0 and gl == 2 and sl == 1 and cand not in _places() and not all(c in _TRANSLIT for c in cand)
    ):  # a 3-character name entry: a known person (聂海胜);
        # not a transliteration or place the dictionary also tags as a name (马拉松, 斯拉夫, 卢旺达)
        sc += 1.0
        why.append("known name")
    elif (
        f < 0 and not human
    ):  # an entry jieba tags as a name but frequent enough to be a word as well (段子, 白雪)
        sc -= 0.5 + min(2.0, math.log10(-f) / 1.5)
        why.append("word or famous name")
    weak = sl == 1 and (sur1.get(text[s], 1.0) < 1.0 or text[s] in _WEAK_SURNAMES)
    if gl == 2 and words.get(text[s + 1 : e], 0) >= 200:  # the given part is an ordinary word (都 + 愚昧)
        sc -= 3.0 if weak else 0.7
    f2 = abs(words.get(text[s : s + 2], 0)) if sl == 1 and not human else 0  # surname + first given is a word
    if gl == 2 and f2 >= 10:
        sc -= 1.0 + min(2.0, math.log10(f2) / 2)
    if s > 0 and abs(words.get(text[s - 1 : s + 1], 0)) >= 20 and text[s - 1] not in _LEFT_OK:
        sc -= 2.5
        why.append("surname ends a word")
    fr = abs(words.get(text[e - 1 : e + 1], 0))
    if e < len(text) and fr >= 20:
        sc -= 1.5 if fr < 300 else 2.5
    if s >= 2 and text[s - 2] in "人者" and text[s - 1] in ":：":  # a form label (复核人：蓝天, 申请者：)
        sc += 1.5 + (min(3.0, math.log10(abs(f))) + 2.0 if abs(f) >= 3 else 0.0)
        why.append("form label")
    left = (
        s == 0 or text[s - 1] in _LEFT_OK or text.endswith(_ROLE_LEFT, 0, s) or text.endswith(_THANKS, 0, s)
    )
    right = e == len(text) or text[e] in _RIGHT_OK
    sc += (0.8 if left else 0.0) + (0.8 if right else 0.0)
    if e < len(text) and _CJK.match(text[e]) is None and text[e] not in " \t\n":
        sc += 0.2
    if gl == 1 and not right and e < len(text) and text[e] not in _STOP and given.get(text[e], -3.0) > -1.5:
        sc -= 1.0  # a name-like character follows: the name probably has two given characters (马晓 | 东)
    return sc, ",".join(why)


def _conf(sc: float) -> float:
    return round(1.0 / (1.0 + math.exp(-(sc - 1.0) * 1.2)), 3)


_LATIN = re.compile(r"(?<![A-Za-z])([A-Z][a-z]{1,10}) ([A-Z][a-z]{1,14})(?![A-Za-z])")
# what follows a person and rarely a word: predicates of speech and action, titles, works
_HUMAN_RIGHT = tuple(
    (
        "说 表示 认为 指出 透露 介绍 强调 坦言 回忆 主演 导演 演唱 演的 出席 当选 获得 抵达 访问 "
        "再次 曾 早年 生前 年轻时 院士 教授 老师 先生 女士 同学 导演 主任 "
        "的小说 的诗 的词 的歌 的新歌 的相声 的电影 的散文 的文章 的作品 的书 的演唱会 的粉丝 "
        "那部 那本 这部 的新剧 写的 唱的 到底是 宣布 考上 发言 担任 参加 负责 带领 荣获 主持"
    ).split()
)
# role nouns in apposition before a name (主持人王芳, 我同学李雷): the left side of a name
_ROLE_LEFT = tuple(
    (
        "主持人 同学 同事 记者 教授 老师 医生 律师 经理 主任 队长 书记 局长 市长 县长 校长 院长 董事长 "
        "委员 代表 村民 市民 网友 选手 运动员 演员 歌手 作家 导演 同志 师傅 朋友 室友 邻居 老板 店主 "
        "司机 工程师 研究员 博士 教练 队员 球员 学生 工人 护士 主播 作者 哥哥 姐姐 弟弟 妹妹 儿子 女儿 "
        "丈夫 妻子 老公 老婆 父亲 母亲 表哥 表姐 堂哥"
    ).split()
)
_ROLE_WORDS = frozenset(_ROLE_LEFT) | frozenset(
    "师傅 同学 大家 大哥 大姐 老师 老板 阿姨 叔叔 大爷 大妈 师兄 师姐".split()
)
_THANKS = ("感谢", "多谢", "谢谢")  # 感谢老刘的分享
_NICK = re.compile(r"[小老]")
_NICK_RIGHT = set("了吗呢啊把被给跟让叫找打问带帮买做")
# characters of the standard transliteration of foreign names (Xinhua usage, our own selection)
_TRANSLIT = (
    "阿埃艾安昂奥巴拜班邦鲍贝本比彼宾波伯博布查达戴丹道德登迪蒂丁东杜敦多厄恩尔法范菲费芬丰弗福夫"
    "盖甘冈高戈格根古哈海汉豪赫黑亨胡华霍基吉加贾杰金卡凯坎康柯科克肯库奎拉莱兰朗劳勒雷蕾里利莉"
    "丽连林琳卢鲁伦罗洛马麦曼梅蒙米密明莫墨默姆穆纳娜奈南内尼妮宁努诺帕派潘佩彭皮珀普奇契乔切琴"
    "丘萨塞桑瑟森沙莎尚舍什施斯松苏索塔泰坦汤唐特提汀托瓦万威韦维温沃乌西希谢休雅亚扬耶伊因英尤"
    "约泽扎詹朱兹佐罕列龙玛隆旺翰士保毕瓜怀居考夸赖铃迈茂纽欧齐钦申辛伍史"
)
_T = f"[{_TRANSLIT}]"
# dotted transliterations (玛丽·居里, 凯瑟琳·王): each part 1-6 characters of the table, or a surname
_TRANS = re.compile(
    f"(?<![{_TRANSLIT}]){_T}{{1,6}}(?:·(?:{_T}{{1,6}}|[\u4e00-\u9fff](?![\u4e00-\u9fff]{{0}}{_T}))){{1,2}}"
)
_TRANS_PLAIN = re.compile(f"{_T}{{3,5}}")


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    from cnai.corpus import addresses

    return addresses._places()


_BOOK = re.compile(r"《[^《》]{0,30}》")


@lru_cache(maxsize=1)
def _pinyin_tables():
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:  # the `names` extra is not installed: Latin names are scored as western names only
        return set(), set()

    sur1, sur2, *_ = _tables()
    surnames = {lazy_pinyin(s, style=Style.NORMAL)[0].capitalize() for s in sur1 if sur1[s] >= 1.0}
    syl = set()
    for c in "".join(sorted(_tables()[2]))[:20000]:
        syl.add(lazy_pinyin(c, style=Style.NORMAL)[0])
    return surnames, {s for s in syl if s.isalpha()}


def _latin_in_chinese(text: str, s: int, e: int, has_cjk: bool | None = None) -> bool:
    """Two capitalised words text[s:e] set inside Chinese text: a Chinese character within three characters
    (past a third capitalised word: Wong Ka Kui就是), or alone among Latin letters on its line of a
    Chinese text, as in forms and result lists (10:30 Sarah Whitfield, 3. Peter Kipchoge 2:19:30)."""
    m = _LATIN_THIRD.match(text, e)
    e = m.end() if m else e
    # (the word before is read in a window of two characters: a letter then a space decides it, and a search from
    # the start of the text for every name was quadratic in a long text of Latin names)
    if _LATIN_BEFORE.search(text, max(0, s - 2), s) or _LATIN_AFTER.match(text, e):
        return False  # a Latin word beside it: English text (a title, a sentence), not a name set apart
    if _CJK.search(text, max(0, s - 3), s) or _CJK.search(text, e, e + 3):
        return True
    a, b = text.rfind("\n", 0, s) + 1, text.find("\n", e)
    b = len(text) if b < 0 else b
    return (
        (a > 0 or b < len(text))
        and _ASCII_LETTER.search(text[a:s] + text[e:b]) is None
        and (has_cjk if has_cjk is not None else _CJK.search(text) is not None)
    )


_ASCII_LETTER = re.compile("[A-Za-z]")
_LATIN_BEFORE = re.compile(r"[A-Za-z]+ $")
_LATIN_AFTER = re.compile(r" [A-Za-z]")


def _pinyin_word(w: str, syl: set[str]) -> bool:
    w = w.lower()
    ok = [True] + [False] * len(w)
    for i in range(len(w)):
        if ok[i]:
            for k in range(1, 7):
                if i + k <= len(w) and w[i : i + k] in syl:
                    ok[i + k] = True
    return ok[len(w)]


def find_rules(
    text: str, threshold: float = 0.0, *, skip_addresses: bool = True
) -> list[tuple[int, int, str, float, str]]:
    """Names the rules alone find. With skip_addresses, no name is reported inside an address that
    cnai.corpus.addresses finds (武侯区, 桂林市 ... hold surname characters)."""
    tables = _tables()
    sur1, sur2, given, words, _neg = tables
    cands = []
    n = len(text)
    has_cjk = _CJK.search(text) is not None
    sur_rx, given_rx = _scan_patterns()
    for m in sur_rx.finditer(
        text
    ):  # positions where a surname starts (the loop is the cost: regex finds them)
        i = m.start()
        sl = 2 if text[i : i + 2] in sur2 else 1
        best = None
        for gl in (2, 1):
            e = i + sl + gl
            if e > n or not all(_CJK.match(x) and x not in _STOP for x in text[i + sl : e]):
                continue
            sc, why = _score(text, i, sl, gl, tables)
            if best is None or sc > best[0]:
                best = (sc, i, e, why)
        if best is not None:
            conf = _conf(best[0])
            if sl == 2:
                conf = max(conf, 0.9)
            if conf >= threshold:
                cands.append(
                    (
                        best[1],
                        best[2],
                        "person_name",
                        conf,
                        "surname + given-name characters" + (f" ({best[3]})" if best[3] else ""),
                    )
                )
    for m in _NICK.finditer(text):
        i = m.start()
        if (
            i + 2 <= n
            and text[i + 1] in sur1
            and (i + 2 == n or text[i + 2] in _RIGHT_OK or text[i + 2] in _NICK_RIGHT)
            and words.get(text[i : i + 2], 0) < 350
            and (
                i == 0
                or not _CJK.match(text[i - 1])
                or text[i - 1] in _LEFT_OK
                or text[i - 1] in "到见给找"
                or text.endswith(_THANKS, 0, i)
                or i + 2 == n
                or text[i + 2] in _RIGHT_OK
                or text[i + 2] in _NICK_RIGHT
            )
        ):
            cands.append((i, i + 2, "person_name", 0.7, "小/老 + surname"))
    if "·" in text:
        for m in _TRANS.finditer(text):
            cands.append((m.start(), m.end(), "person_name", 0.97, "transliterated name with a middle dot"))
    for m in _TRANS_PLAIN.finditer(text):  # 特朗普, 马克龙: 3-5 transliteration characters set apart
        a, b = m.start(), m.end()
        w = m.group()
        if (
            (a == 0 or text[a - 1] in _LEFT_OK)
            and (b == n or text[b] in _RIGHT_OK or text[b] in "抵再就")
            and w not in words
            and not any(w[k : k + L] in _places() for L in (3, 4, 5) for k in range(len(w) - L + 1))
        ):
            cands.append((a, b, "person_name", 0.6, "transliterated foreign name"))
    if any("A" <= ch <= "Z" for ch in text):
        surnames, syl = _pinyin_tables()
        for m in _LATIN.finditer(text):
            a, b = m.group(1), m.group(2)
            if a in surnames and _pinyin_word(b, syl):
                cands.append((m.start(), m.end(), "person_name", 0.85, "pinyin surname + given name"))
            elif _latin_in_chinese(text, m.start(), m.end(), has_cjk):
                cands.append(
                    (m.start(), m.end(), "person_name", 0.6, "two capitalised words inside Chinese text")
                )
    # given names without a surname (晓明说, 和俊杰一起): two typical given-name characters set apart
    for m in given_rx.finditer(text):
        i = m.start()
        a, b = text[i], text[i + 1]
        ga, gb = given.get(a), given.get(b)
        if (
            ga is not None
            and gb is not None
            and (
                (a == b and ga >= 0.3 and abs(words.get(a + b, 0)) < 300)  # 贝贝, 亮亮, 冉冉
                or (ga >= 0.9 and gb >= 0.9 and ga + gb >= 2.5 and words.get(a + b, 0) <= 0)
            )
            and a not in _STOP
            and b not in _STOP
            and (i == 0 or text[i - 1] in _LEFT_OK or text[i - 1] in "和跟与让问找给叫")
            and (
                i + 2 == n
                or text[i + 2] in _RIGHT_OK
                or text.startswith(_HUMAN_RIGHT, i + 2)
                or text[i + 2] in "下今明刚"
            )
        ):
            cands.append((i, i + 2, "person_name", 0.55, "given name without surname"))
    if "《" in text:  # titles of works (《醉翁亭记》) hold no person names of their own
        books = [(m.start(), m.end()) for m in _BOOK.finditer(text)]
        cands = [f for f in cands if not any(a < f[0] and f[1] < b for a, b in books)]
    # keep the best non-overlapping candidates
    cands.sort(key=lambda f: -f[3])
    out: list = []
    if skip_addresses and cands:
        from cnai.corpus import addresses

        out = [(a[0], a[1]) for a in addresses.find(text)]
        n_addr = len(out)
    else:
        n_addr = 0
    taken = _Overlaps(out)  # the addresses (they may overlap one another); then the kept names, never overlapping
    kept = _Spans()
    for f in cands:
        if f[3] >= threshold and not taken.hits(f[0], f[1]) and not kept.hits(f[0], f[1]):
            out.append(f)
            kept.add(f[0], f[1])
    return sorted(out[n_addr:])


# the model reads only sentences holding a trigger: a rule candidate scoring at least GATE, a well-known
# name, a middle dot. On ordinary prose that is under a tenth of the text (the rules' candidates that score
# lower are almost never names); the cut is measured by data/names/train_crf.py --cv (gated vs ungated).
GATE = 0.05
GIVEN_TRIGGER = True
SNAP = True
_SENT = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*|[。！？!?；;\n]+")


_RAW_CUT = 0.6  # the model's operating point on development CV (data/names/train_crf.py --cv 5)


def _rescale(c: float) -> float:
    """Piecewise-linear map of the model's confidence putting its operating point _RAW_CUT at 0.5."""
    return round(c / _RAW_CUT * 0.5 if c < _RAW_CUT else 0.5 + (c - _RAW_CUT) / (1 - _RAW_CUT) * 0.5, 3)


_MAX_PIECE = 300  # the model's memory grows with the piece (about 30 feature strings a character)
_BREAK = re.compile(r"[，,、：:\s]")


def _pieces(text: str):
    """Sentences of text as (start, end); a sentence longer than _MAX_PIECE is cut at its last comma,
    colon or space before the limit (or at the limit), so a 1 MB line without punctuation stays cheap."""
    for m in _SENT.finditer(text):
        a, b = m.start(), m.end()
        while b - a > _MAX_PIECE:
            cut = None
            for k in _BREAK.finditer(text, a + _MAX_PIECE // 2, a + _MAX_PIECE):
                cut = k.end()
            cut = cut or a + _MAX_PIECE
            yield a, cut
            a = cut
        yield a, b


@lru_cache(maxsize=1)
def _famous_set() -> frozenset[str]:
    from cnai.corpus import namemodel

    return frozenset(w for w in namemodel._words_file("famous.txt") if len(w) >= 2)


@lru_cache(maxsize=1)
def _famous_rx():
    ws = sorted(_famous_set(), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ws)))


# words of address and kinship in chat (兄弟你这波, 老公的公司, 外卖小哥): never a name, though the lexicon
# tags some as names (老公) and 小/老 + a character looks like 小王 / 老李
_ADDRESS = frozenset(
    "兄弟 老公 老婆 小哥 哥们 老铁 宝贝 老妈 老爸 帅哥 美女 姐妹 闺蜜 老弟 老妹 小弟 小妹 老大 老乡 小伙 "
    "小姐 小狗 小猫 老头 老太 小孩".split()
)
# what follows a drug or product name, never a person (阿莫西林胶囊, 布洛芬缓释胶囊)
_PRODUCT_NEXT = ("胶囊", "颗粒", "缓释", "注射液", "软膏", "口服液", "滴眼液", "喷雾", "糖浆", "冲剂", "片剂")
_JOIN = "和与跟及"
# a Latin-letter name the model found inside Chinese text (Amy, Tony, Anna Müller): one to three capitalised
# words of letters only (no digits, no all-capitals: those are codes and acronyms)
_LATIN_NAME = re.compile(r"[A-Z][a-zà-öø-ÿ]{1,12}(?: [A-Z][a-zà-öø-ÿ]{1,14}){0,2}")
# characters that start a transliterated given name more often than the table says (亚历山大·, 亚历山德拉):
# the dotted-name walk to the left reads them as transliteration characters too
_TRANSLIT_WALK = set(_TRANSLIT) | set("历山大捷叶")
_LATIN_THIRD = re.compile(r" [A-Z][a-z]{1,10}(?![A-Za-z])")
# characters that, right after a name, start the next word (黄毅副市长, 高鹗续写, 符晓宇因): rare as the last
# character of a given name, so a span ending in one lost its real end (checked on leave-one-set-out)
_GLUE_HARD = set("副因续挺")
# after 小/老/阿 + one character the nickname is complete (老蒋刚说, 小唐刚把): an adverb or verb follows
_GLUE_NICK = set("刚挺说也都就又还才在把被给跟让和的是要会去来先新问帮")
# a three-character span that is a dictionary word ending like a place or a thing (岳麓山, 钱塘江, 陆家嘴,
# 林业局, 黄金周, 温和派) is that word, unless it is a well-known person or its last two characters are a
# word themselves, as given names often are (潘长江, 钟南山, 林海峰)
# 林 is left out (see _repair: 季羡林 is a name, 胡杨林 a wood); 洞 as in 洪崖洞
_THING_END = set("山江河湖海嘴局周派卡树藤松岭峰洲岛湾港桥寺庙塔楼园馆店厂所站院会节杯赛队洞")
# capital numerals of amounts in receipts and IOUs (伍仟元整, 陆佰元): 伍/陆 are surnames, the rest is money
_AMOUNT = set("壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角整零")


# an interjection the model ran into a name's start (诶司马琦, 哎呀铁柱): never a surname, so cut off; 哈/呵/嘻
# only when doubled (哈哈曼曼), since 哈 is also a (Mongolian, Hui) name's first character
_LEAD_INTERJ = set("诶欸嗯哎唉啊呀喂嘿噢哦哇")
_LEAD_LAUGH = set("哈呵嘻")
# role and kinship words written right before a name without a break (房东麦志成, 父毛建军, 接裴志文,
# 借用人方晴): cut off when what follows starts with a surname and is a name's length
_LEAD_ROLE = frozenset(
    "父 母 接 由 经 人 房东 房客 老板 老板娘 店长 邻居 同事 室友 表哥 表姐 表弟 表妹 堂哥 堂姐 师傅 住户 失主 "
    "新郎 新娘 监理 监交 经手 学长 学姐 同学 老乡 队长 组长 班长 主管 客户 患者".split()
)
_THAT_NEXT = set("个些边里位天时样么家小种次年儿会")
# characters that start the next word after a name (顾倩调往, 邰明自12月, 兰芳家的猫, 志强哥, 阿米尔·汗第一场):
# trimmed when what is left is still a name (surname + one or two characters, or a given name)
_GLUE_SOFT = set("调自第家哥姐叔姨嫂寄")  # 寄: 丹丹寄到 ...
_TITLE_ONLY = frozenset("老师 师傅 医生 大夫 经理 主任 教授 律师 阿姨 叔叔 大爷 大妈 同学 老板".split())
_KIN_AFTER = frozenset("叔叔 哥哥 姐姐 大哥 大姐 阿姨".split())
# what ends a list of names (郦晓晨、鞠海波、佘志刚四人被授予 ...): a count of people, 等, or a break
_LIST_END = re.compile(r"[一二两三四五六七八九十几]+(?:位|个人|人|名)|等|都|共|[、，。；;,｜|）)]")


def _trim_lead(text: str, s: int, e: int, sur1, sur2) -> int:
    while e - s >= 3 and (
        text[s] in _LEAD_INTERJ
        or (text[s] in _LEAD_LAUGH and (text[s + 1] == text[s] or text[s - 1 : s] == text[s]))
    ):
        s += 1
    for k in (3, 2, 1):
        rest = text[s + k : e]
        if text[s : s + k] in _LEAD_ROLE and (
            (rest[:2] in sur2 and 3 <= len(rest) <= 4) or (rest[:1] in sur1 and 2 <= len(rest) <= 3)
        ):
            return s + k
    return s


def _repair(text: str, out: list) -> list:
    """Span repair after the model: whole dotted transliterations, words glued to the end, place-like words."""
    from cnai.corpus import namemodel

    lex = namemodel.lexicon()
    famous = namemodel.gazetteer()
    sur1, sur2, given = _tables()[:3]
    fixed = []
    for s, e, t, c, r in out:
        got = _class_fix(text, s, e, sur1, sur2, given, famous, lex)
        if got is None:
            continue
        s, e = got
        w = text[s:e]
        if w in sur2 or w in _ADDRESS or text.startswith(_PRODUCT_NEXT, e):
            continue  # a surname alone (姓亓官的), a word of address, a drug (布洛芬缓释胶囊)
        j = next((k for k in range(s + 2, e - 2) if text[k] in _JOIN), None)
        if j is not None and "·" not in w and w not in lex:
            # two names the model ran together over 和 (柯南和基德): each side a name's length
            fixed.append((s, j, t, c, r))
            s = j + 1
        if e - s >= 3:
            s = _trim_lead(text, s, e, sur1, sur2)
            w = text[s:e]
            if w[-1] in _GLUE_SOFT and (
                ("·" in w and w[-2] != "·")
                or (len(w) in (3, 4) and w[0] in sur1 and w[:2] not in sur2)
                or (len(w) in (4, 5) and w[:2] in sur2)
                or (len(w) == 3 and w[0] not in sur1)
            ):
                e -= 1
        n = e - s
        if n >= 3 and text[e - 1] in _GLUE_HARD:
            e -= 1
        elif n >= 3 and text[s] in "小老阿" and text[s + 2] in _GLUE_NICK:
            e = s + 2  # 老陈先帮我 -> 老陈
        elif "·" not in text[s:e] and text[e - 1] in _GLUE_NICK:
            compound = text[s : s + 2] in sur2
            if (
                (n == 4 and not compound)  # 符晓宇因: a single surname takes at most two given characters
                or (n == 5 and compound)  # 上官雨桐刚
                or (n == 3 and text[s] not in sur1 and not compound)  # 国栋刚: a given name alone
            ):
                e -= 1
        if (
            e - s == 2
            and s > 0
            and text[e - 1 : e + 1] in _KIN_AFTER
            and _CJK.match(text[s - 1])
            and text[s - 1] not in _LEAD_INTERJ
        ):  # the model took a form of address for the name's end (建国|叔叔 tagged 国叔, 和平|大哥 tagged 平大)
            s, e = s - 1, e - 1
        if any(
            "R" in famous.get(text[s : s + k], "") for k in range(e - s + 1, e - s + 4)
        ):  # the start of a brand named after a person (乔丹体育, 谭木匠): not a person
            continue
        if e - s <= 3 and "F" not in famous.get(text[s:e], ""):
            if text[s] == "老" and text[s + 1] not in sur1 and text[s + 1 : s + 3] not in sur2:
                continue  # 老 + a character that is no surname: a kinship or role word (老妈, 老爸寄), not 老王
            f_n = lex.get(text[s:e], (0, True))
            if text[s] == "大" and f_n[0] >= 2 and not f_n[1]:
                continue  # a frequent word not tagged as a name (大家, 大姐), not 大刘 or 大鹏
            if text[s] == "那" and text[s + 1] in _THAT_NEXT:
                continue  # the demonstrative (那小子, 那家店), not the surname 那 (那日苏)
        if (
            e - s == 3
            and text[s : s + 2] in sur2
            and e < len(text)
            and text[e] not in _STOP
            and text[e] not in _RIGHT_OK
            and text[e] not in _GLUE_NICK
            and given.get(text[e], -3.0) >= 0.5
            and lex.get(text[e : e + 2], (0, False))[0] < 3  # not the start of a word (宇文嘉|博士)
        ):  # a compound surname takes one or two given characters: 闻人秀|英 -> 闻人秀英
            e += 1
        w = text[s:e]
        if (
            2 <= len(w) <= 3
            and w[0] in sur1
            and (w[1:] in _TITLE_ONLY or w[1:] + text[e : e + 1] in _TITLE_ONLY)
        ):
            continue  # a surname and a title alone (缪老师, 王师傅) is a form of address, not a name
        if all(ch in _AMOUNT for ch in w[1:]) and any(ch in "拾佰仟元圆角整" for ch in w):
            continue  # an amount in capital numerals (伍仟元), not 伍 + a given name
        if (
            len(w) == 3
            and (w[-1] in _THING_END or (w[-1] == "林" and w[:2] in lex))  # 胡杨林, but 季羡林
            and w in lex
            and w[1:] not in lex
            and "F" not in famous.get(w, "")
        ):
            continue
        fixed.append((s, e, t, c, r))
    # two transliterations side by side are one name the model cut (伊丽莎|白泰勒, 叶卡捷|琳娜)
    for j in range(len(fixed) - 1, 0, -1):
        a, b = fixed[j - 1], fixed[j]
        w = text[a[0] : b[1]]
        if a[1] == b[0] and sum(ch in _TRANSLIT for ch in w) >= 0.6 * len(w):  # the table misses 叶, 捷
            fixed[j - 1 : j + 1] = [(a[0], b[1], a[2], max(a[3], b[3]), a[4])]
    fixed.sort()
    for d in [m.start() for m in re.finditer("·", text)]:  # a dotted transliteration is one name
        # only the spans near the dot (a scan of every span per dot was quadratic in a long list of names)
        w0, w1 = bisect_left(fixed, (d - 40,)), bisect_right(fixed, (d + 3, float("inf")))
        near = fixed[w0:w1]
        hit = [
            f
            for f in near
            if f[0] <= d + 3
            and d - 1 <= f[1]
            and f[1] - f[0] >= 1
            and (  # not a name after the dotted one (詹姆斯·李和汤慧): only what runs on from the dot
                f[0] <= d + 1
                or not any(ch in "和与及跟同或、，,；; " for ch in text[d + 1 : f[0]])
            )
        ]
        if not hit:
            continue
        lo = d
        while lo > 0 and text[lo - 1] in _TRANSLIT_WALK and d - lo < 6:
            lo -= 1
        lo, hi = min([lo] + [f[0] for f in hit]), max([d + 2] + [f[1] for f in hit])
        # a role word before the transliteration (驯兽师|凯文·奥康纳, 陶艺家|克莱尔·杜邦)
        cut = max((p for p in range(lo, d - 1) if text[p] in _ROLE_END), default=None)
        if cut is not None:
            lo = cut + 1
        for k in range(d + 2, hi - 1):  # less a dictionary word the model ran into (凯文·李|明天)
            if lex.get(text[k:hi], (0, False))[0] >= 3:
                hi = k
                break
        if hi - lo >= 3 and not any(ch.isascii() for ch in text[lo:hi]):
            conf = max(f[3] for f in hit)
            fixed[w0:w1] = sorted([f for f in near if f not in hit] + [(lo, hi, "person_name", conf, hit[0][4])])
    return sorted(fixed)


# Round 8c: word classes the model takes for names on a new author's text (heldout9). Each list is a class,
# not a sentence: what such a word looks like to the model (a surname or given-name character first) and why
# it is no name.
# kinship and forms of address: an order or size word with a kinship character (三舅, 二姨, 小姨, 舅公) or a
# surname with one (熊哥, 陆叔, 卓姐, 张妈妈, 祝姑妈) addresses someone; it is not the name itself
_KIN = set("舅姨姑叔伯婶嫂姐哥妈爸爷奶姥")
_KIN_LEAD = set("大二三四五六七八九十小老幺表堂舅姑公婆")
# the 24 solar terms and the festivals: calendar words written like given names (白露, 小满, 国庆)
_CALENDAR = frozenset(
    "立春 雨水 惊蛰 春分 清明 谷雨 立夏 小满 芒种 夏至 小暑 大暑 立秋 处暑 白露 秋分 寒露 霜降 立冬 小雪 大雪 "
    "冬至 小寒 大寒 春节 元旦 元宵 端午 中秋 重阳 七夕 除夕 腊八 国庆 寒食 中元 上元 下元 小年 三八 五一 六一 "
    "十一 圣诞 清明节 端午节 中秋节 国庆节 重阳节 元宵节".split()
)
# dishes and fruit: a food ending (姜汤, 八冷盘) or a fruit written with surname characters (车厘子)
_FOOD_END = set("汤羹粥饭糕饼盘酱粉酒")
_FOOD = frozenset(
    "车厘子 百香果 火龙果 罗汉果 猕猴桃 牛油果 山竹 龙眼 荔枝 榴莲 蓝莓 樱桃 山楂 莲雾 黄桃 金桔".split()
)
# school years, classes and work shifts (小班, 大一班, 初二, 白班, 小升初), departments and trades (康复科,
# 司仪, 古建筑), clan words (宗祠; 韦氏 below): ordinary nouns, often after a surname character
_GRADE = re.compile(
    r"[大中小][一二三]?班|[白夜早晚中][班]|[初高大研][一二三四五六]|[一二三四五六七八九十]+[班年级]|小升"
)
_TRADE = frozenset(
    "司仪 保安 保洁 保姆 月嫂 护工 厨师 电工 木工 瓦工 管家 主播 场控 客服 楼长 古建筑 建筑 宗祠 祠堂 族谱 家谱 宗亲 "
    "自提 包邮 到付 面交 小名 大名 乳名 网名 笔名 艺名 "  # trading words in ads; words for a name (小名糖豆)
    "康复科 儿科 内科 外科 妇科 产科 眼科 牙科 骨科 皮肤科 急诊科 口腔科 中医科 检验科 放射科 麻醉科 神经科".split()
)
# role words written right before a name (客服阿芳, 楼长葛淑英, 骑友尼玛顿珠): X友 (骑友, 钓友, 研友) and these;
# the role word stays outside the span, whatever the name after it looks like
_ROLE_PREFIX = frozenset("客服 楼长 主播 场控 司机 保安 保洁 护工 管家 导游 教练 领队 队医 店员 骑手".split())
# a word the name's last character starts with the next one (聂振|晋级, 娃|非要): the span ran into it
_VERB_AFTER = frozenset("晋级 晋升 荣获 荣膺 夺冠 夺得 胜出 当选 出任 升任 非要 非得".split())
# what follows a calendar word used as a date (白露过后, 小满时节, 国庆假期, 国庆七天); elsewhere the same word
# may be a name (同事白露, 国庆叔叔, 小满豆豆), so the context decides
_CAL_NEXT = re.compile(
    r"节|时节|节气|过后|假期|长假|期间|前后|当天|那天|之后|以后|快乐|[一二两三四五六七八九十几]天"
)
# a degree adverb before an adjective (太远, 很近, 最好): never a given name
_DEGREE = set("太很最更挺蛮超")
# a count and a measure word (钱一克, 王三斤): a price or amount, not a given name
_AMOUNT_END = re.compile(r"[一二两三四五六七八九十几半][克斤两个块次元件只条张瓶盒袋箱]$")
# a result before a name on a score line (6:4 胜濮阳帆, 不敌卞晴)
_RESULT_LEAD = ("战胜", "击败", "负于", "不敌", "胜", "负")
# characters that end a role word before a dotted transliteration (驯兽师凯文·奥康纳, 陶艺家克莱尔·杜邦)
_ROLE_END = set("师家员长友手匠士")  # 士: 护士, 博士, 女士 (round 10)


def _class_fix(text: str, s: int, e: int, sur1, sur2, given, famous, lex) -> tuple[int, int] | None:
    """Round-8c repair of one span: None to drop it (a word of a class that is no name), else the span with
    a role word, a result word or the start of a following verb cut off."""
    w = text[s:e]
    if "F" in famous.get(w, ""):
        return s, e
    in_list = (
        text[s - 1 : s] == "、"
        or text[e : e + 1] == "、"
        or (text[s - 1 : s] == " " and text[e : e + 1] == " ")
    )
    if (len(w) <= 3 and all(c in _KIN or c in _KIN_LEAD for c in w) and any(c in _KIN for c in w)) or (
        len(w) >= 3 and w[0] in _KIN and w[1] in _KIN
    ):
        return None  # 三舅, 二姨, 小姨, 舅公, 姑妈, 爸妈新家
    if (
        len(w) == 2
        and w[1] in "哥姐叔姨嫂婶"
        and s > 0
        and _CJK.match(text[s - 1])
        and text[s - 1] not in _STOP
        and given.get(text[s - 1], -3.0) >= 0.5  # a given-name character, as for 闻人秀|英 above
        and given.get(w[0], -3.0) >= 0.5
    ):
        return s - 1, e - 1  # 春|梅姐 tagged 梅姐: the given name is 春梅, the kinship word follows it
    # 熊哥, 陆叔, 张妈妈, 祝姑妈: a form of address (伯 excepted: 韦伯 is Weber)
    if (len(w) == 2 and w[1] in _KIN and w[1] not in "伯爷奶") or (
        len(w) == 3 and w[0] in sur1 and all(c in _KIN for c in w[1:])
    ):
        return None
    if w in _CALENDAR and not in_list and _CAL_NEXT.match(text, e):
        return None  # 白露过后, 国庆假期; not 同事白露, 国庆叔叔
    if not in_list and (w in _FOOD or w in _TRADE):
        return None
    if (
        2 <= len(w) <= 4
        and w[-1] in _FOOD_END
        and w[-2:] not in sur2
        and (w in lex or w[-2:] in lex or w[-1] == "酒" or w[0] in "二两三四五六七八九十")  # a dish, not 覃汤
        and (text[e : e + 1] not in ("、", " ") or w[0] in "二两三四五六七八九十")
    ):
        return None  # 姜汤, 孔府家酒, 八冷盘 (a count of dishes, also in a list)
    if len(w) == 2 and (
        (w[0] == "那" and given.get(w[1], -3.0) < 0) or (w[0] in _DEGREE and w[0] not in sur1)
    ):
        return None  # 那改(下周): the conjunction before a verb; 太远: a degree adverb
    if (
        len(w) == 2
        and w[1] in "里上内"
        and given.get(w[0], -3.0) < -1
        and (w[0] not in sur1 or text[e : e + 1] in ("有", "面", "头"))
    ):
        return None  # 包里(有): a noun and a place word, not 游里 (a surname and a given name)
    if _AMOUNT_END.search(w) or (len(w) == 3 and w[-1] == "记" and w[0] in sur1):
        return None  # 钱一克; 蔡林记 (a shop: X记)
    if len(w) == 4 and w[0] in sur1 and w[:2] not in sur2 and "·" not in w and w[-1] in "传称讲":
        return s, e - 1  # 朴贞淑|传下来: a single surname takes two given characters at most
    if _GRADE.fullmatch(w) or (len(w) >= 2 and _GRADE.match(w) and not any(c in sur1 for c in w[:1])):
        return None  # 小班, 大一班, 初二, 白班, 小升(初)
    if len(w) == 2 and w[1] == "氏" and w[0] in sur1:
        return None  # 韦氏 (a clan), never a person's full name in modern text
    if len(w) == 2 and w[1] == "友" and w[0] not in sur1:
        return None  # 研友, 骑友: a role word alone
    # role word before the name: X友 or a listed role; the rest is the name
    pre = w[:2]
    if len(w) >= 3 and (pre in _ROLE_PREFIX or (pre[1] == "友" and pre[0] not in sur1)):
        rest_s = s + 2
        if e - rest_s == 1 and text[rest_s] in "阿小老" and _CJK.match(text[e : e + 1] or "x"):
            return rest_s, e + 1  # 钓友阿|焜 -> 阿焜
        if e - rest_s >= 2:
            return rest_s, e
    for lead in _RESULT_LEAD:
        rest = text[s + len(lead) : e]
        if w.startswith(lead) and (rest[:1] in sur1 or rest[:2] in sur2) and 2 <= len(rest) <= 4:
            before = text[s - 1 : s]
            if len(lead) > 1 or before.isdigit() or before in " \u3000":
                return s + len(lead), e  # 6:4 胜濮阳帆
    if e - s >= 3 and text[e - 1 : e + 1] in _VERB_AFTER:
        return s, e - 1  # 聂振晋|级 -> 聂振
    if e - s == 2 and text[e - 1 : e + 1] in _VERB_AFTER:
        return None  # 娃非|要
    return s, e


_LIST_SEP = "、 "
_CJK_OR_WIDE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")  # Chinese, or Chinese punctuation


def _latin_alone(text: str, s: int, e: int) -> bool:
    """A Latin-letter span set in Chinese text: a Chinese character right before or after it, and no Latin
    word next to it (Amy和Tony也来; not a word of an English title quoted in a Chinese sentence)."""
    a = text[s - 2 : s] if s >= 2 else text[:s]
    b = text[e : e + 2]
    if any(c.isascii() and c.isalnum() for c in a[-1:] + b[:1]) or text.count(" ", s, e) > 1:
        return False
    if (a[-1:] == " " and a[:1].isascii() and a[:1].isalpha()) or (
        b[:1] == " " and b[1:].isascii() and b[1:].isalpha()
    ):
        return False  # the next word is Latin too: English text
    return bool(
        _CJK_OR_WIDE.match(a[-1:] or "") or _CJK_OR_WIDE.match(b[:1] or "") or (s == 0 and e == len(text))
    )


def _list_word(w: str, sur1) -> bool:
    """Chinese characters, none a function word, but a surname may lead (向阳 in 田原、向阳三位)."""
    return all(_CJK.match(c) and (c not in _STOP or (k == 0 and c in sur1)) for k, c in enumerate(w))


def _list_items(text: str, out: list) -> list:
    """A list of names set apart by 、 or spaces (嘉琪 雅琴 海燕 明天都来吗): an item of two or three Chinese
    characters between two found names, or right after two of them and ended by the same separator, is a
    name too."""
    from cnai.corpus import namemodel

    lex = namemodel.lexicon()
    sur1, sur2 = _tables()[:2]
    spans = sorted((f[0], f[1]) for f in out if f[3] >= 0.5)
    hit = _Overlaps(spans).hits  # (a list scan per item was quadratic on a long list)
    add = []

    def uncommon(w: str) -> bool:
        """Not an ordinary word (明天, 大家): unknown to the lexicon, a name there, or rare; in a list of
        names also a word of middling frequency that starts with a surname (江河、高山 after 蓝海、白霜:
        given names that are words; not the most frequent words, 明天, 高原)."""
        f = lex.get(w, (0, True))
        return f[1] or f[0] < 3 or (f[0] < 4 and (w[0] in sur1 or w[:2] in sur2))

    def item(j: int, k: int) -> tuple:
        return (j, k, "person_name", 0.55, "name model; in a list of names")

    for (_a0, a1), (b0, b1) in zip(spans, spans[1:], strict=False):
        w = text[a1 + 1 : b0 - 1]
        if (  # one item between two found names (俞子墨、钱多多、蒋一鸣)
            a1 < len(text)
            and text[a1] == "、"  # not spaces: forms alternate labels and names (周一 司马文静 周二 巫晓梅)
            and text[b0 - 1] == "、"
            and 2 <= len(w) <= 3
            and _list_word(w, sur1)
            and uncommon(w)
        ):
            add.append(item(a1 + 1, b0 - 1))
            continue
        if b0 != a1 + 1 or text[a1] not in _LIST_SEP or b1 >= len(text) or text[b1] != text[a1]:
            continue
        sep, j = text[a1], b1 + 1
        if sep == " ":  # items before the first two names (第一期 冷静 暴风 米雪 鞠文娟)
            k = _a0 - 1
            while k > 0 and text[k] == sep and not hit(k - 1, k):
                i = k
                while i > 0 and k - i < 4 and _CJK.match(text[i - 1]):
                    i -= 1
                w = text[i:k]
                if not (
                    2 <= len(w) <= 3
                    and (i == 0 or text[i - 1] in " \n：:")
                    and (w[0] in sur1 or w[:2] in sur2)
                    and not any(c in _STOP for c in w)
                    and uncommon(w)
                ):
                    break
                add.append(item(i, k))
                k = i - 1
        while j < len(text):
            got = None
            if sep == "、":  # the last item of a 、 list: two or three characters, then a count or a break
                for k in (j + 3, j + 2):
                    w = text[j:k]
                    if (
                        len(w) == k - j
                        and _list_word(w, sur1)
                        and uncommon(w)
                        and (_LIST_END.match(text, k) or k == len(text))
                        and (k == j + 2 or w[0] in sur1 or w[:2] in sur2)
                        and not hit(j, k)
                    ):
                        got = k
                        break
            else:
                k = j
                while k < len(text) and k - j < 4 and _CJK.match(text[k]):
                    k += 1
                w = text[j:k]
                if (
                    2 <= len(w) <= 3
                    and (
                        (k < len(text) and text[k] == sep)
                        or k == len(text) or text[k] == "\n"  # the list ends the line
                    )
                    and not any(c in _STOP for c in w)
                    and uncommon(w)
                    and not hit(j, k)
                ):
                    got = k
            if got is None:
                break
            add.append(item(j, got))
            if got >= len(text) or text[got] != sep:
                break
            j = got + 1  # the next item of the same list (江河、高山)
    return add


class _Overlaps:
    """Fixed spans that may overlap one another: whether any of them overlaps [a, b), in O(log n) (sorted starts
    and the running maximum of their ends)."""

    __slots__ = ("starts", "maxend")

    def __init__(self, spans):
        sp = sorted((f[0], f[1]) for f in spans)
        self.starts, self.maxend, m = [a for a, _ in sp], [], -1
        for _, b in sp:
            m = max(m, b)
            self.maxend.append(m)

    def hits(self, a: int, b: int) -> bool:
        i = bisect_left(self.starts, b) - 1  # the spans that start before b ...
        return i >= 0 and self.maxend[i] > a  # ... and one of them ends after a


class _Spans:
    """Non-overlapping spans kept sorted: an overlap test in O(log n), so a long document with thousands of names
    does not cost time quadratic in their number (a list scan per span did)."""

    __slots__ = ("starts", "ends")

    def __init__(self, spans=()):
        sp = sorted((f[0], f[1]) for f in spans)
        self.starts, self.ends = [a for a, _ in sp], [b for _, b in sp]

    def hits(self, a: int, b: int) -> bool:
        i = bisect_right(self.ends, a)  # the first span ending after a
        return i < len(self.starts) and self.starts[i] < b

    def add(self, a: int, b: int) -> None:
        i = bisect_left(self.starts, a)
        self.starts.insert(i, a)
        self.ends.insert(i, b)


def find(
    text: str, threshold: float = 0.0, *, skip_addresses: bool = True, model=None, gate: bool = False, _r10=True
) -> list[tuple[int, int, str, float, str]]:
    """Names in text: [(start, end, "person_name", confidence, reason)], non-overlapping, sorted.

    The CRF (cnai.corpus.namemodel) tags every sentence (gate=True: only sentences that hold a trigger,
    such as a rule candidate; several times faster on ordinary prose, a little less recall). Latin-letter names (Zhang Wei)
    come from the rules. Confidence: the model's smallest label marginal over the span, rescaled so that
    0.5 is the operating point chosen by cross-validation on the development split (raw 0.6).
    Without python-crfsuite or the model file this is find_rules.

    Round 10 on top of the model and its repairs (_after_round10): names written one character at a time with
    spaces between (OCR'd forms: 洪 晓 雯), Tibetan and Mongolian names from their parts (次仁央宗, 巴图孟和) and
    rare compound surnames, a name found once marking its other occurrences in the text, role and kinship words
    cut off, word classes that are no names, @-handles, English given names standing alone, and 他叫X."""
    namemodel = _namemodel  # bound at import: an import statement per call costs a quarter of a µs per text

    tagger = model or namemodel.tagger()
    if tagger is None:
        out = find_rules(text, threshold, skip_addresses=skip_addresses)
        return _after_round10(text, out, threshold, skip_addresses, model, gate, None) if _r10 else out
    # the rules run when the model reads their candidates, for the gate, and for Latin-letter names
    if not gate and not namemodel.USE_RULES:  # one compiled call: the model and the capital test
        tagged, latin = namemodel.tag_text_upper(text, None, tagger)
        rules = find_rules(text, 0.0, skip_addresses=skip_addresses) if latin else []
    else:
        rules = find_rules(text, 0.0, skip_addresses=skip_addresses)
        tagged, latin = None, None
    if gate:
        trig = [(f[0], f[1]) for f in rules if f[3] >= GATE]
        trig += [(m.start(), m.end()) for m in _famous_rx().finditer(text)]
        if GIVEN_TRIGGER:  # two typical given-name characters: a given name alone (子轩, 大伟)
            trig += [(m.start(), m.start() + 2) for m in _scan_patterns()[1].finditer(text)]
        if "·" in text:
            trig += [(m.start(), m.end()) for m in re.finditer("·", text)]
        if not trig:
            out = [f for f in rules if f[3] >= max(threshold, 0.5) and text[f[0]].isascii()]
            return _after_round10(text, out, threshold, skip_addresses, model, gate, None) if _r10 else out
        trig.sort()
    # the model on each sentence piece (_pieces) holding a Chinese character (and, gated, a trigger): one
    # compiled call for the whole text (namemodel.tag_text; the per-piece Python loop without the extension)
    if tagged is None:
        tagged = namemodel.tag_text(text, trig if gate else None, tagger, rules)
    if not tagged and not rules:  # nothing from the model nor the rules (most prose): nothing to merge
        # (with no output the round-10 pass can only add a handle, an English name, 他叫X or a spaced name:
        # the tests inline, since most text ends here)
        if _r10 and ROUND10 and (latin or "@" in text or "叫" in text or " " in text or "\u3000" in text):
            return _after_round10(text, [], threshold, skip_addresses, model, gate, latin)
        return []
    why = {(s, e): r for s, e, _t, _c, r in rules}
    out = [
        (
            s,
            e,
            "person_name",
            _rescale(c),
            "name model" + (f"; rules: {why[(s, e)]}" if (s, e) in why else ""),
        )
        for s, e, c in tagged
        if not any(ch.isascii() for ch in text[s:e])
    ]  # Latin names: the rules' patterns, and the model's when they look like a name (Amy, Tony)
    # the rules' Latin patterns first (David Chen), the model's Latin spans elsewhere
    latin_rules = _Overlaps((f[0], f[1]) for f in rules if f[3] >= 0.5 and text[f[0]].isascii())
    out += [
        (s, e, "person_name", _rescale(c), "name model (Latin letters)")
        for s, e, c in tagged
        if text[s].isascii()
        and not latin_rules.hits(s, e)
        and _LATIN_NAME.fullmatch(text, s, e)
        and _latin_alone(text, s, e)
    ]
    out.sort()
    if out:
        out = _repair(text, out)
    # a span one character short of a well-known name is that name (马伊 -> 马伊琍); the alternation of every
    # well-known name is the slowest regex here, so it runs only when a set look-up says a snap is possible
    if SNAP and out and any(
        text[f[0] - 1 : f[1]] in _famous_set() or text[f[0] : f[1] + 1] in _famous_set() for f in out
    ):
        fam = [(m.start(), m.end()) for m in _famous_rx().finditer(text)]  # never overlapping
        fs = [a for a, _ in fam]
        for j, f in enumerate(out):
            i = bisect_right(fs, f[0]) - 1  # the only match that can hold the span (a list scan was quadratic)
            if i >= 0:
                a, b = fam[i]
                if a <= f[0] and f[1] <= b and (b - a) - (f[1] - f[0]) == 1:  # only ever longer: 姜文静 is not 姜文
                    out[j] = (a, b, f[2], f[3], f[4] + "; well-known name")
    if "《" in text and out:  # as in find_rules: titles of works hold no person names of their own
        books = [(m.start(), m.end()) for m in _BOOK.finditer(text)]  # never overlapping
        bs = [a for a, _ in books]

        def in_book(f) -> bool:
            i = bisect_left(bs, f[0]) - 1  # the last title opening before the span
            return i >= 0 and f[1] < books[i][1]

        out = [f for f in out if not in_book(f)]
    if skip_addresses and out:
        from cnai.corpus import addresses

        addr = _Overlaps(addresses.find(text))
        out = [f for f in out if not addr.hits(f[0], f[1])]
    if rules:
        found, appended = _Overlaps(out), _Spans()
        for f in rules:
            if (
                f[3] >= 0.5
                and text[f[0]].isascii()
                and not found.hits(f[0], f[1])
                and not appended.hits(f[0], f[1])
            ):
                m = _LATIN_THIRD.match(text, f[1])
                out.append((f[0], m.end(), *f[2:]) if m else f)  # Chan Tai Man, Nguyen Van An: three parts
                appended.add(out[-1][0], out[-1][1])
    if len(out) >= 2:
        out += _list_items(text, out)
    kept: list = []
    taken = _Spans()
    for f in sorted(out, key=lambda f: -f[3]):  # non-overlapping, the surer first
        if f[3] >= threshold and not taken.hits(f[0], f[1]):
            kept.append(f)
            taken.add(f[0], f[1])
    return _after_round10(text, sorted(kept), threshold, skip_addresses, model, gate, latin) if _r10 else sorted(kept)


def _after_round10(text, out, threshold, skip_addresses, model, gate, upper):
    """The round-10 pass over find's output; most text has no name, so it runs only where it can add or
    change something (cheap tests first). upper: whether the text holds an ASCII capital (None: unknown)."""
    if not ROUND10:
        return out
    minority = _minority_names(text) if out or not MINORITY_NEEDS_OUTPUT else []
    if out or minority or "@" in text or "叫" in text or (_LATIN_HINT.search(text) if upper is None else upper):
        out = _round10(text, out, skip_addresses, minority)
    if (" " in text or "\u3000" in text) and _SPACED.search(text):
        out = _spaced_names(text, out, threshold, skip_addresses, model, gate)
    return [f for f in out if f[3] >= threshold] if out else out


# --- round 10 (issue #16): classes a new persona's text showed (development batches batch9a-c) ---------------
MINORITY_NEEDS_OUTPUT = True  # the minority/compound-surname pass only where the model tagged something (speed)
ROUND10 = True  # A/B switch for all the round-10 additions (measured in notes/issue-16-round10.md)
# one Chinese character at a time with a space between, two to four of them, standing alone between breaks:
# a name in an OCR'd or hand-spaced form (乙方：洪 晓 雯, 调解员 敖 日 格 勒)
_BRK = " \t\n\u3000:：|｜、，,;；()（）【】\\[\\]"
_SPACED = re.compile(f"(?<![^{_BRK}])[\u4e00-\u9fff](?:[ \u3000][\u4e00-\u9fff]){{1,3}}(?![^{_BRK}。.])")


def _spaced_names(text, out, threshold, skip_addresses, model, gate):
    """Each spaced run read with its spaces taken out (the rest of the text unchanged): a name the recognizer
    finds covering the whole run is the run, spaces included; it replaces what overlapped it."""
    runs = [(m.start(), m.end()) for m in _SPACED.finditer(text)]
    keep = []  # collapsed text and, for each of its characters, the offset in the original
    pos = []
    last = 0
    for a, b in runs:
        keep.append(text[last:a])
        pos.extend(range(last, a))
        for k in range(a, b):
            if text[k] not in " \u3000":
                keep.append(text[k])
                pos.append(k)
        last = b
    keep.append(text[last:])
    pos.extend(range(last, len(text)))
    flat = "".join(keep)
    runset = set(runs)
    add = []
    for s, e, t, c, r in _round10(flat, find(flat, 0.0, skip_addresses=skip_addresses, model=model, gate=gate, _r10=False),
                                  skip_addresses):
        span = (pos[s], pos[e - 1] + 1)
        if span in runset and 2 <= e - s <= 4:
            add.append((*span, t, c, r + "; characters spaced apart"))
    if not add:
        return out
    new = _Spans(add)
    return sorted([f for f in out if not new.hits(f[0], f[1])] + add)


# Tibetan, Mongolian and Uyghur personal names are written as two name parts (次仁 + 央宗, 巴图 + 孟和, 阿不都 +
# 热依木) or one long part (敖日格勒, 阿依古丽); the parts below are common ones (our own selection). Two parts in a
# row, or a listed part of four characters, standing where a name can stand, are one name; the model often cut
# them (仁央宗, 巴图孟, 阿不).
_MINORITY_PARTS = frozenset(
    (
        # Tibetan
        "次仁 央宗 丹增 旦增 曲扎 德吉 尕藏 才让 扎西 卓玛 格桑 拉姆 多吉 多杰 央金 达瓦 达娃 尼玛 顿珠 索朗 "
        "索南 平措 白玛 洛桑 强巴 边巴 普布 米玛 巴桑 罗布 益西 曲珍 措姆 仁增 贡布 旺堆 次旦 嘎玛 拉巴 琼达 "
        "桑珠 土登 旺姆 德庆 泽仁 泽旺 俄珠 坚参 群培 旺杰 其美 次珠 卓嘎 仓决 桑杰 桑吉 拉珍 拉措 白珍 央拉 "
        "次央 贡嘎 阿旺 晋美 丹巴 巴登 次卓 边珍 扎巴 久美 更登 班典 洛追 尼珍 斯郎 玉珍 卓嘎 措吉 拉毛 才旦 "
        "多布杰 加措 嘉措 旺青 格列 益喜 昂旺 格勒 "
        # Mongolian
        "巴图 孟和 哈斯 额尔敦 乌力吉 其木格 斯琴 高娃 萨仁 图雅 苏和 朝鲁 宝音 巴特尔 那顺 阿拉坦 巴雅尔 "
        "其其格 娜仁 托娅 图门 布和 特木尔 吉日嘎拉 满都拉 额尔德尼 达来 阿古拉 呼和 毕力格 德力格尔 "
        "格根 塔娜 乌日娜 斯日古楞 敖其尔 巴根 敖日格勒 格日勒 苏布达 朝格图 图布信 乌云 其勒格尔 "
        "额日和木 满达 赛音 查干 宝力道 巴音 道尔吉 森布尔 仁钦 苏德 阿拉腾 额尔登 陶格斯 "
        # Uyghur (round 10: 阿不都 + 热依木 and the like; written without a dot they were cut at 阿不)
        "阿不都 阿卜杜 阿布都 买买提 麦麦提 艾买提 热依木 热合曼 吐尔逊 阿力木 依明 玉素甫 吾斯曼 艾合买提 "
        "努尔 帕尔哈提 库尔班 阿迪力 亚森 木合塔尔 克力木 赛买提 托合提 肉孜 卡德尔 阿依古丽 古丽娜尔 帕提古丽 "
        "迪丽拜尔 热娜古丽 阿孜古丽"
    ).split()
)
_MIN_LONG = frozenset(w for w in _MINORITY_PARTS if len(w) >= 4)


def _minority_names(text: str) -> list[tuple[int, int, str]]:
    """Spans (start, end, reason) of Tibetan / Mongolian / Uyghur names and of names with a rare compound surname."""
    if _PAIR_STARTS is None:
        return _minority_names_py(text)
    starts = _PAIR_STARTS(text, _MIN_TABLE)
    return _minority_chain(text, starts) if starts else []


def _pair_table(first, second) -> bytes:
    """A byte per Basic Multilingual Plane code point: bit 0 in `first`, bit 1 in `second` (pair_starts)."""
    tab = bytearray(65536)
    for ch in first:
        tab[ord(ch)] |= 1
    for ch in second:
        tab[ord(ch)] |= 2
    return bytes(tab)


# compound surnames the rule below reads (not those that are also common words or that the model knows well:
# 东方, 西门, 百里, 长孙, 欧阳, 司马 ...)
_SUR2_RULE = frozenset(
    "万俟 上官 亓官 令狐 仲孙 公冶 公孙 公羊 南宫 司寇 司徒 呼延 壤驷 夏侯 太史 宇文 宰父 尉迟 左丘 巫马 慕容 "
    "拓跋 淳于 漆雕 澹台 濮阳 独孤 申屠 皇甫 端木 羊舌 诸葛 赫连 轩辕 钟离 闻人 闾丘 颛孙 鲜于".split()
)
# one compiled pass finds where either a minority name part or a compound surname may start
_MIN_TABLE = _pair_table({w[0] for w in _MINORITY_PARTS | _SUR2_RULE}, {w[1] for w in _MINORITY_PARTS | _SUR2_RULE})
# without the compiled pass: a regex for a candidate's first two characters, then set look-ups
_MIN_FIRST2 = _MINORITY_PARTS | _SUR2_RULE
_MIN_PAIR = re.compile(  # zero-width, so that a part starting inside another pair is seen too
    "(?=[" + "".join(sorted({w[0] for w in _MIN_FIRST2})) + "][" + "".join(sorted({w[1] for w in _MIN_FIRST2})) + "])"
)

try:  # the compiled first pass; without the extension, a regex
    from cnai.corpus._namescan import pair_starts as _PAIR_STARTS
except ImportError:  # pragma: no cover - the extension is optional
    _PAIR_STARTS = None


def _minority_chain(text: str, starts) -> list[tuple[int, int, str]]:
    """From candidate offsets: two or three name parts in a row, or one long listed part; or a rare compound
    surname with one or two given-name characters (慕容雪衣, 令狐秋): two unless the second is a word that
    follows a name (令狐桂已, 诸葛亮说) or a well-known person has three."""
    spans, n, nxt = [], len(text), 0
    for i in starts:
        if i < nxt:
            continue
        if text[i : i + 2] in _SUR2_RULE:
            g1, g2 = text[i + 2 : i + 3], text[i + 3 : i + 4]
            if not g1 or not _CJK.match(g1) or g1 in _STOP or text.endswith("事后", 0, i):
                continue  # 事后诸葛亮: the idiom
            namemodel = _namemodel
            if (
                not g2
                or not _CJK.match(g2)
                or g2 in _STOP
                or g2 in _RIGHT_OK
                or g2 in _GLUE_NICK
                or g2 in "一二两三四五六七八九十几"
                or namemodel.lexicon().get(text[i + 3 : i + 5], (0, False))[0] >= 2  # 担任, 老师, 本人
                or "F" in namemodel.gazetteer().get(text[i : i + 3], "")
            ):
                j = i + 3
            else:
                j = i + 4
            spans.append((i, j, "a rare compound surname and a given name"))
            nxt = j
            continue
        j, parts = i, 0
        while parts < 3:
            for k in (4, 3, 2):
                if j + k <= n and text[j : j + k] in _MINORITY_PARTS:
                    j += k
                    parts += 1
                    break
            else:
                break
        if parts >= 2 or (parts == 1 and text[i:j] in _MIN_LONG):
            spans.append((i, j, "Tibetan, Mongolian or Uyghur name parts"))
            nxt = j
    return spans


def _minority_names_py(text: str) -> list[tuple[int, int]]:
    return _minority_chain(text, (m.start() for m in _MIN_PAIR.finditer(text)))


# a word before a name that is a role, a kinship or a field of a form, not part of the name (博主贝拉, 显考涂长根,
# 秀芹婶, 长根爷爷): cut off when what is left still looks like a name
_LEAD_R10 = tuple(
    sorted(
        (
            "博主 作者 作家 向导 主人公 患者 申请人 被申请人 嫌疑人 证人 死者 受访人 来访人 当事人 委托人 受托人 "
            "经手人 户主 车主 翻译 老中医 中医 闺蜜 显考 显妣 孝男 孝女 师父 徒弟 叫 名叫 主角 配角 小说家 画家 "
            "歌手 网友 粉丝 楼主 审判员 书记员 调解员 会计 出纳 村医 村民 老人 大爷 大妈 阿婆 曾祖父 祖父 祖母 "
            "太爷爷 太奶奶 爷爷 奶奶 外婆 外公 姥姥 姥爷"
        ).split(),
        key=len,
        reverse=True,
    )
)
_KIN_TAIL = tuple(
    sorted(
        "爷爷 奶奶 婶婶 婶 叔叔 叔 伯伯 伯 姨 阿姨 哥哥 哥 姐姐 姐 嫂子 嫂 舅舅 舅 姑姑 姑 大爷 大妈 姥姥 姥爷 婆婆".split(),
        key=len,
        reverse=True,
    )
)
# what a name is called by: 他叫满仓, 大名叫石头 (the words before 叫 say a person is meant; 起名 / 取名 are
# left out: pets and shops are named too); not a question (叫什么, 叫啥名)
_CALLED = re.compile(
    r"(?:(?<=[他她我你人孩娃子儿爷妈爸姐哥弟妹])叫|(?<![取起])名叫|叫做|名字叫|大名叫|小名叫|真名叫)"
    r"(?![什啥谁哪怎太很])([\u4e00-\u9fff]{2,3})(?=[，。！？；,.!?;”」\n]|$)"
)


# words that are no names, by class: the parts of a web novel or a book (连载, 番外, 小传), fields of a form
# (籍贯, 事由, 亲启), mourning and kinship words (孝男, 显考, 曾祖父, 阿婆), rooms of a house (东厢), ranks in a
# sect (左使), voice parts of a choir (女高, 男低); a surname spoken of as a surname (王姓, 姓张); a surname with an abbreviated title (王局, 李处, 张总)
_NOT_NAMES = frozenset(
    (
        "连载 番外 小传 长文 网文 官宣 正文 楔子 尾声 序章 目录 大纲 简介 后记 前言 "
        "籍贯 印章 盖章 亲启 事由 用途 份数 户号 车牌 备注 签收 经办 "
        "孝男 孝女 孝孙 显考 显妣 曾祖父 曾祖母 祖父 祖母 太爷爷 太奶奶 阿婆 阿公 外婆 外公 阿爷 阿嬷 姆妈 "
        "东厢 西厢 正屋 后院 左使 右使 掌门 长老 师叔 师伯 女高 女中 女低 男高 男中 男低"
    ).split()
)
_ABBR_TITLE = set("局处总董科")
# dishes named after a person (陈麻婆豆腐, 小杨生煎, 西施豆腐): the name is the start of the dish
_FOOD_NEXT = tuple("豆腐 鸡丁 饺子 水饺 包子 面条 米粉 凉皮 烧饼 汤圆 抄手 生煎 泡馍 烤鸭 凉粉 肉夹馍 牛肉 酱鸭".split())
# a name spoken of as a word or as characters (“江涛”这两个字, 石磊这个词): not a person (X这个名字 stays a name:
# the sets mark it, as in 幺红梅这个名字的幺字)
_AS_WORD = ("这两个字", "这三个字", "这个字", "这个词", "两个字", "三个字")
@lru_cache(maxsize=1)
def _latin_given() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "names" / "latin_given.txt"
    return frozenset(w for ln in path.read_text("utf-8").splitlines() if not ln.startswith("#") for w in ln.split())


# an English given name standing alone in Chinese text (早班 Shirley, 你家Ethan, 3.Eric): not inside a longer
# Latin word or a two-part Latin name (the rules read those); 阿 / 小 before it belongs to the name (阿Sam)
_LATIN_ALONE = re.compile(r"(?<![A-Za-z])([阿小老]?)([A-Z][a-z]{1,9})(?![A-Za-z]| [A-Z][a-z])")
_LATIN_HINT = re.compile("[A-Z][a-z]")
_HANDLE = re.compile(r"@(?![你我他她它所全大])([\u4e00-\u9fff]{2,3}|[A-Z][a-z]{1,11})(?=[\s:：，,。!！?？]|$)")


_CELL = re.compile(r"[^\s|｜]+")
_NOT_IN_NAME_COLUMN = set("部处科组队局所院校司会室办厅站")  # units of an organisation (财务部, 二组)


def _roster_column(text: str, out: list, taken: _Spans) -> list:
    """Lines of a roster or form split into cells by spaces or bars (1 向晚 守门员 / 5 祖浩 后卫): when the cells of
    one column are found names on two or more lines, that column's cell of two or three Chinese characters on the
    other lines is a name too (向晚, 米兰: words that are given names), unless it is a common word or a unit."""
    from cnai.corpus import namemodel

    lines, pos = [], 0
    for ln in text.split("\n"):
        cells = [(m.start() + pos, m.end() + pos) for m in _CELL.finditer(ln)]
        if len(cells) >= 2:
            lines.append(cells)
        pos += len(ln) + 1
    if len(lines) < 3:
        return []
    found = {(f[0], f[1]) for f in out if f[3] >= 0.5}
    cols: dict[int, int] = {}
    for cells in lines:
        for c, cell in enumerate(cells):
            if cell in found:
                cols[c] = cols.get(c, 0) + 1
    lex = namemodel.lexicon()
    add = []
    for c, n in cols.items():
        if n < 2:
            continue
        for cells in lines:
            if c >= len(cells) or cells[c] in found:
                continue
            a, b = cells[c]
            w = text[a:b]
            if (
                2 <= len(w) <= 3
                and all(_CJK.match(ch) for ch in w)
                and not any(ch in _STOP for ch in w)
                and w[-1] not in _NOT_IN_NAME_COLUMN
                and lex.get(w, (0, True))[0] < 4  # not the most common words
                and not taken.hits(a, b)
            ):
                add.append((a, b, "person_name", 0.55, "in the name column of a roster"))
    return add


def _round10(text: str, out: list, skip_addresses: bool, minority=None) -> list:
    sur1, sur2 = _tables()[:2]
    fixed = []
    for s, e, t, c, r in out:
        w = text[s:e]
        if (
            w in _NOT_NAMES
            or any(ch in "、，,；;" for ch in w)
            or (len(w) == 2 and "姓" in w and (w.replace("姓", "") in sur1))
            or (len(w) == 2 and w[0] in sur1 and w[1] in _ABBR_TITLE)
            or (len(w) == 2 and w[0] in sur1 and w[1] == "大" and text[e : e + 1] in _KIN)
            or text.startswith(_FOOD_NEXT, e)
            or (w in _CALENDAR and re.match(r"\s*\d{1,2}月", text[e : e + 6]))
            or text.startswith(_AS_WORD, e + (text[e : e + 1] in "”」\""))
        ):
            continue
        if e - s >= 3 and w.startswith(_LEAD_R10) and "·" not in w:
            for lead in _LEAD_R10:
                rest = w[len(lead) :]
                if w.startswith(lead) and 2 <= len(rest) <= 4 and rest[0] not in _KIN:
                    s += len(lead)
                    break
            w = text[s:e]
        if e - s >= 3 and w.endswith(_KIN_TAIL) and "·" not in w:
            for tail in _KIN_TAIL:
                if w.endswith(tail) and len(w) - len(tail) >= 2 and w[0] not in _KIN:
                    e -= len(tail)
                    break
        fixed.append((s, e, t, c, r))
    out = fixed
    add = []
    here, sure = _Spans(out), _Spans(f for f in out if f[3] >= 0.5)
    by_start = sorted((f[0], f[1]) for f in out)  # out never overlaps itself here
    starts = [f[0] for f in by_start]

    def inside_longer(a: int, b: int) -> bool:
        i = bisect_right(starts, a) - 1  # the only found span that can hold [a, b)
        return i >= 0 and by_start[i][1] >= b and by_start[i][1] - by_start[i][0] > b - a

    for a, b, why in _minority_names(text) if minority is None else minority:
        left = text[a - 1 : a]
        if left == "·" or text[b : b + 1] == "·" or inside_longer(a, b):
            continue  # a part of a dotted name (阿依古丽·买买提) or inside a longer name found already
        if why[0] == "T" and (
            left
            and _CJK.match(left)
            and left not in _LEFT_OK
            and not text.endswith(_LEAD_R10, 0, a)
            and not text.endswith(_ROLE_LEFT, 0, a)
            and not here.hits(a, a + 1)  # not where a found name starts or runs (仁央宗 inside 次仁央宗)
        ):
            continue
        if why[0] == "a" and sure.hits(a, b):
            continue  # a compound surname: only where the model found nothing it is sure of
        add.append((a, b, "person_name", 0.8, why))
    if add:  # these replace what they overlap
        new = _Spans(add)
        out = [f for f in out if not new.hits(f[0], f[1])] + add
        add = []
    if "@" in text:  # a part of an @-handle (@小熊不吃糖, 桂佳 of @能桂佳) is no name; the handle may be one (below)
        handles = [m.span(1) for m in re.finditer(r"@([^\s:：，,。!！?？@]{1,20})", text)]  # never overlapping
        hs, he = [a for a, _ in handles], [b for _, b in handles]

        def in_handle(f) -> bool:
            i = bisect_right(hs, f[0]) - 1  # the last handle starting at or before the span
            return i >= 0 and f[1] <= he[i] and (f[0], f[1]) != handles[i]

        out = [f for f in out if not in_handle(f)]
    taken = _Spans(out)
    if _LATIN_HINT.search(text):
        given = _latin_given()
        for m in _LATIN_ALONE.finditer(text):
            a, b = m.start(), m.end()
            if m.group(2) in given and not taken.hits(a, b) and (b == len(text) or not text[b].isdigit()):
                add.append((a, b, "person_name", 0.6, "an English given name standing alone"))
                taken.add(a, b)
    if "@" in text:  # an @-handle of a name's shape (@菲菲, @Kiki) names a person
        for m in _HANDLE.finditer(text):
            a, b = m.span(1)
            if not taken.hits(a, b):
                add.append((a, b, "person_name", 0.6, "an @-handle of a name's shape"))
                taken.add(a, b)
    for m in _CALLED.finditer(text) if "叫" in text else ():
        a, b = m.span(1)
        if not taken.hits(a, b) and text[a] not in _KIN:
            add.append((a, b, "person_name", 0.6, "a name after 叫"))
            taken.add(a, b)
    out = out + add
    if "\n" in text and len(out) >= 2:  # a roster: the column that holds found names holds names on every line
        col = _roster_column(text, out, taken)
        if col:
            out = out + col
            for f in col:
                taken.add(f[0], f[1])
    # a name found once: its other occurrences in the text are the same name (fiction, memoirs, minutes)
    seen = {text[f[0] : f[1]]: f[3] for f in out if f[3] >= 0.5 and f[1] - f[0] >= 2 and not text[f[0]].isascii()}
    if seen and len(text) > 8:
        out = [  # the same string tagged elsewhere with less confidence: as sure as the surest occurrence
            (f[0], f[1], f[2], seen[w], f[4] + "; the same name found elsewhere in the text")
            if (w := text[f[0] : f[1]]) in seen and f[3] < seen[w]
            else f
            for f in out
        ]
        more = []
        # and its given name alone (萧寒舟 ... 寒舟): two characters after a surname, a little less sure
        given = {}
        for w, c in seen.items():
            g = w[2:] if w[:2] in sur2 and len(w) == 4 else w[1:] if len(w) == 3 and w[0] in sur1 else ""
            if len(g) == 2 and g not in seen:
                given[g] = c * 0.9
        def stands(k: int, b: int) -> bool:  # where a name can stand, and free
            return (
                not taken.hits(k, b)
                and (k == 0 or not _CJK.match(text[k - 1]) or text[k - 1] in _LEFT_OK)
                and (b == len(text) or not _CJK.match(text[b]) or text[b] in _RIGHT_OK or text[b] in _GLUE_NICK)
            )

        both = {**given, **seen}
        if len(both) * len(text) <= 200_000:  # a few names: str.find per name
            hits = []
            for w in both:
                k = text.find(w)
                while k >= 0:
                    hits.append((k, k + len(w)))
                    k = text.find(w, k + len(w))
        else:  # a long text with many names: one pass over the text (str.find per name would be quadratic)
            lens = sorted({len(w) for w in both}, reverse=True)
            hits = [(k, k + n) for k in range(len(text)) for n in lens if text[k : k + n] in both]
        for k, b in sorted(hits):
            w = text[k:b]
            if stands(k, b):
                why = "the same name found elsewhere in the text" if w in seen else "the given name of a name in the text"
                more.append((k, b, "person_name", both[w], why))
                taken.add(k, b)
        out = out + more
    if skip_addresses and add:
        from cnai.corpus import addresses

        addr = _Spans(addresses.find(text))
        out = [f for f in out if not addr.hits(f[0], f[1])]
    return sorted(out)


class NameRecognizer:
    """cnai.recognizers plug-in (cnai.corpus.recognizers.Recognizer): off unless a config enables it,
    because its precision on ordinary prose is below the cue-word detector's (benchmarks/results/names.md)."""

    type = "person_name"
    enabled_by_default = False

    def find(self, text: str):
        # 0.5: the operating point reported on the realistic set (a config's min_confidence can raise it)
        return [(s, e, c, r) for s, e, _t, c, r in find(text) if c >= 0.5]


RECOGNIZER = NameRecognizer()
