"""Markdown and HTML scope reports a compliance lead can hand to management."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from cnai import __version__
from cnai.core import reports
from cnai.core.reports import FunctionFormat
from cnai.scope.engine import APPLIES, NEEDS_INFO, NOT_APPLICABLE, ScopeResult

_LABEL = {APPLIES: "Applies", NEEDS_INFO: "Needs information", NOT_APPLICABLE: "Not applicable"}


def _context(result: ScopeResult) -> dict[str, Any]:
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for o in result.obligations:
        g = groups.setdefault(o.instrument, {"id": o.instrument, "info": result.instruments[o.instrument],
                                             APPLIES: [], NEEDS_INFO: [], NOT_APPLICABLE: []})
        g[o.status].append(o)
    ordered = sorted(groups.values(), key=lambda g: (-len(g[APPLIES]), -len(g[NEEDS_INFO]), g["id"]))
    return {
        "r": result, "summary": result.summary(), "groups": ordered, "label": _LABEL, "version": __version__,
        "APPLIES": APPLIES, "NEEDS_INFO": NEEDS_INFO, "NOT_APPLICABLE": NOT_APPLICABLE,
        "concepts_known": [c for c in result.concepts if c["value"] is not None],
        "concepts_unknown": [c for c in result.concepts if c["value"] is None],
    }


def render(result: ScopeResult, fmt: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("cnai.scope", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["mdcell"] = lambda s: str(s or "").replace("|", "\\|").replace("\n", " ")
    name = {"md": "scope.md.j2", "html": "scope.html"}[fmt]
    return env.get_template(name).render(**_context(result))


# --- report formats (extension point cnai.report_formats, names "scope.<format>") --------------------------
def _json(result: ScopeResult, **options: Any) -> str:
    from cnai.core.jsonutil import dumps

    return dumps(result.to_dict(), indent=2)


MD = FunctionFormat("scope", "md", reports.MARKDOWN, ".md", lambda result, **options: render(result, "md"))
HTML = FunctionFormat("scope", "html", reports.HTML, ".html", lambda result, **options: render(result, "html"))
JSON = FunctionFormat("scope", "json", reports.JSON, ".json", _json)
