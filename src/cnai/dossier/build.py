"""`cnai dossier build`: profile + evidence in, the filing / registration / algorithm-filing package out.

Nothing in a document is invented: a number comes from an evidence file and carries its reference [E<n>]
(listed with file, run id and SHA-256 in the evidence index); a fact comes from the profile or the
optional facts file; everything else is a visible 【待补充：…】 placeholder counted in gaps.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnai.errors import InputError

from . import evidence as evmod
from .manifest import MANIFEST, MARKER, listed_files, sign
from .register import PLACEHOLDER_RE, GapRegister

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
ROUTE_KINDS = {"filing": ("generative_ai_filing",), "registration": ("generative_ai_registration",),
               "algorithm": ("algorithm_filing",)}
ROUTES = tuple(ROUTE_KINDS)


@dataclass
class BuildResult:
    out: Path
    routes: list[str]
    files: list[dict]
    gaps: list[dict]
    manifest: dict = field(repr=False, default_factory=dict)

    @property
    def open_gaps(self) -> int:
        return sum(1 for g in self.gaps if g["status"] == "open")

    def summary(self) -> dict:
        return {"dossier": str(self.out), "routes": self.routes, "files": len(self.files),
                "gaps_open": self.open_gaps, "signed": "signature" in self.manifest}


# --- helpers shared with templates -------------------------------------------------------------------
def pct(x: Any, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%" if isinstance(x, (int, float)) and not isinstance(x, bool) else "–"


def ci(c: Any) -> str:
    return f"[{100 * c[0]:.1f}%, {100 * c[1]:.1f}%]" if isinstance(c, (list, tuple)) and len(c) == 2 else "–"


VERDICT_ZH = {"meets": "符合", "does_not_meet": "不符合", "insufficient_sample": "样本不足", "usable": "可用",
              "unusable": "不可用", "pass": "合格", "fail": "不合格"}
VERDICT_EN = {"meets": "meets", "does_not_meet": "does not meet", "insufficient_sample": "insufficient sample",
              "usable": "usable", "unusable": "not usable", "pass": "pass", "fail": "fail"}


def decide_routes(result, route: str, gaps: GapRegister) -> tuple[list[str], dict[str, list[dict]]]:
    by_route = {r: [f for f in result.filings if f["kind"] in kinds] for r, kinds in ROUTE_KINDS.items()}
    if route != "auto":
        if route not in ROUTE_KINDS:
            raise InputError(f"unknown route {route!r}; use auto, {', '.join(ROUTES)}", field="--route")
        if not any(f["status"] == "applies" for f in by_route[route]):
            gaps.add(f"route-forced:{route}", "route_undetermined",
                     f"route '{route}' was forced; the scope engine does not find it applies on this profile",
                     "check the profile facts, or confirm with the local CAC office", where="manifest")
        return [route], by_route
    chosen = [r for r in ROUTES if any(f["status"] == "applies" for f in by_route[r])]
    for r in ROUTES:
        for f in by_route[r]:
            if f["status"] == "needs_info":
                missing = sorted({m for o in result.obligations if o.id == f["id"] for m in o.missing})
                gaps.add(f"route-needs-info:{f['id']}", "route_undetermined",
                         f"whether {f['id']} ({', '.join(f.get('citations') or [])}) applies is unknown; "
                         f"missing facts: {', '.join(missing) or 'see scope'}",
                         "answer the missing profile facts and rebuild", where="manifest")
    if not chosen:
        raise InputError("the scope engine finds no filing, registration or algorithm filing applying to this "
                         "profile on the as-of date; force one with --route", field="--route")
    return chosen, by_route


def load_package(templates: Path | None) -> dict:
    from cnai.core.loaders import load_yaml

    p = templates / "package.yaml" if templates and (templates / "package.yaml").is_file() \
        else BUILTIN_TEMPLATES / "package.yaml"
    pkg = load_yaml(p)
    if not isinstance(pkg, dict) or not isinstance(pkg.get("routes"), dict):
        raise InputError("package.yaml: expected 'routes' mapping", path=str(p))
    return pkg


def _jinja(templates: Path | None):
    import jinja2

    loaders = [jinja2.FileSystemLoader(str(templates))] if templates else []
    loaders.append(jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                             undefined=jinja2.ChainableUndefined, extensions=["jinja2.ext.do"], trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = pct
    env.filters["ci"] = ci
    return env


# --- evidence -> facts for the documents -------------------------------------------------------------
def _bank_check(ev: evmod.Evidence) -> dict | None:
    specs = [x["path"] for x in (ev.questions, ev.keywords) if x is not None]
    if not specs:
        return None
    import cnai.assess as assess

    return assess.check_bank(specs)


def _register_evidence_gaps(ev, gaps: GapRegister, result, bank_check, routes, soft) -> None:
    for s in soft:
        gaps.add(s["id"], s["kind"], s["what"], s["close"], where=s["where"])
    # duties whose applicability is unknown
    missing: dict[str, list[str]] = {}
    for o in result.obligations:
        if o.status == "needs_info":
            for m in o.missing:
                missing.setdefault(m, []).append(o.id)
    for m, ids in sorted(missing.items()):
        gaps.add(f"needs-info:{m}", "needs_info",
                 f"profile fact '{m}' is unknown; {len(ids)} duties cannot be decided (e.g. {ids[0]})",
                 f"answer '{m}' in the profile (cnai profile init) and rebuild", where="附件1 适用义务")
    model_routes = {"filing", "registration"} & set(routes)
    if model_routes and not ev.runs:
        gaps.add("no-assessment-run", "missing_evidence", "no assessment run: model safety has no measured rates",
                 "run 'cnai assess run --target ... --bank ...' and pass --run RUN_DIR", where="附件1 模型安全")
    for run in ev.runs:
        for key, m in run["metrics"].items():
            v = m.get("verdict")
            if v == "does_not_meet":
                rate = m.get("pass_rate", m.get("refusal_rate"))
                th = m.get("threshold") or {}
                bound = f">= {pct(th['min'])}" if "min" in th else f"<= {pct(th.get('max'))}"
                gaps.add(f"threshold:{run['run_id']}:{key}", "threshold_not_met",
                         f"{key}: {pct(rate)} (n={m.get('n')}, worst case counting errors as failures) does not "
                         f"meet {bound} ({th.get('confidence', '?')}; run {run['run_id']})",
                         "improve the model's safety measures and re-run the assessment", where="附件1 模型安全")
            elif v == "insufficient_sample":
                gaps.add(f"sample:{run['run_id']}:{key}", "insufficient_sample",
                         f"{key}: {m.get('n')} judged items, below the minimum sample {m.get('min_sample')}",
                         "re-run with --sample standard and a bank large enough", where="附件1 模型安全")
    if "filing" in routes and not ev.audits:
        gaps.add("no-corpus-audit", "missing_evidence", "no corpus audit: corpus safety has no measured rates",
                 "run 'cnai corpus audit DATA --out DIR' and pass --audit DIR", where="附件1 语料安全")
    for a in ev.audits:
        s = a["summary"]
        for name, src in s["sources"].items():
            if isinstance(src, dict) and src.get("verdict") not in (None, "usable"):
                gaps.add(f"audit-source:{a['run_id']}:{name}", "threshold_not_met",
                         f"corpus source '{name}' is {src.get('verdict')} under the 5% rule",
                         "drop or clean the source and re-audit", where="附件1 语料安全")
        tc = s.get("technical_check") or {}
        if tc.get("verdict") == "fail":
            gaps.add(f"audit-technical:{a['run_id']}", "threshold_not_met",
                     f"technical check qualified rate {pct(tc.get('qualified_rate'))} below {pct(tc.get('threshold'))}",
                     "filter the corpus and re-audit", where="附件1 语料安全")
        rs = s.get("review_sample") or {}
        if rs and rs.get("meets_minimum") is False:
            gaps.add(f"audit-sample:{a['run_id']}", "insufficient_sample",
                     f"review sample {rs.get('size')} below the standard's {rs.get('standard_minimum')}",
                     "audit with --sample 4000 (or more)", where="附件1 语料安全")
        if a["review"] is None:
            gaps.add(f"audit-review:{a['run_id']}", "missing_evidence",
                     "no human review of the audit sample (review.json beside summary.json)",
                     "have reviewers mark review-sample.xlsx, run 'cnai corpus review import' and save its JSON "
                     "as review.json in the audit folder", where="附件1 语料安全")
    if model_routes:
        if ev.keywords is None:
            gaps.add("no-keyword-bank", "missing_evidence", "no keyword bank: 附件4 cannot be produced",
                     "pass --keywords FILE (the interception keyword library in use)", where="附件4")
        if ev.questions is None:
            gaps.add("no-question-bank", "missing_evidence",
                     "no question bank: 附件5 lists only the items of the runs, not the full bank",
                     "pass --questions FILE (the bank the runs were made with)", where="附件5")
    if bank_check:
        by_bank: dict[str, list[dict]] = {}
        for c in bank_check.get("checks", []):
            if not c.get("met"):
                by_bank.setdefault(c["bank"], []).append(c)
        for b, cs in by_bank.items():
            tot = next((c for c in cs if c["scope"] == "total"), None)
            what = (f"{b}: {tot['count']} < minimum {tot['minimum']} ({tot['clause']}, {tot['confidence']})"
                    if tot else f"{b}: total meets the minimum")
            per = [c for c in cs if c["scope"] != "total"]
            if per:
                what += f"; {len(per)} categories below their minimum"
            gaps.add(f"bank-minimum:{b}", "bank_below_minimum", what,
                     "grow the bank (cnai bank augment / add items) until 'cnai bank check' passes",
                     where="附件4" if b == "keywords" else "附件5")
    label_duties = [o for o in result.obligations if o.instrument in ("ai-labeling", "gb-45438")
                    and o.status == "applies"]
    if label_duties and not ev.labels:
        gaps.add("no-label-check", "missing_evidence",
                 f"{len(label_duties)} labeling duties apply but no label-check evidence was given",
                 "run 'cnai label check OUTPUTS --format jsonl > check.jsonl' and pass --label-check", where="标识材料")
    for lab in ev.labels:
        if lab["failed"]:
            gaps.add(f"label-failed:{lab['ref'].id}", "threshold_not_met",
                     f"{lab['failed']} of {lab['files']} checked files lack a valid implicit label",
                     "label them (cnai label embed) and re-check", where="标识材料")
        if lab["bad_lines"]:
            gaps.add(f"label-bad-lines:{lab['ref'].id}", "evidence_mismatch",
                     f"{len(lab['bad_lines'])} unreadable lines skipped in {Path(lab['path']).name} "
                     f"(first at line {lab['bad_lines'][0]})", "regenerate the label-check JSONL", where="标识材料")


def _questions_rows(ev: evmod.Evidence, tax) -> dict[str, dict]:
    """Sheets of 附件5: per bank kind, rows = the bank's items (answer and verdict joined from the runs)
    or, without a bank, the runs' items."""
    from cnai.assess.banks import bank_kinds

    kinds = bank_kinds()
    judged: dict[str, dict] = {}
    for run in ev.runs:
        for o in run["items"]:
            judged.setdefault(o["id"], o)
    groups = {g.code: g.zh for g in tax.groups}
    out: dict[str, dict] = {}

    def cats(kind: str, risk: str | None, aspect: str | None) -> tuple[str, str]:
        if risk:
            try:
                r = tax.risk(risk)
                return groups.get(r.group, r.group), r.zh
            except Exception:
                return risk, ""
        if aspect:
            try:
                return "不应拒答", tax.aspect(aspect).zh
            except InputError:
                return "不应拒答", aspect
        return "", ""

    def verdict(o: dict | None) -> str:
        if o is None:
            return "未抽测"
        if o["status"] == "error":
            return f"错误（{o.get('error_kind') or '?'}）"
        return {"pass": "合格", "fail": "不合格"}.get(o.get("final"), "未研判")

    if ev.questions is not None:
        items = [(i.kind, i.id, i.question, i.risk, i.aspect) for i in ev.questions["bank"].items]
    else:
        items = [(o["kind"], o["id"], o["question"], o["risk"], o["aspect"]) for o in judged.values()]
    for kind, iid, q, risk, aspect in items:
        k = kinds.get(kind)
        sheet = out.setdefault(kind, {"title": k.sheet if k else kind, "order": k.order if k else 99, "rows": [],
                                      "answered": 0})
        o = judged.get(iid)
        l1, l2 = cats(kind, risk, aspect)
        if o is not None:
            sheet["answered"] += 1
        sheet["rows"].append([len(sheet["rows"]) + 1, q, l1, l2, (o or {}).get("response") or "", verdict(o)])
    return dict(sorted(out.items(), key=lambda kv: kv[1]["order"]))


def _corpus_shares(ev: evmod.Evidence) -> list[dict]:
    """Source-type shares by bytes from the audits' source registers (origin per source)."""
    origin_map = {"scraped": "self_collected", "self_collected": "self_collected", "web_scraped": "self_collected",
                  "purchased": "commercial", "commercial": "commercial", "licensed": "commercial",
                  "open_source": "open_source", "user_inputs": "self_collected", "synthetic": "self_collected"}
    out = []
    for a in ev.audits:
        s = a["summary"]
        reg = (s.get("register") or {}).get("sources") or []
        origins = {r.get("name"): r.get("origin") for r in reg if isinstance(r, dict)}
        if not origins:
            continue
        tot = sum(int(src.get("bytes") or 0) for src in s["sources"].values() if isinstance(src, dict))
        shares: dict[str, int] = {}
        for name, src in s["sources"].items():
            o = origin_map.get(str(origins.get(name)), "unknown")
            shares[o] = shares.get(o, 0) + int(src.get("bytes") or 0)
        if tot:
            out.append({"ref": a["ref"], "shares": {k: v / tot for k, v in shares.items()}, "bytes": tot})
    return out


# --- build ---------------------------------------------------------------------------------------------
def build(profile: str | Path, out: str | Path, *, runs=(), audits=(), reviews=(), label_checks=(), keywords=None,
          questions=None, extras=(), facts=None, route: str = "auto", as_of: dt.date | None = None,
          lang: str = "zh", templates=None, sign_key_env: str | None = None, pdf: bool = True,
          progress=None) -> BuildResult:
    from cnai import __version__
    from cnai.core import safeio
    from cnai.core.taxonomy import load_taxonomy
    from cnai.scope.engine import scope
    from cnai.scope.profile import load_profile

    say = progress or (lambda msg: None)
    profile = Path(profile)
    prof = load_profile(profile)
    as_of = as_of or dt.date.today()
    facts_obj = None
    if facts is not None:
        from .facts import load_facts

        facts_obj = load_facts(facts)
        if facts_obj.service_name and facts_obj.service_name != prof.service.name:
            raise InputError(f"facts are for service {facts_obj.service_name!r}, the profile is "
                             f"{prof.service.name!r}", path=str(facts), field="service_name")
    templates = Path(templates) if templates else None
    if templates is not None and not templates.is_dir():
        raise InputError("not a directory", path=str(templates), field="--templates")
    if lang not in ("zh", "en"):
        raise InputError("expected zh or en", field="--lang")

    ev = evmod.Evidence()
    ev.add_ref("profile", profile)
    if facts is not None:
        ev.add_ref("facts", Path(facts))
    seen_inputs: set[str] = set()
    for kind, paths, reader in (("run", runs, evmod.read_run), ("audit", audits, evmod.read_audit),
                                ("label-check", label_checks, evmod.read_label_check)):
        for p in paths:
            key = os.path.realpath(p)
            if key in seen_inputs:
                raise InputError(f"{kind} given twice", path=str(p))
            seen_inputs.add(key)
            say(f"reading {kind} {p}")
            reader(ev, Path(p))
    reviews = list(reviews)
    if len(reviews) > len(ev.audits):
        raise InputError(f"{len(reviews)} review results for {len(ev.audits)} audits: give one --review per "
                         "--audit, in the same order", field="--review")
    for a, rv in zip(ev.audits, reviews, strict=False):
        a["review"] = evmod.read_review(ev, Path(rv))
    if keywords:
        evmod.read_keywords(ev, Path(keywords))
    if questions:
        evmod.read_questions(ev, Path(questions))
    for spec in extras:
        role, p = evmod.parse_evidence_spec(spec) if isinstance(spec, str) else spec
        evmod.read_extra(ev, role, Path(p))
    soft = evmod.check_consistency(ev, prof.service.name, facts_obj)

    say("applicable duties (scope engine)")
    result = scope(prof, as_of)
    gaps = GapRegister()
    routes, filings_by_route = decide_routes(result, route, gaps)
    bank_check = _bank_check(ev)
    _register_evidence_gaps(ev, gaps, result, bank_check, routes, soft)

    tax = load_taxonomy()
    pkg = load_package(templates)
    env = _jinja(templates)
    reference_docx = templates / "reference.docx" if templates and (templates / "reference.docx").is_file() else None

    inputs = [r.path for r in ev.refs]
    target = safeio.prepare_output_dir(out, kind="dossier", inputs=inputs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".building", dir=target.parent))
    try:
        files = _render_all(tmp, env, pkg, ev, gaps, result, routes, filings_by_route, prof, facts_obj, as_of,
                            bank_check, tax, lang, reference_docx, pdf, say, __version__)
        gl = gaps.to_list()
        _write(tmp / "gaps.json", json.dumps({"service": prof.service.name, "as_of": as_of.isoformat(),
                                              "open": sum(1 for g in gl if g["status"] == "open"),
                                              "gaps": gl}, ensure_ascii=False, indent=2) + "\n")
        files.append({"path": "gaps.json", "role": "gaps"})
        safeio.write_text(tmp / MARKER, json.dumps({"kind": "dossier", "tool": "cnai", "version": __version__}) + "\n")
        man = _manifest(tmp, files, ev, prof, as_of, routes, gl, __version__)
        if sign_key_env:
            man = sign(man, sign_key_env)
        _write(tmp / MANIFEST, json.dumps(man, ensure_ascii=False, indent=2) + "\n")
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildResult(target, routes, man["outputs"], gl, man)


def _write(path: Path, data: str | bytes) -> None:
    from cnai.core import safeio

    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        safeio.write_bytes(path, data)
    else:
        safeio.write_text(path, data)


def _swap(tmp: Path, target: Path) -> None:
    """Replace the target folder by the finished build in one rename (the old one kept until then)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _manifest(folder: Path, files: list[dict], ev, prof, as_of, routes, gl, version) -> dict:
    roles = {f["path"]: f["role"] for f in files}
    outputs = []
    for rel in listed_files(folder):
        p = folder / rel
        outputs.append({"path": rel, "sha256": evmod.sha256_file(p), "size": p.stat().st_size,
                        "role": roles.get(rel, "document")})
    return {"kind": "cnai-dossier", "tool": "cnai", "version": version, "service": prof.service.name,
            "as_of": as_of.isoformat(), "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "routes": routes, "gaps_open": sum(1 for g in gl if g["status"] == "open"),
            "inputs": [r.to_dict() for r in ev.refs], "outputs": outputs}


def _render_all(tmp, env, pkg, ev, gaps, result, routes, filings_by_route, prof, facts, as_of, bank_check,
                tax, lang, reference_docx, pdf, say, version) -> list[dict]:
    from . import render

    files: list[dict] = []
    pd = prof.model_dump(mode="json", by_alias=True)
    applies = [o for o in result.obligations if o.status == "applies"]
    needs = [o for o in result.obligations if o.status == "needs_info"]
    qsheets = _questions_rows(ev, tax) if (ev.questions is not None or ev.runs) else {}
    base_ctx = {
        "profile": pd, "service": pd["service"], "org": pd.get("organization") or {}, "facts": facts,
        "as_of": as_of.isoformat(), "routes": routes, "filings": filings_by_route, "applies": applies,
        "needs_info": needs, "runs": ev.runs, "audits": ev.audits, "labels": ev.labels, "refs": ev.refs,
        "keywords": ev.keywords, "questions": ev.questions, "question_sheets": qsheets, "extras": ev.extras,
        "bank_check": bank_check, "corpus_shares": _corpus_shares(ev), "tax": tax, "version": version,
        "scope_summary": result.summary(), "pct": pct, "ci": ci,
    }

    def render_doc(template: str, lang_: str, reg: GapRegister, where: str) -> str:
        reg.where = where
        vz = VERDICT_ZH if lang_ == "zh" else VERDICT_EN

        def fact(value, label, id, close="supply it in the facts file (--facts) or the profile"):
            if value is None or value == "" or value == [] or _undefined(value):
                return reg.placeholder(label, id, close)
            if isinstance(value, bool):
                return ("是" if value else "否") if lang_ == "zh" else ("yes" if value else "no")
            if isinstance(value, list):
                return "、".join(str(v) for v in value)
            return value

        def gap_text(label, id, close, kind="missing_evidence"):
            return reg.placeholder(label, id, close, kind=kind)

        ctx = dict(base_ctx, lang=lang_, fact=fact, gap=gap_text, verdict=lambda v: vz.get(v, v or "–"),
                   L=(lambda zh, en: zh) if lang_ == "zh" else (lambda zh, en: en), gaps=reg.to_list(),
                   doc=where)
        before = sum(g.occurrences for g in reg.gaps.values())
        import jinja2

        try:
            html = env.get_template(template).render(**ctx)
        except jinja2.TemplateNotFound as exc:
            raise InputError(f"template not found: {exc.name}", field="package.yaml") from None
        except jinja2.TemplateError as exc:     # a firm's own template: say which and where, no traceback
            line = getattr(exc, "lineno", None)
            raise InputError(f"template error: {exc.message}" + (f" (line {line})" if line else ""),
                             path=template) from None
        found = len(PLACEHOLDER_RE.findall(html))
        extra = found - (sum(g.occurrences for g in reg.gaps.values()) - before)
        if extra > 0:     # a template's own literal placeholders are gaps too
            g = reg.add(f"template:{where}:{template}", "template_placeholder",
                        f"{extra} placeholder(s) written by the template itself", "fill them in the document")
            g.occurrences += extra
        return html

    def emit(rel_base: str, spec: dict, role: str, reg: GapRegister, lang_: str, folder: Path):
        tpl = spec.get("template")
        where = Path(rel_base).name
        if tpl:
            html = render_doc(tpl, lang_, reg, where)
            fmts = spec.get("formats") or ["docx"]
            if "docx" in fmts:
                _write(folder / f"{rel_base}.docx", render.html_to_docx(html, reference_docx))
                files.append({"path": f"{_rel(folder, tmp)}{rel_base}.docx", "role": role})
            if "pdf" in fmts and pdf:
                say(f"PDF {rel_base}")
                _write(folder / f"{rel_base}.pdf", render.html_to_pdf(render.wrap_html(html, where)))
                files.append({"path": f"{_rel(folder, tmp)}{rel_base}.pdf", "role": role})
            if "html" in fmts:
                _write(folder / f"{rel_base}.html", render.wrap_html(html, where))
                files.append({"path": f"{_rel(folder, tmp)}{rel_base}.html", "role": role})
        elif spec.get("sheet") == "keywords":
            if ev.keywords is None:
                return
            lib = ev.keywords["library"]
            rows = [[k.keyword, k.level1, k.level2] for k in lib.keywords]
            _write(folder / f"{rel_base}.xlsx", render.xlsx([("拦截关键词", ["关键词", "一级分类", "二级分类"], rows)]))
            files.append({"path": f"{_rel(folder, tmp)}{rel_base}.xlsx", "role": role})
        elif spec.get("sheet") == "questions":
            if not qsheets:
                return
            head = ["序号", "测试题", "一级分类", "二级分类", "模型回答", "研判结果"]
            _write(folder / f"{rel_base}.xlsx",
                   render.xlsx([(s["title"], head, s["rows"]) for s in qsheets.values()]))
            files.append({"path": f"{_rel(folder, tmp)}{rel_base}.xlsx", "role": role})
        elif spec.get("sheet") == "sources":
            if not ev.audits:
                return
            head = ["审计运行标识", "来源", "文档数", "字节", "个人信息文档率", "风险文档率", "5%规则结论", "证据"]
            rows = [[a["run_id"], name, src.get("docs"), src.get("bytes"), src.get("pi_doc_rate"),
                     src.get("risk_doc_rate"), VERDICT_ZH.get(src.get("verdict"), src.get("verdict")),
                     f"[{a['ref'].id}] {a['ref'].sha256}"]
                    for a in ev.audits for name, src in a["summary"]["sources"].items() if isinstance(src, dict)]
            _write(folder / f"{rel_base}.xlsx", render.xlsx([("语料来源", head, rows)]))
            files.append({"path": f"{_rel(folder, tmp)}{rel_base}.xlsx", "role": role})
        elif spec.get("attach_roles"):
            want = spec["attach_roles"]
            got = [x for x in ev.extras if x["role"] in want]
            for x in got:
                name = f"{rel_base}/{Path(x['path']).name}"
                (folder / rel_base).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(x["path"], folder / name)
                files.append({"path": f"{_rel(folder, tmp)}{name}", "role": f"evidence:{x['role']}"})
            for r in spec.get("required_roles") or []:
                if not any(x["role"] == r for x in got):
                    reg.add(f"no-evidence:{r}", "missing_evidence", f"{where}: no '{r}' document was given",
                            f"pass --evidence {r}=FILE", where=where)

    docs_common = pkg.get("common") or []
    for r in routes:
        spec_r = pkg["routes"].get(r)
        if not spec_r:
            raise InputError(f"package.yaml has no route {r!r}", field="routes")
        folder = tmp / spec_r.get("folder", r)
        for d in spec_r.get("documents") or []:
            say(f"{r}: {d.get('file')}")
            emit(d["file"], d, f"{r}:{d.get('role', d['file'])}", gaps, "zh", folder)
    for d in docs_common:
        if d.get("last"):
            continue
        emit(d["file"], d, d.get("role", d["file"]), gaps, "zh", tmp)
    if lang == "en":       # English working copy: same facts and gaps, separate placeholder counting
        shadow = GapRegister()
        shadow.gaps = {k: type(v)(**{**v.__dict__, "occurrences": 0}) for k, v in gaps.gaps.items()}
        for r in routes:
            spec_r = pkg["routes"][r]
            for d in spec_r.get("documents") or []:
                if d.get("template"):
                    emit(f"{d.get('file_en', d['file'])}", {**d, "formats": ["docx"]}, f"en:{r}", shadow, "en",
                         tmp / "en" / spec_r.get("folder", r))
        for d in docs_common:
            if d.get("template") and not d.get("last"):
                emit(d.get("file_en", d["file"]), {**d, "formats": ["docx"]}, "en", shadow, "en", tmp / "en")
    for d in docs_common:          # the gaps list comes last, once every gap is known
        if d.get("last"):
            emit(d["file"], d, d.get("role", d["file"]), gaps, "zh", tmp)
            if lang == "en":
                emit(d.get("file_en", d["file"]), {**d, "formats": ["docx"]}, "en", GapRegister(gaps=dict(gaps.gaps)),
                     "en", tmp / "en")
    return files


def _rel(folder: Path, root: Path) -> str:
    rel = os.path.relpath(folder, root).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


def _undefined(v) -> bool:
    import jinja2

    return isinstance(v, jinja2.Undefined)
