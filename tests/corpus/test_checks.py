"""Check-digit validators against published examples and generated numbers."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cnai.corpus import checks


def make_id(rnd: random.Random) -> str:
    prefix = rnd.choice(sorted(checks.region_prefixes())) + f"{rnd.randint(1, 99):02d}"
    body = prefix + f"{rnd.randint(1950, 2010)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + checks.id_check_char(body)


def test_gb11643_standard_example():
    # the worked example printed in GB 11643-1999
    assert checks.id_check_char("11010519491231002") == "X"
    assert checks.resident_id("11010519491231002X")[0] >= 0.9
    assert checks.resident_id("110105194912310021") is None  # wrong check digit


def test_resident_id_rejects_bad_dates_and_regions():
    body = "11010520230230001"  # 30 February
    assert checks.resident_id(body + checks.id_check_char(body)) is None
    body = "99010519491231002"  # province 99 does not exist
    assert checks.resident_id(body + checks.id_check_char(body)) is None
    body = "11010521990101001"  # born in the future
    assert checks.resident_id(body + checks.id_check_char(body)) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_breaks_the_id(seed, pos, delta):
    rnd = random.Random(seed)
    good = make_id(rnd)
    assert checks.resident_id(good) is not None
    d = (int(good[pos]) + delta) % 10
    bad = good[:pos] + str(d) + good[pos + 1:]
    assert checks.resident_id(bad) is None or checks.id_check_char(bad[:17]) == bad[17]


def test_luhn_known_numbers():
    assert checks.luhn_ok("4111111111111111")
    assert checks.luhn_ok("6222021234567890128")
    assert not checks.luhn_ok("4111111111111112")
    assert checks.bank_card("4111111111111111")
    assert checks.bank_card("1234567812345670") is None  # Luhn-valid but no card-scheme prefix


def test_uscc_check_characters():
    first17 = "91110000" + "MA123456"
    org = first17[8:] + checks.org_check_char(first17[8:16])
    code = "91110000" + org
    code += checks.uscc_check_char(code)
    assert checks.uscc(code)[0] >= 0.99
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert checks.uscc(wrong) is None
    assert checks.uscc(code.replace("9", "Z", 1)) is None  # Z is not in the alphabet


def test_org_code_example():
    # GB 11714 worked example: D2143569 -> check character X
    assert checks.org_check_char("D2143569") == "X"


def test_mobile_landline_and_plate_formats():
    assert checks.mobile("13800138000") and not checks.mobile("12800138000")
    assert checks.landline_split("01062345678") == ("010", "62345678")
    assert checks.landline_split("075588888888") == ("0755", "88888888")
    assert checks.landline_split("01012345678") is None  # subscriber numbers do not start with 1
    assert checks.plate_tail("A12345") and checks.plate_tail("BD12345") and checks.plate_tail("B12345F")
    assert not checks.plate_tail("I12345")
