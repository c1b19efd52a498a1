"""Extension points: how built-in and outside features register (the datasette / Presidio habit).

Every extension point is a Python entry-point group. cnai's own features register in cnai's own
`pyproject.toml` under the same groups an outside package uses, so there is one mechanism:

    [project.entry-points."cnai.recognizers"]
    employee_id = "my_pkg.recognizers:EmployeeId"

`registry(point)` loads a point's registrations once per process, name -> object. A registration that fails
to import is skipped with a warning (one broken plug-in must not break every command) and shown with its
error by `cnai plugins`. A name already taken is kept by the first provider, cnai's own first; the clash
is reported. What each object must provide is the interface named in POINTS (a typing.Protocol or ABC in
the capability's package).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExtensionPoint:
    name: str
    group: str
    interface: str      # dotted path of the interface the registered objects satisfy
    description: str


POINTS: dict[str, ExtensionPoint] = {p.name: p for p in (
    ExtensionPoint("carriers", "cnai.carriers", "cnai.label.formats.base.Carrier",
                   "GB 45438 implicit-label carriers: one handler per container family (sniff, read, write, "
                   "essence digest, where the label goes, visible-label support)."),
    ExtensionPoint("recognizers", "cnai.recognizers", "cnai.corpus.recognizers.Recognizer",
                   "Personal-information recognizers for the corpus audit (type, find -> spans with "
                   "confidence and reason, validator); enabled in recognizers.yaml."),
    ExtensionPoint("judges", "cnai.judges", "cnai.assess.judges.Judge",
                   "Self-assessment judges that score a model reply (refusal, harmful content, LLM)."),
    ExtensionPoint("targets", "cnai.targets", "cnai.assess.targets.TargetFactory",
                   "Model endpoints the self-assessment can test, by URL scheme (mock:, openai:, ...)."),
    ExtensionPoint("bank_kinds", "cnai.bank_kinds", "cnai.assess.banks.BankKind",
                   "Kinds of GB/T 45654 test banks and their minimums (generation, refuse, nonrefuse, ...)."),
    ExtensionPoint("report_formats", "cnai.report_formats", "cnai.core.reports.ReportFormat",
                   "Output formats for reports (md, html, json, xlsx, ...)."),
    ExtensionPoint("schemas", "cnai.schemas", "pydantic.BaseModel",
                   "Data files cnai reads, as pydantic models; `cnai schema NAME` prints the JSON Schema."),
)}


@dataclass
class Registration:
    point: str
    name: str
    value: str
    provider: str
    version: str
    obj: Any = field(default=None, repr=False)
    error: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "provider": self.provider, "version": self.version,
                "loaded": self.error is None, "error": self.error}


_lock = threading.RLock()
_loaded: dict[str, list[Registration]] = {}
_runtime: dict[str, list[Registration]] = {}


_dist_ids: dict[str, tuple[str, str]] = {}


def _dist_id(dist) -> tuple[str, str]:
    """(name, version) of a distribution. `dist.name`/`dist.version` parse the whole METADATA file with the
    email parser each time (~1 ms per call, several calls per entry point: most of the start-up cost of every
    command); the two header lines are read once per distribution instead."""
    if dist is None:
        return "?", "?"
    key = str(getattr(dist, "_path", "")) or str(id(dist))
    got = _dist_ids.get(key)
    if got is None:
        name = version = None
        try:
            for line in (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").splitlines():
                if not line.strip():
                    break  # end of the header block
                if line.startswith("Name:") and name is None:
                    name = line[5:].strip()
                elif line.startswith("Version:") and version is None:
                    version = line[8:].strip()
        except (OSError, UnicodeDecodeError):
            pass
        got = (name or getattr(dist, "name", None) or "?", version or getattr(dist, "version", None) or "?")
        _dist_ids[key] = got
    return got


class _EntryPoint:
    """One registration as found by the scan (or read back from the scan cache): name, value ("module:attr"),
    and who provides it. load() does what importlib.metadata.EntryPoint.load does for the same value."""

    __slots__ = ("name", "value", "provider", "version")

    def __init__(self, name: str, value: str, provider: str, version: str):
        self.name, self.value, self.provider, self.version = name, value, provider, version

    def load(self) -> Any:
        import importlib

        module, _, attr = self.value.split("[", 1)[0].partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


_CACHE_VERSION = 1


def _cache_file() -> str | None:
    """Where the entry-point scan is remembered (one file per interpreter + sys.path), or None when turned off
    (CNAI_PLUGIN_CACHE=0). Same folder as the other caches: $CNAI_CACHE_DIR, else $XDG_CACHE_HOME/cnai."""
    if os.environ.get("CNAI_PLUGIN_CACHE", "1") == "0":
        return None
    import zlib

    base = os.environ.get("CNAI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cnai")
    # one file per interpreter; the full sys.path is part of the key stored inside (a different folder or a
    # test that adds a plug-in site is a miss and a rescan, not a second file)
    tag = zlib.crc32(repr((sys.executable, sys.version)).encode()) & 0xFFFFFFFF
    return os.path.join(base, f"entry-points-{tag:08x}.json")


def _stamp(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def _key() -> list:
    """What the scan depends on: for every sys.path entry, its *.dist-info / *.egg-info entries (where
    importlib.metadata finds distributions) with their modification times; a file entry (zip) by its own time.
    Installing, upgrading, reinstalling or removing a distribution changes this; other files in those folders
    (e.g. new outputs in the current folder) do not."""
    out: list = []
    for p in map(str, sys.path):
        d = p or "."
        try:
            if os.path.isdir(d):
                with os.scandir(d) as it:
                    metas = sorted([e.name, e.stat().st_mtime_ns] for e in it
                                   if e.name.lower().endswith((".dist-info", ".egg-info")))
                out.append([p, metas])
            else:
                out.append([p, _stamp(d)])
        except OSError:
            out.append([p, None])
    return out


def _scan_all() -> tuple[dict[str, list[list[str]]], list[list]]:
    """Every cnai.* entry point of the installed distributions (the slow part: importing importlib.metadata,
    reading each distribution's entry_points.txt), and the files the result depends on."""
    from importlib import metadata

    groups: dict[str, list[list[str]]] = {}
    files: dict[str, int | None] = {}
    wanted = {p.group for p in POINTS.values()}
    seen: set[str] = set()
    eps = []
    for dist in metadata.distributions():  # the first of a name on sys.path wins, as in entry_points()
        norm = getattr(dist, "_normalized_name", None) or _dist_id(dist)[0].lower().replace("-", "_")
        if norm in seen:
            continue
        seen.add(norm)
        eps += [ep for ep in dist.entry_points if ep.group in wanted]
    for ep in eps:
        name, version = _dist_id(ep.dist)
        groups.setdefault(ep.group, []).append([ep.name, ep.value, name, version])
        where = getattr(ep.dist, "_path", None)
        if where is not None:
            for f in ("entry_points.txt", "METADATA", "PKG-INFO"):
                fp = os.path.join(str(where), f)
                if os.path.exists(fp):
                    files[fp] = _stamp(fp)
    return groups, [[f, t] for f, t in sorted(files.items())]


_scan: dict[str, list[list[str]]] | None = None


def _scan_cached(fresh: bool = False) -> dict[str, list[list[str]]]:
    """The scan, from the cache file when nothing it depends on has changed: the distributions' metadata
    folders on sys.path with their modification times (_key), and each contributing distribution's
    entry_points.txt and METADATA times; anything unreadable or different means a fresh scan. Saves ~25 ms per command (mostly the
    import of importlib.metadata, which pulls in email, zipfile and csv)."""
    global _scan
    if _scan is not None and not fresh:
        return _scan
    import json

    path = _cache_file()
    key = _key()
    if path and not fresh:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            groups = data.get("groups")
            if data.get("v") == _CACHE_VERSION and data.get("key") == key and \
                    all(_stamp(fp) == t for fp, t in data["files"]) and isinstance(groups, dict) and \
                    all(isinstance(rows, list) and all(isinstance(r, list) and len(r) == 4 and
                                                       all(isinstance(x, str) for x in r) for r in rows)
                        for rows in groups.values()):
                _scan = groups
                return _scan
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # unreadable, not JSON, another layout: rescan
    groups, files = _scan_all()
    _scan = groups
    if path:
        import tempfile

        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".entry-points.", dir=os.path.dirname(path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"v": _CACHE_VERSION, "key": key, "files": files, "groups": groups}, f)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):  # a read-only home (or an odd sys.path entry): no cache
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
    return groups


def _entry_points(group: str) -> list[_EntryPoint]:
    eps = [_EntryPoint(*row) for row in _scan_cached().get(group, [])]
    # cnai's own registrations first, then outside packages in a stable order
    return sorted(eps, key=lambda ep: (ep.provider != "cnai", ep.provider, ep.name))


def registrations(point: str) -> list[Registration]:
    """Every registration on a point (loaded ones and failed ones), cnai's own first."""
    if point not in POINTS:
        raise KeyError(f"unknown extension point {point!r}; known: {', '.join(POINTS)}")
    with _lock:
        if point not in _loaded:
            regs: list[Registration] = []
            taken: set[str] = set()
            seen_values: set[tuple[str, str]] = set()
            for ep in _entry_points(POINTS[point].group):
                key = (ep.name, ep.value)
                if key in seen_values:  # the same distribution found twice on sys.path
                    continue
                seen_values.add(key)
                reg = Registration(point, ep.name, ep.value, ep.provider, ep.version)
                if ep.name in taken:
                    reg.error = f"name {ep.name!r} already registered by another provider; skipped"
                else:
                    try:
                        reg.obj = ep.load()
                        taken.add(ep.name)
                    except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported, not fatal
                        reg.error = f"{type(exc).__name__}: {exc}"
                        print(f"warning: plug-in {reg.provider}:{ep.name} on {point} failed to load: {reg.error}",
                              file=sys.stderr)
                regs.append(reg)
            _loaded[point] = regs
        return [*_loaded[point], *_runtime.get(point, [])]


def registry(point: str) -> dict[str, Any]:
    """name -> registered object, for the registrations that loaded."""
    return {r.name: r.obj for r in registrations(point) if r.error is None}


def get(point: str, name: str) -> Any:
    reg = registry(point)
    try:
        return reg[name]
    except KeyError:
        from cnai.errors import InputError

        raise InputError(f"unknown {point[:-1] if point.endswith('s') else point} {name!r}; "
                         f"registered: {', '.join(sorted(reg)) or 'none'}") from None


def register(point: str, name: str, obj: Any, *, provider: str = "(runtime)") -> None:
    """Register an object for this process only (library users, tests). Names already taken are refused."""
    if name in registry(point):
        raise ValueError(f"{point}: name {name!r} is already registered")
    with _lock:
        _runtime.setdefault(point, []).append(Registration(point, name, "(runtime)", provider, "", obj))


def unregister(point: str, name: str) -> None:
    with _lock:
        _runtime[point] = [r for r in _runtime.get(point, []) if r.name != name]


def reset() -> None:
    """Forget loaded registrations (tests that change sys.path)."""
    global _scan
    with _lock:
        _loaded.clear()
        _dist_ids.clear()
        _scan = None
        _runtime.clear()


def describe() -> list[dict]:
    """Every extension point with what is registered on it (the `cnai plugins` listing). The listing always
    rescans the installed distributions (and refreshes the scan cache)."""
    with _lock:
        if not _loaded:
            _scan_cached(fresh=True)
    return [{"point": p.name, "group": p.group, "interface": p.interface, "description": p.description,
             "registered": [r.to_dict() for r in registrations(p.name)]} for p in POINTS.values()]
