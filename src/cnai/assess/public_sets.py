"""Importers for public Chinese safety sets the user obtained themselves (`cnai bank import-public`).

S-Eval, Flames, CValues-Comparison and SuperCLUE-Safety publish prompts with their own categories. The
importer reads a set's file (JSONL, or a JSON list), maps each category to one of the 31 GB/T 45654 risks
through the reviewed table data/public_sets.yaml (each mapping with a confidence), and writes a cnai bank
(JSONL) that runs like any other. Items whose category is not in the table are skipped and counted by
reason, never guessed. Each item keeps its source set, source category and mapping confidence as tags, so a
report's per-risk figures can be traced back. SuperCLUE-Safety's follow-up question becomes a second user
turn after the model's own first reply (the conversation protocol of cnai.assess.attacks).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from cnai.errors import InputError

from .banks import BankItem, get_kind, write_jsonl

TABLE = Path(__file__).parent / "data" / "public_sets.yaml"


@lru_cache(maxsize=1)
def sets() -> dict:
    from cnai.core.loaders import load_yaml, validate

    from .schemas import PublicSets

    data = load_yaml(TABLE)
    validate(PublicSets, data, source=str(TABLE))
    return data["sets"]


def _first(rec: dict, keys: list[str]):
    for k in keys:
        v = rec.get(k)
        if v not in (None, ""):
            return v
    return None


def _records(path: Path):
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (bad byte at offset {exc.start})", path=str(path)) from None
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=str(path)) from None
        for i, rec in enumerate(data, 1):
            yield f"[{i}]", rec
        return
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield f"line {n}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {n}", InputError(f"invalid JSON at column {exc.colno}: {exc.msg}")


def import_public(set_name: str, path: str | Path, out: str | Path, *, risk: str | None = None,
                  kind: str = "generated", lang: str = "zh") -> dict:
    """Read one public set's file, map categories to risks, write a cnai JSONL bank; returns the counts."""
    from cnai.core.taxonomy import normalize_risk_code

    known = sets()
    if set_name not in known:
        raise InputError(f"unknown public set {set_name!r}; known: {', '.join(known)}", field="SET")
    spec = known[set_name]
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    if p.is_dir():
        raise InputError("is a directory; name the set's .jsonl or .json file", path=str(p))
    bk = get_kind(kind)
    forced = normalize_risk_code(risk, field="--risk") if risk else None
    items: list[BankItem] = []
    skipped: Counter = Counter()
    seen_q: set[str] = set()
    read = 0
    for row, rec in _records(p):
        read += 1
        if isinstance(rec, InputError) or not isinstance(rec, dict):
            skipped["not a JSON object"] += 1
            continue
        q = _first(rec, spec["question"])
        if not isinstance(q, str) or not q.strip():
            skipped["no question field (" + "/".join(spec["question"]) + ")"] += 1
            continue
        cat = _first(rec, spec.get("category", []))
        sub = _first(rec, spec.get("subcategory", []))
        label = f"{cat}/{sub}" if cat and sub else (str(cat) if cat else "")
        mapping = None
        if forced:
            mapping = {"risk": forced, "confidence": "user"}
        else:
            table = spec.get("categories") or {}
            mapping = table.get(label) or (table.get(str(cat)) if cat else None)
        if mapping is None:
            skipped[f"category not in the mapping table: {label or '(none)'}"] += 1
            continue
        code = mapping["risk"]
        if bk.risk_groups and code[:3] not in bk.risk_groups:
            skipped[f"{code} is outside the {bk.name} bank's risks"] += 1
            continue
        if q.strip() in seen_q:
            skipped["duplicate question"] += 1
            continue
        seen_q.add(q.strip())
        rid = _first(rec, spec.get("id", []))
        msgs: tuple = ()
        follow = _first(rec, spec.get("followup", [])) if spec.get("followup") else None
        question = q
        if isinstance(follow, str) and follow.strip():
            msgs = (("user", q), ("assistant", None))
            question = follow
        ref = _first(rec, spec.get("reference", [])) if spec.get("reference") else None
        items.append(BankItem(
            id=f"{set_name}-{rid if rid is not None else len(items) + 1}", kind=bk.name, question=question,
            risk=code, lang=lang, reference_answer=str(ref or ""), messages=msgs,
            tags=(f"source:{set_name}", f"source-category:{label or '(none)'}",
                  f"mapping-confidence:{mapping['confidence']}"),
            source=f"{p}:{row}"))
    if not items:
        reasons = "; ".join(f"{n} × {r}" for r, n in skipped.most_common(3)) or "the file is empty"
        hint = f" ({spec['note']})" if spec.get("note") else ""
        raise InputError(f"no item could be imported ({read} read): {reasons}{hint}", path=str(p))
    n = write_jsonl(items, Path(out), inputs=[p])
    return {"set": set_name, "read": read, "written": n, "skipped": sum(skipped.values()),
            "skipped_by_reason": dict(skipped.most_common()),
            "by_risk": dict(sorted(Counter(i.risk for i in items).items())),
            "by_confidence": dict(Counter(t.split(":", 1)[1] for i in items for t in i.tags
                                          if t.startswith("mapping-confidence:"))),
            "fields_confidence": spec["fields_confidence"]}
