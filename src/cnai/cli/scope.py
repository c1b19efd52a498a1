"""`cnai scope PROFILE`: which duties apply, on which date, and why."""

from __future__ import annotations

from pathlib import Path

import click

from cnai.cli._common import dumps, output, parse_date


@click.command()
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help="Evaluate the law as it stands on this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file (atomically) instead of standard output.")
def scope(profile: Path, as_of: str | None, fmt: str, out: Path | None) -> None:
    """Work out which obligations, filings and deadlines apply to the service in PROFILE.

    Results are applies / not_applicable / needs_info; a fact the profile omits is never read as false.

    \b
    Examples:
      cnai scope examples/chatbot-startup.yaml
      cnai scope examples/chatbot-startup.yaml --as-of 2025-06-01 --format json
      cnai scope examples/companion-app-teens.yaml --format html -o report.html
    """
    from cnai.scope.engine import scope as run_scope
    from cnai.scope.profile import load_profile

    day = parse_date(as_of)
    result = run_scope(load_profile(profile), day)
    if fmt == "json":
        text = dumps(result.to_dict())
    else:
        from cnai.scope.report import render

        text = render(result, fmt)
    output(text, out)
