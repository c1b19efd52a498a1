"""Check characters of Chinese identifiers, one home each.

- GB 32100-2015 Unified Social Credit Code (USCC): positions 1-17 weighted 3^(i-1) mod 31 over a 31-character
  alphabet, check = (31 - sum mod 31) mod 31 (secondary; checked against real codes, e.g. 91110102MACQD9K640).
- GB 11714-1997 organisation code (USCC positions 9-17): weights 3 7 9 10 5 8 4 2, check = 11 - sum mod 11,
  10 -> 'X', 11 -> '0'.
- GB 11643-1999 citizen identity number: ISO 7064 MOD 11-2 over the first 17 digits.
- Luhn (ISO/IEC 7812) for bank cards.
"""

from __future__ import annotations

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VAL = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_W = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VAL = {**{str(i): i for i in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}}
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC. Raises ValueError naming the position of a character not allowed."""
    if len(first17) != 17:
        raise ValueError(f"need the first 17 characters of a USCC, got {len(first17)}")
    total = 0
    for i, (ch, w) in enumerate(zip(first17.upper(), USCC_WEIGHTS, strict=True)):
        v = _USCC_VAL.get(ch)
        if v is None:
            raise ValueError(f"character {ch!r} at position {i + 1} is not allowed in a USCC")
        total += v * w
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code. Raises KeyError on a character not allowed."""
    c = 11 - sum(_ORG_VAL[ch] * w for ch, w in zip(first8, _ORG_W, strict=True)) % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a GB 11643 resident ID number (first 17 must be digits)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def luhn_ok(digits: str) -> bool:
    """Luhn checksum over a string of ASCII digits (False for anything else)."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
