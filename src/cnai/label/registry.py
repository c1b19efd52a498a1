"""The carrier registry: every container handler registered on the `cnai.carriers` entry-point group (cnai's
own ones in cnai's pyproject.toml, outside ones in their packages), format detection by content, not by name.

Adding a container = one handler file (a `cnai.label.formats.base.Carrier`) + one entry-point line + tests;
see docs/label.md.
"""

from __future__ import annotations

import os

from cnai.errors import InputError
from cnai.label.formats.base import Carrier

HEAD_BYTES = 64 * 1024


_cache: tuple[tuple, dict[str, Carrier]] = ((), {})


def carriers() -> dict[str, Carrier]:
    """name -> carrier, in sniff order (priority, then name). Objects that are not Carriers are ignored with a
    warning, so one broken plug-in cannot break labelling."""
    import sys

    from cnai.core import plugins

    global _cache
    # called several times per file: rebuild only when the registrations change (plugins.reset/register)
    key = (id(plugins._loaded.get("carriers")), tuple(id(r) for r in plugins._runtime.get("carriers", ())))
    if key == _cache[0] and _cache[1]:
        return _cache[1]
    regs = plugins.registry("carriers")
    key = (id(plugins._loaded.get("carriers")), tuple(id(r) for r in plugins._runtime.get("carriers", ())))
    out = []
    for name, obj in regs.items():
        if not isinstance(obj, Carrier):
            print(f"warning: carrier {name!r} is not a cnai.label.formats.base.Carrier; ignored", file=sys.stderr)
            continue
        out.append(obj)
    out.sort(key=lambda c: (c.priority, c.name))
    _cache = (key, {c.name: c for c in out})
    return _cache[1]


def get(name: str) -> Carrier:
    cars = carriers()
    if name not in cars:
        raise InputError(f"unknown carrier {name!r}; registered: {', '.join(sorted(cars))}")
    return cars[name]


def sniff(head: bytes, path: str) -> str | None:
    """Content-based format name (or None when no carrier claims the bytes)."""
    for c in carriers().values():
        try:
            if c.sniff(head, path):
                return c.name
        except Exception:  # noqa: BLE001 - a plug-in's sniff must not stop detection
            continue
    return None


def ext_format(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    return next((c.name for c in carriers().values() if ext in c.extensions), None)


def detect(path: str) -> tuple[str | None, list[str]]:
    """(format, warnings) for a file."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    return detect_head(head, path)


def detect_head(head: bytes, path: str) -> tuple[str | None, list[str]]:
    """detect() for a caller that has read the first HEAD_BYTES bytes itself."""
    fmt = sniff(head, path)
    warnings = []
    ext = os.path.splitext(path)[1].lower()
    want = ext_format(path)
    if fmt and want and want != fmt and not (fmt == "zip" and want == "ooxml"):
        warnings.append(f"extension {ext} says {want}, content is {fmt}")
    return fmt, warnings
