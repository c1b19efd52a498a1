"""Evidence readers. Each reads a file another cnai command wrote (a stable contract) and returns what
the documents may state, with a reference (file, run id, SHA-256). Evidence that does not match the
profile or the other evidence is refused with one line (InputError, exit 2) -- never silently used."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnai.errors import InputError

EXTRA_ROLES = ("service-agreement", "privacy-policy", "contract", "licence", "policy", "collection-records",
               "authorization", "content-safety-system", "test-channel", "other")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    return h.hexdigest()


@dataclass
class Ref:
    """Where a number comes from; shown next to it as [E<n>] and listed in the evidence index."""
    id: str
    role: str
    path: str
    sha256: str
    size: int
    run_id: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evidence:
    refs: list[Ref] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)
    keywords: dict | None = None
    questions: dict | None = None
    extras: list[dict] = field(default_factory=list)

    def add_ref(self, role: str, path: Path, run_id: str | None = None, sha: str | None = None) -> Ref:
        p = Path(path)
        r = Ref(f"E{len(self.refs) + 1}", role, str(p), sha or sha256_file(p), p.stat().st_size, run_id)
        self.refs.append(r)
        return r


def _need_dir(path: Path | str, what: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise InputError(f"not a {what} directory" + (" (a file)" if p.exists() else " (missing)"), path=str(p))
    return p


# --- assessment runs ------------------------------------------------------------------------------
def read_run(ev: Evidence, run_dir: Path) -> dict:
    """Metrics (with thresholds and verdicts) and every sampled item of one `cnai assess run` directory."""
    import cnai.assess as assess
    from cnai.assess import metrics, store

    run_dir = _need_dir(run_dir, "run")
    db = store.connect(run_dir)          # corrupt / foreign store: one-line InputError
    try:
        with store.guard(run_dir):
            manifest = store.get_meta(db, "manifest")
            if not manifest:
                raise InputError("run.sqlite has no manifest; not a finished cnai run", path=str(run_dir))
            outs = metrics.item_outcomes(db)
            config = store.get_meta(db, "config") or {}
            unfinished = db.execute("SELECT COUNT(*) FROM sessions WHERE finished_at IS NULL").fetchone()[0]
    finally:
        db.close()
    pending = sum(1 for o in outs if o["status"] == "pending")
    if not outs:
        raise InputError("run has no items; it never started", path=str(run_dir))
    if pending:
        raise InputError(f"run is unfinished: {pending} of {len(outs)} items have no result "
                         "(finish it with 'cnai assess run --resume')", path=str(run_dir))
    rep = assess.report(run_dir, format="json").data
    for name_key in ("service", "profile"):          # a run that records its service must be this one
        if config.get(name_key):
            ev_name = config[name_key]
            rep["_service"] = ev_name
    run_id = f"{run_dir.name}@{manifest.get('created_at', '?')}"
    # hash after reading: SQLite may checkpoint its WAL on close
    ref = ev.add_ref("assessment-run", run_dir / store.DB_NAME, run_id=run_id)
    run = {"dir": str(run_dir), "ref": ref, "run_id": run_id, "manifest": manifest, "config": config,
           "metrics": rep["metrics"], "conclusion": rep.get("conclusion"), "errors": rep.get("errors"),
           "items": outs, "unfinished_sessions": unfinished, "service": rep.get("_service"),
           "document": rep.get("document"), "document_title": rep.get("document_title")}
    ev.runs.append(run)
    return run


# --- corpus audits --------------------------------------------------------------------------------
def read_audit(ev: Evidence, audit_dir: Path) -> dict:
    audit_dir = _need_dir(audit_dir, "corpus-audit")
    summ = audit_dir / "summary.json"
    if not summ.is_file():
        half = (audit_dir / "shards").is_dir()
        raise InputError("corpus audit is half-finished: summary.json missing (re-run 'cnai corpus audit')"
                         if half else "not a corpus-audit directory (summary.json missing)", path=str(audit_dir))
    from cnai.core.loaders import load_json

    s = load_json(summ)
    if not isinstance(s, dict):
        raise InputError("expected a JSON object", path=str(summ))
    for key in ("documents", "sources", "findings", "verdict"):
        if key not in s:
            raise InputError(f"not a cnai corpus-audit summary (no '{key}')", path=str(summ))
    if not isinstance(s["sources"], dict) or not isinstance(s["documents"], int):
        raise InputError("corpus-audit summary is malformed (sources / documents)", path=str(summ))
    run_id = str((s.get("run") or {}).get("config") or audit_dir.name)
    ref = ev.add_ref("corpus-audit", summ, run_id=run_id)
    review = None
    rv = audit_dir / "review.json"            # optional: `cnai corpus review import` output saved beside it
    if rv.is_file():
        review = read_review(ev, rv)
    a = {"dir": str(audit_dir), "ref": ref, "run_id": run_id, "summary": s, "review": review}
    ev.audits.append(a)
    return a


def read_review(ev: Evidence, path: Path) -> dict:
    """`cnai corpus review import` JSON (human review of the audit's sample)."""
    from cnai.core.loaders import load_json

    d = load_json(path)
    if not isinstance(d, dict) or "reviewed" not in d or "verdict" not in d:
        raise InputError("not a 'cnai corpus review import' result (no reviewed/verdict)", path=str(path))
    return {"data": d, "ref": ev.add_ref("corpus-review", Path(path))}


# --- label check ----------------------------------------------------------------------------------
def read_label_check(ev: Evidence, path: Path) -> dict:
    """`cnai label check --format jsonl` output: one object per file; bad lines are counted, not used."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    by_format: dict[str, dict[str, int]] = {}
    total = ok = 0
    bad_lines: list[int] = []
    problems: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            lines = fh.read().splitlines()
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 at byte {exc.start}", path=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or "path" not in rec or "ok" not in rec:
                raise ValueError
        except ValueError:
            bad_lines.append(n)
            continue
        total += 1
        fmt = str(rec.get("format") or "unknown")
        f = by_format.setdefault(fmt, {"files": 0, "ok": 0})
        f["files"] += 1
        if rec["ok"] is True:
            ok += 1
            f["ok"] += 1
        for p in rec.get("problems") or []:
            problems[str(p)] = problems.get(str(p), 0) + 1
    if total == 0:
        raise InputError("no label-check records (expected 'cnai label check --format jsonl' output)"
                         + (f"; {len(bad_lines)} unreadable lines" if bad_lines else ""), path=str(path))
    ref = ev.add_ref("label-check", path)
    d = {"path": str(path), "ref": ref, "files": total, "ok": ok, "failed": total - ok, "by_format": by_format,
         "problems": problems, "bad_lines": bad_lines}
    ev.labels.append(d)
    return d


# --- banks ----------------------------------------------------------------------------------------
def read_keywords(ev: Evidence, path: Path) -> dict:
    from cnai.assess.keywords import read_keyword_file

    lib, _ = read_keyword_file(path, strict=True)     # a bad row: one line naming file and row
    if len(lib) == 0:
        raise InputError("keyword bank has no keywords", path=str(path))
    ref = ev.add_ref("keyword-bank", Path(path))
    ev.keywords = {"path": str(path), "ref": ref, "library": lib}
    return ev.keywords


def read_questions(ev: Evidence, path: Path) -> dict:
    from cnai.assess.banks import load_banks

    bank = load_banks([str(path)], strict=True)
    if not bank.items:
        raise InputError("question bank has no items", path=str(path))
    ref = ev.add_ref("question-bank", Path(path))
    ev.questions = {"path": str(path), "ref": ref, "bank": bank}
    return ev.questions


def read_extra(ev: Evidence, role: str, path: Path) -> dict:
    path = Path(path)
    if role not in EXTRA_ROLES:
        raise InputError(f"unknown evidence role {role!r}; known: {', '.join(EXTRA_ROLES)}", field="--evidence")
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    ref = ev.add_ref(role, path)
    d = {"role": role, "path": str(path), "ref": ref}
    ev.extras.append(d)
    return d


def parse_evidence_spec(spec: str) -> tuple[str, Path]:
    """ROLE=PATH (e.g. service-agreement=agreement.pdf)."""
    role, sep, p = spec.partition("=")
    if not sep or not role or not p:
        raise InputError(f"expected ROLE=PATH, got {spec!r}; roles: {', '.join(EXTRA_ROLES)}", field="--evidence")
    return role.strip(), Path(p)


# --- cross-checks ---------------------------------------------------------------------------------
def check_consistency(ev: Evidence, service_name: str, facts: Any | None) -> list[dict]:
    """Refuse evidence about another service or bank; return soft mismatches (recorded as gaps)."""
    soft: list[dict] = []
    for run in ev.runs:
        if run["service"] and run["service"] != service_name:
            raise InputError(f"run was made for service {run['service']!r}, the profile is {service_name!r}",
                             path=run["dir"])
    if ev.questions is not None:
        qsha = ev.questions["ref"].sha256
        for run in ev.runs:
            used = run["manifest"].get("banks") or {}
            if qsha not in used.values():
                names = ", ".join(Path(k).name for k in used) or "unknown"
                raise InputError(f"run {run['run_id']} was made with another question bank ({names}), "
                                 f"not this one", path=ev.questions["path"])
    if ev.keywords is not None:
        ksha = ev.keywords["ref"].sha256
        for run in ev.runs:
            used = run["manifest"].get("keyword_library") or {}
            if used and ksha not in used.values():
                soft.append({"id": f"keyword-library-mismatch:{run['run_id']}", "kind": "evidence_mismatch",
                             "where": "附件1 / 附件4",
                             "what": f"run {run['run_id']} judged replies with another keyword library "
                                     f"({', '.join(Path(k).name for k in used)}) than 附件4's",
                             "close": "re-run the assessment with --keywords set to the filed keyword bank"})
    if facts is not None and facts.corpus_sources:
        want = set(facts.corpus_sources)
        for a in ev.audits:
            got = set(a["summary"]["sources"])
            if not got & want:
                raise InputError(f"corpus audit covers sources {sorted(got)}, none of the declared corpus "
                                 f"sources {sorted(want)}: an audit of another corpus", path=a["dir"])
            if want - got:
                soft.append({"id": f"audit-sources-missing:{a['run_id']}", "kind": "missing_evidence",
                             "where": "附件1 语料安全",
                             "what": f"declared sources not audited: {', '.join(sorted(want - got))}",
                             "close": "audit those sources with 'cnai corpus audit'"})
    return soft
