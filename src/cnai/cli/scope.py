"""`cnai scope PROFILE`: which duties apply, on which date, and why."""

from __future__ import annotations

from pathlib import Path

import click

from cnai.cli._common import output, parse_date


@click.command()
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help="Evaluate the law as it stands on this date (default: today).")
@click.option("--format", "fmt", default="md", show_default=True, metavar="md|json|html",
              help="Report format: any format registered on cnai.report_formats as 'scope.<format>'.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file (atomically; never over the profile) instead of standard output.")
def scope(profile: Path, as_of: str | None, fmt: str, out: Path | None) -> None:
    """Work out which obligations, filings and deadlines apply to the service in PROFILE.

    Results are applies / not_applicable / needs_info; a fact the profile omits is never read as false.
    Due dates already passed are marked overdue (with days); duties adopted but not yet in force are
    listed under upcoming with their start dates.

    \b
    Examples:
      cnai scope examples/chatbot-startup.yaml
      cnai scope examples/chatbot-startup.yaml --as-of 2025-06-01 --format json
      cnai scope examples/companion-app-teens.yaml --format html -o report.html
    """
    from cnai.scope import load_profile, report_format
    from cnai.scope import scope as run_scope

    day = parse_date(as_of)
    report = report_format(fmt)
    if out is not None:
        from cnai.core.safeio import check_output

        check_output(out, inputs=[profile])  # fail before the work, and never over the profile
    result = run_scope(load_profile(profile), as_of=day)
    text = report.render(result)
    if fmt == "json" and out is None:
        click.echo(text)
        return
    output(text, out, inputs=[profile])
