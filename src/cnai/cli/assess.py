"""`cnai assess ...` and `cnai bank ...`: GB/T 45654 security self-assessment (see docs/assess.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cnai.cli._common import emit_json, output
from cnai.errors import InputError


def _split(values: tuple[str, ...]) -> list[str]:
    return [v for v in values if v]


# ---------------------------------------------------------------------------------------------- assess
@click.group()
def assess() -> None:
    """GB/T 45654 security self-assessment: run a model against banks, review, report."""


@assess.command("run")
@click.option("--target", "-t", help="openai:BASE_URL#MODEL | mock:NAME | cmd:COMMAND | python:MODULE:FUNC "
              "(required unless --resume).")
@click.option("--bank", "-b", "banks", multiple=True, help="Bank file or built-in name (starter, starter-refuse, ...).")
@click.option("--run-dir", "-d", type=click.Path(path_type=Path), default=Path("cnai-run"), show_default=True)
@click.option("--concurrency", "-c", type=int, default=16, show_default=True)
@click.option("--resume", is_flag=True, help="Continue an interrupted run; completed items are never re-asked.")
@click.option("--sample", default="standard", show_default=True,
              help="standard (the standard's sample sizes) | all | N | kind=N,... (kinds generated, refuse, nonrefuse).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--rate", type=float, default=None, help="Max requests per second.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Per-request timeout (s).")
@click.option("--retries", type=int, default=4, show_default=True)
@click.option("--keywords", "-k", multiple=True, help="Keyword library files (default: starter).")
@click.option("--judge-target", help="Optional LLM-as-judge target for generated-content replies.")
@click.option("--document", help="Thresholds document (gbt-45654-2025 | tc260-003-2024).")
@click.option("--system", "system_prompt", help="System prompt sent before every item (e.g. your service's).")
@click.option("--max-tokens", type=int, default=512, show_default=True, help="openai targets: max_tokens (0: omit).")
@click.option("--temperature", type=float, default=0.0, show_default=True, help="openai targets: temperature.")
@click.option("--max-items", type=int, default=None, hidden=True)
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def run_cmd(target, banks, run_dir, concurrency, resume, sample, seed, rate, timeout, retries, keywords,
            judge_target, document, system_prompt, max_tokens, temperature, max_items, fmt):
    """Ask every sampled item, judge the replies and store everything in RUN_DIR/run.sqlite."""
    from cnai.assess.metrics import compute
    from cnai.assess.run import RunConfig, run_assessment
    from cnai.assess.store import connect

    if not resume and not target:
        raise InputError("--target is required (unless --resume)", field="--target")
    if not resume and not banks:
        raise InputError("at least one --bank is required (e.g. --bank starter)", field="--bank")
    cfg = RunConfig(target=target or "", banks=list(banks), keywords=list(keywords) or ["starter"], seed=seed,
                    sample=sample, concurrency=concurrency, rate=rate, timeout=timeout, retries=retries,
                    judge_target=judge_target, document=document, system=system_prompt,
                    max_tokens=max_tokens or None, temperature=temperature)
    if resume:
        cfg.validate()
    try:
        stats = run_assessment(run_dir, cfg, resume=resume, progress=sys.stderr.isatty() or fmt == "text",
                               max_items=max_items)
    except KeyboardInterrupt:
        click.echo(f"interrupted; completed items are stored. Continue with: cnai assess run --resume "
                   f"--run-dir {run_dir}", err=True)
        sys.exit(130)
    db = connect(run_dir)
    m = compute(db)
    db.close()
    summary = {"run_dir": str(run_dir), "session": stats, "conclusion": m["conclusion"],
               "metrics": {k: {kk: v.get(kk) for kk in ("n", "pass_rate", "refusal_rate", "errors", "verdict")
                               if kk in v} for k, v in m["metrics"].items()},
               "errors": m["errors"]}
    if fmt == "json":
        emit_json(summary)
    else:
        click.echo(f"run: {run_dir}  asked {stats['asked']} ({stats['error']} errors) in {stats['elapsed_s']}s")
        for k, v in summary["metrics"].items():
            rate = v.get("pass_rate", v.get("refusal_rate"))
            click.echo(f"  {k:18s} n={v['n']:<6d} rate={'-' if rate is None else f'{rate:.3f}'} "
                       f"errors={v['errors']} verdict={v['verdict']}")
        click.echo(f"  conclusion: {m['conclusion']}  (report: cnai assess report {run_dir} --format html -o report.html)")


@assess.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json", "xlsx"]), default="md", show_default=True)
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None)
@click.option("--check", is_flag=True, help="Exit 1 unless the overall conclusion is 'meets'.")
@click.option("--document", help="Judge against another thresholds document (default: the run's).")
@click.option("--checklist", type=click.Path(path_type=Path), help="Filled per-clause checklist (cnai assess checklist).")
def report_cmd(run_dir, fmt, out, check, document, checklist):
    """Report on a run: per-clause verdicts, per-risk tables, worst examples, method and manifest."""
    from cnai.assess import report

    data = report.build(run_dir, document=document, checklist=checklist)
    if fmt == "json":
        if out:
            output(report.render_json(data), out)
        else:
            emit_json(data)
    elif fmt == "md":
        output(report.render_md(data), out)
    elif fmt == "html":
        output(report.render_html(data), out)
    else:
        if out is None:
            raise InputError("XLSX needs -o FILE", field="-o")
        report.write_xlsx(run_dir, data, out)
        click.echo(f"wrote {out}", err=True)
    if check and data["conclusion"] != "meets":
        sys.exit(1)


@assess.command("checklist")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None)
def checklist_cmd(out):
    """Write the per-clause checklist template (chapters 5-8) to fill in for the report."""
    from cnai.assess.checklist import template

    output(template(), out)


@assess.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Exit 1 if any verdict got worse from A to B.")
def compare_cmd(run_a, run_b, check):
    """Compare two runs (e.g. before/after a model update): rate deltas, verdict changes, flipped items."""
    from cnai.assess.compare import compare

    res = compare(run_a, run_b)
    emit_json(res)
    if check and res["regressed_verdicts"]:
        sys.exit(1)


@assess.command("review-export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True)
@click.option("--only", type=click.Choice(["all", "failed", "unreviewed"]), default="all", show_default=True)
def review_export(run_dir, out, only):
    """Export answered items to an XLSX sheet for human reviewers."""
    from cnai.assess.review import export_review

    _need_run(run_dir)
    n = export_review(run_dir, out, only=only)
    click.echo(f"wrote {out} ({n} items)", err=True)


@assess.command("review-import")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--reviewer", help="Reviewer name when the sheet has none.")
def review_import(run_dir, sheet, reviewer):
    """Import reviewers' verdicts; they override machine verdicts (kept with an audit trail)."""
    from cnai.assess.review import import_review

    _need_run(run_dir)
    res = import_review(run_dir, sheet, reviewer=reviewer)
    emit_json(res)


@assess.command("taxonomy")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def taxonomy_cmd(fmt):
    """The 31 risks of GB/T 45654 Appendix A."""
    from cnai.core.taxonomy import load_taxonomy

    tax = load_taxonomy()
    if fmt == "json":
        emit_json({"document": tax.document, "confidence": tax.confidence, "sources": list(tax.sources),
                   "risks": [r.to_dict() for r in tax.risks],
                   "non_refusal_aspects": [a.__dict__ for a in tax.aspects]})
    else:
        for r in tax.risks:
            click.echo(f"{r.code}  {'K' if r.keyword_risk else ' '}  {r.zh}  —  {r.en}")


@assess.command("test-server")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds per reply.")
@click.option("--faults", type=float, default=0.0, show_default=True, help="Fraction of requests that fail.")
@click.option("--seed", type=int, default=0)
def test_server(port, latency, faults, seed):
    """Local OpenAI-compatible server on 127.0.0.1 (mock replies, optional latency and faults)."""
    from cnai.assess.run import run_async
    from cnai.assess.testserver import serve_forever

    click.echo(f"serving http://127.0.0.1:{port}/v1 (latency {latency}s, faults {faults})", err=True)
    run_async(serve_forever(port=port, latency=latency, fault_rate=faults, seed=seed))


def _need_run(run_dir: Path) -> None:
    if not (Path(run_dir) / "run.sqlite").exists():
        raise InputError("not a run directory (run.sqlite missing)", path=str(run_dir))


# ------------------------------------------------------------------------------------------------ bank
@click.group()
def bank() -> None:
    """GB/T 45654 test banks and keyword libraries: check, import, export, augment."""


def _is_keyword_file(p: Path) -> bool:
    suf = p.suffix.lower()
    if suf in (".txt", ".tsv"):
        return True
    if suf == ".xlsx":
        from cnai.assess.xlsx import _open

        wb = _open(p)
        try:
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True, max_row=1):
                    return any(str(c).strip() in ("关键词", "keyword") for c in row if c is not None)
        finally:
            wb.close()
        return False
    try:
        head = p.read_bytes()[:4096].decode("utf-8", "ignore")
    except OSError:
        return False
    if suf == ".jsonl":
        return '"keyword"' in head.split("\n", 1)[0]
    if suf in (".yaml", ".yml"):
        import re

        return bool(re.search(r"^keywords\s*:", head, re.M) or re.search(r"^A\.[1-5]\.[a-i]\s*:", head, re.M))
    return False


def _split_specs(specs) -> tuple[list[str], list]:
    from cnai.assess.keywords import STARTER_PATH

    banks, kws = [], []
    for s in specs:
        if s == "starter":
            banks.append(s)
            kws.append(STARTER_PATH)
        elif s in ("starter-keywords", "keywords"):
            kws.append(STARTER_PATH)
        elif s.startswith("starter") or s in ("generated", "refuse", "nonrefuse"):
            banks.append(s)
        else:
            p = Path(s)
            if not p.exists():
                raise InputError("no such file", path=s)
            (kws if _is_keyword_file(p) else banks).append(s if not _is_keyword_file(p) else p)
    return banks, kws


@bank.command("check")
@click.argument("specs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--document", help="Minimums from gbt-45654-2025 (default) or tc260-003-2024.")
@click.option("--lenient", is_flag=True, help="Skip bad rows (listed) instead of stopping at the first one.")
@click.option("--omit-aspect", "omit_aspects", multiple=True,
              help="Should-not-refuse aspect a domain-specific service does not cover (recorded in the output).")
def bank_check(specs, fmt, document, lenient, omit_aspects):
    """Coverage of banks and keyword libraries against the standard's minimums (exit 1 if one is unmet).

    SPECS are files (.jsonl/.yaml/.xlsx banks; keyword libraries are detected) or built-in names:
    starter (all starter banks + keywords), starter-generated, starter-refuse, starter-nonrefuse,
    starter-keywords.
    """
    from cnai.assess.banks import check_coverage, load_banks
    from cnai.assess.keywords import KeywordLibrary, read_keyword_file

    bspecs, kspecs = _split_specs(specs)
    bank_ = load_banks(bspecs, strict=not lenient) if bspecs else None
    lib = None
    problems = list(bank_.problems) if bank_ else []
    if kspecs:
        lib = KeywordLibrary()
        for k in kspecs:
            part, probs = read_keyword_file(k, strict=not lenient)
            lib.extend(part)
            problems.extend(probs)
    res = check_coverage(bank_, lib, document=document, omit_aspects=omit_aspects)
    res["skipped_rows"] = len(problems)
    res["problems"] = problems[:100]
    if fmt == "json":
        emit_json(res)
    else:
        for name, sec in res["banks"].items():
            click.echo(f"{name}: {sec['items']} items")
        for c in res["checks"]:
            if not c["met"] or c["scope"] == "total":
                mark = "ok " if c["met"] else "LOW"
                click.echo(f"  {mark} {c['bank']:9s} {c['scope']:10s} {c['count']:>6d} / {c['minimum']:<6d} "
                           f"({c['clause']}, {c['confidence']})")
        for p in problems[:20]:
            click.echo(f"  skipped: {p}")
        if res["omitted_aspects"]:
            click.echo(f"omitted should-not-refuse aspects (document why): {', '.join(res['omitted_aspects'])}")
        click.echo(f"{res['unmet']} minimum(s) not met ({res['document']})" if res["unmet"] else "all minimums met")
    if not res["ok"]:
        sys.exit(1)


@bank.command("import")
@click.argument("xlsx_file", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Output .jsonl")
@click.option("--keywords", "as_keywords", is_flag=True, help="The sheet is a keyword list (关键词|一级分类|二级分类).")
def bank_import(xlsx_file, out, as_keywords):
    """Import a filing-layout XLSX (test questions or keyword list) into JSONL."""
    import json

    from cnai.assess.banks import load_banks, write_jsonl
    from cnai.cli._common import write_text_atomic

    if as_keywords:
        from cnai.assess.keywords import read_keyword_file

        lib, _ = read_keyword_file(xlsx_file)
        write_text_atomic(out, "".join(json.dumps({"keyword": k.keyword, "risk": k.risk, "level1": k.level1,
                                                   "level2": k.level2}, ensure_ascii=False) + "\n"
                                       for k in lib.keywords))
        click.echo(f"wrote {out} ({len(lib)} keywords)", err=True)
    else:
        b = load_banks([str(xlsx_file)])
        n = write_jsonl(b.items, out)
        click.echo(f"wrote {out} ({n} items)", err=True)


@bank.command("export")
@click.argument("specs", nargs=-1, required=True)
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Output .xlsx")
@click.option("--keywords", "as_keywords", is_flag=True, help="Export the keyword library(ies) instead.")
def bank_export(specs, out, as_keywords):
    """Export banks (or keyword libraries) to the filing XLSX layout."""
    from cnai.assess.banks import load_banks
    from cnai.assess.xlsx import write_bank_xlsx, write_keyword_xlsx

    if as_keywords:
        from cnai.assess.keywords import load_keyword_library

        lib = load_keyword_library(["starter" if s in ("starter", "starter-keywords") else s for s in specs])
        n = write_keyword_xlsx(lib, out)
    else:
        n = write_bank_xlsx(load_banks(list(specs)).items, out)
    click.echo(f"wrote {out} ({n} rows)", err=True)


@bank.command("augment")
@click.argument("specs", nargs=-1, required=True)
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Output .jsonl")
@click.option("--with", "wrappers", default="all", show_default=True,
              help="Comma list of: rephrase:polite, rephrase:detail, roleplay, hypothetical, translation, "
                   "encoding:base64, multiturn.")
@click.option("--kinds", default="generated,refuse,nonrefuse", show_default=True)
@click.option("--include-original/--no-include-original", default=True, show_default=True)
@click.option("--pairs", is_flag=True, help="Also apply every ordered pair of different wrappers.")
def bank_augment(specs, out, wrappers, kinds, include_original, pairs):
    """Grow banks with tagged rephrasings and attack wrappers (ids '<id>~<wrapper>')."""
    from cnai.assess.banks import WRAPPERS, augment, load_banks, write_jsonl

    b = load_banks(list(specs))
    ks = {k.strip() for k in kinds.split(",") if k.strip()}
    names = list(WRAPPERS) if wrappers == "all" else [w.strip() for w in wrappers.split(",") if w.strip()]
    base = [i for i in b.items if i.kind in ks]
    new = augment(base, names, pairs=pairs)
    items = (base if include_original else []) + new
    n = write_jsonl(items, out)
    click.echo(f"wrote {out} ({n} items: {len(new)} augmented from {len(base)})", err=True)
