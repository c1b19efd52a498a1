"""Shared CLI helpers: JSON output, dates, and file writing conventions."""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from cnai.core.jsonutil import dumps as _dumps
from cnai.core.safeio import write_text
from cnai.errors import InputError


def parse_date(value: str | None, *, field: str = "--as-of") -> _dt.date:
    """Parse an ISO date; None means today."""
    if value is None:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expected a date as YYYY-MM-DD, got {value!r}", field=field) from None


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    return _dumps(obj, indent=indent)


def emit_json(obj: Any) -> None:
    """Exactly one JSON document on stdout."""
    click.echo(dumps(obj))


def emit_jsonl(obj: Any) -> None:
    sys.stdout.write(dumps(obj, indent=None) + "\n")
    sys.stdout.flush()


def write_text_atomic(path: Path, text: str, *, inputs: Iterable[str | Path] = ()) -> None:
    """Write atomically through the safe I/O layer (refuses inputs, links, devices; honours the umask)."""
    write_text(path, text, inputs=inputs)


def output(text: str, out: Path | None, *, inputs: Iterable[str | Path] = ()) -> None:
    """Send a rendered document to a file (atomically, never over an input) or to stdout."""
    if out is None:
        click.echo(text)
    else:
        write_text(out, text, inputs=inputs)
        click.echo(f"wrote {out}", err=True)
