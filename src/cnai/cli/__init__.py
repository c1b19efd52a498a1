"""The `cnai` command: a thin layer over the library.

Subcommand groups are imported only when used, so `cnai --help` stays fast.
Each capability registers its group in COMMANDS as "module:attribute".
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from cnai import __version__

# Command groups: name, module:attribute, and the one-line help `cnai --help` shows without importing the module.
_GROUPS = """
law         cnai.cli.law:law                Browse and search the law: instruments, articles, concepts, cases.
profile     cnai.cli.profile:profile        Service profiles: schema, check, interactive init.
scope       cnai.cli.scope:scope            Which duties apply to a service on a date, and why.
label       cnai.cli.label:label            GB 45438 AI-content labels: embed, read, check, classify, propagate.
assess      cnai.cli.assess:assess          GB/T 45654 security self-assessment: run and report.
bank        cnai.cli.assess:bank            GB/T 45654 test banks and keyword libraries: check, import, export.
corpus      cnai.cli.corpus:corpus          Training-data audit: personal information and risk screening.
dossier     cnai.cli.dossier:dossier        CAC filing and registration packages built from measured evidence.
serve       cnai.cli.serve:serve            Web workspace and REST API for the compliance team.
gateway     cnai.cli.gateway:gateway        OpenAI-compatible compliance gateway enforcing the runtime duties.
provenance  cnai.cli.provenance:provenance  Authorship evidence for AI-assisted works: creative log, report.
plugins     cnai.cli.plugins:plugins        List extension points and what is registered on each.
schema      cnai.cli.plugins:schema         Print the JSON Schema of a data file cnai reads.
"""
COMMANDS: dict[str, tuple[str, str]] = {
    name: (target, help_line) for name, target, help_line in (row.split(None, 2) for row in _GROUPS.strip().splitlines())
}


# Subcommands that live in their own module but sit under another group: group -> [(name, module:attribute)].
SUBCOMMANDS: dict[str, list[tuple[str, str]]] = {
    "corpus": [("sources", "cnai.cli.corpus_sources:sources")],
    "label": [("watermark", "cnai.cli.label_watermark:watermark"),
              ("conformance", "cnai.cli.label_conformance:conformance")],
}


def _load(target: str):
    mod_name, attr = target.split(":")
    return getattr(importlib.import_module(mod_name), attr)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            target, _ = COMMANDS[name]
            mod_name, attr = target.split(":")
            try:
                module = importlib.import_module(mod_name)
            except ModuleNotFoundError as exc:
                if exc.name != mod_name:
                    raise
                return None  # a capability not installed in this build
            group = getattr(module, attr)
            for sub, sub_target in SUBCOMMANDS.get(name, []):
                if isinstance(group, click.Group) and sub not in group.commands:
                    try:
                        group.add_command(_load(sub_target), sub)
                    except ModuleNotFoundError as exc:
                        if exc.name != sub_target.split(":")[0]:
                            raise  # a real import error inside the module, not a missing optional part
            return group
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnai")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """cnai: China's AI rules as working software.

    Law as cited data and an applicability engine, GB 45438 content labels,
    GB/T 45654 self-assessment and training-data audit.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug or bool(os.environ.get("CNAI_DEBUG"))


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps library errors to exit code 2 with one clear message."""
    from cnai.errors import CnaiError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("CNAI_DEBUG"))
    try:
        cli.main(args=argv, prog_name="cnai", standalone_mode=False)
    except CnaiError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        # one line, like every other bad-input error (docs/spec/cli.md), with the way to more help
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except SystemExit:
        raise
