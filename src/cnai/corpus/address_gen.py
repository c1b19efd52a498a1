"""Addresses generated from the administrative-division table, for tests and benchmarks (not evaluation).

Each case is a real province -> prefecture -> county chain from data/addresses/divisions.tsv with an
invented street part (road, number, building, unit, room, or village and group), written the ways people
write them: full names, suffix-less provincial/prefecture names (浙江杭州西湖区), levels left out (district
first), spaces or a line break between parts, and set in a sentence. The expected span and the expected
component levels come with each case, so a test can check structure parsing and not only a hit.
cases_round5 and cases_round8 add the styles those rounds' held-out sets showed (Chinese numerals and zones;
neighbourhoods between levels, short prefecture names, parts after the number, words that end an address).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from cnai.corpus.addresses import _TABLE_SKIP, DATA

# two-character road names (common street names) and estate names; invented combinations, no real address
_ROADS = (
    "人民 解放 建设 和平 胜利 幸福 文化 新华 光明 中山 东风 青年 学府 科技 振兴 团结 友谊 长青 滨江 "
    "迎宾 红旗 育才 兴业 工农 春晖 金桥 花园 民主 复兴 长兴 东环 西环 北环 南湖 翠湖 望江 龙泉"
).split()
_ROAD_SUFFIX = ("路", "路", "路", "街", "大道", "大街", "东路", "西路", "中路", "北路", "南路")
_ESTATES = (
    "阳光花园 金色家园 翠湖苑 锦绣小区 滨江花园 和平新村 怡景公寓 华府小区 书香苑 康乐小区 紫荆花园 世纪家园"
).split()
_TOWNS = ("城关镇 新桥镇 东湖街道 西关街道 长安镇 南门街道 北山镇 红星街道 城南镇").split()
_VILLAGES = ("张庄村 李家村 东关村 河西村 前进村 新民社区 光明社区 石桥村").split()
_TEMPLATES = (
    "{a}",
    "快递寄到{a}，谢谢",
    "收货地址：{a}",
    "我住在{a}附近",
    "{a}的那家店今天开业了",
    "单位地址 {a}",
    "你到{a}门口给我打电话",
    "事发地点位于{a}。",
    "{a}院内停满了车",  # text right after the address that reads like part of it
    "{a}楼顶装了广告牌",
    "{a}东侧新开了一家店",
    "{a}对面就是地铁站",
    "{a}楼下有快递柜",
)
_SHORT = re.compile("(?:省|市|维吾尔自治区|壮族自治区|回族自治区|自治区)$")


@dataclass(frozen=True)
class Case:
    text: str
    start: int
    end: int
    levels: tuple[str, ...]  # expected chain of component levels, as in find()'s reason

    @property
    def address(self) -> str:
        return self.text[self.start : self.end]


@lru_cache(maxsize=1)
def chains() -> list[tuple[str, str, str]]:
    """(province, prefecture or "", county-level unit) triples from the table (current names only)."""
    rows = {}
    for ln in (DATA / "divisions.tsv").read_text("utf-8").splitlines():
        if ln and not ln.startswith("#"):
            name, level, parents, status = ln.split("\t")
            # 大柴旦行政委员会 is not written in addresses; 城区 / 郊区 / 市中区 are read as ordinary words
            if status == "current" and not name.endswith("会") and name not in _TABLE_SKIP:
                rows.setdefault(level, []).append((name, parents.split(",") if parents else []))
    provinces = {n for n, _p in rows["province"]}
    city_parent = {n: p[0] for n, p in rows["city"] if p}
    out = []
    for name, parents in rows["district"]:
        for parent in parents:
            if parent in provinces:  # a municipality's district (北京市朝阳区) or a province-governed county
                out.append((parent, "", name))
            elif parent in city_parent:
                out.append((city_parent[parent], parent, name))
    return sorted(out)


def _join(parts: list[str], rng: random.Random, spaced: bool) -> str:
    if not spaced:
        return "".join(parts)
    out = parts[0]
    for p in parts[1:]:
        out += rng.choice((" ", " ", "  ", "\n", " \n ", "")) + p
    return out


def cases(n: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    pool = [c for c in chains() if not c[0].startswith(("香港", "澳门", "台湾"))]
    out = []
    while len(out) < n:
        prov, city, dist = rng.choice(pool)
        admin: list[tuple[str, str]] = []
        style = rng.random()
        if style < 0.45:  # full chain
            admin = [(prov, "province")] + ([(city, "city")] if city else []) + [(dist, "district")]
        elif (
            style < 0.6
            and city
            and _SHORT.search(prov)
            and city.endswith("市")
            and city[:-1] != _SHORT.sub("", prov)
        ):
            admin = [
                (_SHORT.sub("", prov), "province"),
                (city[:-1], "city"),
                (dist, "district"),
            ]  # 浙江杭州西湖区
        elif style < 0.8 and city:
            admin = [(city, "city"), (dist, "district")]
        else:
            admin = [(dist, "district")]
        detail: list[tuple[str, str]] = []
        kind = rng.random()
        if kind < 0.15:
            detail = [
                (rng.choice(_TOWNS), "town"),
                (rng.choice(_VILLAGES), "village"),
                (f"{rng.randint(1, 12)}组", "group"),
            ]
        else:
            if rng.random() < 0.2:
                detail.append((rng.choice(_TOWNS), "town"))
            detail.append((rng.choice(_ROADS) + rng.choice(_ROAD_SUFFIX), "road"))
            detail.append((f"{rng.randint(1, 2999)}号", "number"))
            r = rng.random()
            if r < 0.3:
                detail.append((rng.choice(_ESTATES), "building"))
                detail.append((f"{rng.randint(1, 30)}栋", "building"))
                detail.append((f"{rng.randint(1, 6)}单元", "unit"))
                detail.append((f"{rng.randint(1, 33)}{rng.randint(1, 8):02d}室", "room"))
            elif r < 0.5:
                detail.append((f"{rng.randint(1, 20)}号楼", "building"))
                detail.append((f"{rng.randint(1, 33)}{rng.randint(1, 8):02d}", "room"))
        if len(admin) == 1 and not detail:
            continue
        parts = admin + detail
        spaced = rng.random() < 0.4
        addr = _join([p for p, _l in parts], rng, spaced)
        tpl = rng.choice(_TEMPLATES)
        start = tpl.index("{a}")
        text = tpl.replace("{a}", addr)
        out.append(Case(text, start, start + len(addr), tuple(lvl for _p, lvl in parts)))
    return out


# ---------------------------------------------------------------- round 5: the boundaries heldout5 showed

_DIGIT_CN = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1850 -> 一千八百五十, 106 -> 一百零六, 11000 -> 一万一千 (the way house numbers are written out)."""
    if n == 0:
        return "零"
    if n >= 10000:
        hi, lo = divmod(n, 10000)
        rest = chinese_number(lo) if lo else ""
        return chinese_number(hi) + "万" + ("零" + rest if rest and lo < 1000 else rest)
    out, zero = "", False
    for unit, value in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        d, n = divmod(n, value)
        if d:
            if zero and out:
                out += "零"
            out += ("" if unit == "十" and not out and d == 1 else _DIGIT_CN[d]) + unit
            zero = False
        elif out:
            zero = True
    return out


# invented zone names (the zone words are real: 经济技术开发区, 高新区 ...)
_ZONES = ("经济技术开发区", "高新区", "高新技术产业开发区", "经济开发区", "综合保税区")
_LANDMARK_NAMES = ("观音桥", "大山坪", "藏龙岛", "夫子庙", "五道口", "沙坪坝", "南门口", "龙头寺")
# leading words that are not part of the address, and what follows it in running text
_LEADS = ("", "在", "寄到", "送到", "车停", "放", "我住", "快递寄", "地址是")
_TAILS = ("", "附近", "门口", "旁边", "对面", "楼下", "的超市", "，谢谢", "。", " 谢谢", "这边", "那个路口")


def cases_round5(n: int, seed: int = 11) -> list[Case]:
    """Addresses with the round-5 patterns, each with its expected span and levels:
    house numbers, floors and rooms in Chinese numerals, economic zones after a city, a landmark after a
    district, leading verbs and trailing words outside the span, spaces and line breaks inside."""
    rng = random.Random(seed)
    pool = [c for c in chains() if c[1] and not c[0].startswith(("香港", "澳门", "台湾"))]
    out = []
    while len(out) < n:
        prov, city, dist = rng.choice(pool)
        parts: list[tuple[str, str]] = []
        kind = rng.random()
        if kind < 0.25:  # 合肥市 + 经济技术开发区 + road + number
            parts = [(city, "city"), (rng.choice(_ZONES), "district")]
        elif kind < 0.45:  # 重庆市渝中区 + 解放碑 (no street after it)
            parts = [(city, "city"), (dist, "district"), (rng.choice(_LANDMARK_NAMES), "park")]
        else:
            parts = ([(prov, "province")] if rng.random() < 0.5 else []) + [
                (city, "city"),
                (dist, "district"),
            ]
        if parts[-1][1] != "park":
            parts.append((rng.choice(_ROADS) + rng.choice(_ROAD_SUFFIX), "road"))
            num = rng.randint(1, 3999)
            parts.append(((chinese_number(num) if rng.random() < 0.6 else str(num)) + "号", "number"))
            r = rng.random()
            if r < 0.3:
                parts.append((chinese_number(rng.randint(1, 30)) + rng.choice("栋幢"), "building"))
                parts.append((chinese_number(rng.randint(1, 6)) + "单元", "unit"))
                parts.append((chinese_number(rng.randint(1, 30)) + "楼", "floor"))
            elif r < 0.45:
                parts.append((f"{rng.randint(1, 30)}楼", "floor"))
                parts.append((f"{rng.randint(1, 12)}号", "room"))
        spaced = rng.random() < 0.4
        addr = _join([p for p, _l in parts], rng, spaced)
        if parts[-1][1] == "park":  # a landmark after a space is read only when a street follows it
            addr = _join([p for p, _l in parts[:-1]], rng, spaced).rstrip() + parts[-1][0]
        lead, tail = rng.choice(_LEADS), rng.choice(_TAILS)
        if parts[-1][1] == "park" and tail in ("", "附近", "门口", "旁边", "对面", "楼下") and tail:
            tail = "，" + tail  # 解放碑附近 would read as one name
        text = lead + addr + tail
        out.append(Case(text, len(lead), len(lead) + len(addr), tuple(lvl for _p, lvl in parts)))
    return out


# ---------------------------------------------------------------- round 8: the styles heldout8 showed

# invented neighbourhood, estate and landmark names of the kind people put between a district and its street
_AREAS = (
    "青石湾",
    "柳荫",
    "东坝",
    "金沙",
    "新桥头",
    "南坪",
    "北苑",
    "水磨沟",
    "老城",
    "望湖",
    "西二旗",
    "梨园",
)
_NAMED = ("梦想小镇", "金融港", "创智天地", "智汇谷", "云栖", "未来之光")  # buildings without a known suffix
_HAMLETS = ("东升屯", "前屯", "李家屯")
# what ends the address in running text (not part of the span)
_TAILS8 = (
    "附近",
    "门口",
    "楼下",
    "驿站",
    " 王建国收",
    " 电话 13912345678",
    "调研",
    "开会",
    "，到了打电话",
    "的那家面馆",
    "",
)


def _short_prefecture(name: str) -> str | None:
    """大理白族自治州 -> 大理州 (the form people write); None for other prefectures."""
    from cnai.corpus.addresses import _ETHNIC

    if not name.endswith("自治州"):
        return None
    cut = min((p for p in (name.find(e) for e in _ETHNIC) if p > 0), default=0)
    return name[:cut] + "州" if cut >= 2 else None


def cases_round8(n: int, seed: int = 13) -> list[Case]:
    """Addresses in the round-8 styles, each with its expected span and levels: a neighbourhood set off by
    spaces between the district (or city, town, village) and the street, short autonomous-prefecture names,
    parts after the house number (3-2, 附1号, a building named without a suffix with its number, 12楼C座,
    Chinese-numeral buildings and units), named road sections, a direction before the number, hamlets (屯)
    and Sichuan's 社, and the words that end an address (附近, 驿站, a name, a phone number, a verb)."""
    rng = random.Random(seed)
    pool = [c for c in chains() if c[1] and not c[0].startswith(("香港", "澳门", "台湾"))]
    autonomous = [c for c in pool if _short_prefecture(c[1])]
    out = []
    while len(out) < n:
        kind = rng.random()
        prov, city, dist = rng.choice(autonomous if kind < 0.25 else pool)
        parts: list[tuple[str, str]] = []
        short = _short_prefecture(city)
        if short and rng.random() < 0.8:
            parts.append((short, "city"))
        else:
            parts += ([(prov, "province")] if rng.random() < 0.4 else []) + [(city, "city")]
        parts.append((dist, "district"))
        road = rng.choice(_ROADS) + rng.choice(_ROAD_SUFFIX)
        if rng.random() < 0.5:  # 昌平区 回龙观 西大街 85号
            parts.append(
                (rng.choice(_AREAS) + " ", "area")
            )  # set off by a space (glued, it is the road's name)
        elif rng.random() < 0.3:
            parts.append((rng.choice(_TOWNS), "town"))
        if rng.random() < 0.15:  # 白山镇 东升屯 / 马鞍镇 檬垭村 三社
            if parts[-1][1] != "town":
                parts.append((rng.choice(_TOWNS), "town"))
            if rng.random() < 0.5:
                parts.append((rng.choice(_HAMLETS), "village"))
            else:
                parts.append((rng.choice(_VILLAGES), "village"))
                parts.append((chinese_number(rng.randint(1, 9)) + rng.choice("组社"), "group"))
        else:
            r = rng.random()
            if r < 0.15:  # 105国道大石段61号
                road += rng.choice((" ", "")) + rng.choice(("大石段", "紫东楼段", "城南段"))
            num = f"{rng.randint(1, 999)}号"
            if r > 0.9:
                num = rng.choice("东西南北") + " " + num  # 五和大道 南 62号
            parts.append((road, "road"))
            parts.append((num, "number"))
            d = rng.random()
            if d < 0.2:
                parts.append((f"{rng.randint(1, 30)}-{rng.randint(1, 8)}", "room"))  # 9号 3-2
            elif d < 0.3:
                parts[-1] = (parts[-1][0] + rng.choice((" ", "")) + f"附{rng.randint(1, 9)}号", "number")
            elif d < 0.55:
                name = rng.choice(_NAMED)
                parts.append(
                    (name + rng.choice((" ", "")) + f"{rng.randint(1, 30)}{rng.choice('栋幢')}", "building")
                )
                if rng.random() < 0.5:
                    parts.append((f"{rng.randint(1, 6)}单元", "unit"))
                    parts.append((f"{rng.randint(1, 30)}{rng.randint(1, 8):02d}", "room"))
            elif d < 0.7:
                parts.append((f"{rng.randint(1, 30)}楼", "floor"))
                parts.append((rng.choice("ABCD") + "座", "room"))
            elif d < 0.85:
                parts.append((chinese_number(rng.randint(1, 20)) + rng.choice("栋幢"), "building"))
                parts.append((chinese_number(rng.randint(1, 6)) + "单元", "unit"))
                parts.append(
                    (
                        "".join(rng.choice("一二三四五六七八九") for _ in range(1))
                        + "〇"
                        + rng.choice("一二三四五六"),
                        "room",
                    )
                )
        addr = _join([p for p, _l in parts], rng, True)
        lead = rng.choice(_LEADS)
        tail = rng.choice(_TAILS8)
        if parts[-1][1] in ("village", "group") and tail in ("附近", "门口", "楼下", "驿站"):
            tail = "，" + tail  # 东升屯附近 reads as one name
        text = lead + addr + tail
        out.append(Case(text, len(lead), len(lead) + len(addr), tuple(lvl for _p, lvl in parts)))
    return out


# characters written in their traditional form in Hong Kong, Macao and Taiwan lines (號, 區, 樓 ...)
_TRAD = str.maketrans("号区县镇楼层东门华广龙湾", "號區縣鎮樓層東門華廣龍灣")
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_LANES = ("安乐里", "福德里", "三坊", "一坊")


def cases_round8b(n: int, seed: int = 17) -> list[Case]:
    """Addresses in the styles of the second round-8 pass, each with its expected span and levels: region
    pickers' separators (广东省/深圳市/南山区) and repeats (北京 北京市 朝阳区), a district's short name as a form
    field (浦东 碧波路 690号), traditional characters (號, 區, 樓), numbered 巷 and 弄 and named lanes (216巷 27弄
    5号, 安乐里 12号), 第N层 and 第N栋, village groups by their full name (第三村民小组), room ranges
    (1101-1105室), two numbers on one road (12号、14号) and mall levels (L3, B1)."""
    from cnai.corpus.addresses import _district_shorts, _shorts

    rng = random.Random(seed)
    pool = [c for c in chains() if c[1] and not c[0].startswith(("香港", "澳门", "台湾"))]
    munis = [c for c in chains() if not c[1] and c[0][:2] in _MUNICIPALITIES and c[2].endswith("区")]
    # a short name that is also a prefecture's or province's (中山, 新北) reads as that one
    shorts = [
        c
        for c in pool
        if c[2].endswith("区")
        and 3 <= len(c[2]) <= 4  # two- or three-character short names, no ethnic ones (管城回族区)
        and c[2][:-1] in _district_shorts()
        and c[2][:-1] not in _shorts()
    ]
    out = []
    while len(out) < n:
        kind = rng.random()
        road = rng.choice(_ROADS) + rng.choice(_ROAD_SUFFIX)
        num = f"{rng.randint(1, 999)}号"
        trad = False
        if kind < 0.2:  # 广东省/深圳市/南山区 科苑路 8号
            prov, city, dist = rng.choice(pool)
            sep = rng.choice("/-")
            parts = [
                (f"{prov}{sep}{city}{sep}{dist}", "province+city+district"),
                (road, "road"),
                (num, "number"),
            ]
        elif kind < 0.32:  # 北京 北京市 朝阳区
            prov, _c, dist = rng.choice(munis)
            parts = [(f"{prov[:2]} {prov}", "province"), (dist, "district"), (road, "road"), (num, "number")]
        elif kind < 0.47:  # (杭州市) 浦东 碧波路 690号: a district's short name set off by a space
            prov, city, dist = rng.choice(shorts)
            parts = ([(city, "city")] if rng.random() < 0.5 else []) + [(dist[:-1] + " ", "district")]
            parts += [(road, "road"), (num, "number")]
        elif kind < 0.6:  # village groups by their full name
            prov, city, dist = rng.choice(pool)
            parts = [(prov, "province"), (city, "city"), (dist, "district"), (rng.choice(_TOWNS), "town")]
            parts += [
                (rng.choice(_VILLAGES), "village"),
                ("第" + chinese_number(rng.randint(1, 9)) + "村民小组", "group"),
            ]
        else:
            prov, city, dist = rng.choice(pool)
            parts = [(city, "city"), (dist, "district"), (road, "road")]
            d = rng.random()
            if d < 0.25:  # 216巷 27弄 5号 / 安乐里 12号
                lane = rng.choice(
                    (f"{rng.randint(1, 300)}巷 {rng.randint(1, 60)}弄", f"{rng.randint(1, 300)}巷")
                )
                parts += [(rng.choice((lane, rng.choice(_LANES))), "lane"), (num, "number")]
            elif d < 0.45:  # 12号、14号
                k = rng.randint(1, 400) * 2
                parts.append((f"{k}号、{k + 2}号", "number"))
            elif d < 0.7:  # 第23层 2301-2305室 / 第6栋
                parts.append((num, "number"))
                if rng.random() < 0.5:
                    f = rng.randint(2, 40)
                    parts += [(f"第{f}层", "floor"), (f"{f}01-{f}0{rng.randint(2, 9)}室", "room")]
                else:
                    parts += [(f"第{rng.randint(1, 30)}栋", "building"), (f"{rng.randint(1, 6)}单元", "unit")]
            else:  # a mall's level after its name
                parts += [(num, "number"), (rng.choice(("万达广场", "恒隆广场", "国贸中心")), "building")]
                parts.append((rng.choice("BL") + str(rng.randint(1, 5)), "floor"))
            trad = rng.random() < 0.3
        addr = " ".join(p.strip() for p, _lvl in parts)
        if trad:
            addr = addr.translate(_TRAD)
        lead = rng.choice(("", "地址：", "寄 ", "收货地址 ", "住所地："))
        tail = rng.choice(("", " 谢谢", "。", " 到了打电话", "，麻烦放门口"))
        text = lead + addr + tail
        levels = tuple(lv for _p, lvl in parts for lv in lvl.split("+"))
        out.append(Case(text, len(lead), len(lead) + len(addr), levels))
    return out
