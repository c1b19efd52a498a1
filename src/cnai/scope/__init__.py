"""The applicability engine: a service profile and a date in, the duties that apply out, with reasons.

Library API (the CLI's verbs, see docs/scope.md "Library API"):
    load_profile(path) -> Profile                  read and validate a profile file (`cnai profile check`)
    parse_profile_text(text, source=...) -> Profile
    scope(profile, as_of=None) -> ScopeResult       `cnai scope`
    render(result, "md"|"html"|"json") -> str       the registered report formats ("scope.<format>")

Submodules are imported on first use, so importing cnai.scope stays cheap.
"""

from __future__ import annotations

from typing import Any

_API = {
    "load_profile": "profile", "parse_profile": "profile", "parse_profile_text": "profile", "Profile": "profile",
    "ProfileError": "profile", "scope": "engine", "Engine": "engine", "ScopeResult": "engine",
    "ObligationResult": "engine",
}
__all__ = [*_API, "render", "report_format"]


def report_format(fmt: str) -> Any:
    """The ReportFormat for `fmt`: cnai's own three directly (loading every registered report format would
    import other capabilities and add ~0.2 s to `cnai scope`), any other through the cnai.report_formats
    registry ("scope.<format>"), so a plug-in can add one."""
    from cnai.scope import report

    builtin = {"md": report.MD, "html": report.HTML, "json": report.JSON}
    if fmt in builtin:
        return builtin[fmt]
    from cnai.core.reports import get_format

    return get_format("scope", fmt)


def render(result: Any, fmt: str = "md") -> str:
    """The scope report in a registered format (md, html, json, or one a plug-in adds)."""
    return report_format(fmt).render(result)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        return getattr(importlib.import_module(f"cnai.scope.{_API[name]}"), name)
    raise AttributeError(f"module 'cnai.scope' has no attribute {name!r}")
