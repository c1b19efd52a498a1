"""The seven-key AIGC implicit-label record (GB 45438-2025 Annex E, as summarised in
shared/reference/gb-45438-labeling.md section 2.1 [S/I]) and its (de)serialisation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cnai.errors import InputError

#: Key order as given in Annex E (source: reference 2.1, [P] via OPN48/cnTC260 quotes; confidence: secondary)
KEYS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID",
        "ReservedCode2")

#: Label values: "1" is AI-generated, "2" possibly, "3" suspected (reference 2.1; confidence: secondary)
LABEL_VALUES = {"1": "confirmed", "2": "possible", "3": "suspected"}

# Strict Annex E j) character set as read by two field validators: printable ASCII without space,
# '"' and '\\' (reference 2.1 and 7.2; confidence: unverified -- the other reading allows 0x20-0x7E).
_STRICT_CHARS = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]*$")
_LOOSE_CHARS = re.compile(r"^[\x20-\x7e]*$")

MAX_VALUE_LEN = 4096  # our own guard against oversized metadata


@dataclass
class AIGCLabel:
    Label: str = "1"
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""
    extra: dict = field(default_factory=dict)  # unknown keys found in a file (kept, reported)

    def to_dict(self) -> dict[str, str]:
        d = {k: getattr(self, k) for k in KEYS}
        return d

    def to_json(self) -> str:
        """Bare seven-key object, compact, ASCII-only, key order of Annex E."""
        return json.dumps(self.to_dict(), ensure_ascii=True, separators=(",", ":"))

    def to_wrapped_json(self) -> str:
        return json.dumps({"AIGC": self.to_dict()}, ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_obj(cls, obj: object, *, where: str = "label") -> AIGCLabel:
        """Accept a bare 7-key object or the {"AIGC": {...}} wrapper (reference 2.1: readers accept both)."""
        if isinstance(obj, dict) and "AIGC" in obj and isinstance(obj["AIGC"], (dict, str)) and "Label" not in obj:
            obj = obj["AIGC"]
            if isinstance(obj, str):  # some writers double-encode
                obj = parse_json_value(obj, where=where)
        if not isinstance(obj, dict):
            raise InputError("label is not a JSON object", field=where)
        if not any(k in obj for k in KEYS):
            raise InputError("JSON object has none of the AIGC keys", field=where)
        kw: dict = {}
        extra = {}
        for k, v in obj.items():
            if k in KEYS:
                kw[k] = "" if v is None else str(v)
            else:
                extra[k] = v
        lab = cls(**kw)
        lab.extra = extra
        return lab

    @classmethod
    def from_json(cls, text: str | bytes, *, where: str = "label") -> AIGCLabel:
        return cls.from_obj(parse_json_value(text, where=where), where=where)

    def problems(self, *, strict_charset: bool = True) -> list[str]:
        """Conformance problems of the record itself (not of its placement)."""
        out = []
        if self.Label not in LABEL_VALUES:
            out.append(f"Label must be '1', '2' or '3', got {self.Label!r}")
        if not self.ContentProducer:
            out.append("ContentProducer is empty")
        if not self.ProduceID:
            out.append("ProduceID is empty")
        if bool(self.ContentPropagator) != bool(self.PropagateID):
            out.append("ContentPropagator and PropagateID must be set together")
        pat = _STRICT_CHARS if strict_charset else _LOOSE_CHARS
        for k in KEYS:
            v = getattr(self, k)
            if len(v) > MAX_VALUE_LEN:
                out.append(f"{k} is {len(v)} characters long (limit {MAX_VALUE_LEN})")
            elif not pat.match(v):
                bad = next((c for c in v if not pat.match(c)), "?")
                out.append(f"{k} contains a character outside the Annex E set: {bad!r}")
        if self.extra:
            out.append("unknown keys: " + ", ".join(sorted(self.extra)))
        return out


def parse_json_value(text: str | bytes, *, where: str = "label") -> object:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"label is not UTF-8 (byte {e.start})", field=where) from None
    text = text.strip().strip("\x00").strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"label is not valid JSON: {e.msg} at character {e.pos}", field=where) from None


_JSON_START = re.compile(rb'\{\s*"(?:AIGC|Label)"\s*:')


def find_json_blobs(data: bytes, limit: int = 8) -> list[tuple[int, str]]:
    """Find AIGC JSON objects in arbitrary bytes (bare JSON / EXIF comment variants). Returns (offset, text)."""
    found = []
    covered = 0
    for m in _JSON_START.finditer(data):
        start = m.start()
        if start < covered:  # nested inside an object already found
            continue
        depth = 0
        instr = False
        esc = False
        end = None
        for i in range(start, min(len(data), start + 65536)):
            c = data[i]
            if instr:
                if esc:
                    esc = False
                elif c == 0x5C:
                    esc = True
                elif c == 0x22:
                    instr = False
            elif c == 0x22:
                instr = True
            elif c == 0x7B:
                depth += 1
            elif c == 0x7D:
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        if end is None:
            continue
        try:
            text = data[start:end].decode("utf-8")
            obj = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(obj, dict) and ("AIGC" in obj or "Label" in obj):
            found.append((start, text))
            covered = end
            if len(found) >= limit:
                break
    return found
