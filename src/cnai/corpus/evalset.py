"""A labelled evaluation set for the PI detectors, generated with Faker zh_CN, plus hard negatives.

Positives are placed in realistic Chinese sentences with their character spans recorded; hard
negatives (ID-like numbers with a wrong check digit, order numbers, timestamps, phone-like serials,
card-like numbers failing Luhn, version strings) carry no labels, so any finding on them is a false
positive. Everything is seeded and reproducible.
"""

from __future__ import annotations

import random
from collections import Counter

from cnai.corpus import checks

POS_TEMPLATES = {
    "person_name": [
        "客户{v}今天下午来店里办理了退货。", "联系人：{v}，请在工作日联系。", "{v}先生已经确认收货。",
        "我叫{v}，来自南方的一个小城。", "本次会议由{v}主持，大家踊跃发言。", "患者{v}于上周复诊。",
        "{v}女士表示对服务很满意。", "据{v}介绍，项目进展顺利。",
    ],
    # no cue word at all: the best-effort name detector is expected to miss most of these
    # an address without a house number: the best-effort address detector is expected to miss these
    "address_nonumber": [
        "公司位于{v}，交通便利。", "他住在{v}附近。",
    ],
    "person_name_nocue": [
        "{v}昨天去了超市买菜。", "我和{v}是大学同学。", "这次比赛{v}拿了第一名。",
    ],
    "cn_resident_id": [
        "身份证号{v}，请核对。", "申请人证件号码为{v}。", "他的身份证号码是{v}，登记时填错了一位。",
        "请提供{v}对应的身份证复印件。",
    ],
    "cn_mobile": [
        "手机：{v}，随时联系。", "有问题请拨打{v}咨询。", "我的电话是{v}，晚上打给我。", "快递员的号码{v}打不通。",
    ],
    "cn_landline": [
        "办公室电话{v}，工作日接听。", "传真：{v}。", "请致电{v}转客服部。",
    ],
    "email": [
        "简历请发送至{v}，注明岗位。", "邮箱：{v}", "如有疑问，请联系{v}。",
    ],
    "bank_card": [
        "工资卡卡号{v}，开户行为建设银行。", "请将款项转入{v}。", "银行卡号：{v}，户名同上。",
    ],
    "uscc": [
        "公司统一社会信用代码：{v}。", "营业执照上的代码是{v}。", "供应商{v}已完成备案。",
    ],
    "passport": [
        "护照号码{v}，有效期至2030年。", "他出示了护照{v}办理登机。",
    ],
    "hk_macao_permit": [
        "往来港澳通行证号码{v}。", "请携带通行证{v}原件。",
    ],
    "ip_address": [
        "服务器IP为{v}，端口8080。", "登录日志显示来源地址{v}。", "访问来自{v}的请求被拦截。",
    ],
    "license_plate": [
        "车牌号{v}的车辆违停。", "一辆{v}的白色轿车驶入小区。", "{v}车主请尽快挪车。",
    ],
    "address": [
        "收货地址：{v}，请放门卫。", "他住在{v}，离公司很近。", "公司位于{v}。",
    ],
}

NEG_TEMPLATES = [
    ("id_wrong_check", "证件号{v}校验失败，系统拒绝。"),
    ("order_number", "订单号{v}已发货，请注意查收。"),
    ("timestamp", "日志时间戳{v}，记录了本次操作。"),
    ("ms_timestamp", "接口返回的时间为{v}毫秒。"),
    ("phone_like_serial", "设备序列号SN{v}，保修一年。"),
    ("long_number", "流水号{v}请妥善保存。"),
    ("card_bad_luhn", "参考编号{v}仅供内部使用。"),
    ("version", "当前版本{v}已停止维护。"),
    ("price", "总价{v}元，含税。"),
    ("plain", "今天天气不错，我们去公园散步，顺便买了两杯咖啡。"),
    ("date", "会议定于{v}召开。"),
    ("filler", "{v}"),  # Faker zh_CN word salad: role words (学生, 客户...) next to surname characters
    ("admin_prose", "{v}"),  # administrative words without an address: 本市各区的道路 ...
]
ADMIN_PROSE = [
    "本市各区要加强道路管理。", "全县城区主要街道已完成改造。", "城市新区的道路四通八达。",
    "该市多个区的街道开展了清洁活动。", "全市城区道路整治工作进展顺利。", "县里的老街和新区大道都修好了。",
]

_UN = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _make_uscc(rnd: random.Random, region: str) -> str:
    org8 = "".join(rnd.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    org = org8 + checks.org_check_char(org8)
    if org[-1] == "X":  # X is outside the USCC alphabet in this position; redraw
        return _make_uscc(rnd, region)
    first17 = rnd.choice("159") + rnd.choice("123") + region + org
    return first17 + checks.uscc_check_char(first17)


def _luhn_complete(prefix: str, length: int, rnd: random.Random) -> str:
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        if checks.luhn_ok(body + d):
            return body + d
    raise AssertionError


def _values(fk, rnd: random.Random, regions: list[str]) -> dict:
    def name():
        return fk.name()

    def rid():
        return fk.ssn()

    def mobile():
        v = fk.phone_number()
        r = rnd.random()
        if r < 0.2:
            return f"{v[:3]} {v[3:7]} {v[7:]}"
        if r < 0.3:
            return f"+86 {v}"
        return v

    def landline():
        area = rnd.choice(["010", "021", "020", "0755", "0571", "028", "0731"])
        sub = rnd.choice("2345678") + "".join(rnd.choice("0123456789") for _ in range(7 if len(area) == 3 else 6))
        return f"{area}-{sub}"

    def card():
        pre = rnd.choice(["622202", "621700", "622848", "436742", "524094"])
        return _luhn_complete(pre, rnd.choice([16, 19]) if pre.startswith("62") else 16, rnd)

    def uscc():
        return _make_uscc(rnd, rnd.choice(regions))

    def passport():
        if rnd.random() < 0.7:
            return "E" + "".join(rnd.choice("0123456789") for _ in range(8))
        return "E" + rnd.choice("ABCDEFGHJK") + "".join(rnd.choice("0123456789") for _ in range(7))

    def permit():
        return rnd.choice("CHM") + "".join(rnd.choice("0123456789") for _ in range(8))

    def ip():
        return fk.ipv4() if rnd.random() < 0.8 else fk.ipv6()

    def plate():
        p = fk.license_plate()
        while p[1] == "I":  # I is not an issuing letter on real plates; Faker sometimes produces it
            p = fk.license_plate()
        return p.replace("-", "") if rnd.random() < 0.5 else p

    def address_nonumber():
        return f"{fk.province()}{fk.city()}{fk.district()}区{fk.street_name()}"

    def address():
        return (f"{fk.province()}{fk.city()}{fk.district()}区{fk.street_name()}{rnd.randint(1, 999)}号"
                + (f"{rnd.randint(1, 30)}栋{rnd.randint(101, 2505)}室" if rnd.random() < 0.5 else ""))

    def email():
        return fk.email() if rnd.random() < 0.5 else fk.free_email()

    return {"person_name": name, "cn_resident_id": rid, "cn_mobile": mobile, "cn_landline": landline,
            "email": email, "bank_card": card, "uscc": uscc, "passport": passport, "hk_macao_permit": permit,
            "ip_address": ip, "license_plate": plate, "address": address, "address_nonumber": address_nonumber}


def _negative(kind: str, rnd: random.Random, fk) -> str:
    digits = "0123456789"
    if kind == "id_wrong_check":
        # an ID with a wrong check character; about 1 in 300 of those is by chance a checksum-valid USCC
        # (GB 32100, 18 characters too), which is correctly detected as one: such a string is not a
        # negative, so draw another
        while True:
            good = fk.ssn()
            bad = good[:17] + rnd.choice([c for c in "0123456789X" if c != good[-1]])
            if not checks.uscc(bad):
                return bad
    if kind == "order_number":
        return f"{rnd.randint(2019, 2026)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}" + "".join(
            rnd.choice(digits) for _ in range(rnd.choice([10, 12, 14])))
    if kind == "timestamp":
        return f"{rnd.randint(2019, 2026)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 23):02d}" \
               f"{rnd.randint(0, 59):02d}{rnd.randint(0, 59):02d}"
    if kind == "ms_timestamp":
        return str(rnd.randint(1_500_000_000_000, 1_800_000_000_000))
    if kind == "phone_like_serial":
        return "1" + rnd.choice("3456789") + "".join(rnd.choice(digits) for _ in range(9))
    if kind == "long_number":
        return "1" + rnd.choice("3456789") + "".join(rnd.choice(digits) for _ in range(rnd.choice([10, 11, 13])))
    if kind == "card_bad_luhn":
        good = _luhn_complete(rnd.choice(["622202", "621700", "436742"]), 16, rnd)
        return good[:-1] + str((int(good[-1]) + rnd.randint(1, 9)) % 10)
    if kind == "version":
        return f"{rnd.randint(1, 9)}.{rnd.randint(0, 20)}.{rnd.randint(0, 99)}"
    if kind == "price":
        return f"{rnd.randint(1, 99999)}.{rnd.randint(0, 99):02d}"
    if kind == "admin_prose":
        return rnd.choice(ADMIN_PROSE)
    if kind == "filler":
        return fk.paragraph(nb_sentences=4).replace(".", "。")
    if kind == "date":
        return f"{rnd.randint(2019, 2026)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
    return ""


def generate(n: int = 3000, seed: int = 7, neg_share: float = 0.35) -> list[dict]:
    """n items: {"text", "labels": [{"type", "start", "end", "held_out"?}], "kind"}.

    `held_out` marks positives in forms the best-effort detectors do not cover (names without a cue
    word, addresses without a house number); they count in the table and are also reported apart."""
    from faker import Faker

    fk = Faker("zh_CN")
    fk.seed_instance(seed)
    rnd = random.Random(seed)
    regions = sorted(c + "00" for c in checks.region_prefixes())
    vals = _values(fk, rnd, regions)
    types = list(POS_TEMPLATES)
    items = []
    for i in range(n):
        if rnd.random() < neg_share:
            kind, tpl = NEG_TEMPLATES[i % len(NEG_TEMPLATES)]
            v = _negative(kind, rnd, fk)
            items.append({"text": tpl.format(v=v), "labels": [], "kind": f"neg:{kind}"})
            continue
        # one or two PI values in one document
        parts, labels = [], []
        pos = 0
        for _ in range(1 if rnd.random() < 0.6 else 2):
            t = rnd.choice(types)
            base = {"person_name_nocue": "person_name", "address_nonumber": "address_nonumber"}.get(t, t)
            v = vals[base]()
            tpl = rnd.choice(POS_TEMPLATES[t])
            k = tpl.index("{v}")
            sent = tpl.format(v=v)
            held_out = {"person_name_nocue": "person_name", "address_nonumber": "address"}
            labels.append({"type": held_out.get(t, t), "start": pos + k, "end": pos + k + len(v),
                           **({"held_out": t} if t in held_out else {})})
            parts.append(sent)
            pos += len(sent)
        items.append({"text": "".join(parts), "labels": labels, "kind": "pos"})
    return items


def evaluate(items: list[dict], min_confidence: float = 0.6, detector=None) -> dict:
    from cnai.corpus.detect import PI_TYPES, Detector

    det = detector or Detector()
    tp, fp, fn = Counter(), Counter(), Counter()
    held: dict[str, Counter] = {}
    fp_kinds: Counter = Counter()
    for it in items:
        preds = [f for f in det.detect(it["text"]) if f[0] in PI_TYPES and f[3] >= min_confidence]
        gold = it["labels"]
        used = set()
        for g in gold:
            hit = None
            for j, f in enumerate(preds):
                if j not in used and f[0] == g["type"] and f[1] < g["end"] and g["start"] < f[2]:
                    hit = j
                    break
            if g.get("held_out"):
                c = held.setdefault(g["held_out"], Counter())
                c["n"] += 1
                c["found"] += hit is not None
            if hit is None:
                fn[g["type"]] += 1
            else:
                used.add(hit)
                tp[g["type"]] += 1
        for j, f in enumerate(preds):
            if j not in used:
                fp[f[0]] += 1
                fp_kinds[f"{it['kind']}->{f[0]}"] += 1
    per_type = {}
    for t in PI_TYPES:
        p_den, r_den = tp[t] + fp[t], tp[t] + fn[t]
        per_type[t] = {"tp": tp[t], "fp": fp[t], "fn": fn[t],
                       "precision": round(tp[t] / p_den, 4) if p_den else None,
                       "recall": round(tp[t] / r_den, 4) if r_den else None,
                       "checksum_backed": t in ("cn_resident_id", "bank_card", "uscc")}
    n_neg = sum(1 for i in items if not i["labels"])
    return {"items": len(items), "negatives": n_neg, "min_confidence": min_confidence, "per_type": per_type,
            "false_positive_sources": dict(fp_kinds.most_common(15)),
            "held_out": {k: {"n": c["n"], "recall": round(c["found"] / c["n"], 4) if c["n"] else None}
                         for k, c in sorted(held.items())}}


def render_md(res: dict) -> str:
    lines = [f"Items: {res['items']} ({res['negatives']} hard negatives), min confidence {res['min_confidence']}",
             "", "| type | precision | recall | TP | FP | FN |", "|---|---|---|---|---|---|"]
    for t, r in res["per_type"].items():
        p = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        rc = "-" if r["recall"] is None else f"{r['recall']:.3f}"
        lines.append(f"| {t}{' (checksum)' if r['checksum_backed'] else ''} | {p} | {rc} | {r['tp']} | {r['fp']} | "
                     f"{r['fn']} |")
    labels = {"person_name_nocue": "person_name without any cue word",
              "address_nonumber": "address without a house number"}
    lines.append("")
    for k, v in res["held_out"].items():
        lines.append(f"{labels.get(k, k)} (included above): {v['n']} items, recall {v['recall']}")
    return "\n".join(lines)
