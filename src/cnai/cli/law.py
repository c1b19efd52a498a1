"""`cnai law list | show | search`: the knowledge base from the command line."""

from __future__ import annotations

import click

from cnai.cli._common import emit_json, parse_date
from cnai.errors import InputError


@click.group()
def law() -> None:
    """Instruments, articles, concepts, cases and practitioner topics, with citations and confidence."""


def instrument_row(ins, day) -> dict:
    status, by = ins.status_on(day)
    return {
        "id": ins.id, "title_zh": ins.title_zh, "title_en": ins.title_en, "short_en": ins.short_en,
        "kind": ins.kind, "depth": ins.depth, "issuers": ins.issuers, "document_number": ins.document_number,
        "issued": ins.issued, "effective": ins.effective, "status": status, "superseded_by": by,
        "sources": ins.sources, "confidence": ins.confidence,
        "articles": len(ins.articles), "obligations": len(ins.obligations),
    }


@law.command("list")
@click.option("--as-of", "as_of", metavar="DATE", help="Status on this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--kind", help="Only instruments of this kind (e.g. law, departmental_rule).")
def list_(as_of: str | None, fmt: str, kind: str | None) -> None:
    """List instruments with their status on a date."""
    from cnai.law.kb import load

    day = parse_date(as_of)
    rows = [instrument_row(i, day) for i in load().instruments.values() if not kind or i.kind == kind]
    rows.sort(key=lambda r: (r["effective"] is None, r["effective"] or day, r["id"]))
    if fmt == "json":
        emit_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"cnai knowledge base — status on {day}", show_lines=False)
    for col in ("id", "title", "effective", "status", "art.", "duties", "conf."):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], f"{r['title_zh']}\n{r['short_en'] or r['title_en']}", str(r["effective"] or "—"),
                  r["status"] + (f" → {r['superseded_by']}" if r["superseded_by"] else ""),
                  str(r["articles"]), str(r["obligations"]), r["confidence"])
    Console().print(t)


@law.command()
@click.argument("ref")
@click.option("--article", "-a", help="Article number (numbers of earlier versions are accepted with --as-of).")
@click.option("--as-of", "as_of", metavar="DATE", help="Resolve numbering and status on this date.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(ref: str, article: str | None, as_of: str | None, fmt: str) -> None:
    """Show an instrument (or one article), a concept, a case or a topic.

    REF is an instrument id (`generative-ai`), a citation (`generative-ai:7`), a concept id, a case id
    (`case-bjic-2023-ai-image-copyright`) or a topic id.
    """
    from cnai.law.kb import load

    kb = load()
    day = parse_date(as_of)
    if ":" in ref and article is None:
        ref, article = ref.split(":", 1)
        article = article.split("(")[0]
    record = _find(kb, ref, article, day)
    if fmt == "json":
        emit_json(record)
    else:
        _print_text(record)


def _find(kb, ref: str, article: str | None, day) -> dict:
    import difflib

    if ref in kb.instruments:
        ins = kb.instruments[ref]
        data = instrument_row(ins, day)
        data.update(summary_en=ins.summary_en.strip(), summary_zh=ins.summary_zh, published=ins.published,
                    status_history=[c.model_dump(by_alias=True) for c in ins.status_history], notes=ins.notes)
        if article is not None:
            art = ins.article(article, day)
            if art is None:
                numbers = ", ".join(a.number for a in ins.articles)
                raise InputError(f"no article {article!r} in {ref}; articles: {numbers}", field="--article")
            a = art.model_dump(by_alias=True, mode="json")
            a["cited_as"] = kb.cite_on(f"{ref}:{art.number}", day)
            a["obligations"] = [o.model_dump(by_alias=True, mode="json") for o in ins.obligations
                                if any(c.split("(")[0] == f"{ref}:{art.number}" for c in o.citations)]
            return {"type": "article", "instrument": data["id"], "instrument_title_en": ins.title_en,
                    "instrument_title_zh": ins.title_zh, "status": data["status"], "sources": ins.sources,
                    **a}
        data["articles"] = [a.model_dump(by_alias=True, mode="json") for a in ins.articles]
        data["concepts"] = [c.model_dump(mode="json") for c in ins.concepts]
        data["obligations"] = [o.model_dump(by_alias=True, mode="json") for o in ins.obligations]
        return {"type": "instrument", **data}
    for kind, table in (("concept", kb.concepts), ("case", kb.cases), ("topic", kb.topics),
                        ("regulator", kb.regulators)):
        if ref in table:
            return {"type": kind, **table[ref].model_dump(by_alias=True, mode="json")}
    every = [*kb.instruments, *kb.concepts, *kb.cases, *kb.topics, *kb.regulators]
    hint = difflib.get_close_matches(ref, every, n=1)
    raise InputError(f"unknown id {ref!r}" + (f"; did you mean {hint[0]!r}?" if hint else
                                              "; see `cnai law list`"), field="REF")


def _print_text(rec: dict) -> None:
    from rich.console import Console

    con = Console()
    kind = rec["type"]
    if kind == "instrument":
        con.print(f"[bold]{rec['title_zh']}[/bold]\n{rec['title_en']}  [dim]({rec['id']})[/dim]")
        con.print(f"{rec['kind']} · issued {rec['issued']} · effective {rec['effective']} · status "
                  f"{rec['status']} · confidence {rec['confidence']}")
        con.print(f"issuers: {', '.join(rec['issuers'])}  {rec.get('document_number') or ''}")
        con.print(rec["summary_en"], highlight=False)
        for s in rec["sources"]:
            con.print(f"  source: {s}", highlight=False)
        for a in rec["articles"]:
            con.print(f"\n[bold]Art. {a['number']}[/bold] {a.get('title') or ''} [dim]({a['confidence']})[/dim]")
            con.print("  " + " ".join(a["summary_en"].split()), highlight=False)
        if rec["obligations"]:
            con.print(f"\n[bold]Obligations ({len(rec['obligations'])})[/bold]")
            for o in rec["obligations"]:
                con.print(f"  • {o['id']} — {o['title']} [{', '.join(o['citations'])}] ({o['confidence']})",
                          highlight=False)
    elif kind == "article":
        con.print(f"[bold]{rec['cited_as']}[/bold] {rec.get('title') or ''} — {rec['instrument_title_zh']}")
        con.print(f"confidence {rec['confidence']} · instrument status {rec['status']}")
        con.print(" ".join(rec["summary_en"].split()), highlight=False)
        if rec.get("summary_zh"):
            con.print(rec["summary_zh"], highlight=False)
        for n in rec.get("numbering", []):
            con.print(f"  also numbered {n['number']} ({n.get('version') or ''} {n.get('from') or ''}–"
                      f"{n.get('until') or ''})", highlight=False)
        for o in rec["obligations"]:
            con.print(f"  duty: {o['id']} — {o['title']} ({o['confidence']})", highlight=False)
        for s in rec["sources"]:
            con.print(f"  source: {s}", highlight=False)
    else:
        title = rec.get("name_en") or rec.get("title_en")
        con.print(f"[bold]{title}[/bold] [dim]({kind} {rec['id']}, {rec.get('confidence')})[/dim]")
        for key in ("name_zh", "title_zh", "court", "case_number", "decided", "definition", "when", "remit",
                    "holding_en", "holding_zh", "summary_en", "summary_zh"):
            if rec.get(key):
                con.print(f"{key}: " + " ".join(str(rec[key]).split()), highlight=False)
        for p in rec.get("points", []):
            con.print(f"  • {p}", highlight=False)
        for key in ("citations", "cases", "sources"):
            if rec.get(key):
                con.print(f"{key}: {', '.join(rec[key])}", highlight=False)


@law.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--top", "-k", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--lang", type=click.Choice(["auto", "en", "zh"]), default="auto", show_default=True,
              help="Summaries in Chinese or English; auto: Chinese when the query has Chinese characters.")
def search(query: tuple[str, ...], top: int, fmt: str, lang: str) -> None:
    """Search articles, duties, concepts, cases and topics in Chinese or English.

    \b
    Examples:
      cnai law search "can an AI be named as inventor"
      cnai law search 训练数据 个人信息 同意
    """
    from cnai.law.search import search as run

    hits = run(" ".join(query), top, lang=None if lang == "auto" else lang)
    if fmt == "json":
        emit_json([h.to_dict() for h in hits])
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(show_lines=True)
    for col in ("#", "where", "what", "score"):
        t.add_column(col, overflow="fold")
    for n, h in enumerate(hits, 1):
        cite = f"{h.instrument}:{h.article}" if h.article else h.instrument
        # Topics, concepts and duties are located by their own id; the article they cite comes second.
        where = cite if h.kind in ("article", "instrument", "case") else f"{h.kind} {h.ref}\n(cites {cite})"
        t.add_row(str(n), where, f"[bold]{h.title}[/bold]\n{h.snippet}", f"{h.score:.2f}")
    Console().print(t)


@law.command()
@click.option("--as-of", "as_of", metavar="DATE", help="Values in force on this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def params(as_of: str | None, fmt: str) -> None:
    """List the law parameters (thresholds, periods, deadlines) with their value on a date.

    Triggers name these as `param.<name>`; each value cites the article that sets it.
    """
    from cnai.law.params import table

    day = parse_date(as_of)
    rows = table(day)
    if fmt == "json":
        emit_json({"as_of": day, "parameters": rows})
        return
    # plain lines: one parameter per line, easy to grep and as wide as it needs to be
    click.echo(f"Law parameters on {day} (value, since, citation, confidence):")
    for r in rows:
        value = f"{r['value']:,}" if isinstance(r["value"], int) else str(r["value"])
        note = "" if r["in_force_yet"] else "  [not yet set on this date; first value shown]"
        older = [f"{h['value']:,}" if isinstance(h["value"], int) else str(h["value"]) for h in r["history"]
                 if h["from"] < r["from"]]
        was = f"  (before: {', '.join(older)})" if older else ""
        click.echo(f"  {r['name']} = {value} {r['unit'].replace('_', ' ')} since {r['from']} "
                   f"[{r['citation']}, {r['confidence']}]{was}{note}")


@law.command()
@click.option("--from", "start", metavar="DATE", required=True, help="First day of the period.")
@click.option("--to", "end", metavar="DATE", help="Last day of the period (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table", show_default=True)
def changes(start: str, end: str | None, fmt: str) -> None:
    """What entered into force, was adopted, changed or ended between two dates.

    Built from the knowledge base's status histories, dated duties and articles, renumbering, dated law
    parameters and decided cases. `--format json` is a list of events (date, kind, ref, ...) for scripts.

    \b
    Examples:
      cnai law changes --from 2025-01-01 --to 2025-12-31
      cnai law changes --from 2026-01-01 --format json
    """
    from cnai.law.changes import changes as run

    first, last = parse_date(start, field="--from"), parse_date(end, field="--to")
    events = run(first, last)
    if fmt == "json":
        emit_json({"from": first, "to": last, "changes": [c.to_dict() for c in events]})
        return
    if fmt == "md":
        lines = [f"# Changes in the law, {first} to {last}", "",
                 f"{len(events)} changes (from the cnai knowledge base; paraphrases, not official text).", ""]
        lines += [f"- **{c.date}** · {c.kind.replace('_', ' ')} · `{c.ref}` — {c.title}"
                  + (f": {c.detail}" if c.detail else "") for c in events]
        click.echo("\n".join(lines))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Changes {first} to {last} ({len(events)})")
    for col in ("date", "change", "ref", "what"):
        t.add_column(col, overflow="fold")
    for c in events:
        t.add_row(c.date, c.kind.replace("_", " "), c.ref, c.title + (f"\n{c.detail}" if c.detail else ""))
    Console().print(t)


@law.command()
@click.option("--as-of", "as_of", metavar="DATE", help="Answer with the law as it stands on this date (default: today).")
@click.option("--since", metavar="DATE", help="Report what changed since this date (default: the 2024 guide "
                                              "edition date, 2024-06-01).")
@click.option("--question", "-q", type=int, metavar="N", help="Only question N (1..22).")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="zh shows the Chinese summaries (English, marked, where one is still missing).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Write to this file (atomically).")
def guide(as_of: str | None, since: str | None, question: int | None, fmt: str, lang: str, out: str | None) -> None:
    """Answer the 22 country-guide questions from the knowledge base, as of a date.

    Each answer is assembled from the cited entries valid on the date (nothing is a stored essay), lists
    what changed since --since among them, and answers that are assessments are marked opinion.

    \b
    Examples:
      cnai law guide --question 9
      cnai law guide --as-of 2025-06-01 --since 2024-06-01 --format json
      cnai law guide --lang zh --format html -o guide.html
    """
    from cnai.cli._common import output
    from cnai.law.guide import guide as build
    from cnai.law.guide import render

    if question is not None and not 1 <= question <= 22:
        raise InputError(f"{question} is not a question number (1..22)", field="--question")
    g = build(parse_date(as_of), parse_date(since, field="--since") if since else None, question, lang)
    output(render(g, fmt), out)


@law.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def stats(fmt: str) -> None:
    """Counts per instrument and the share of duties and articles marked verified."""
    from cnai.law.kb import load
    from cnai.law.stats import stats as run

    doc = run(load())
    if fmt == "json":
        emit_json(doc)
        return
    t = doc["totals"]
    click.echo(f"{t['instruments']} instruments, {t['articles']} articles, {t['obligations']} duties, "
               f"{t['concepts']} concepts, {t['topics']} topics, {t['cases']} cases, {t['parameters']} parameters")
    click.echo(f"verified: duties {t['obligations_verified']}/{t['obligations']} ({_pct(t['obligations_verified_share'])}),"
               f" articles {t['articles_verified']}/{t['articles']} ({_pct(t['articles_verified_share'])})")
    click.echo(f"{'instrument':32} {'duties':>7} {'verified':>9} {'articles':>9} {'verified':>9}")
    for r in doc["instruments"]:
        click.echo(f"{r['id']:32} {r['obligations']:>7} {_pct(r['obligations_verified_share']):>9} "
                   f"{r['articles']:>9} {_pct(r['articles_verified_share']):>9}")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"
