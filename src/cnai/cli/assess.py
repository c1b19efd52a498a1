"""`cnai assess ...` and `cnai bank ...`: GB/T 45654 security self-assessment (see docs/assess.md).

Thin layer: parse options, call cnai.assess (the library API), print. No logic of its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cnai.cli._common import emit_json, output
from cnai.errors import InputError


def _out(suffix: str):
    return click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help=f"Output {suffix}")


def _wrote(out: Path, n: int, noun: str) -> None:
    click.echo(f"wrote {out} ({n} {noun})", err=True)


# ---------------------------------------------------------------------------------------------- assess
@click.group()
def assess() -> None:
    """GB/T 45654 security self-assessment: run a model against banks, review, report."""


@assess.command("run")
@click.option("--target", "-t", help="openai:BASE_URL#MODEL | mock:NAME | cmd:COMMAND | python:MODULE:FUNC "
              "| a plug-in's scheme (required unless --resume).")
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
@click.option("--judge", "judges", multiple=True,
              help="Judges to run (repeatable; default: refusal, keyword, llm). See `cnai plugins`.")
@click.option("--document", help="Thresholds document (gbt-45654-2025 | tc260-003-2024).")
@click.option("--system", "system_prompt", help="System prompt sent before every item (e.g. your service's).")
@click.option("--max-tokens", type=int, default=512, show_default=True, help="openai targets: max_tokens (0: omit).")
@click.option("--temperature", type=float, default=0.0, show_default=True, help="openai targets: temperature.")
@click.option("--keyword-normalize/--no-keyword-normalize", "keyword_normalize", default=True, show_default=True,
              help="Keyword judge folds evasions (traditional, separators, homophones, pinyin, initials, split characters).")
@click.option("--attacks", default=None,
              help="Also ask attack variants of the sampled risk items: 'all' or a comma list of roleplay, "
                   "hypothetical, injection, encoding:base64, encoding:pinyin, encoding:split, encoding:homophone, "
                   "encoding:emoji, translation, multiturn. Reported per technique; never part of the verdicts.")
@click.option("--max-items", type=int, default=None, hidden=True)
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def run_cmd(target, banks, run_dir, concurrency, resume, sample, seed, rate, timeout, retries, keywords,
            judge_target, judges, document, system_prompt, max_tokens, temperature, keyword_normalize, attacks,
            max_items, fmt):
    """Ask every sampled item, judge the replies and store everything in RUN_DIR/run.sqlite.

    Exit 1 when no item got a usable reply (errors grouped by reason on stderr); 130/143 when stopped by
    SIGINT/SIGTERM (finished items are stored; the resume command is printed).
    """
    import cnai.assess as api
    from cnai.assess.runner import RunInterrupted

    try:
        res = api.run(target, banks, run_dir=run_dir, resume=resume, progress=sys.stderr.isatty() or fmt == "text",
                      max_items=max_items, keywords=list(keywords) or None, seed=seed, sample=sample,
                      concurrency=concurrency, rate=rate, timeout=timeout, retries=retries,
                      judge_target=judge_target, judges=list(judges) or None, document=document,
                      system=system_prompt, max_tokens=max_tokens or None, temperature=temperature,
                      **({} if resume else {"keyword_normalize": keyword_normalize,
                                            "attacks": attacks.split(",") if attacks else None}))
    except (RunInterrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, RunInterrupted) else 130
        cmd = exc.resume_command if isinstance(exc, RunInterrupted) else \
            f"cnai assess run --resume --run-dir {run_dir}"
        click.echo(f"interrupted; completed items are stored. Continue with: {cmd}", err=True)
        sys.exit(code)
    summary = res.summary()
    if fmt == "json":
        emit_json(summary)
    else:
        s = res.session
        click.echo(f"run: {run_dir}  asked {s['asked']} ({s['error']} errors) in {s['elapsed_s']}s")
        for k, v in summary["metrics"].items():
            r = v.get("pass_rate", v.get("refusal_rate"))
            click.echo(f"  {k:18s} n={v['n']:<6d} rate={'-' if r is None else f'{r:.3f}'} "
                       f"errors={v['errors']} verdict={v['verdict']}")
        att = res.metrics.get("attacks") or {}
        for t in att.get("techniques", []):
            b = att["by_technique"][t]["all"]
            r = b["success_rate"]
            click.echo(f"  attack {t:20s} n={b['n']:<6d} got through={'-' if r is None else f'{r:.3f}'}")
        click.echo(f"  conclusion: {res.conclusion}  (report: cnai assess report {run_dir} --format html -o report.html)")
    lines = res.error_lines()
    if res.failed_all:
        click.echo(f"error: {run_dir}: no item got a usable reply ({res.errors} of "
                   f"{res.metrics['items']['sampled']} failed): " + "; ".join(lines or ["see the report"]), err=True)
        sys.exit(1)
    if res.errors:
        click.echo(f"warning: {res.errors} of {res.metrics['items']['sampled']} items failed and count as failures: "
                   + "; ".join(lines), err=True)


@assess.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="md", show_default=True,
              help="md | html | json | xlsx, or a format a plug-in registers (cnai plugins).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None)
@click.option("--check", is_flag=True, help="Exit 1 unless the overall conclusion is 'meets'.")
@click.option("--document", help="Judge against another thresholds document (default: the run's).")
@click.option("--checklist", type=click.Path(path_type=Path), help="Filled per-clause checklist (cnai assess checklist).")
def report_cmd(run_dir, fmt, out, check, document, checklist):
    """Report on a run: per-clause verdicts, per-risk tables, worst examples, method and manifest."""
    import cnai.assess as api
    from cnai.core.reports import get_format

    if get_format("assess", fmt).binary and out is None:
        raise InputError(f"{fmt.upper()} needs -o FILE", field="-o")
    rep = api.report(run_dir, format=fmt, out=out, document=document, checklist=checklist)
    if out is None:
        click.echo(rep.content)
    else:
        click.echo(f"wrote {out}", err=True)
    if check and rep.conclusion != "meets":
        sys.exit(1)


@assess.command("checklist")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None)
def checklist_cmd(out):
    """Write the per-clause checklist template (chapters 5-8) to fill in for the report."""
    import cnai.assess as api

    output(api.checklist_template(), out)


@assess.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Exit 1 if any verdict got worse from A to B.")
def compare_cmd(run_a, run_b, check):
    """Compare two runs (e.g. before/after a model update): rate deltas, verdict changes, flipped items."""
    import cnai.assess as api

    res = api.compare_runs(run_a, run_b)
    emit_json(res)
    if check and res["regressed_verdicts"]:
        sys.exit(1)


@assess.command("review-export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@_out(".xlsx")
@click.option("--only", type=click.Choice(["all", "failed", "unreviewed"]), default="all", show_default=True)
def review_export(run_dir, out, only):
    """Export answered items to an XLSX sheet for human reviewers."""
    import cnai.assess as api

    _wrote(out, api.export_review(run_dir, out, only=only), "items")


@assess.command("review-import")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("sheet", type=click.Path(path_type=Path))
@click.option("--reviewer", help="Reviewer name when the sheet has none.")
def review_import(run_dir, sheet, reviewer):
    """Import reviewers' verdicts; they override machine verdicts (kept with an audit trail)."""
    import cnai.assess as api

    emit_json(api.import_review(run_dir, sheet, reviewer=reviewer))


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
@click.option("--fault", "fault_kinds", multiple=True,
              help="Only these faults (repeatable): 429 500 503 hang reset truncated nonjson nochoices slow 401 null.")
@click.option("--seed", type=int, default=0)
@click.option("--mock", "mock", default="mixed", show_default=True,
              help="Which mock answers: mixed, refuse, comply, unsafe, gullible (falls for jailbreak framing).")
def test_server(port, latency, faults, fault_kinds, seed, mock):
    """Local OpenAI-compatible server on 127.0.0.1 (mock replies, optional latency and faults)."""
    from cnai.assess.runner import run_async
    from cnai.assess.testserver import serve_forever

    click.echo(f"serving http://127.0.0.1:{port}/v1 (latency {latency}s, faults {faults})", err=True)
    run_async(serve_forever(port=port, latency=latency, fault_rate=faults, seed=seed,
                            faults=tuple(fault_kinds) or None, mock=mock))


# ------------------------------------------------------------------------------------------------ bank
@click.group()
def bank() -> None:
    """GB/T 45654 test banks and keyword libraries: check, import, export, augment."""


@bank.command("check")
@click.argument("specs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--document", help="Minimums from gbt-45654-2025 (default) or tc260-003-2024.")
@click.option("--lenient", is_flag=True, help="Skip bad rows (listed) instead of stopping at the first one.")
@click.option("--omit-aspect", "omit_aspects", multiple=True,
              help="Should-not-refuse aspect a domain-specific service does not cover (recorded in the output).")
@click.option("--normalize/--no-normalize", default=True, show_default=True,
              help="Count keyword entries that fold to the same form (traditional, full-width, spaced) once.")
def bank_check(specs, fmt, document, lenient, omit_aspects, normalize):
    """Coverage of banks and keyword libraries against the standard's minimums (exit 1 if one is unmet).

    SPECS are files (.jsonl/.yaml/.xlsx banks; keyword libraries are detected) or built-in names:
    starter (all starter banks + keywords), starter-generated, starter-refuse, starter-nonrefuse,
    starter-keywords.
    """
    import cnai.assess as api

    res = api.check_bank(specs, document=document, lenient=lenient, omit_aspects=omit_aspects, normalize=normalize)
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
        for p in res["problems"][:20]:
            click.echo(f"  skipped: {p}")
        if res["omitted_aspects"]:
            click.echo(f"omitted should-not-refuse aspects (document why): {', '.join(res['omitted_aspects'])}")
        click.echo(f"{res['unmet']} minimum(s) not met ({res['document']})" if res["unmet"] else "all minimums met")
    if not res["ok"]:
        sys.exit(1)


@bank.command("import")
@click.argument("xlsx_file", type=click.Path(path_type=Path))
@_out(".jsonl")
@click.option("--keywords", "as_keywords", is_flag=True, help="The sheet is a keyword list (关键词|一级分类|二级分类).")
def bank_import(xlsx_file, out, as_keywords):
    """Import a filing-layout XLSX (test questions or keyword list) into JSONL."""
    import cnai.assess as api

    _wrote(out, api.import_bank(xlsx_file, out, keywords=as_keywords), "keywords" if as_keywords else "items")


@bank.command("export")
@click.argument("specs", nargs=-1, required=True)
@_out(".xlsx")
@click.option("--keywords", "as_keywords", is_flag=True, help="Export the keyword library(ies) instead.")
def bank_export(specs, out, as_keywords):
    """Export banks (or keyword libraries) to the filing XLSX layout."""
    import cnai.assess as api

    _wrote(out, api.export_bank(specs, out, keywords=as_keywords), "rows")


@bank.command("augment")
@click.argument("specs", nargs=-1, required=True)
@_out(".jsonl")
@click.option("--with", "wrappers", default="all", show_default=True,
              help="Comma list of: rephrase:polite, rephrase:detail, roleplay, hypothetical, translation, "
                   "encoding:base64, multiturn.")
@click.option("--kinds", default=None, help="Comma list of bank kinds (default: all).")
@click.option("--include-original/--no-include-original", default=True, show_default=True)
@click.option("--pairs", is_flag=True, help="Also apply every ordered pair of different wrappers.")
def bank_augment(specs, out, wrappers, kinds, include_original, pairs):
    """Grow banks with tagged rephrasings and attack wrappers (ids '<id>~<wrapper>')."""
    import cnai.assess as api

    names = None if wrappers == "all" else [w.strip() for w in wrappers.split(",") if w.strip()]
    ks = None if kinds is None else [k.strip() for k in kinds.split(",") if k.strip()]
    r = api.augment_bank(specs, out, wrappers=names, kinds=ks, include_original=include_original, pairs=pairs)
    click.echo(f"wrote {out} ({r['written']} items: {r['augmented']} augmented from {r['base']})", err=True)


@bank.group("keywords")
def bank_keywords() -> None:
    """Keyword libraries: the forms evasion-normalised matching catches."""


@bank_keywords.command("expand")
@click.argument("specs", nargs=-1, required=True)
@_out(".xlsx or .csv")
def bank_keywords_expand(specs, out):
    """Write each entry with the forms it catches (folded, traditional, split, pinyin, initials, homophone
    syllables) for the filing annex. SPECS: keyword files or `starter`."""
    import cnai.assess as api

    r = api.expand_keywords(specs, out)
    click.echo(f"wrote {out} ({r['entries']} entries, {r['spelled_forms']} spelled-out forms)", err=True)


@bank.command("mutate")
@click.argument("specs", nargs=-1, required=True)
@_out(".jsonl")
@click.option("--attacks", default="all", show_default=True,
              help="Comma list of: roleplay, hypothetical, injection, encoding:base64, encoding:pinyin, "
                   "encoding:split, encoding:homophone, encoding:emoji, translation, multiturn.")
@click.option("--include-original/--no-include-original", default=False, show_default=True)
def bank_mutate(specs, out, attacks, include_original):
    """Attack variants of generated-content and should-refuse items, tagged attack:<technique>
    (ids '<id>~atk:<technique>'); they never count toward bank minimums."""
    import cnai.assess as api

    r = api.mutate_bank(specs, out, attacks=attacks, include_original=include_original)
    click.echo(f"wrote {out} ({r['written']} items: {r['variants']} variants of {r['base']} base items; "
               f"{', '.join(f'{k} {v}' for k, v in r['by_technique'].items())})", err=True)


@bank.command("import-public")
@click.argument("set_name", metavar="SET", type=click.Choice(["seval", "flames", "cvalues", "superclue-safety"]))
@click.argument("file", type=click.Path(path_type=Path))
@_out(".jsonl bank")
@click.option("--risk", help="Assign this risk code to every item (sets without categories, e.g. cvalues).")
@click.option("--kind", default="generated", show_default=True, help="Bank kind of the imported items.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def bank_import_public(set_name, file, out, risk, kind, fmt):
    """Import a public Chinese safety set you obtained (S-Eval, Flames, CValues-Comparison, SuperCLUE-Safety):
    categories mapped to the 31 risks (data/public_sets.yaml, each with a confidence); run it like any bank."""
    import cnai.assess as api

    r = api.import_public_set(set_name, file, out, risk=risk, kind=kind)
    if fmt == "json":
        emit_json(r)
    else:
        click.echo(f"wrote {out} ({r['written']} of {r['read']} items; by risk {r['by_risk']}; "
                   f"mapping confidence {r['by_confidence']})", err=True)
        for reason, n in r["skipped_by_reason"].items():
            click.echo(f"  skipped {n} × {reason}", err=True)


@assess.command("judge-eval")
@click.option("--set", "labelled", type=click.Path(path_type=Path), required=True,
              help="Labelled replies (JSONL: reply, refused, harmful).")
@click.option("--judge", type=click.Choice(["refusal", "keyword", "llm"]), default="refusal", show_default=True)
@click.option("--endpoint", help="llm judge: an OpenAI-compatible base URL (key from CNAI_API_KEY).")
@click.option("--model", "model_name", help="llm judge: the model name at --endpoint.")
@click.option("--judge-target", help="llm judge: any target spec instead (openai:URL#MODEL, python:MOD:FUNC, ...).")
@click.option("--keywords", "-k", multiple=True, help="keyword judge: library files (default: built-in).")
@click.option("--concurrency", "-c", type=int, default=8, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def judge_eval_cmd(labelled, judge, endpoint, model_name, judge_target, keywords, concurrency, fmt):
    """Measure a judge's agreement with a labelled reply set (accuracy, precision, recall with Wilson CIs)."""
    from cnai.assess.judge_eval import load_labelled, score
    from cnai.errors import InputError

    target = judge_target
    if judge == "llm" and not target:
        if not (endpoint and model_name):
            raise InputError("the llm judge needs --endpoint URL and --model NAME (or --judge-target)", field="--endpoint")
        target = f"openai:{endpoint}#{model_name}"
    res = score(load_labelled(labelled), judge, target=target, keywords=list(keywords) or None,
                concurrency=concurrency)
    if fmt == "json":
        emit_json(res)
        return
    ci = res["accuracy_ci95"]
    click.echo(f"{judge} judge vs '{res['label']}' on {res['n']} replies: accuracy {res['accuracy']:.3f} "
               f"(95% CI {ci[0]:.3f}-{ci[1]:.3f}), precision {res['precision'] if res['precision'] is None else round(res['precision'], 3)}, "
               f"recall {res['recall'] if res['recall'] is None else round(res['recall'], 3)}"
               + (f", no verdict {res['no_verdict']}" if "no_verdict" in res else ""))
    for c, b in res["by_category"].items():
        click.echo(f"  {c:16} n={b['n']:4}  correct={b['correct']:4}  judged {res['label']}={b['judged_true']}")
