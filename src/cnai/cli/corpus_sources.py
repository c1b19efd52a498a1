"""`cnai corpus sources check`: scraping risk per training-data source (registered under `cnai corpus`)."""

from __future__ import annotations

from pathlib import Path

import click

from cnai.cli._common import emit_json, output


@click.group("sources")
def sources() -> None:
    """Training-data sources: scraping risk from robots.txt snapshots, terms and crawl logs."""


@sources.command("check")
@click.argument("register", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--audit", "audit_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A `cnai corpus audit` output directory: adds each source's personal-information rate.")
@click.option("--source", "only", multiple=True, help="Check only this source (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def check(register: Path, audit_dir: Path | None, only: tuple[str, ...], fmt: str, out: Path | None) -> None:
    """Scraping risk per source; exit 1 when any source is high risk or could not be read.

    Snapshots are files you provide (no network access): per source in the register, `robots`, `terms` and
    `crawl_log` paths (relative to the register), plus optional `user_agent`, `crawl_limit_rps`, `competitor`.
    """
    from cnai.corpus.scraping import check_sources

    res = check_sources(register, audit_dir=audit_dir, only=list(only) or None)
    if fmt == "json":
        if out:
            from cnai.core.jsonutil import dumps

            output(dumps(res), out, inputs=[register])
        else:
            emit_json(res)
    else:
        lines = [f"# Scraping risk per source ({register})", "",
                 "| source | risk | findings |", "|---|---|---|"]
        for r in res["sources"]:
            fs = "; ".join(f"**{f['severity']}** {f['message']} ({', '.join(f['citations'])})" for f in r["findings"])
            lines.append(f"| {r['name']} | {r['risk']} | {r.get('error') or fs or 'none'} |")
        lines += ["", res["method"]]
        if fmt == "md" or out:
            output("\n".join(lines) + "\n", out, inputs=[register])
        else:
            from rich.console import Console
            from rich.markup import escape
            from rich.table import Table

            t = Table("source", "risk", "findings", show_lines=True)
            for r in res["sources"]:  # names and messages can carry text from the user's files: no markup
                t.add_row(escape(r["name"]), r["risk"], escape(r.get("error") or "\n".join(
                    f"[{f['severity']}] {f['message']}" for f in r["findings"]) or "none"))
            Console().print(t)
    if any(r["risk"] in ("high", "error") for r in res["sources"]):
        raise SystemExit(1)
