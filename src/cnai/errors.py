"""Errors that the CLI turns into a clear message and exit code 2 (bad input or usage)."""

from __future__ import annotations


class CnaiError(Exception):
    """Bad input: the message names the file, field or offset and what is wrong."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        self.path = path
        self.field = field
        where = ": ".join(p for p in (path, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


class InputError(CnaiError):
    """A user-supplied file or value is malformed."""
