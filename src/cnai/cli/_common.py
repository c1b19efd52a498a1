"""Shared CLI helpers: JSON output, dates, and file writing conventions."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from cnai.errors import InputError


def parse_date(value: str | None, *, field: str = "--as-of") -> _dt.date:
    """Parse an ISO date; None means today."""
    if value is None:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expected a date as YYYY-MM-DD, got {value!r}", field=field) from None


def _default(o: Any) -> Any:
    if isinstance(o, (_dt.date, _dt.datetime)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=_default)


def emit_json(obj: Any) -> None:
    """Exactly one JSON document on stdout."""
    click.echo(dumps(obj))


def emit_jsonl(obj: Any) -> None:
    sys.stdout.write(dumps(obj, indent=None) + "\n")
    sys.stdout.flush()


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so a crash never leaves half a file."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def output(text: str, out: Path | None) -> None:
    """Send a rendered document to a file (atomically) or to stdout."""
    if out is None:
        click.echo(text)
    else:
        write_text_atomic(out, text)
        click.echo(f"wrote {out}", err=True)
