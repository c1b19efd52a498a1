"""Address recognizer for running Chinese text: administrative levels, street, number, building, room.

An address is a chain of components read left to right: province (省 / 自治区 / 直辖市 / 特别行政区),
city (市 / 州 / 地区 / 盟), district or county (区 / 县 / 旗 / 县级市), town (镇 / 乡 / 街道), road
(路 / 街 / 大道 / 巷 / 胡同 / 弄 and 段), house number (号 / 号院), building (号楼 / 栋 / 幢 / 座, or a
named 大厦 / 广场 / 小区 ...), unit (单元), floor (楼 / 层) and room (室 or bare digits after a unit or
building). Up to three spaces, tabs or one line break may separate components (form fields, chat).

A chain must start at a known place (provincial names below, place names in data/addresses/places.txt
derived from jieba's dictionary) or, for a district/county/city whose name is not in the table,
right after a boundary (start, punctuation, space, or a locative verb such as 在 / 到 / 住). A chain
of one component is not an address (张家口市, 黄山 alone are places, not addresses).

find(text) -> [(start, end, "address", confidence, reason)].
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "addresses"
_H = "\u4e00-\u9fff"
# characters that never sit inside an unknown place or road name (function words, pronouns, verbs of motion)
_NOT_NAME = "的了是在与及或对向给把被从到为于说也就又还很这那你我他她它们个之有没要去来看过想让请"
_NAMECH = f"(?:(?![{_NOT_NAME}])[{_H}])"
_SEP = r"(?:[ \t\u3000]{0,3}\n?[ \t\u3000]{0,3})"
PROVINCES = ("北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省 "
             "山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 台湾省 "
             "内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 香港特别行政区 澳门特别行政区").split()
# short names of the autonomous regions also start an address (新疆乌鲁木齐市); alone they are one component
_PROV = re.compile("|".join(sorted(PROVINCES + ["新疆", "西藏", "内蒙古", "广西", "宁夏"], key=len, reverse=True)))
_DIGITS = "0-9０-９"
_NEAR = "[下上里前后旁边门外]"  # 1266号楼下: "below building No. 1266" reads as house number + 楼下
_CNUM = "一二三四五六七八九十百零〇"
# components after the first, tried in this order at each position; (level, regex)
_COMPONENTS = [
    # 市长 is a mayor, unless a district follows (石家庄市长安区)
    ("city", re.compile(f"{_NAMECH}{{1,6}}?(?:[{_H}]{{0,4}}自治州|市|地区|盟)(?![场民区内]|长(?![{_H}]{{1,2}}[区县]))")),
    ("district", re.compile(f"{_NAMECH}{{1,5}}?(?:新区|区|县|旗)(?![域别长内])")),
    ("town", re.compile(f"{_NAMECH}{{1,5}}?(?:街道|镇|乡)(?![长政])")),
    ("park", re.compile(f"{_NAMECH}{{0,8}}?(?:园区|开发区|工业园|科技园)")),
    ("road", re.compile(f"(?:{_NAMECH}|[{_DIGITS}{_CNUM}]){{1,7}}?(?:大街|大道|路|街|巷|胡同|弄|道)(?!段)"
                        f"(?:{_SEP}[东西南北中]段|[东西南北中](?![{_H}]{{2}})|[{_CNUM}{_DIGITS}]{{1,2}}段)?")),
    ("lane", re.compile(f"[{_DIGITS}{_CNUM}]{{1,4}}弄")),  # 天山路 600弄 3号
    ("number", re.compile(f"[{_DIGITS}{_CNUM}]{{1,5}}(?:[-－][{_DIGITS}]{{1,4}})?号(?:院)?(?!楼(?!{_NEAR}))")),
    ("building", re.compile(f"(?:[{_DIGITS}A-Za-z]{{1,4}}(?:号楼(?!{_NEAR})|栋|幢|座|区)|[东西南北中]区|"
                            f"(?:{_NAMECH}|[A-Za-z]){{0,12}}?[A-Z0-9]{{1,3}}(?:座|塔)|{_NAMECH}{{2,8}}?"
                            f"(?:大厦|广场|中心|小区|花园|公寓|家园|新村|苑|园(?!区)|文化城|大楼)|{_NAMECH}{{0,6}}[A-Z]{{2,10}}"
                            f"(?:{_SEP}[A-Z][0-9]{{1,2}}座?)?)")),  # 望京SOHO T1, 现代城A座, B塔, 花果园
    ("unit", re.compile(f"[{_DIGITS}{_CNUM}]{{1,2}}单元")),
    ("floor", re.compile(f"[{_DIGITS}]{{1,2}}(?:楼|层|F)(?![{_H}]{{0}}[房盘道])")),
    ("room", re.compile(f"[{_DIGITS}]{{3,5}}(?:室|房)?(?![{_DIGITS}])")),
]
_LEVEL = {name: i for i, (name, _r) in enumerate(_COMPONENTS)}
_FIRST_UNKNOWN = re.compile(f"{_NAMECH}{{2,4}}?(?:区|县|市)(?![场民长区内域别])")
_BOUNDARY = set("，。、；：！？,.;:!?()（）[]【】“”\"' \t\n\u3000/|在到住于自是往去了")
_SUFFIX = re.compile(r"(?:省|市|自治州|地区|盟|新区|区|县|旗|镇|乡|街道)")


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    words = {ln.strip() for ln in (DATA / "places.txt").read_text("utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")}
    words |= {p[:2] for p in PROVINCES} | {"内蒙古", "黑龙江"}
    return frozenset(words)


def _first(text: str, i: int) -> tuple[int, str] | None:
    """End and level of an address's first component starting at i, or None."""
    m = _PROV.match(text, i)
    if m:
        return m.end(), "province"
    places = _places()
    for k in (5, 4, 3, 2):
        w = text[i:i + k]
        if len(w) == k and w in places:
            sm = _SUFFIX.match(text, i + k)
            if sm:
                suf = sm.group()
                level = "city" if suf in ("市", "自治州", "地区", "盟") else (
                    "province" if suf == "省" else ("town" if suf in ("镇", "乡", "街道") else "district"))
                return sm.end(), level
    if i == 0 or text[i - 1] in _BOUNDARY:
        m = _FIRST_UNKNOWN.match(text, i)
        # not when a known place starts inside the match (坐标 + 广州市: the address starts at 广州)
        if m and not any(text[j:j + k] in places for j in range(i + 1, m.end() - 1) for k in (2, 3, 4)):
            return m.end(), "district" if m.group()[-1] != "市" else "city"
    return None


def _chain(text: str, i: int):
    first = _first(text, i)
    if first is None:
        return None
    j, level = first
    comps = [level]
    n = len(text)
    while j < n:
        sep = re.compile(_SEP).match(text, j)
        k = sep.end() if sep else j
        if k >= n:
            break
        lvl = _LEVEL.get(comps[-1], -1)
        if comps[-1] == "city" and text[j - 1] in "州区盟":  # 大理白族自治州 + 大理市: county-level city
            lvl -= 1
        got = None
        for name, rx in _COMPONENTS:
            if _LEVEL[name] < lvl or (_LEVEL[name] == lvl and name != "building"):
                continue
            if name == "room" and comps[-1] not in ("unit", "building", "floor", "number"):
                continue
            m = rx.match(text, k)
            if m:
                got = (name, m.end())
                break
        if got is None:
            break
        comps.append(got[0])
        j = got[1]
    return j, comps


# every first component ends in one of these (省, 市, 区 ..., 自治州, 地区, 街道, or a short region name) at
# most 8 characters after its start (新疆维吾尔自治区): a start without one in that window cannot begin one
_SUFFIX_FIRST = re.compile("[省市自地盟区县旗镇乡街疆藏古西夏]")  # the last five: 新疆 西藏 内蒙古 广西 宁夏


def find(text: str) -> list[tuple[int, int, str, float, str]]:
    out = []
    i = 0
    n = len(text)
    suffixes = [m.start() for m in _SUFFIX_FIRST.finditer(text)]
    if not suffixes:
        return out
    k = 0  # index of the first suffix position > i
    while i < n:
        c = text[i]
        if not ("\u4e00" <= c <= "\u9fff"):
            i += 1
            continue
        while k < len(suffixes) and suffixes[k] <= i:
            k += 1
        if k == len(suffixes):
            break
        if suffixes[k] > i + 8:
            i = suffixes[k] - 8
            continue
        ch = _chain(text, i)
        if ch is None or len(ch[1]) < 2:
            i += 1
            continue
        end, comps = ch
        while end > i and text[end - 1] in " \t\n\u3000":
            end -= 1
        detail = {"number", "building", "unit", "room", "floor", "road"}
        conf = 0.55 + 0.08 * len(comps) + (0.1 if "number" in comps else 0) + (
            0.1 if comps[0] in ("province", "city") else 0)
        if not detail & set(comps) and comps[0] not in ("province", "city"):
            conf -= 0.2  # district + town only: often prose ("城区 ... 镇")
        out.append((i, end, "address", round(min(conf, 0.98), 3), "address chain: " + "+".join(comps)))
        i = end
    return out


class AddressRecognizer:
    """cnai.recognizers plug-in (cnai.corpus.recognizers.Recognizer), off unless a config enables it."""

    type = "address"
    enabled_by_default = False

    def find(self, text: str):
        # 0.5: the operating point reported on the realistic set (a config's min_confidence can raise it)
        return [(s, e, c, r) for s, e, _t, c, r in find(text) if c >= 0.5]


RECOGNIZER = AddressRecognizer()
