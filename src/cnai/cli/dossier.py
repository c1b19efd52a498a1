"""`cnai dossier build | verify | gaps`: a thin layer over cnai.dossier."""

from __future__ import annotations

import sys

import click

from cnai.cli._common import emit_json, parse_date


@click.group()
def dossier() -> None:
    """CAC filing and registration packages built from measured evidence."""


@dossier.command()
@click.argument("profile", type=click.Path(dir_okay=False))
@click.option("-o", "--out", required=True, type=click.Path(), help="Output directory (new, empty or a previous dossier).")
@click.option("--run", "runs", multiple=True, type=click.Path(), help="Assessment run directory (cnai assess run). Repeatable.")
@click.option("--audit", "audits", multiple=True, type=click.Path(), help="Corpus-audit output directory (cnai corpus audit --out). Repeatable.")
@click.option("--review", "reviews", multiple=True, type=click.Path(dir_okay=False),
              help="'cnai corpus review import' JSON for the audit at the same position. Repeatable.")
@click.option("--label-check", "label_checks", multiple=True, type=click.Path(), help="cnai label check --format jsonl output. Repeatable.")
@click.option("--keywords", type=click.Path(), help="Keyword bank (附件4), the library the service filters with.")
@click.option("--questions", type=click.Path(), help="Question bank (附件5); must be the bank the runs were made with.")
@click.option("--evidence", "extras", multiple=True, metavar="ROLE=PATH",
              help="Extra evidence with its role: service-agreement, privacy-policy, contract, licence, policy, "
                   "collection-records, authorization, content-safety-system, test-channel, other.")
@click.option("--facts", type=click.Path(dir_okay=False), help="Filing facts not in the profile (cnai schema dossier-facts).")
@click.option("--route", type=click.Choice(["auto", "filing", "registration", "algorithm"]), default="auto", show_default=True)
@click.option("--as-of", help="As-of date YYYY-MM-DD (default today).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="en adds an English working copy under en/.")
@click.option("--templates", type=click.Path(file_okay=False), help="Folder overriding built-in templates / package.yaml.")
@click.option("--sign", is_flag=True, help="Sign manifest.json with Ed25519 (key from CNAI_LABEL_SIGNING_KEY).")
@click.option("--key-env", default="CNAI_LABEL_SIGNING_KEY", show_default=True, help="Environment variable holding the key.")
@click.option("--no-pdf", is_flag=True, help="Skip the PDF rendering.")
@click.option("-v", "--verbose", is_flag=True, help="Progress on stderr.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def build(profile, out, runs, audits, reviews, label_checks, keywords, questions, extras, facts, route, as_of, lang,
          templates, sign, key_env, no_pdf, verbose, fmt) -> None:
    """Build the dossier. Exits 0 once written, even with open gaps (their count is printed)."""
    from cnai.dossier.build import build as do_build

    res = do_build(profile, out, runs=runs, audits=audits, reviews=reviews, label_checks=label_checks, keywords=keywords,
                   questions=questions, extras=extras, facts=facts, route=route,
                   as_of=parse_date(as_of) if as_of else None, lang=lang, templates=templates,
                   sign_key_env=key_env if sign else None, pdf=not no_pdf,
                   progress=(lambda m: click.echo(m, err=True)) if verbose else None)
    if fmt == "json":
        emit_json(res.summary())
    else:
        click.echo(f"dossier written: {res.out} ({len(res.files)} files; routes: {', '.join(res.routes)}; "
                   f"{res.open_gaps} open gaps — see 差距清单.docx / 'cnai dossier gaps {res.out}')")


@dossier.command()
@click.argument("folder", type=click.Path())
@click.option("--trust", multiple=True, type=click.Path(dir_okay=False), help="Trusted public key (file). Repeatable.")
@click.option("--check-inputs", is_flag=True, help="Also re-hash the inputs recorded in the manifest.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(folder, trust, check_inputs, fmt) -> None:
    """Recompute every hash and the signature. Exit 1 naming each changed, missing or extra file."""
    from cnai.dossier.manifest import verify as do_verify

    r = do_verify(folder, trusted=list(trust) or None, check_inputs=check_inputs)
    if fmt == "json":
        emit_json(r)
    else:
        for p in r["problems"]:
            click.echo(f"{p['problem']}: {p['path']}")
        click.echo(f"{'intact' if r['ok'] else 'NOT intact'}: {r['files']} files, signature {r['signature']}",
                   err=not r["ok"])
    sys.exit(0 if r["ok"] else 1)


@dossier.command()
@click.argument("folder", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def gaps(folder, fmt) -> None:
    """The dossier's gaps; exit 1 when any is open."""
    from cnai.dossier import gaps as load_gaps

    d = load_gaps(folder)
    open_ = [g for g in d["gaps"] if g.get("status") == "open"]
    if fmt == "json":
        emit_json(d)
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table("#", "kind", "where", "gap", "close", show_lines=False)
        for i, g in enumerate(d["gaps"], 1):
            t.add_row(str(i), g.get("kind", ""), g.get("where", ""), g.get("what", ""), g.get("close", ""))
        Console(width=200).print(t)
        click.echo(f"{len(open_)} open gaps", err=True)
    sys.exit(1 if open_ else 0)
