import pytest

from cnai.errors import InputError
from cnai.label.codes import (
    build_provider_code,
    describe_provider_code,
    new_produce_id,
    provider_code_problems,
    uscc_check_char,
    uscc_problems,
)

# Real codes seen in labelled files (reference 2.2): their embedded USCCs must pass GB 32100.
REAL = ["001191110102MACQD9K64010000", "001191440300MA5G49LC9K1YO01"]


@pytest.mark.parametrize("code", REAL)
def test_real_provider_codes_validate(code):
    assert provider_code_problems(code) == []
    info = describe_provider_code(code)
    assert info["uscc"] == code[4:22] and info["service"] == "generation"


def test_check_character_on_real_usccs():
    assert uscc_check_char("91110102MACQD9K64") == "0"
    assert uscc_check_char("91440300MA5G49LC9") == "K"


def test_single_character_changes_are_caught():
    u = "91110102MACQD9K640"
    caught = 0
    for i in range(17):
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if c != u[i]:
                v = u[:i] + c + u[i + 1:]
                caught += bool(uscc_problems(v))
    assert caught == 17 * 30  # every single substitution in positions 1-17 changes the check character


def test_build_and_roundtrip():
    code = build_provider_code("91110102MACQD9K640", "2", "AB12")
    assert code == "001191110102MACQD9K6402AB12" and len(code) == 27
    assert provider_code_problems(code) == []


@pytest.mark.parametrize("bad,msg", [("91110102MACQD9K641", "check character"), ("9111010", "18 characters"),
                                     ("91110102MACQD9K6I0", "not allowed")])
def test_bad_uscc(bad, msg):
    with pytest.raises(InputError, match=msg):
        build_provider_code(bad)


def test_bad_codes():
    assert provider_code_problems("001191110102MACQD9K64110000")  # wrong check char inside
    assert provider_code_problems("011191110102MACQD9K64010000")  # format code
    assert provider_code_problems("001191110102MACQD9K64030000")  # service ext
    assert provider_code_problems("doubao")


def test_produce_ids_unique():
    ids = {new_produce_id() for _ in range(5000)}
    assert len(ids) == 5000 and all(len(i) == 32 and i.isalnum() for i in ids)


def test_cli_code(cnai):
    from tests.conftest import json_out

    r = cnai("label", "code", "91110102MACQD9K640")
    assert json_out(r)["code"] == "001191110102MACQD9K64010000"
    r = cnai("label", "code", "--check", "001191110102MACQD9K64110000")
    assert r.returncode == 1 and json_out(r)["valid"] is False
    r = cnai("label", "code", "91110102MACQD9K641")
    assert r.returncode == 2 and "check character" in r.stderr and "Traceback" not in r.stderr
