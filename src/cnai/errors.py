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


def yaml_error(exc: Exception, path: str) -> InputError:
    """One clear error for a YAML parse failure, with the line and column PyYAML reports."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return InputError(f"malformed YAML: {where}{getattr(exc, 'problem', None) or exc}", path=path)
