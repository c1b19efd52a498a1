"""Load the knowledge base (law/data) into typed records, once per process."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cnai.errors import InputError, yaml_error
from cnai.law.models import CITATION_RE, Article, Case, Concept, Instrument, Obligation, Regulator, Topic

DATA = Path(__file__).parent / "data"


def _yaml_load(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        raise yaml_error(exc, str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte offset {exc.start})", path=str(path)) from None


def _validate(model, data: Any, path: Path, what: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{what}: {loc}: {first['msg']}", path=str(path)) from None


@dataclass
class KnowledgeBase:
    instruments: dict[str, Instrument] = field(default_factory=dict)
    concepts: dict[str, Concept] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    regulators: dict[str, Regulator] = field(default_factory=dict)
    _cite_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def obligations(self) -> list[Obligation]:
        return [o for ins in self.instruments.values() for o in ins.obligations]

    def instrument_of(self, obligation: Obligation) -> Instrument:
        return self.instruments[obligation.id.split(".", 1)[0]]

    def resolve(self, citation: str, on: dt.date | None = None) -> tuple[Instrument, Article | None]:
        """The instrument and article a citation names (article None for whole-instrument cites)."""
        m = CITATION_RE.match(citation)
        if not m:
            raise KeyError(f"malformed citation {citation!r}")
        ins = self.instruments.get(m["instrument"])
        if ins is None:
            raise KeyError(f"unknown instrument in citation {citation!r}")
        number = m["article"]
        if number in ("all", "*"):
            return ins, None
        art = ins.article(number, on)
        if art is None:
            raise KeyError(f"no article {number} in {ins.id} (citation {citation!r})")
        return ins, art

    def cite_on(self, citation: str, on: dt.date) -> str:
        """Rewrite a citation to the article number in force on `on` (e.g. AUCL 13 -> 12 before 2025-10-15)."""
        key = (citation, on)
        if key not in self._cite_cache:
            self._cite_cache[key] = self._cite_on(citation, on)
        return self._cite_cache[key]

    def _cite_on(self, citation: str, on: dt.date) -> str:
        m = CITATION_RE.match(citation)
        if not m:
            return citation
        try:
            _, art = self.resolve(citation)
        except KeyError:
            return citation
        if art is None:
            return citation
        number = art.number
        for n in art.numbering:
            if (n.from_ is None or n.from_ <= on) and (n.until is None or on <= n.until):
                number = n.number
        return f"{m['instrument']}:{number}{m['rest']}"


def data_version() -> str:
    """Changes whenever cnai's version or any knowledge-base data file (name, size, mtime) changes: a key for
    caches of anything computed from the law (the parsed KB here, scope results in the web workspace)."""
    import hashlib

    from cnai import __version__

    h = hashlib.sha256(__version__.encode())
    for f in sorted(DATA.rglob("*.yaml")):
        st = f.stat()
        h.update(f"{f.relative_to(DATA)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def _cache_path() -> Path | None:
    """A per-user cache of the parsed KB, keyed by data_version()."""
    import os

    base = os.environ.get("CNAI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cnai")
    return Path(base) / f"kb-{data_version()}.pickle"


@lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """The knowledge base, parsed from YAML (about 0.3 s) or from the cache written last time."""
    import gc

    kb = _load()
    # The KB lives as long as the process: move its objects out of the collector's way, which removes the
    # 30-70 ms garbage-collection pauses otherwise seen in engine runs.
    gc.collect()
    gc.freeze()
    return kb


def _load() -> KnowledgeBase:
    import os
    import pickle

    cache = None if os.environ.get("CNAI_NO_CACHE") else _cache_path()
    if cache is not None and cache.exists():
        try:
            with cache.open("rb") as fh:
                return pickle.load(fh)  # noqa: S301 - our own cache file, keyed by the data it came from
        except Exception:  # a stale or broken cache is rebuilt
            pass
    kb = _parse()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(kb, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except OSError:
            pass
    return kb


def _parse() -> KnowledgeBase:
    kb = KnowledgeBase()
    for path in sorted((DATA / "instruments").glob("*.yaml")):
        ins = _validate(Instrument, _yaml_load(path), path, "instrument")
        if ins.id != path.stem:
            raise InputError(f"id {ins.id!r} does not match the file name", path=str(path))
        kb.instruments[ins.id] = ins
        for c in ins.concepts:
            if c.id in kb.concepts:
                raise InputError(f"concept {c.id!r} is defined twice", path=str(path))
            kb.concepts[c.id] = c
    _apply_zh_overlays(kb)
    for name, model, target in (("topics", Topic, kb.topics),
                                ("cases", Case, kb.cases), ("regulators", Regulator, kb.regulators)):
        path = DATA / f"{name}.yaml"
        if not path.exists():
            continue
        for i, item in enumerate(_yaml_load(path) or []):
            rec = _validate(model, item, path, f"{name}[{i}]")
            if rec.id in target:
                raise InputError(f"duplicate id {rec.id!r}", path=str(path))
            target[rec.id] = rec
    _apply_zh_topics(kb)
    return kb


class ZhOverlay(BaseModel):
    """law/data/zh/<instrument>.yaml: Chinese summaries (our own words) kept apart from the instrument file,
    so that trigger edits and translation work do not touch the same lines."""

    model_config = ConfigDict(extra="forbid")
    articles: dict[str, str] = {}  # article number -> summary
    obligations: dict[str, str] = {}  # obligation id -> summary


def _apply_zh_overlays(kb: KnowledgeBase, folder: Path | None = None) -> None:
    folder = folder or DATA / "zh"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path.stem == "topics":
            continue
        ins = kb.instruments.get(path.stem)
        if ins is None:
            raise InputError("no instrument with this id (orphaned Chinese overlay)", path=str(path))
        ov = _validate(ZhOverlay, _yaml_load(path) or {}, path, "zh overlay")
        articles = {a.number: a for a in ins.articles}
        for number, text in ov.articles.items():
            art = articles.get(number)
            if art is None:
                raise InputError(f"no article {number!r} in {ins.id} (orphaned)", path=str(path), field=f"articles.{number}")
            if art.summary_zh:
                raise InputError(f"article {number!r} already has summary_zh in the instrument file",
                                 path=str(path), field=f"articles.{number}")
            art.summary_zh = text.strip()
        obligations = {o.id: o for o in ins.obligations}
        for oid, text in ov.obligations.items():
            if oid not in obligations:
                raise InputError(f"no obligation {oid!r} in {ins.id} (orphaned)", path=str(path), field=f"obligations.{oid}")
            obligations[oid].summary_zh = text.strip()


def _apply_zh_topics(kb: KnowledgeBase, folder: Path | None = None) -> None:
    path = (folder or DATA / "zh") / "topics.yaml"
    if not path.exists():
        return
    data = _yaml_load(path) or {}
    if not isinstance(data, dict):
        raise InputError("expected a mapping of topic id to Chinese summary", path=str(path))
    for tid, text in data.items():
        topic = kb.topics.get(tid)
        if topic is None:
            raise InputError(f"no topic {tid!r} (orphaned)", path=str(path), field=str(tid))
        if not isinstance(text, str) or not text.strip():
            raise InputError("expected a non-empty string", path=str(path), field=str(tid))
        topic.summary_zh = text.strip()
