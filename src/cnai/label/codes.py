"""Provider codes (TC260 coding rules, 2025-03-14) and GB 32100-2015 Unified Social Credit Codes.

Facts (reference 2.2, confidence: secondary): a ContentProducer/ContentPropagator code is 27 characters,
digits or upper-case letters: "00" format code + 20-character subject code ("1" organisation, "1" bound to
a USCC, then the 18-character USCC) + 5-character service extension ("00000" if unused, otherwise "1"
generation / "2" propagation followed by a 4-character model/app code).

GB 32100-2015 check character: positions 1-17 weighted 3^(i-1) mod 31 over the 31-character alphabet
below, check = (31 - sum mod 31) mod 31 (confidence: secondary; checked here against real codes from the
reference: Doubao 91110102MACQD9K640, Honor 91440300MA5G49LC9K).
"""

from __future__ import annotations

import os
import re
import time

from cnai.core import checkdigit
from cnai.core.checkdigit import USCC_ALPHABET
from cnai.errors import InputError

# first character: registration authority; second: organisation category (GB 32100 table 1/2, secondary)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character (computed in cnai.core.checkdigit), as an InputError naming the field."""
    try:
        return checkdigit.uscc_check_char(first17.upper())
    except ValueError as e:
        raise InputError(str(e), field="uscc") from None


def uscc_problems(uscc: str) -> list[str]:
    u = uscc.upper()
    if len(u) != 18:
        return [f"USCC must be 18 characters, got {len(u)}"]
    bad = [f"{c!r} at position {i + 1}" for i, c in enumerate(u) if c not in USCC_ALPHABET]
    if bad:
        return ["characters not allowed in a USCC (I, O, S, V, Z are excluded): " + ", ".join(bad)]
    if not _USCC_RE.match(u):
        return ["positions 3-8 (administrative division code) must be digits"]
    want = uscc_check_char(u[:17])
    if u[17] != want:
        return [f"check character is {u[17]!r}, expected {want!r} (GB 32100)"]
    return []


def build_provider_code(uscc: str, service: str = "1", app_code: str = "0000") -> str:
    """27-character provider code for an organisation bound to its USCC.

    service: "1" generation service, "2" propagation service, "0" unused (then app_code must be "0000").
    """
    u = uscc.upper()
    probs = uscc_problems(u)
    if probs:
        raise InputError("; ".join(probs), field="uscc")
    service = str(service)
    if service not in ("0", "1", "2"):
        raise InputError("service must be 0 (unused), 1 (generation) or 2 (propagation)", field="service")
    app_code = app_code.upper()
    if not re.fullmatch(r"[0-9A-Z]{4}", app_code):
        raise InputError("app code must be 4 digits or upper-case letters", field="app_code")
    if service == "0" and app_code != "0000":
        raise InputError("app code must be 0000 when the service extension is unused", field="app_code")
    return "00" + "11" + u + service + app_code


def provider_code_problems(code: str) -> list[str]:
    """Validate a 27-character provider code; returns [] if valid."""
    if not re.fullmatch(r"[0-9A-Z]{27}", code or ""):
        return [f"provider code must be 27 digits/upper-case letters, got {len(code or '')} characters"]
    out = []
    if code[:2] != "00":
        out.append(f"format code (positions 1-2) must be '00', got {code[:2]!r}")
    if code[2] == "1" and code[3] == "1":
        out += [f"embedded USCC: {p}" for p in uscc_problems(code[4:22])]
    elif code[2] not in "12":
        out.append(f"subject type (position 3) must be 1 (organisation) or 2 (individual), got {code[2]!r}")
    ext = code[22:]
    if ext[0] not in "012" or (ext[0] == "0" and ext != "00000"):
        out.append(f"service extension (positions 23-27) {ext!r} must be 00000 or start with 1 or 2")
    return out


def describe_provider_code(code: str) -> dict:
    info: dict = {"code": code, "valid": not provider_code_problems(code), "problems": provider_code_problems(code)}
    if len(code) == 27:
        info["subject"] = code[2:22]
        if code[2:4] == "11":
            info["uscc"] = code[4:22]
        info["service"] = {"0": "unused", "1": "generation", "2": "propagation"}.get(code[22], "unknown")
        info["app_code"] = code[23:]
    return info


def new_produce_id(prefix: str = "") -> str:
    """Unique, time-ordered content ID: 12 hex ms timestamp + 20 hex random (ASCII, no separators)."""
    ms = int(time.time() * 1000)
    return f"{prefix}{ms:012x}{os.urandom(10).hex()}"
