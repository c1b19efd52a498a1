"""Check-digit and format validators for Chinese identifiers.

Every rule carries its source and a confidence marker in RULES (also printed in docs/corpus.md).
All functions are pure and fast; they take the candidate string already stripped of separators.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from importlib import resources

from cnai.core.checkdigit import (  # noqa: F401 - re-exported: the detector and eval set use them here
    USCC_ALPHABET,
    luhn_ok,
    org_check_char,
    resident_id_check_char,
    uscc_check_char,
)

RULES = {
    "cn_resident_id": {
        "rule": "18 characters: 6-digit division code, 8-digit birth date, 3-digit sequence, check character "
                "= (12 - sum(d_i * (2^(17-i) mod 11)) mod 11) mod 11, 10 written as X (ISO 7064 MOD 11-2)",
        "source": "GB 11643-1999 (citizen identity number); ISO 7064 MOD 11-2",
        "confidence": "secondary",
    },
    "uscc": {
        "rule": "18 characters over 0-9 and A-Y without I, O, S, V, Z; chars 3-8 division code; chars 9-17 "
                "organisation code whose 9th char is a GB 11714 check (weights 3,7,9,10,5,8,4,2; mod 11, "
                "10 -> X); char 18 = (31 - sum(v_i * 3^i mod 31) mod 31) mod 31",
        "source": "GB 32100-2015 (unified social credit code); GB 11714-1997 (organisation code)",
        "confidence": "secondary",
    },
    "bank_card": {
        "rule": "13-19 digits passing the Luhn (mod 10) check with a card-scheme prefix "
                "(62 UnionPay, 4 Visa, 51-55/2221-2720 Mastercard, 35 JCB, 34/37 Amex)",
        "source": "ISO/IEC 7812-1 (Luhn); UnionPay/scheme prefix ranges",
        "confidence": "secondary",
    },
    "cn_mobile": {
        "rule": "11 digits, 1 then a carrier prefix digit 3-9 (optionally +86/0086)",
        "source": "MIIT numbering plan for public mobile networks (13x-19x)",
        "confidence": "secondary",
    },
    "cn_landline": {
        "rule": "0 + 2-3 digit area code (010, 02x, 0xxx) + 7-8 digit subscriber number not starting 0/1",
        "source": "MIIT national telephone numbering plan",
        "confidence": "secondary",
    },
    "passport": {
        "rule": "E + 8 digits, E + letter (not I/O) + 7 digits, or legacy G + 8 digits; no public check digit",
        "source": "Published formats of PRC ordinary e-passports (secondary descriptions)",
        "confidence": "unverified",
    },
    "hk_macao_permit": {
        "rule": "Mainland residents' exit-entry permit: C + 8 digits or C + letter + 7 digits; Home-Return "
                "Permit: H or M + 8 digits (optional 2-digit issue count)",
        "source": "Published formats of 往来港澳通行证 and 港澳居民来往内地通行证 (secondary descriptions)",
        "confidence": "unverified",
    },
    "license_plate": {
        "rule": "province abbreviation + issuing letter + 5 characters (fuel) or 6 characters with D/F "
                "(new-energy)",
        "source": "GA 36 (motor vehicle plates), GA 36-2018 new-energy plates",
        "confidence": "secondary",
    },
}

PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}


@lru_cache(maxsize=1)
def region_prefixes() -> frozenset[str]:
    text = resources.files("cnai.corpus").joinpath("data/cn_region_prefixes.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def id_check_char(first17: str) -> str:
    return resident_id_check_char(first17)


def _valid_date(y: int, m: int, d: int, *, min_year: int = 1900) -> bool:
    if y < min_year or y > _dt.date.today().year:
        return False
    try:
        return _dt.date(y, m, d) <= _dt.date.today()
    except ValueError:
        return False


def resident_id(s: str) -> tuple[float, str] | None:
    """Return (confidence, reason) for a valid 18-digit (or 15-digit legacy) ID, else None."""
    if len(s) == 18:
        if not s[:17].isdigit() or s[17] not in "0123456789Xx":
            return None
        if s[:2] not in PROVINCES:
            return None
        if not _valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])):
            return None
        if id_check_char(s[:17]) != s[17].upper():
            return None
        if s[:4] in region_prefixes():
            return 0.99, "GB 11643 check digit, birth date and division code valid"
        return 0.9, "GB 11643 check digit and birth date valid; prefecture code not in 2015 table"
    if len(s) == 15 and s.isdigit():
        if s[:4] not in region_prefixes():
            return None
        if not _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])):
            return None
        return 0.5, "first-generation 15-digit format (no check digit): division code and birth date valid"
    return None


def card_scheme(s: str) -> str | None:
    if s.startswith("62") and 16 <= len(s) <= 19:
        return "UnionPay"
    if s[0] == "4" and len(s) in (13, 16, 19):
        return "Visa"
    if len(s) == 16 and ("51" <= s[:2] <= "55" or "2221" <= s[:4] <= "2720"):
        return "Mastercard"
    if s.startswith("35") and 16 <= len(s) <= 19:
        return "JCB"
    if len(s) == 15 and s[:2] in ("34", "37"):
        return "Amex"
    return None


def id_shaped(s: str) -> bool:
    """18 digits with a valid province and birth date: an ID number (maybe mistyped), not a card."""
    return (len(s) == 18 and s[:2] in PROVINCES and s[:17].isdigit()
            and _valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])))


def bank_card(s: str) -> tuple[float, str] | None:
    if not (13 <= len(s) <= 19) or not s.isdigit() or id_shaped(s):
        return None
    scheme = card_scheme(s)
    if scheme is None or not luhn_ok(s):
        return None
    return 0.85, f"Luhn check valid, {scheme} prefix"


_USCC_VAL = {c: i for i, c in enumerate(USCC_ALPHABET)}
_ORG_VAL = {**{str(i): i for i in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}}


def uscc(s: str) -> tuple[float, str] | None:
    s = s.upper()
    if len(s) != 18 or any(c not in _USCC_VAL for c in s):
        return None
    if s[0] not in "123456789ANY" or not s[2:8].isdigit() or s[2:4] not in PROVINCES:
        return None
    if uscc_check_char(s[:17]) != s[17]:
        return None
    org = s[8:17]
    if all(c in _ORG_VAL for c in org[:8]) and org_check_char(org[:8]) == org[8]:
        return 0.99, "GB 32100 check character and GB 11714 organisation-code check valid"
    return 0.4, "GB 32100 check character valid but the embedded GB 11714 organisation-code check fails"


MOBILE_PREFIX2 = set("3456789")


def mobile(s: str) -> bool:
    return len(s) == 11 and s[0] == "1" and s[1] in MOBILE_PREFIX2 and s.isdigit()


def landline_split(s: str) -> tuple[str, str] | None:
    """Split a digit string into (area code, subscriber) if it looks like a fixed-line number."""
    if not s.isdigit() or s[0] != "0":
        return None
    if s[1] in "12":
        area = s[:3]
    else:
        area = s[:4]
    sub = s[len(area):]
    if len(sub) not in (7, 8) or sub[0] in "01":
        return None
    return area, sub


PLATE_PROVINCES = set("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
_PLATE_LETTERS = set("ABCDEFGHJKLMNPQRSTUVWXYZ")
_ISSUER_LETTERS = _PLATE_LETTERS | {"O"}  # O: public-security vehicles


def plate_tail(s: str) -> bool:
    """`s` is what follows the province character: issuing letter + 5 or 6 characters."""
    s = s.upper()
    if len(s) not in (6, 7) or s[0] not in _ISSUER_LETTERS:
        return False
    tail = s[1:]
    if any(c not in _PLATE_LETTERS and not c.isdigit() for c in tail):
        return False
    if len(tail) == 6:  # new-energy: D/F first or last, rest digits
        return (tail[0] in "DF" and tail[2:].isdigit()) or (tail[5] in "DF" and tail[:5].isdigit())
    return sum(c.isdigit() for c in tail) >= 3


# ---------------------------------------------------------------------------------------------- token types
# The identifier types found by the token scan (cnai.corpus.detect), one entry each, tried in this order on a
# token piece stripped of its spaces and hyphens; the first that matches wins. `check(norm, raw)` gives
# (confidence, reason) or None; `context` says how a context word of the type (lexicon.CONTEXT_WORDS, within
# 12 characters before) changes the confidence: ("set", c) or ("add", delta, cap). `compiled`: the C pass
# (_wordscan.c) implements this entry; a table with any other entry makes the detector use the Python token
# path. Adding a token type: a validator + RULES entry + TokenRule here, context words in lexicon.py.
class TokenRule:
    __slots__ = ("type", "digits", "lengths", "check", "context", "compiled")

    def __init__(self, type: str, digits: bool, lengths, check, context=None, compiled: bool = False):
        self.type, self.digits, self.lengths = type, digits, frozenset(lengths)
        self.check, self.context, self.compiled = check, context, compiled


def _mobile_rule(n: str, raw: str):
    mob = n[2:] if len(n) == 13 and n.startswith("86") else (n[4:] if len(n) == 15 and n.startswith("0086") else n)
    return (0.9, "11-digit mobile number with a carrier prefix") if mobile(mob) else None


def _landline_rule(n: str, raw: str):
    ll = landline_split(n)
    if not ll:
        return None
    sep_ok = len(raw) > len(n) and raw[len(ll[0])] in "- "
    return (0.9 if sep_ok else 0.6), f"area code {ll[0]} + {len(ll[1])}-digit number"


def _upper(fn):
    return lambda n, raw: fn(n.upper())


def _format_rule(pattern: str, reason: str):
    import re

    rx = re.compile(pattern)
    return lambda n, raw: (0.6, reason) if n[0].isupper() and rx.match(n) else None


PLATE = "license_plate"  # needs the characters before the token (province, dot): detect.Detector._plate

TOKEN_RULES: list[TokenRule] = [
    # all-digit pieces
    TokenRule("cn_resident_id", True, (15, 18), lambda n, raw: resident_id(n), ("add", 0.05, 0.995), True),
    TokenRule("uscc", True, (18,), lambda n, raw: uscc(n), None, True),
    TokenRule("cn_mobile", True, (11, 13, 15), _mobile_rule, ("set", 0.97), True),
    TokenRule("bank_card", True, range(13, 20), lambda n, raw: bank_card(n), ("set", 0.97), True),
    TokenRule("cn_landline", True, (10, 11, 12), _landline_rule, ("add", 0.07, 0.97), True),
    TokenRule(PLATE, True, (5,), None, None, True),
    # pieces with letters
    TokenRule("cn_resident_id", False, (18,), _upper(resident_id), None, True),
    TokenRule("uscc", False, (18,), _upper(uscc), ("add", 0.02, 0.995), True),
    TokenRule("passport", False, (9, 11), _format_rule(r"^(?:E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8})$",
                                                       "PRC passport number format (no check digit)"),
              ("set", 0.95), True),
    TokenRule("hk_macao_permit", False, (9, 11), _format_rule(r"^(?:C\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8}(?:\d{2})?)$",
                                                              "HK/Macao permit number format (no check digit)"),
              ("set", 0.95), True),
    TokenRule(PLATE, False, (5, 6, 7), None, None, True),
]
