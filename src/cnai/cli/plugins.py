"""`cnai plugins` and `cnai schema`: what is registered on each extension point; data-file schemas."""

from __future__ import annotations

import click

from cnai.cli._common import emit_json


@click.command("plugins")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def plugins(fmt: str) -> None:
    """List every extension point and what is registered on it, with the providing package."""
    from cnai.core.plugins import describe

    points = describe()
    if fmt == "json":
        emit_json({"points": points})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("point", "name", "provider", "value", "status")
    for p in points:
        if not p["registered"]:
            table.add_row(p["point"], "-", "-", "-", "nothing registered")
        for r in p["registered"]:
            table.add_row(p["point"], r["name"], f"{r['provider']} {r['version']}".strip(), r["value"],
                          "ok" if r["loaded"] else f"[red]{r['error']}[/red]")
    Console().print(table)


@click.command("schema")
@click.argument("name", required=False)
def schema(name: str | None) -> None:
    """Print the JSON Schema of a data file cnai reads (no NAME: list the names)."""
    from cnai.core.plugins import registry

    models = registry("schemas")
    if name is None:
        for n in sorted(models):
            doc = (models[n].__doc__ or "").strip().splitlines()
            click.echo(f"{n:24} {doc[0] if doc else ''}")
        return
    if name not in models:
        from cnai.errors import InputError

        raise InputError(f"unknown schema {name!r}; known: {', '.join(sorted(models))}", field="NAME")
    emit_json(models[name].model_json_schema())
