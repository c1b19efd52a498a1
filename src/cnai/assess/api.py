"""The self-assessment as function calls: every `cnai assess` / `cnai bank` verb is one function here.

    import cnai.assess as assess
    res = assess.run("mock:mixed", ["starter"], run_dir="run1", seed=1)
    res.conclusion, res.failed_all, res.error_lines()
    rep = assess.report("run1", format="html", out="report.html")
    cov = assess.check_bank(["starter"])            # cov["ok"], cov["unmet"], cov["checks"]

The CLI (cnai/cli/assess.py) parses arguments, calls these and prints; it holds no logic of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnai.errors import InputError

from . import store


# --- run ------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    run_dir: Path
    session: dict                       # this session: asked, ok, error, elapsed_s, errors_by_reason, ...
    metrics: dict                       # cnai.assess.metrics.compute() over the whole run

    @property
    def conclusion(self) -> str:
        return self.metrics["conclusion"]

    @property
    def failed_all(self) -> bool:
        """No sampled item has a usable reply (every request or judgement failed): not a success."""
        items = self.metrics["items"]
        return items["sampled"] > 0 and items["ok"] == 0

    @property
    def errors(self) -> int:
        return self.metrics["errors"]["n"]

    def error_lines(self) -> list[str]:
        """Errors of this session grouped by reason, e.g. '15 × connection refused at http://127.0.0.1:1/v1'."""
        lines = [f"{n} × {reason}" for reason, n in self.session.get("errors_by_reason", {}).items()]
        lines += [f"{n} × {reason}" for reason, n in self.session.get("judge_errors_by_reason", {}).items()]
        other = self.errors - sum(self.session.get("errors_by_reason", {}).values())
        if other > 0 and not self.session.get("judge_errors_by_reason"):
            kinds = ", ".join(f"{n} {k}" for k, n in self.metrics["errors"]["by_kind"].items())
            lines.append(f"{other} item(s) with errors from earlier sessions or judges ({kinds})")
        return lines

    def summary(self) -> dict:
        """The `assess run --format json` document."""
        m = self.metrics
        return {"run_dir": str(self.run_dir), "session": self.session, "conclusion": m["conclusion"],
                "metrics": {k: {kk: v.get(kk) for kk in ("n", "pass_rate", "refusal_rate", "errors", "verdict")
                                if kk in v} for k, v in m["metrics"].items()},
                "errors": m["errors"], "items": m["items"], "failed_all": self.failed_all}


def run(target: str | None = None, banks: Iterable[str | Path] = (), *, run_dir: str | Path = "cnai-run",
        resume: bool = False, progress: bool = False, max_items: int | None = None, **options: Any) -> RunResult:
    """Ask every sampled item of `banks` to `target`, judge the replies, store everything in run_dir.

    `options` are RunConfig fields (seed, sample, concurrency, rate, timeout, retries, keywords,
    judge_target, judges, document, system, max_tokens, temperature). With `resume=True`, target and banks
    may be omitted; if given they must equal the stored ones. Raises InputError (bad input, exit 2) and
    RunInterrupted (SIGINT/SIGTERM after finished items were stored).
    """
    from .metrics import compute
    from .runner import RunConfig, run_assessment

    known = {f.name for f in dataclasses.fields(RunConfig)} - {"target", "banks"}
    bad = sorted(set(options) - known)
    if bad:
        raise TypeError(f"unknown run option(s): {', '.join(bad)} (known: {', '.join(sorted(known))})")
    banks = [str(b) for b in banks]
    if not resume and not target:
        raise InputError("--target is required (unless --resume)", field="--target")
    if not resume and not banks:
        raise InputError("at least one --bank is required (e.g. --bank starter)", field="--bank")
    if options.get("keywords") is not None:
        options["keywords"] = [str(k) for k in options["keywords"]] or ["starter"]
    else:
        options.pop("keywords", None)
    cfg = RunConfig(target=target or "", banks=banks, **options)
    if resume:
        cfg.validate()
    stats = run_assessment(run_dir, cfg, resume=resume, progress=progress, max_items=max_items)
    db = store.connect(Path(run_dir))
    try:
        with store.guard(Path(run_dir)):
            m = compute(db)
    finally:
        db.close()
    return RunResult(Path(run_dir), stats, m)


# --- report ---------------------------------------------------------------------------------------
@dataclass
class Report:
    data: dict                          # everything the report shows (the JSON document)
    format: str
    content: str | bytes = field(repr=False)
    out: Path | None = None

    @property
    def conclusion(self) -> str:
        return self.data["conclusion"]


def report(run_dir: str | Path, *, format: str = "md", out: str | Path | None = None, document: str | None = None,
           checklist: str | Path | None = None) -> Report:
    """Render a run's report in a registered format ("md", "html", "json", "xlsx", or a plug-in's);
    with `out`, also write it (atomically, never over the run store or the checklist)."""
    from cnai.core.reports import get_format

    from .reporting import build

    fmt = get_format("assess", format)
    data = build(run_dir, document=document, checklist=Path(checklist) if checklist else None)
    content = fmt.render(data, run_dir=Path(run_dir))
    if out is not None:
        from cnai.core import safeio

        inputs = [Path(run_dir) / store.DB_NAME, *([checklist] if checklist else [])]
        if isinstance(content, bytes):
            safeio.write_bytes(out, content, inputs=inputs)
        else:
            safeio.write_text(out, content, inputs=inputs)
    return Report(data, fmt.name, content, Path(out) if out else None)


def report_formats() -> list[str]:
    from cnai.core.reports import formats_for

    return sorted(formats_for("assess"))


# --- banks ----------------------------------------------------------------------------------------
def _is_keyword_file(p: Path) -> bool:
    suf = p.suffix.lower()
    if suf in (".txt", ".tsv"):
        return True
    if suf == ".xlsx":
        from .xlsx import _open

        wb = _open(p)
        try:
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True, max_row=1):
                    return any(str(c).strip() in ("关键词", "keyword") for c in row if c is not None)
        finally:
            wb.close()
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "ignore")
    except OSError:
        return False
    if suf == ".jsonl":
        return '"keyword"' in head.split("\n", 1)[0]
    if suf in (".yaml", ".yml"):
        import re

        return bool(re.search(r"^keywords\s*:", head, re.M) or re.search(r"^A\.[1-5]\.[a-i]\s*:", head, re.M))
    return False


def split_specs(specs: Iterable[str | Path]) -> tuple[list[str], list]:
    """Bank specs and keyword-library specs from one list (files are told apart by their content)."""
    from .banks import bank_kinds
    from .keywords import STARTER_PATH

    banks, kws = [], []
    kinds = bank_kinds()
    for s in map(str, specs):
        if s == "starter":
            banks.append(s)
            kws.append(STARTER_PATH)
        elif s in ("starter-keywords", "keywords"):
            kws.append(STARTER_PATH)
        elif s.startswith("starter") or s in kinds:
            banks.append(s)
        else:
            p = Path(s)
            if not p.exists():
                raise InputError("no such file", path=s)
            if p.is_dir():
                raise InputError("is a directory; name bank or keyword files", path=s)
            (kws if _is_keyword_file(p) else banks).append(p if _is_keyword_file(p) else s)
    return banks, kws


def check_bank(specs: Iterable[str | Path], *, document: str | None = None, lenient: bool = False,
               omit_aspects: Iterable[str] = (), normalize: bool = True) -> dict:
    """Coverage of banks and keyword libraries against the standard's minimums.

    Returns {"ok", "unmet", "checks", "banks", "document", "omitted_aspects", "skipped_rows", "problems"}.
    """
    from .banks import check_coverage, load_banks
    from .keywords import KeywordLibrary, read_keyword_file

    bspecs, kspecs = split_specs(specs)
    bank_ = load_banks(bspecs, strict=not lenient) if bspecs else None
    lib = None
    problems = list(bank_.problems) if bank_ else []
    if kspecs:
        lib = KeywordLibrary()
        for k in kspecs:
            part, probs = read_keyword_file(k, strict=not lenient)
            lib.extend(part)
            problems.extend(probs)
    res = check_coverage(bank_, lib, document=document, omit_aspects=omit_aspects, normalize=normalize)
    res["skipped_rows"] = len(problems)
    res["problems"] = problems[:100]
    return res


def import_bank(xlsx_file: str | Path, out: str | Path, *, keywords: bool = False) -> int:
    """Filing-layout XLSX (test questions, or a keyword list) -> JSONL; returns the rows written."""
    import json

    from cnai.core.safeio import write_text

    from .banks import load_banks, write_jsonl

    if keywords:
        from .keywords import read_keyword_file

        lib, _ = read_keyword_file(xlsx_file)
        write_text(out, "".join(json.dumps({"keyword": k.keyword, "risk": k.risk, "level1": k.level1,
                                            "level2": k.level2}, ensure_ascii=False) + "\n"
                                for k in lib.keywords), inputs=[xlsx_file])
        return len(lib)
    b = load_banks([str(xlsx_file)])
    return write_jsonl(b.items, Path(out), inputs=[xlsx_file])


def export_bank(specs: Iterable[str | Path], out: str | Path, *, keywords: bool = False) -> int:
    """Banks (or keyword libraries) -> the filing XLSX layout; returns the rows written."""
    from .banks import load_banks
    from .xlsx import write_bank_xlsx, write_keyword_xlsx

    specs = [str(s) for s in specs]
    if keywords:
        from .keywords import load_keyword_library

        names = ["starter" if s in ("starter", "starter-keywords") else s for s in specs]
        lib = load_keyword_library(names)
        return write_keyword_xlsx(lib, Path(out), inputs=[s for s in names if s != "starter"])
    bank = load_banks(specs)
    return write_bank_xlsx(bank.items, Path(out), inputs=list(bank.files))


def augment_bank(specs: Iterable[str | Path], out: str | Path, *, wrappers: Iterable[str] | None = None,
                 kinds: Iterable[str] | None = None, include_original: bool = True,
                 pairs: bool = False) -> dict:
    """Grow banks with tagged rephrasings and attack wrappers (ids '<id>~<wrapper>'); writes JSONL."""
    from .banks import augment, bank_kinds, load_banks, write_jsonl

    b = load_banks([str(s) for s in specs])
    ks = set(kinds) if kinds is not None else set(bank_kinds())
    unknown = ks - set(bank_kinds())
    if unknown:
        raise InputError(f"unknown bank kind {sorted(unknown)[0]!r} (known: {', '.join(bank_kinds())})",
                         field="--kinds")
    base = [i for i in b.items if i.kind in ks]
    new = augment(base, list(wrappers) if wrappers is not None else None, pairs=pairs)
    items = (base if include_original else []) + new
    n = write_jsonl(items, Path(out), inputs=list(b.files))
    return {"written": n, "augmented": len(new), "base": len(base)}


def expand_keywords(specs: Iterable[str | Path], out: str | Path) -> dict:
    """`cnai bank keywords expand`: every library entry with the forms normalised matching catches
    (folded, traditional, split characters, pinyin, initials, homophone syllables), as .xlsx or .csv."""
    from cnai.core.normalize import expand
    from cnai.core.taxonomy import load_taxonomy

    from .keywords import load_keyword_library
    from .xlsx import write_expanded_keywords

    if Path(out).suffix.lower() not in (".xlsx", ".csv"):
        raise InputError("output must end in .xlsx or .csv", field="-o")
    names = ["starter" if str(s) in ("starter", "starter-keywords", "keywords") else str(s) for s in specs]
    lib = load_keyword_library(names)
    tax = load_taxonomy()
    rows, forms = [], 0
    for k in lib.keywords:
        e = expand(k.keyword)
        r = tax.risk(k.risk)
        cols = [e["folded"], e["traditional"], e["split"], e["pinyin"], e["initials"], e["homophones"]]
        forms += sum(len(c) for c in cols[1:5])
        rows.append([k.keyword, k.level1, f"{r.code} {r.zh}", *("; ".join(c) for c in cols)])
    n = write_expanded_keywords(rows, Path(out), inputs=[s for s in names if s != "starter"])
    return {"entries": n, "spelled_forms": forms, "out": str(out)}


def mutate_bank(specs: Iterable[str | Path], out: str | Path, *, attacks: str | Iterable[str] | None = None,
                include_original: bool = False) -> dict:
    """`cnai bank mutate`: attack variants of the risk-bank items (generated, should-refuse), each tagged
    `attack:<technique>` with `parent` = the base id; JSONL. Variants never count toward bank minimums."""
    from collections import Counter

    from .attacks import mutate, parse_techniques, technique_of
    from .banks import load_banks, write_jsonl

    names = parse_techniques(attacks)
    b = load_banks([str(s) for s in specs])
    new = mutate(b.items, names)
    items = (b.items if include_original else []) + new
    n = write_jsonl(items, Path(out), inputs=list(b.files))
    return {"written": n, "variants": len(new), "base": len(b.items), "techniques": names,
            "by_technique": dict(Counter(technique_of(i.tags) for i in new))}


def import_public_set(set_name: str, path: str | Path, out: str | Path, *, risk: str | None = None,
                      kind: str = "generated") -> dict:
    """`cnai bank import-public`: a public Chinese safety set's file -> a cnai bank (JSONL), categories mapped
    to the 31 risks through data/public_sets.yaml; unmapped items are skipped and counted."""
    from .public_sets import import_public

    return import_public(set_name, path, out, risk=risk, kind=kind)
