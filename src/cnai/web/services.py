"""The one place where the web workspace calls the rest of cnai.

Every capability the pages and the API use goes through a function here, so when scope/, law/, label/,
assess/ or corpus/ change their API only this module needs fixing. Long jobs (assessment runs, corpus
audits) run the CLI in a child process (see jobs.py): the CLI contract (docs/spec/cli.md) is the most
stable interface cnai has, and a child process can be cancelled and resumed safely.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import sqlite3
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from cnai.errors import InputError

from .i18n import STRINGS

# --- profiles ------------------------------------------------------------------------------------


def _profile_mod():
    from cnai.scope import profile

    return profile


def schema_id() -> str:
    return _profile_mod().SCHEMA_ID


def _unwrap(ann: Any) -> Any:
    args = [a for a in get_args(ann) if a is not type(None)]
    if get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        ann = args[0]
    if get_origin(ann) is typing.Annotated:
        ann = get_args(ann)[0]
    return ann


def _field_kind(ann: Any) -> tuple[str, list[str]]:
    ann = _unwrap(ann)
    origin = get_origin(ann)
    if ann is bool:
        return "bool", []
    if ann is int:
        return "int", []
    if ann is float:
        return "float", []
    if ann is dt.date:
        return "date", []
    if origin is Literal:
        return "choice", list(get_args(ann))
    if origin is list:
        return "multi", list(get_args(_unwrap(get_args(ann)[0])))
    return "text", []


@functools.lru_cache(maxsize=1)
def profile_form() -> list[dict]:
    """Sections and fields of the profile model, with the questionnaire's explanations, for the form."""
    Profile = _profile_mod().Profile
    sections = []
    loose = []
    for name, field in Profile.model_fields.items():
        if name == "schema_":
            continue
        inner = _unwrap(field.annotation)
        help_en, help_zh = STRINGS.get(f"section.{name}", (name.replace("_", " ").capitalize(), ""))
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            fields = []
            for fname, f in inner.model_fields.items():
                kind, choices = _field_kind(f.annotation)
                fields.append({"path": f"{name}.{fname}", "name": fname, "label": fname.replace("_", " "),
                               "help": f.description or "", "kind": kind, "choices": choices,
                               "required": f.is_required() and name == "service"})
            sections.append({"name": name, "title": help_en, "title_zh": help_zh, "fields": fields})
        else:
            kind, choices = _field_kind(field.annotation)
            loose.append({"path": name, "name": name, "label": name.replace("_", " "), "help": help_en,
                          "kind": kind, "choices": choices, "required": False})
    sections.append({"name": "_top", "title": "Roles, sectors and regions", "title_zh": "角色、行业与地区",
                     "fields": loose})
    return sections


@functools.lru_cache(maxsize=1)
def fact_fields() -> dict[str, dict]:
    return {f["path"]: f for s in profile_form() for f in s["fields"]}


def convert_answer(path: str, raw: Any) -> Any:
    """A form value (string or list of strings) -> the typed fact, or None for unknown. Raises InputError."""
    spec = fact_fields().get(path)
    if spec is None:
        raise InputError("not a profile fact", field=path)
    kind, choices = spec["kind"], spec["choices"]
    if kind == "multi":
        items = [raw] if isinstance(raw, str) else list(raw or [])
        items = [i for i in items if i]
        if not items:
            return None
        if "__none__" in items:
            return []
        bad = [i for i in items if i not in choices]
        if bad:
            raise InputError(f"unknown value(s) {', '.join(map(repr, bad))}; expected any of {', '.join(choices)}",
                             field=path)
        return items
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    raw = "" if raw is None else str(raw).strip()
    if raw == "":
        return None
    if kind == "bool":
        if raw in ("true", "yes", "y", "1", "是"):
            return True
        if raw in ("false", "no", "n", "0", "否"):
            return False
        raise InputError(f"answer yes or no (got {raw!r})", field=path)
    if kind in ("int", "float"):
        try:
            v = int(raw.replace(",", "").replace("_", "")) if kind == "int" else float(raw)
        except ValueError:
            raise InputError(f"not a number: {raw!r}", field=path) from None
        return v
    if kind == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise InputError(f"not a date YYYY-MM-DD: {raw!r}", field=path) from None
    if kind == "choice" and raw not in choices:
        raise InputError(f"{raw!r} is not allowed; expected one of {', '.join(choices)}", field=path)
    return raw


def set_fact(data: dict, path: str, value: Any) -> dict:
    """Return a copy of profile data with the fact at `path` set (None removes it: unknown again)."""
    import copy

    out = copy.deepcopy(data)
    parts = path.split(".")
    node = out
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            if value is None:
                return out
            nxt = node[p] = {}
        node = nxt
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    # drop sections left empty (except service, which is required)
    for key in [k for k, v in out.items() if isinstance(v, dict) and not v and k != "service"]:
        del out[key]
    return out


def get_fact(data: dict, path: str) -> Any:
    node: Any = data
    for p in path.split("."):
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def validate_profile(data: Any, source: str = "<profile>"):
    """Validate profile data (a dict); raise InputError with one line per problem joined by '; '."""
    mod = _profile_mod()
    try:
        return mod.parse_profile(_dates_as_strings(data), source=source)
    except InputError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            raise InputError("invalid profile: " + "; ".join(problems), path=source) from None
        raise


def _dates_as_strings(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _dates_as_strings(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_as_strings(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def parse_profile_yaml(text: str, source: str = "<upload>") -> dict:
    """YAML text -> validated profile data (a plain dict). Duplicate keys, aliases, huge docs are refused."""
    from cnai.core.loaders import parse_yaml

    data = parse_yaml(text, source=source, dates_as_strings=True)
    validate_profile(data, source)
    return data


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def profile_diff(old: dict | None, new: dict) -> list[dict]:
    """Facts changed from one version to the next: [{"path", "old", "new"}] (None = unknown)."""
    a, b = _flatten(old or {}), _flatten(new)
    return [{"path": k, "old": a.get(k), "new": b.get(k)} for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and k != "schema"]


def profile_yaml(data: dict) -> str:
    import yaml

    return ("# cnai service profile exported from the web workspace.\n"
            "# Omitted fields are unknown (never false).\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


# --- scope ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _engine():
    from cnai.scope.engine import Engine

    return Engine()


def run_scope(data: dict, as_of: dt.date | None = None):
    """The scope result (cnai.scope.engine.ScopeResult) for validated profile data."""
    profile = validate_profile(data)
    return _engine().run(profile, as_of or dt.date.today())


class ScopeCache:
    """Scope results as JSON bytes by (knowledge-base version, as-of date, canonical profile hash), least
    recently used out.

    The result is a pure function of those three: the engine reads nothing else (no clock — the as-of date is
    in the key, so "today" moves on at midnight by itself). The knowledge-base version is the fingerprint of
    every law data file (name, size, mtime) and the cnai version, the one cnai.law.kb keys its own parse
    cache on, so an engine built from changed law data never sees an old entry. Profiles are keyed on their
    canonical JSON (sorted keys, dates as strings), so key order and YAML-vs-JSON dates do not matter.

    Entries are bytes, not dicts: 64 cached results as Python objects are ~1.5 million objects that every
    full garbage collection walks (measured: 5 ms added to each uncached request); bytes are one object,
    and every reader gets its own fresh dict (no shared state between requests).
    """

    def __init__(self, size: int = 64):
        import threading
        from collections import OrderedDict

        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(data: dict, as_of: dt.date) -> tuple:
        import hashlib

        canon = json.dumps(_dates_as_strings(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return kb_version(), as_of.isoformat(), hashlib.sha256(canon.encode("utf-8")).hexdigest()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


SCOPE_CACHE = ScopeCache()


@functools.lru_cache(maxsize=1)
def kb_version() -> str:
    """Fingerprint of the law data the engine was built from (see ScopeCache)."""
    from cnai.law import kb

    _engine()  # the engine and this fingerprint come from the same files
    return kb.data_version()


def warm_up() -> None:
    """For a server process: load the law and the engine before the first request (not in its latency), then
    move everything loaded so far out of the garbage collector's way — a server's startup objects live as
    long as it does, and full collections otherwise walk them on every pass."""
    import gc

    kb_version()
    gc.collect()
    gc.freeze()


def _scope_uncached(data: dict, as_of: dt.date) -> dict:
    """ScopeResult.to_dict() without dataclasses.asdict's deep copies (4x faster for a large result).

    tests/web/test_services.py checks it stays equal to to_dict(), so a change in the engine shows up there.
    """
    res = run_scope(data, as_of)
    from dataclasses import fields

    out = {"as_of": res.as_of.isoformat()}
    for f in fields(res):
        if f.name == "as_of":
            continue
        out[f.name] = getattr(res, f.name)
        if f.name == "profile":
            out["summary"] = res.summary()
    out["obligations"] = [dict(vars(o)) for o in res.obligations]
    return out


def scope_dict(data: dict, as_of: dt.date | None = None) -> dict:
    """The scope result as a dict (the document `cnai scope --format json` prints, as JSON types), cached
    (ScopeCache); the caller's own copy."""
    day = as_of or dt.date.today()
    key = SCOPE_CACHE.key(data, day)
    body = SCOPE_CACHE.get(key)
    if body is not None:
        return fast_loads(body)
    # Validation runs on every miss, so a profile is only ever cached after it was found valid.
    result = _scope_uncached(data, day)
    body = fast_dumps(result)
    SCOPE_CACHE.put(key, body)
    return fast_loads(body)  # JSON types whether cached or not (dates as strings, no tuples)


def scope_json(data: dict, as_of: dt.date | None = None) -> bytes:
    """scope_dict serialised to JSON (the REST endpoint's reply), straight from the cache when there."""
    day = as_of or dt.date.today()
    key = SCOPE_CACHE.key(data, day)
    body = SCOPE_CACHE.get(key)
    if body is None:
        body = fast_dumps(_scope_uncached(data, day))
        SCOPE_CACHE.put(key, body)
    return body


def fast_dumps(obj: Any) -> bytes:
    """JSON bytes with orjson when installed (10x faster on a 250 KB scope result), else the stdlib."""
    try:
        import orjson

        return orjson.dumps(obj, default=str)
    except ImportError:  # pragma: no cover - orjson is in the web extra
        return json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")


def fast_loads(body: bytes) -> Any:
    try:
        import orjson

        return orjson.loads(body)
    except ImportError:  # pragma: no cover - orjson is in the web extra
        return json.loads(body)


# --- law -----------------------------------------------------------------------------------------

def kb():
    from cnai.law.kb import load

    return load()


def law_search(query: str, top: int = 20) -> list[dict]:
    from cnai.law.search import search

    return [h.to_dict() for h in search(query, top=top)]


def instruments_list(as_of: dt.date | None = None) -> list[dict]:
    day = as_of or dt.date.today()
    out = []
    for ins in kb().instruments.values():
        status, by = ins.status_on(day)
        out.append({"id": ins.id, "title_en": ins.title_en, "title_zh": ins.title_zh, "short_en": ins.short_en,
                    "kind": ins.kind, "status": status, "superseded_by": by,
                    "effective": ins.effective.isoformat() if ins.effective else None,
                    "articles": len(ins.articles), "obligations": len(ins.obligations),
                    "confidence": ins.confidence, "sources": ins.sources})
    return out


def instrument(iid: str) -> dict:
    ins = kb().instruments.get(iid)
    if ins is None:
        raise KeyError(iid)
    d = ins.model_dump(mode="json", by_alias=True)
    return d


def timeline() -> list[dict]:
    rows = []
    for ins in kb().instruments.values():
        for ch in ins.status_history:
            if ch.from_:
                rows.append({"date": ch.from_.isoformat(), "instrument": ins.id,
                             "title": ins.short_en or ins.title_en, "title_zh": ins.title_zh,
                             "status": ch.status, "by": ch.by})
    rows.sort(key=lambda r: (r["date"], r["instrument"]))
    return rows


# --- labels --------------------------------------------------------------------------------------

LABEL_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".wav", ".mp3", ".flac", ".ogg",
                    ".mp4", ".pdf", ".txt", ".md", ".docx"}


def label_check(path: Path) -> dict:
    from cnai.label.api import check_file, classify_file

    return {"check": check_file(str(path)), "classify": classify_file(str(path))}


def label_embed(src: Path, dst: Path, producer: str, label: str = "1") -> dict:
    from cnai.label.api import embed_file, validate_label_value
    from cnai.label.codes import provider_code_problems

    problems = provider_code_problems(producer)
    if problems:
        raise InputError("; ".join(problems), field="producer")
    label = validate_label_value(label)
    return embed_file(str(src), str(dst), producer=producer, label=label)


def provider_code(uscc: str) -> str:
    from cnai.label.codes import build_provider_code

    return build_provider_code(uscc)


# --- assessments ---------------------------------------------------------------------------------

ALLOWED_TARGET_SCHEMES = ("mock", "openai")  # cmd:/python: would run code on the server: never from the web


def check_target(spec: str) -> str:
    from urllib.parse import urlsplit

    spec = (spec or "").strip()
    scheme = spec.split(":", 1)[0]
    if scheme not in ALLOWED_TARGET_SCHEMES:
        raise InputError(f"target scheme {scheme!r} is not allowed from the web workspace; use "
                         "mock:NAME or openai:BASE_URL#MODEL", field="target")
    if scheme == "openai":
        url = spec.split(":", 1)[1].split("#", 1)[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("expected openai:http(s)://HOST[:PORT]/v1#MODEL", field="target")
        if parts.username or parts.password:
            raise InputError("credentials do not belong in the URL; put the key in the API key field "
                             "(it is held in memory only)", field="target")
    if any(c in spec for c in "\r\n\x00"):
        raise InputError("control characters in target", field="target")
    return spec


def check_sample(sample: str) -> str:
    import re

    sample = (sample or "standard").strip()
    if sample in ("standard", "all") or re.fullmatch(r"\d{1,7}", sample) or re.fullmatch(
            r"(generated|refuse|nonrefuse)=\d{1,7}(,(generated|refuse|nonrefuse)=\d{1,7})*", sample):
        return sample
    raise InputError(f"expected standard | all | N | kind=N,... (got {sample!r})", field="sample")


def run_progress(run_dir: Path) -> dict | None:
    """Items stored so far in an assessment run store (read-only; None when there is no store yet)."""
    p = run_dir / "run.sqlite"
    if not p.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=2)
        try:
            total = con.execute("SELECT count(*) FROM items").fetchone()[0]
            done = con.execute("SELECT count(*) FROM results").fetchone()[0]
            ok = con.execute("SELECT count(*) FROM results WHERE status = 'ok'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return {"total": total, "done": done, "ok": ok}


def _store_stamp(run_dir: Path) -> tuple:
    """Changes whenever the run store changes (the WAL file too), so cached reports never go stale."""
    out = []
    for name in ("run.sqlite", "run.sqlite-wal"):
        try:
            st = (run_dir / name).stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _report_cached(run_dir: str, stamp: tuple) -> dict:
    from cnai.assess import report

    return report(Path(run_dir), format="json").data


def assess_report(run_dir: Path) -> dict:
    return _report_cached(str(run_dir), _store_stamp(run_dir))


def assess_report_file(run_dir: Path, fmt: str) -> tuple[bytes, str]:
    from cnai.assess import report

    rep = report(run_dir, format=fmt)
    content = rep.content if isinstance(rep.content, bytes) else rep.content.encode("utf-8")
    return content, fmt


@functools.lru_cache(maxsize=64)
def _outcomes_cached(run_dir: str, stamp: tuple) -> list[dict]:
    from cnai.assess import store
    from cnai.assess.metrics import item_outcomes

    db = store.connect(Path(run_dir))
    try:
        return item_outcomes(db)
    finally:
        db.close()


def assess_review_queue(run_dir: Path, only_failed: bool = True, limit: int = 200) -> list[dict]:
    rows = _outcomes_cached(str(run_dir), _store_stamp(run_dir))
    rows = [r for r in rows if r["response"] is not None and (not only_failed or r["final"] == "fail"
                                                                  or r["reviewed"])]
    return rows[:limit]


def assess_override(run_dir: Path, item_id: str, verdict: str, reviewer: str, note: str) -> dict:
    """A person's verdict on one item; it overrides the judges in every rate (cnai.assess.metrics)."""
    from cnai.assess import store
    from cnai.assess.metrics import item_outcomes

    if verdict not in ("pass", "fail"):
        raise InputError("verdict must be pass or fail", field="verdict")
    db = store.connect(run_dir)
    try:
        outs = {o["id"]: o for o in item_outcomes(db)}
        if item_id not in outs:
            raise KeyError(item_id)
        if outs[item_id]["response"] is None:
            raise InputError("this item has no reply to review", field="item")
        db.execute("INSERT INTO reviews(item_id, reviewer, verdict, machine_verdict, note, source_file,"
                   " source_sha256, at) VALUES (?,?,?,?,?,?,?,?)",
                   (item_id, reviewer[:200], verdict, outs[item_id]["machine"], note[:2000], "web workspace",
                    None, store.now()))
        db.commit()
    finally:
        db.close()
    return {"item": item_id, "verdict": verdict, "machine": outs[item_id]["machine"]}


def assess_compare(a: Path, b: Path) -> dict:
    """cnai.assess.compare with the runs named by their job ids (server paths are not shown to clients)."""
    from cnai.assess.compare import compare

    out = compare(a, b)
    out["a"], out["b"] = a.name, b.name
    return out


# --- corpus --------------------------------------------------------------------------------------

CORPUS_EXTENSIONS = {".jsonl", ".txt", ".csv", ".json", ".tsv"}


def corpus_summary(summary_json: Path) -> dict:
    from cnai.core.loaders import load_json

    data = load_json(summary_json)
    if not isinstance(data, dict) or "sources" not in data or "documents" not in data:
        raise InputError("not a cnai corpus audit summary (needs 'sources' and 'documents')",
                         path=summary_json.name)
    return data


def corpus_sample(out_dir: Path, limit: int = 100) -> list[dict]:
    p = out_dir / "samples" / "sample.jsonl"
    if not p.exists():
        cands = sorted((out_dir / "samples").glob("*.jsonl")) if (out_dir / "samples").exists() else []
        if not cands:
            return []
        p = cands[0]
    rows = []
    with p.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if len(rows) >= limit:
                break
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


# --- dossier -------------------------------------------------------------------------------------

def dossier_available() -> bool:
    try:
        return importlib.util.find_spec("cnai.dossier") is not None
    except (ImportError, ValueError):
        return False


def dossier_gaps(folder: Path) -> dict | None:
    """The built dossier's gap register (cnai.dossier.gaps), or None when nothing was built yet."""
    if not (folder / "gaps.json").is_file():
        return None
    from cnai.dossier import gaps

    return gaps(folder)


def dossier_zip(folder: Path) -> bytes:
    """The dossier folder as one zip (files only, no symlinks followed)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink():
                z.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()
