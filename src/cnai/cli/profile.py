"""`cnai profile schema | check | init`."""

from __future__ import annotations

from pathlib import Path

import click

from cnai.cli._common import dumps, emit_json


@click.group()
def profile() -> None:
    """Service profiles (schema cnai/profile/v1): the facts the applicability engine reads."""


@profile.command()
def schema() -> None:
    """Print the JSON Schema of the service profile."""
    from cnai.scope.profile import json_schema

    emit_json(json_schema())


@profile.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate one or more profiles; exit 2 naming file and field for the first bad one."""
    from cnai.errors import CnaiError
    from cnai.scope.profile import load_profile

    bad = 0
    for p in paths:
        try:
            prof = load_profile(p)
        except CnaiError as exc:
            bad += 1
            click.echo(f"error: {exc}", err=True)
            continue
        known = _count_known(prof.facts())
        click.echo(f"ok: {p} ({prof.service.name}; {known} facts given)")
    if bad:
        if len(paths) > 1:  # a batch goes on past a bad file and says how many failed
            click.echo(f"{bad} of {len(paths)} profiles invalid", err=True)
        raise SystemExit(2)


def _count_known(d: dict) -> int:
    return sum(_count_known(v) if isinstance(v, dict) else 1 for v in d.values())


@profile.command()
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the profile YAML.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(out: Path, force: bool) -> None:
    """Answer a short questionnaire and write a valid profile.

    Press Enter to skip a question: the fact stays unknown (never false), and `cnai scope` will list
    the duties that depend on it as needs_info.
    """
    from cnai.scope.questionnaire import run_questionnaire

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to overwrite")
    run_questionnaire(out)
    click.echo(f"wrote {out}; check it with: cnai profile check {out}", err=True)


__all__ = ["profile", "dumps"]
