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

import sys
import threading
from dataclasses import dataclass, field
from importlib import metadata
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


def _entry_points(group: str) -> list[metadata.EntryPoint]:
    eps = list(metadata.entry_points(group=group))
    # cnai's own registrations first, then outside packages in a stable order
    return sorted(eps, key=lambda ep: (getattr(ep.dist, "name", "") != "cnai", getattr(ep.dist, "name", ""), ep.name))


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
                dist = ep.dist
                key = (ep.name, ep.value)
                if key in seen_values:  # the same distribution found twice on sys.path
                    continue
                seen_values.add(key)
                reg = Registration(point, ep.name, ep.value, getattr(dist, "name", "?") if dist else "?",
                                   getattr(dist, "version", "?") if dist else "?")
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
    with _lock:
        _loaded.clear()
        _runtime.clear()


def describe() -> list[dict]:
    """Every extension point with what is registered on it (the `cnai plugins` listing)."""
    return [{"point": p.name, "group": p.group, "interface": p.interface, "description": p.description,
             "registered": [r.to_dict() for r in registrations(p.name)]} for p in POINTS.values()]
