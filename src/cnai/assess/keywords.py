"""Keyword library (GB/T 45654 §8.1 / TC260-003 §8.1) and a fast multi-pattern matcher.

Stable API (reused by the training-data audit, issue 5):

    lib = load_keyword_library(None)          # built-in starter library; or a path (.yaml/.yml/.jsonl/.txt/.xlsx)
    m = lib.matcher()                         # Aho-Corasick automaton (cnai.core.matcher: compiled, pure-Python fallback)
    m.find_all("...text...")                  # -> [KeywordMatch(start, end, keyword, risk_code), ...]
    m.risks_in(text) -> set[str]; m.count(text) -> int

Offsets are character offsets into the original text (end exclusive). Matching ignores ASCII case and
full-width/half-width differences; keywords made only of ASCII letters/digits match whole words only.
Overlapping matches are all reported, sorted by (start, end).

Library files:
  YAML: ``{keywords: [{keyword, risk, level1?, level2?}, ...]}`` or ``{A.1.a: [kw, ...], ...}``
  JSONL: one ``{"keyword": ..., "risk": ...}`` per line;  TXT: ``keyword<TAB>risk`` per line (# comments)
  XLSX (filing layout): columns 关键词 | 一级分类 | 二级分类 (二级分类 = risk code or risk name).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cnai.core.taxonomy import load_taxonomy, normalize_risk_code, risk_by_name
from cnai.errors import InputError

STARTER_PATH = Path(__file__).parent / "data" / "banks" / "keywords.yaml"


class KeywordMatch(NamedTuple):
    start: int
    end: int
    keyword: str
    risk_code: str


@dataclass(frozen=True)
class Keyword:
    keyword: str
    risk: str
    level1: str = ""
    level2: str = ""
    source: str = ""          # "file:row" for error messages and audit


@dataclass
class KeywordLibrary:
    keywords: list[Keyword] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _matcher: Matcher | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keywords)

    def by_risk(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for k in self.keywords:
            out[k.risk] = out.get(k.risk, 0) + 1
        return out

    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher((k.keyword, k.risk) for k in self.keywords)
        return self._matcher

    def extend(self, other: KeywordLibrary) -> None:
        seen = {(k.keyword, k.risk) for k in self.keywords}
        for k in other.keywords:
            if (k.keyword, k.risk) not in seen:
                self.keywords.append(k)
                seen.add((k.keyword, k.risk))
        self.sources.extend(other.sources)
        self._matcher = None


# --- normalisation that keeps character offsets -------------------------------------------------
_FW = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20


def fold(text: str) -> str:
    """Full-width ASCII -> ASCII, ASCII upper -> lower; always the same length as ``text``."""
    t = text.translate(_FW)
    low = t.lower()
    if len(low) == len(t):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in t)


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


class Matcher:
    """Aho-Corasick over folded keywords; one automaton, all risks."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        table: dict[str, list[tuple[str, str]]] = {}
        for kw, risk in pairs:
            f = fold(kw)
            if not f.strip():
                continue
            lst = table.setdefault(f, [])
            if (kw, risk) not in lst:
                lst.append((kw, risk))
        self._table = table
        self._folded = list(table)
        from cnai.core.matcher import KeywordAutomaton

        self._auto = KeywordAutomaton(self._folded)  # compiled automaton, pure-Python fallback
        self.engine = self._auto.engine

    def __len__(self) -> int:
        return len(self._table)

    def find_all(self, text: str) -> list[KeywordMatch]:
        if not self._table or not text:
            return []
        out: list[KeywordMatch] = []
        for idx, start, end in self._auto.find(text):
            for kw, risk in self._table[self._folded[idx]]:
                out.append(KeywordMatch(start, end, kw, risk))
        out.sort(key=lambda m: (m.start, m.end, m.risk_code))
        return out

    def risks_in(self, text: str) -> set[str]:
        return {m.risk_code for m in self.find_all(text)}

    def count(self, text: str) -> int:
        return len(self.find_all(text))


# --- loading ------------------------------------------------------------------------------------
def _risk(value: str, where: str, row: str) -> str:
    v = str(value or "").strip()
    code = risk_by_name(v)
    if code:
        return code
    return normalize_risk_code(v, path=where, field=row)


def _parse_rows(path: Path) -> Iterable[tuple[str, dict]]:
    """Yield (row label, record) pairs from any supported file."""
    suf = path.suffix.lower()
    if suf == ".xlsx":
        from .xlsx import read_keyword_rows

        yield from read_keyword_rows(path)
        return
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (bad byte at offset {exc.start})", path=str(path)) from None
    if suf in (".yaml", ".yml"):
        from cnai.core.loaders import parse_yaml

        data = parse_yaml(text, source=str(path))
        if isinstance(data, dict) and "keywords" in data:
            items = data["keywords"]
            if not isinstance(items, list):
                raise InputError("'keywords' must be a list", path=str(path), field="keywords")
            for i, it in enumerate(items, 1):
                if isinstance(it, str):
                    raise InputError("entry has no risk; use {keyword, risk}", path=str(path),
                                     field=f"keywords[{i}]")
                yield f"keywords[{i}]", it
        elif isinstance(data, dict):
            for risk, kws in data.items():
                if not isinstance(kws, list):
                    raise InputError("expected a list of keywords", path=str(path), field=str(risk))
                for i, kw in enumerate(kws, 1):
                    yield f"{risk}[{i}]", {"keyword": kw, "risk": risk}
        else:
            raise InputError("expected a mapping with 'keywords' or risk code -> list", path=str(path))
    elif suf == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                rec = InputError(f"invalid JSON at column {exc.colno}: {exc.msg}", path=str(path),
                                 field=f"line {n}")
            yield f"line {n}", rec
    elif suf in (".txt", ".tsv"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise InputError("expected 'keyword<TAB>risk'", path=str(path), field=f"line {n}")
            yield f"line {n}", {"keyword": parts[0], "risk": parts[1]}
    else:
        raise InputError("unsupported keyword library format (use .yaml, .jsonl, .txt or .xlsx)",
                         path=str(path))


def read_keyword_file(path: str | Path, *, strict: bool = True) -> tuple[KeywordLibrary, list[str]]:
    """Parse one file. With strict=False, bad rows are skipped and returned as problem messages."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    tax = load_taxonomy()
    lib = KeywordLibrary(sources=[str(p)])
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for row, rec in _parse_rows(p):
        try:
            if isinstance(rec, InputError):
                raise rec
            if not isinstance(rec, dict):
                raise InputError("expected an object", path=str(p), field=row)
            kw = str(rec.get("keyword") or rec.get("关键词") or "").strip()
            if not kw:
                raise InputError("missing 'keyword'", path=str(p), field=row)
            raw_risk = rec.get("risk") or rec.get("二级分类") or rec.get("level2")
            if not raw_risk:
                raise InputError("missing 'risk'", path=str(p), field=row)
            code = _risk(raw_risk, str(p), row)
            key = (fold(kw), code)
            if key in seen:
                raise InputError(f"duplicate keyword {kw!r} for {code} (first at {seen[key]})",
                                 path=str(p), field=row)
            seen[key] = row
            r = tax.risk(code)
            grp = next(g for g in tax.groups if g.code == r.group)
            lib.keywords.append(Keyword(kw, code, str(rec.get("level1") or grp.zh),
                                        str(rec.get("level2") or r.zh), f"{p}:{row}"))
        except InputError as exc:
            if strict:
                raise
            problems.append(str(exc))
    if p.resolve() == STARTER_PATH.resolve():   # built-in library = hand-written entries + composed seed lexicons
        from .keyword_compose import composed_keywords

        for k in composed_keywords():
            if (fold(k.keyword), k.risk) not in seen:
                r = tax.risk(k.risk)
                grp = next(g for g in tax.groups if g.code == r.group)
                lib.keywords.append(Keyword(k.keyword, k.risk, grp.zh, r.zh, k.source))
        lib.sources.append(str(STARTER_PATH.with_name("keyword_seeds.yaml")))
    return lib, problems


def load_keyword_library(path: str | Path | Iterable[str | Path] | None = None, *,
                         strict: bool = True) -> KeywordLibrary:
    """Load the built-in starter library (path None or 'starter') or one or more user files."""
    if path is None or str(path) == "starter":
        paths: list[Path] = [STARTER_PATH]
    elif isinstance(path, (str, Path)):
        paths = [Path(path)]
    else:
        paths = [STARTER_PATH if str(x) == "starter" else Path(x) for x in path]
    lib = KeywordLibrary()
    for p in paths:
        part, _ = read_keyword_file(p, strict=strict)
        lib.extend(part)
    return lib
