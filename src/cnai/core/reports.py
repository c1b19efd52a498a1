"""Report formats as an extension point (`cnai.report_formats`).

A report format turns one capability's result into a document. Registrations are named
"<capability>.<format>" (e.g. "scope.html", "assess.xlsx"), so each command offers exactly the formats
registered for it and a plug-in can add one (say "scope.docx") without editing cnai.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ReportFormat(Protocol):
    name: str          # the format as users type it: "md", "html", "json", "xlsx"
    media_type: str    # e.g. "text/html; charset=utf-8"
    suffix: str        # file suffix, e.g. ".html"
    binary: bool       # True when render() returns bytes

    def render(self, result: Any, **options: Any) -> str | bytes:
        """The document for one result object of the capability."""
        ...


@dataclass(frozen=True, repr=False)
class FunctionFormat:
    """A ReportFormat made from a render function (how cnai's capabilities declare md/html/json/xlsx)."""

    capability: str
    name: str
    media_type: str
    suffix: str
    fn: Callable[..., str | bytes]
    binary: bool = False

    def render(self, result: Any, **options: Any) -> str | bytes:
        return self.fn(result, **options)

    def __repr__(self) -> str:
        return f"<{self.capability} report format {self.name}>"


MARKDOWN = "text/markdown; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def formats_for(capability: str) -> dict[str, ReportFormat]:
    """{format name: ReportFormat} registered for a capability ("scope", "assess", ...)."""
    from cnai.core.plugins import registry

    prefix = capability + "."
    return {name[len(prefix):]: obj for name, obj in registry("report_formats").items() if name.startswith(prefix)}


def get_format(capability: str, name: str) -> ReportFormat:
    fmts = formats_for(capability)
    if name not in fmts:
        from cnai.errors import InputError

        raise InputError(f"unknown {capability} report format {name!r}; available: {', '.join(sorted(fmts))}",
                         field="--format")
    return fmts[name]
