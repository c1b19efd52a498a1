"""Load the knowledge base (law/data) into typed records, once per process."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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


def _cache_path() -> Path | None:
    """A per-user cache of the parsed KB, keyed by every data file's name, size and mtime."""
    import hashlib
    import os

    from cnai import __version__

    h = hashlib.sha256(__version__.encode())
    for f in sorted(DATA.rglob("*.yaml")):
        st = f.stat()
        h.update(f"{f.relative_to(DATA)}:{st.st_size}:{st.st_mtime_ns}".encode())
    base = os.environ.get("CNAI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cnai")
    return Path(base) / f"kb-{h.hexdigest()[:20]}.pickle"


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
    return kb
