"""The web workspace: server-rendered pages and the REST API /api/v1 over one SQLite workspace.

Pages and API call the same functions (the `_do_*` helpers below), which call the rest of cnai only
through services.py. Errors: the API answers JSON {"error": {"code", "message", "status"}} with the same
one-line message the CLI prints; pages show the message in a banner.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from cnai.errors import CnaiError, InputError

from . import exports, services
from .db import TERMINAL, Conflict, NotFound, Workspace, new_id
from .i18n import pick_lang, translate
from .jobs import JobManager
from .security import Guard, TooLarge

HERE = Path(__file__).parent
MAX_BODY = 1 << 20            # 1 MiB for JSON and forms
MAX_UPLOAD = 25 << 20         # 25 MiB for files
UPLOAD_PATHS = ("/api/v1/labels", "/labels", "/api/v1/corpus", "/corpus", "/api/v1/services/import",
                "/services/import", "/api/v1/evidence")
ID_RE = re.compile(r"^[a-z]+-[0-9a-f]{12}$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


# --- request bodies (typed, so the OpenAPI schema documents them) ------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactAnswer(_Body):
    path: str = Field(description="Profile fact path, e.g. audience.minors")
    value: Any = Field(None, description="Typed value; null makes the fact unknown again")
    version: int | None = Field(None, description="The profile version you edited (conflict detection)")


class DoneMark(_Body):
    done_on: dt.date
    owner: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)
    evidence_upload: str | None = Field(None, description="id of an upload made with POST /api/v1/evidence")


class AssessmentStart(_Body):
    target: str = Field(description="mock:NAME[?latency=S] or openai:http(s)://HOST/v1#MODEL")
    banks: list[str] = Field(default_factory=lambda: ["starter"])
    sample: str = "standard"
    seed: int = Field(0, ge=0, le=2**31)
    concurrency: int = Field(16, ge=1, le=256)
    api_key: str | None = Field(None, description="Held in server memory only, passed to the run's environment")
    title: str | None = Field(None, max_length=200)


class DossierBuild(_Body):
    service_id: int
    runs: list[str] = Field(default_factory=list, description="assessment job ids used as evidence")
    audits: list[str] = Field(default_factory=list, description="corpus audit job ids used as evidence")


class ReviewVerdict(_Body):
    item: str = Field(max_length=300)
    verdict: str = Field(pattern="^(pass|fail)$")
    reviewer: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class EmbedRequest(_Body):
    producer: str = Field(min_length=27, max_length=27)
    label: str = "1"


# --- helpers -------------------------------------------------------------------------------------
def safe_filename(name: str | None) -> str:
    """A display name for an uploaded file: never used as a path on disk (files are stored by id)."""
    name = unicodedata.normalize("NFC", name or "upload")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*\x00')
    name = name.strip(" .") or "upload"
    return name[:120]


def _ext(name: str) -> str:
    i = name.rfind(".")
    return name[i:].lower() if i > 0 else ""


def _check_id(value: str, what: str) -> str:
    if not ID_RE.match(value or ""):
        raise NotFound(what, value)
    return value


def _attachment(content: bytes | str, media_type: str, filename: str, *, utf8_name: str | None = None) -> Response:
    """A download; `filename` is ASCII made by the server, `utf8_name` the (escaped) name the user gave."""
    disposition = f'attachment; filename="{filename}"'
    if utf8_name:
        from urllib.parse import quote

        disposition += f"; filename*=UTF-8''{quote(utf8_name)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def _hide_paths(result: dict, name: str) -> dict:
    """Label results name the file they read: show the user's file name, never the server's path."""
    for part in result.values():
        if isinstance(part, dict) and "path" in part:
            part["path"] = name
    return result


def _as_of(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date YYYY-MM-DD: {value!r}", field="as_of") from None


def create_app(data_dir: str | Path = "cnai-workspace", *, token: str | None = None, demo: bool = False,
               recover: bool = True) -> Any:
    ws = Workspace(Path(data_dir))
    jobs = JobManager(ws)
    if recover:
        jobs.recover()
    if demo:
        from .demo import load_demo

        load_demo(ws, jobs)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app):
        yield
        jobs.shutdown()  # running jobs end as failed with a reason (resumable), never vanish

    app = FastAPI(title="cnai web workspace API", version="1", openapi_url="/api/v1/openapi.json",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.ws = ws
    app.state.jobs = jobs
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters["when"] = lambda ts: dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime(
        "%Y-%m-%d %H:%M UTC")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # --- errors ------------------------------------------------------------------------------
    def _is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def _err(request: Request, status: int, code: str, message: str):
        if _is_api(request):
            return JSONResponse({"error": {"code": code, "message": message, "status": status}}, status_code=status)
        return _page(request, "error.html", {"message": message, "status": status}, status=status)

    @app.exception_handler(CnaiError)
    async def _cnai_error(request: Request, exc: CnaiError):
        return _err(request, 400, "bad_input", str(exc).splitlines()[0] if "\n" not in str(exc)
                    else " ".join(s.strip() for s in str(exc).splitlines()))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return _err(request, 404, "not_found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return _err(request, 409, "conflict", str(exc))

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _err(request, exc.status, exc.code, exc.message)

    @app.exception_handler(TooLarge)
    async def _too_large(request: Request, exc: TooLarge):
        return _err(request, 413, "too_large", f"request body is over the limit of {exc.args[0]} bytes")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        first = errs[0] if errs else {}
        if first.get("type") == "json_invalid":
            ctx = first.get("ctx", {})
            msg = f"malformed JSON: {ctx.get('error', 'cannot parse')} at byte offset {first.get('loc', [0, 0])[-1]}"
            return _err(request, 400, "bad_json", msg)
        parts = []
        for e in errs[:5]:
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
        return _err(request, 422, "bad_input", "; ".join(parts))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        import logging

        logging.getLogger("cnai.web").error("internal error on %s %s: %s: %s", request.method, request.url.path,
                                            type(exc).__name__, exc)
        return _err(request, 500, "internal", f"internal error ({type(exc).__name__}); the workspace is unchanged "
                    "unless the server log says otherwise")

    @app.exception_handler(404)
    async def _404(request: Request, exc):
        return _err(request, 404, "not_found", f"no such page: {request.url.path}")

    @app.exception_handler(405)
    async def _405(request: Request, exc):
        return _err(request, 405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")

    # --- pages: rendering and CSRF -----------------------------------------------------------
    def _lang(request: Request) -> str:
        return pick_lang(request.query_params.get("lang"), request.cookies.get("cnai_lang"),
                         request.headers.get("accept-language"))

    def _page(request: Request, name: str, ctx: dict, status: int = 200) -> HTMLResponse:
        lang = _lang(request)
        csrf = request.cookies.get("cnai_csrf") or secrets.token_urlsafe(24)
        ctx = {"request": request, "lang": lang, "t": lambda k: translate(k, lang), "csrf": csrf,
               "nav": request.url.path, "services_list": ws.list_services(), **ctx}
        resp = templates.TemplateResponse(request, name, ctx, status_code=status)
        if request.cookies.get("cnai_csrf") != csrf:
            resp.set_cookie("cnai_csrf", csrf, httponly=True, samesite="strict")
        if request.query_params.get("lang") in ("en", "zh"):
            resp.set_cookie("cnai_lang", request.query_params["lang"], samesite="strict")
        return resp

    async def _form(request: Request):
        form = await request.form(max_files=20, max_fields=500)
        cookie = request.cookies.get("cnai_csrf", "")
        sent = form.get("csrf", "")
        if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
            raise ApiError(403, "csrf", "the form's security token is missing or stale; reload the page and retry")
        return form

    def _back(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    # --- form fields (the API's multipart bodies and the pages' forms read them the same way) ----
    def _file(form, message: str, *, named: bool = False):
        """The uploaded file in field `file`; a page's empty file input (no name) counts as missing."""
        f = form.get("file")
        if f is None or isinstance(f, str) or (named and not f.filename):
            raise InputError(message, field="file")
        return f

    def _files(form, message: str, *, named: bool = False) -> list:
        files = [f for f in form.getlist("file") if not isinstance(f, str) and (f.filename or not named)]
        if not files:
            raise InputError(message, field="file")
        return files

    def _int_field(form, name: str, default: int) -> int:
        try:
            return int(form.get(name) or default)
        except ValueError:
            raise InputError(f"{name} must be a number", field=name) from None

    # --- shared actions ----------------------------------------------------------------------
    def _do_create(data: Any, author: str | None = None, note: str = "created") -> dict:
        if not isinstance(data, dict):
            raise InputError(f"expected a profile object, got {type(data).__name__}")
        data.setdefault("schema", services.schema_id())
        services.validate_profile(data, "<request>")
        return ws.create_service(data, author=author, note=note)

    def _do_import(raw: bytes, name: str) -> dict:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte offset {exc.start})", path=name) from None
        return ws.create_service(services.parse_profile_yaml(text, name), note=f"imported {name}")

    def _do_update(sid: int, data: Any, version: int | None, note: str = "edited") -> dict:
        if not isinstance(data, dict):
            raise InputError(f"expected a profile object, got {type(data).__name__}")
        data.setdefault("schema", services.schema_id())
        services.validate_profile(data, "<request>")
        return ws.update_service(sid, data, version, note=note)

    def _do_answer(sid: int, path: str, value: Any, version: int | None) -> dict:
        svc = ws.get_service(sid)
        typed = services.convert_answer(path, value if not isinstance(value, bool)
                                        else ("true" if value else "false"))
        data = services.set_fact(svc["data"], path, typed)
        services.validate_profile(data, "<answer>")
        return ws.update_service(sid, data, version, note=f"answered {path}")

    def _duties(sid: int, as_of: dt.date | None) -> tuple[dict, dict, list[dict]]:
        svc = ws.get_service(sid)
        res = services.scope_dict(svc["data"], as_of)
        rows = exports.duty_rows(res, ws.duty_status(sid), as_of or dt.date.today())
        return svc, res, rows

    def _filter(rows: list[dict], status: str | None, instrument: str | None, actor: str | None,
                state: str | None) -> list[dict]:
        out = rows
        if status and status != "all":
            out = [r for r in out if r["status"] == status]
        if instrument:
            out = [r for r in out if r["instrument"] == instrument]
        if actor:
            out = [r for r in out if r["actor"] == actor]
        if state:
            out = [r for r in out if r["state"] == state]
        return out

    def _store_upload(purpose: str, filename: str, content: bytes, allowed: set[str]) -> dict:
        name = safe_filename(filename)
        ext = _ext(name)
        if ext not in allowed:
            raise ApiError(415, "unsupported_type", f"{name}: file type {ext or '(none)'} is not accepted here; "
                           f"allowed: {', '.join(sorted(allowed))}")
        if not content:
            raise InputError("empty file", path=name)
        uid = new_id("up")
        stored = f"{uid}{ext}"  # the server's own name: nothing from the request reaches the file system
        dest = ws.root / "uploads" / stored
        from cnai.core import safeio

        safeio.write_bytes(dest, content)
        return ws.add_upload(purpose, name, stored, len(content), hashlib.sha256(content).hexdigest(), uid)

    def _label_upload(filename: str, content: bytes) -> dict:
        up = _store_upload("label", filename, content, services.LABEL_EXTENSIONS)
        try:
            result = services.label_check(ws.root / "uploads" / up["stored"])
        except CnaiError as exc:
            result = {"error": str(exc)}
        _hide_paths(result, up["filename"])
        ws.set_upload_result(up["id"], result)
        return ws.get_upload(up["id"])

    def _do_embed(uid: str, producer: str, label: str) -> dict:
        up = ws.get_upload(_check_id(uid, "upload"))
        if up["purpose"] != "label":
            raise NotFound("label upload", uid)
        src = ws.root / "uploads" / up["stored"]
        dst = ws.root / "outputs" / f"{up['id']}-labelled{_ext(up['stored'])}"
        rec = services.label_embed(src, dst, producer.strip(), label)
        if rec.get("status") not in ("ok", "embedded", "unchanged") and rec.get("error"):
            raise InputError(str(rec["error"]), path=up["filename"])
        result = dict(up["result"] or {})
        after = _hide_paths(services.label_check(dst), up["filename"])
        result["embedded"] = {"status": rec.get("status"), "label": rec.get("label"), "after": after}
        ws.set_upload_result(up["id"], result)
        return ws.get_upload(up["id"])

    def _do_start_assessment(body: AssessmentStart) -> dict:
        target = services.check_target(body.target)
        sample = services.check_sample(body.sample)
        banks = [b for b in body.banks if re.fullmatch(r"starter(-[a-z]+)?", b)]
        if len(banks) != len(body.banks) or not banks:
            raise InputError("only the built-in banks (starter, starter-refuse, ...) can be chosen from the web",
                             field="banks")
        params = {"target": target, "banks": banks, "sample": sample, "seed": body.seed,
                  "concurrency": body.concurrency}
        job = ws.add_job("assess", body.title or target, params)
        return _start(job, {"CNAI_API_KEY": body.api_key} if body.api_key else None)

    def _start(job: dict, env: dict | None = None) -> dict:
        jobs.start(job, env)
        return jobs.progress(job["id"])

    def _job_of(kind: str, jid: str) -> dict:
        """The job `jid` if it is of `kind` (assess/corpus/dossier), else 404 in that kind's words."""
        what = JOB_WORDS[kind]
        job = ws.get_job(_check_id(jid, what))
        if job["kind"] != kind:
            raise NotFound(what, jid)
        return job

    def _assess_job(jid: str) -> dict:
        return _job_of("assess", jid)

    def _run_dir(job: dict) -> Path:
        return jobs.job_dir(job)

    def _report(job: dict) -> dict | None:
        if not (_run_dir(job) / "run.sqlite").exists():
            return None
        try:
            return services.assess_report(_run_dir(job))
        except CnaiError:
            return None

    def _do_corpus(filename: str, content: bytes, text_field: str, source_field: str | None, sample: int) -> dict:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text_field or ""):
            raise InputError("text field must be a simple name", field="text_field")
        if source_field and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", source_field):
            raise InputError("source field must be a simple name", field="source_field")
        if not 0 <= sample <= 10000:
            raise InputError("sample must be between 0 and 10000", field="sample")
        up = _store_upload("corpus", filename, content, services.CORPUS_EXTENSIONS)
        job = ws.add_job("corpus", up["filename"], {"upload": up["id"], "text_field": text_field,
                                                    "source_field": source_field, "sample": sample})
        return _start(job)

    async def _corpus_from_form(form, f) -> dict:
        return _do_corpus(f.filename, await f.read(), str(form.get("text_field") or "text"),
                          str(form.get("source_field") or "") or None, _int_field(form, "sample", 50))

    def _do_corpus_import(filename: str, content: bytes) -> dict:
        up = _store_upload("corpus-import", filename, content, {".json"})
        summary = services.corpus_summary(ws.root / "uploads" / up["stored"])
        job = ws.add_job("corpus", f"imported {up['filename']}", {"upload": up["id"], "imported": True})
        ws.update_job(job["id"], status="done", result=summary)
        return ws.get_job(job["id"])

    def _do_dossier(body: DossierBuild) -> dict:
        if not services.dossier_available():
            raise ApiError(501, "not_installed", "the dossier capability (cnai.dossier) is not installed")
        svc = ws.get_service(body.service_id)
        for rid in body.runs:
            j = _assess_job(rid)
            if not (jobs.job_dir(j) / "run.sqlite").exists():
                raise InputError(f"run {rid} has no stored results", field="runs")
        for aid in body.audits:
            j = _job_of("corpus", aid)
            if j["params"].get("imported") or not (jobs.job_dir(j) / "summary.json").exists():
                raise InputError(f"audit {aid} has no audit folder (imported summaries cannot be used)",
                                 field="audits")
        job = ws.add_job("dossier", svc["name"], {"service_id": svc["id"], "version": svc["version"],
                                                  "runs": body.runs, "audits": body.audits},
                         service_id=svc["id"])
        from cnai.core import safeio

        safeio.write_text(ws.root / "outputs" / job["id"] / "profile.yaml", services.profile_yaml(svc["data"]))
        return _start(job)

    def _finished_job(kind: str, jid: str, sample: int = 100) -> dict:
        """A corpus audit with its review sample, or a dossier with its gap register, once the job is done."""
        job = jobs.progress(_job_of(kind, jid)["id"])
        done = job["status"] == "done"
        if kind == "corpus":
            job["review_sample"] = services.corpus_sample(jobs.job_dir(job), sample) if done else []
        else:
            job["gaps"] = services.dossier_gaps(jobs.job_dir(job)) if done else None
        return job

    def _resume(jid: str) -> dict:
        try:
            return jobs.resume(_check_id(jid, "job"))
        except ValueError as exc:
            raise ApiError(409, "not_resumable", str(exc)) from None

    # ==========================================================================================
    # REST API
    # ==========================================================================================
    api = APIRouter(prefix="/api/v1")

    def _etag(svc: dict) -> str:
        return f'"v{svc["version"]}"'

    def _if_match(request: Request, body_version: int | None) -> int | None:
        h = request.headers.get("if-match")
        if h:
            m = re.fullmatch(r'(?:W/)?"v(\d+)"', h.strip())
            if not m:
                raise InputError(f"If-Match must be an ETag like \"v3\" (got {h!r})", field="If-Match")
            return int(m.group(1))
        return body_version

    def _svc_json(svc: dict) -> JSONResponse:
        return JSONResponse(svc, headers={"ETag": _etag(svc)})

    async def _json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except UnicodeDecodeError as exc:
            raise ApiError(400, "bad_json", f"body is not UTF-8 (byte offset {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise ApiError(400, "bad_json", f"malformed JSON: {exc.msg} at byte offset {exc.pos}") from None

    @api.get("/services", tags=["services"])
    def api_services():
        return ws.list_services()

    @api.post("/services", tags=["services"], status_code=201,
              openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}},
                                             "description": "a cnai/profile/v1 profile"}})
    async def api_create_service(request: Request):
        svc = _do_create(await _json(request))
        r = _svc_json(svc)
        r.status_code = 201
        return r

    @api.post("/services/import", tags=["services"], status_code=201)
    async def api_import_service(request: Request):
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/"):
            f = _file(await request.form(max_files=1), "send the YAML as a file field named 'file'")
            svc = _do_import(await f.read(), safe_filename(f.filename))
        else:
            svc = _do_import(await request.body(), "<body>")
        return JSONResponse(svc, status_code=201, headers={"ETag": _etag(svc)})

    @api.get("/services/{sid}", tags=["services"])
    def api_get_service(sid: int):
        return _svc_json(ws.get_service(sid))

    @api.put("/services/{sid}", tags=["services"],
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
    async def api_put_service(sid: int, request: Request):
        body = await _json(request)
        version = body.pop("version", None) if isinstance(body, dict) and "profile" in body else None
        data = body.get("profile") if isinstance(body, dict) and "profile" in body else body
        if version is not None and not isinstance(version, int):
            raise InputError("version must be an integer", field="version")
        expected = _if_match(request, version)
        if expected is None:
            raise ApiError(428, "precondition_required", "send If-Match: \"vN\" (the ETag you read) or "
                           "{\"version\": N, \"profile\": {...}} so concurrent edits are detected")
        return _svc_json(_do_update(sid, data, expected))

    @api.delete("/services/{sid}", tags=["services"], status_code=204)
    def api_delete_service(sid: int):
        ws.delete_service(sid)
        return Response(status_code=204)

    @api.get("/services/{sid}/history", tags=["services"])
    def api_history(sid: int):
        return ws.history(sid)

    @api.get("/services/{sid}/profile.yaml", tags=["services"])
    def api_export(sid: int):
        svc = ws.get_service(sid)
        return _attachment(services.profile_yaml(svc["data"]), "application/yaml", f"service-{sid}.yaml")

    @api.post("/services/{sid}/facts", tags=["duties"])
    def api_answer(sid: int, body: FactAnswer, request: Request):
        svc = _do_answer(sid, body.path, body.value, _if_match(request, body.version))
        _, res, rows = _duties(sid, None)
        return JSONResponse({"service": svc, "summary": res["summary"]}, headers={"ETag": _etag(svc)})

    @api.post("/scope", tags=["duties"],
              openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}},
                                             "description": "a cnai/profile/v1 profile (same as the YAML file)"}})
    async def api_scope(request: Request, as_of: str | None = Query(None, description="YYYY-MM-DD")):
        data = await _json(request)
        if not isinstance(data, dict):
            raise InputError(f"expected a profile object, got {type(data).__name__}", path="<request>")
        return Response(services.scope_json(data, _as_of(as_of)), media_type="application/json")

    @api.get("/services/{sid}/duties", tags=["duties"])
    def api_duties(sid: int, status: str | None = None, instrument: str | None = None, actor: str | None = None,
                   state: str | None = None, as_of: str | None = None):
        _, res, rows = _duties(sid, _as_of(as_of))
        return {"as_of": res["as_of"], "summary": res["summary"],
                "duties": _filter(rows, status, instrument, actor, state)}

    @api.post("/services/{sid}/duties/{duty_id}/done", tags=["duties"])
    def api_done(sid: int, duty_id: str, body: DoneMark):
        _, _, rows = _duties(sid, None)
        if duty_id not in {r["id"] for r in rows}:
            raise NotFound("duty", duty_id)
        if body.evidence_upload:
            ws.get_upload(_check_id(body.evidence_upload, "upload"))
        return ws.mark_done(sid, duty_id, body.done_on.isoformat(), body.owner, body.evidence_upload, body.note)

    @api.delete("/services/{sid}/duties/{duty_id}/done", tags=["duties"], status_code=204)
    def api_undone(sid: int, duty_id: str):
        ws.get_service(sid)
        ws.unmark_done(sid, duty_id)
        return Response(status_code=204)

    @api.post("/evidence", tags=["duties"], status_code=201)
    async def api_evidence(request: Request):
        f = _file(await request.form(max_files=1), "send the evidence as a file field named 'file'")
        return _store_upload("evidence", f.filename, await f.read(), EVIDENCE_EXT)

    @api.get("/services/{sid}/actions.xlsx", tags=["duties"])
    def api_actions_xlsx(sid: int, as_of: str | None = None):
        svc, _, rows = _duties(sid, _as_of(as_of))
        rows = [r for r in rows if r["status"] != "not_applicable"]
        return _attachment(exports.actions_xlsx(rows, svc["name"]),
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           f"actions-service-{sid}.xlsx")

    @api.get("/services/{sid}/actions.csv", tags=["duties"])
    def api_actions_csv(sid: int, as_of: str | None = None):
        _, _, rows = _duties(sid, _as_of(as_of))
        rows = [r for r in rows if r["status"] != "not_applicable"]
        return _attachment(exports.actions_csv(rows), "text/csv; charset=utf-8", f"actions-service-{sid}.csv")

    @api.get("/services/{sid}/deadlines.ics", tags=["duties"])
    def api_ics(sid: int):
        svc, _, rows = _duties(sid, None)
        return _attachment(exports.deadlines_ics(rows, sid, svc["name"]), "text/calendar; charset=utf-8",
                           f"deadlines-service-{sid}.ics")

    @api.get("/law/instruments", tags=["law"])
    def api_instruments(as_of: str | None = None):
        return services.instruments_list(_as_of(as_of))

    @api.get("/law/instruments/{iid}", tags=["law"])
    def api_instrument(iid: str):
        try:
            return services.instrument(iid)
        except KeyError:
            raise NotFound("instrument", iid) from None

    @api.get("/law/timeline", tags=["law"])
    def api_timeline():
        return services.timeline()

    @api.get("/law/search", tags=["law"])
    def api_search(q: str = Query(..., min_length=1, max_length=500), top: int = Query(20, ge=1, le=100)):
        return services.law_search(q, top)

    @api.get("/labels", tags=["labels"])
    def api_labels():
        return ws.list_uploads("label")

    @api.post("/labels", tags=["labels"], status_code=201)
    async def api_label_upload(request: Request):
        files = _files(await request.form(max_files=20), "send one or more files in a field named 'file'")
        return [_label_upload(f.filename, await f.read()) for f in files]

    @api.get("/labels/{uid}", tags=["labels"])
    def api_label(uid: str):
        up = ws.get_upload(_check_id(uid, "upload"))
        if up["purpose"] != "label":
            raise NotFound("label upload", uid)
        return up

    @api.post("/labels/{uid}/embed", tags=["labels"])
    def api_embed(uid: str, body: EmbedRequest):
        return _do_embed(uid, body.producer, body.label)

    @api.get("/labels/{uid}/download", tags=["labels"])
    def api_label_download(uid: str):
        return _download_labelled(uid)

    def _download_labelled(uid: str) -> Response:
        up = ws.get_upload(_check_id(uid, "upload"))
        path = ws.root / "outputs" / f"{up['id']}-labelled{_ext(up['stored'])}"
        if up["purpose"] != "label" or not path.is_file():
            raise NotFound("labelled file", uid)
        stem, ext = up["filename"].rsplit(".", 1) if "." in up["filename"] else (up["filename"], "")
        name = f"{stem}-labelled.{ext}" if ext else f"{stem}-labelled"
        return _attachment(path.read_bytes(), "application/octet-stream", f"labelled{_ext(up['stored'])}",
                           utf8_name=name)

    @api.get("/provider-code", tags=["labels"])
    def api_provider_code(uscc: str = Query(..., max_length=18)):
        return {"uscc": uscc, "code": services.provider_code(uscc)}

    @api.get("/jobs", tags=["jobs"])
    def api_jobs(kind: str | None = None):
        return ws.list_jobs(kind)

    @api.get("/jobs/{jid}", tags=["jobs"])
    def api_job(jid: str):
        return jobs.progress(_check_id(jid, "job"))

    @api.post("/jobs/{jid}/cancel", tags=["jobs"])
    def api_cancel(jid: str):
        return jobs.cancel(_check_id(jid, "job"))

    @api.post("/jobs/{jid}/resume", tags=["jobs"])
    def api_resume(jid: str):
        return _resume(jid)

    @api.get("/jobs/{jid}/events", tags=["jobs"])
    async def api_events(jid: str, request: Request):
        """Server-sent events: one `progress` event per change, then `end` when the job finishes."""
        jobs.progress(_check_id(jid, "job"))

        async def stream():
            last = None
            while True:
                job = await asyncio.to_thread(jobs.progress, jid)
                payload = json.dumps({"id": jid, "status": job["status"], "progress": job["progress"],
                                      "error": job["error"]})
                if payload != last:
                    yield f"event: progress\ndata: {payload}\n\n"
                    last = payload
                if job["status"] in TERMINAL:
                    yield f"event: end\ndata: {payload}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.4)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @api.post("/assessments", tags=["assessments"], status_code=201)
    def api_start(body: AssessmentStart):
        return _do_start_assessment(body)

    @api.get("/assessments", tags=["assessments"])
    def api_assessments():
        return ws.list_jobs("assess")

    @api.get("/assessments/compare", tags=["assessments"])
    def api_compare(a: str, b: str):
        ja, jb = _assess_job(a), _assess_job(b)
        return services.assess_compare(_run_dir(ja), _run_dir(jb))

    @api.get("/assessments/{jid}/report", tags=["assessments"])
    def api_report(jid: str):
        rep = _report(_assess_job(jid))
        if rep is None:
            raise ApiError(409, "no_report", "this run has no stored results yet")
        return rep

    @api.get("/assessments/{jid}/review", tags=["assessments"])
    def api_review_queue(jid: str, only: str = Query("failed", pattern="^(failed|all)$")):
        job = _assess_job(jid)
        if not (_run_dir(job) / "run.sqlite").exists():
            return []
        return services.assess_review_queue(_run_dir(job), only_failed=(only == "failed"))

    @api.post("/assessments/{jid}/review", tags=["assessments"])
    def api_review(jid: str, body: ReviewVerdict):
        job = _assess_job(jid)
        try:
            return services.assess_override(_run_dir(job), body.item, body.verdict, body.reviewer, body.note)
        except KeyError:
            raise NotFound("item", body.item) from None

    @api.post("/corpus/audits", tags=["corpus"], status_code=201)
    async def api_corpus(request: Request):
        form = await request.form(max_files=1)
        return await _corpus_from_form(form, _file(form, "send the corpus as a file field named 'file'"))

    @api.post("/corpus/imports", tags=["corpus"], status_code=201)
    async def api_corpus_import(request: Request):
        f = _file(await request.form(max_files=1), "send summary.json as a file field named 'file'")
        return _do_corpus_import(f.filename, await f.read())

    @api.get("/corpus/audits", tags=["corpus"])
    def api_audits():
        return ws.list_jobs("corpus")

    @api.get("/corpus/audits/{jid}", tags=["corpus"])
    def api_audit(jid: str):
        return _finished_job("corpus", jid)

    @api.get("/dossier", tags=["dossier"])
    def api_dossier():
        return {"available": services.dossier_available(), "what": DOSSIER_WHAT,
                "dossiers": ws.list_jobs("dossier")}

    @api.post("/dossiers", tags=["dossier"], status_code=201)
    def api_dossier_build(body: DossierBuild):
        return _do_dossier(body)

    @api.get("/dossiers/{jid}", tags=["dossier"])
    def api_dossier_get(jid: str):
        return _finished_job("dossier", jid)

    @api.get("/dossiers/{jid}/download", tags=["dossier"])
    def api_dossier_download(jid: str):
        job = _job_of("dossier", jid)
        d = jobs.job_dir(job)
        if job["status"] != "done" or not d.is_dir():
            raise ApiError(409, "not_built", "this dossier has not been built (yet)")
        return _attachment(services.dossier_zip(d), "application/zip", f"dossier-{job['id']}.zip")

    @api.get("/health", tags=["meta"])
    def api_health():
        return {"ok": True, "schema_version": ws.schema_version()}

    app.include_router(api)

    # ==========================================================================================
    # Pages
    # ==========================================================================================
    @app.get("/", include_in_schema=False)
    def home():
        return _back("/services")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request):
        return _page(request, "login.html", {})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await request.form(max_files=0, max_fields=5)
        given = str(form.get("token") or "")
        if token is None:
            return _back("/services")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _page(request, "login.html", {"error": "wrong token"}, status=401)
        resp = _back("/services")
        resp.set_cookie("cnai_token", token, httponly=True, samesite="strict")
        return resp

    @app.get("/services", include_in_schema=False)
    def services_page(request: Request):
        return _page(request, "services.html", {"services": ws.list_services()})

    @app.get("/services/new", include_in_schema=False)
    def new_service_page(request: Request):
        return _page(request, "service_form.html", {"svc": None, "data": {}, "form": services.profile_form()})

    def _form_to_data(form, base: dict) -> dict:
        data = {"schema": services.schema_id()}
        for sec in services.profile_form():
            for f in sec["fields"]:
                raw = form.getlist(f["path"]) if f["kind"] == "multi" else form.get(f["path"])
                value = services.convert_answer(f["path"], raw)
                if value is not None:
                    data = services.set_fact(data, f["path"], value)
        if "service" not in data or not data["service"].get("name"):
            raise InputError("the service needs a name", field="service.name")
        return data

    @app.post("/services/new", include_in_schema=False)
    async def new_service(request: Request):
        form = await _form(request)
        svc = _do_create(_form_to_data(form, {}))
        return _back(f"/services/{svc['id']}")

    @app.post("/services/import", include_in_schema=False)
    async def import_service(request: Request):
        f = _file(await _form(request), "choose a YAML file", named=True)
        svc = _do_import(await f.read(), safe_filename(f.filename))
        return _back(f"/services/{svc['id']}")

    @app.get("/services/{sid}", include_in_schema=False)
    def service_page(request: Request, sid: int):
        svc = ws.get_service(sid)
        hist = ws.history(sid)[:51]
        for i, h in enumerate(hist):
            h["changes"] = services.profile_diff(hist[i + 1]["data"] if i + 1 < len(hist) else None, h["data"])
        return _page(request, "service.html", {"svc": svc, "history": hist[:50],
                                               "yaml": services.profile_yaml(svc["data"])})

    @app.get("/services/{sid}/edit", include_in_schema=False)
    def edit_service_page(request: Request, sid: int):
        svc = ws.get_service(sid)
        return _page(request, "service_form.html", {"svc": svc, "data": svc["data"], "form": services.profile_form(),
                                                    "get": services.get_fact})

    @app.post("/services/{sid}/edit", include_in_schema=False)
    async def edit_service(request: Request, sid: int):
        form = await _form(request)
        data = _form_to_data(form, {})
        try:
            _do_update(sid, data, _int_field(form, "version", 0))
        except Conflict as exc:
            svc = ws.get_service(sid)
            return _page(request, "service_form.html",
                         {"svc": svc, "data": data, "form": services.profile_form(), "get": services.get_fact,
                          "conflict": str(exc), "theirs": services.profile_yaml(svc["data"])}, status=409)
        return _back(f"/services/{sid}")

    @app.get("/duties", include_in_schema=False)
    def duties_index(request: Request):
        svcs = ws.list_services()
        if svcs:
            return _back(f"/services/{svcs[0]['id']}/duties")
        return _page(request, "services.html", {"services": []})

    @app.get("/services/{sid}/duties", include_in_schema=False)
    def duties_page(request: Request, sid: int, status: str | None = None, instrument: str | None = None,
                    actor: str | None = None, state: str | None = None, as_of: str | None = None):
        svc, res, rows = _duties(sid, _as_of(as_of))
        status = status if status is not None else ""
        shown = _filter(rows, status or None, instrument or None, actor or None, state or None)
        if not status:
            shown = [r for r in shown if r["status"] != "not_applicable"]
        missing = [{"path": p, "count": n, "field": services.fact_fields().get(p)}
                   for p, n in res["summary"]["missing_facts"].items()]
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        return _page(request, "duties.html", {
            "svc": svc, "res": res, "rows": shown, "missing": missing, "counts": counts,
            "instruments": sorted({r["instrument"] for r in rows}), "actors": sorted({r["actor"] for r in rows}),
            "f": {"status": status, "instrument": instrument or "", "actor": actor or "", "state": state or "",
                  "as_of": as_of or ""}, "today": dt.date.today().isoformat()})

    @app.post("/services/{sid}/facts", include_in_schema=False)
    async def answer_page(request: Request, sid: int):
        form = await _form(request)
        path = str(form.get("path") or "")
        spec = services.fact_fields().get(path)
        raw = form.getlist("value") if spec and spec["kind"] == "multi" else form.get("value")
        try:
            version = int(form.get("version") or 0) or None
        except ValueError:
            version = None
        _do_answer(sid, path, raw, version)
        return _back(f"/services/{sid}/duties#open-questions")

    @app.post("/services/{sid}/duties/{duty_id}/done", include_in_schema=False)
    async def done_page(request: Request, sid: int, duty_id: str):
        form = await _form(request)
        if form.get("undo"):
            ws.unmark_done(sid, duty_id)
            return _back(f"/services/{sid}/duties")
        _, _, rows = _duties(sid, None)
        if duty_id not in {r["id"] for r in rows}:
            raise NotFound("duty", duty_id)
        body = DoneMark(done_on=str(form.get("done_on") or dt.date.today().isoformat()),
                        owner=str(form.get("owner") or ""), note=str(form.get("note") or ""))
        ev = form.get("evidence")
        uid = None
        if ev is not None and not isinstance(ev, str) and ev.filename:
            uid = _store_upload("evidence", ev.filename, await ev.read(), EVIDENCE_EXT)["id"]
        ws.mark_done(sid, duty_id, body.done_on.isoformat(), body.owner, uid, body.note)
        return _back(f"/services/{sid}/duties")

    @app.get("/evidence/{uid}", include_in_schema=False)
    def evidence_download(uid: str):
        up = ws.get_upload(_check_id(uid, "upload"))
        if up["purpose"] != "evidence":
            raise NotFound("evidence", uid)
        return _attachment((ws.root / "uploads" / up["stored"]).read_bytes(), "application/octet-stream",
                           f"evidence{_ext(up['stored'])}")

    @app.get("/law", include_in_schema=False)
    def law_page(request: Request, q: str | None = Query(None, max_length=500)):
        hits = services.law_search(q, 30) if q else []
        return _page(request, "law.html", {"instruments": services.instruments_list(), "q": q or "", "hits": hits,
                                           "timeline": services.timeline()})

    @app.get("/law/{iid}", include_in_schema=False)
    def instrument_page(request: Request, iid: str):
        try:
            ins = services.instrument(iid)
        except KeyError:
            raise NotFound("instrument", iid) from None
        return _page(request, "instrument.html", {"ins": ins})

    @app.get("/labels", include_in_schema=False)
    def labels_page(request: Request):
        return _page(request, "labels.html", {"uploads": ws.list_uploads("label")[:100]})

    @app.post("/labels", include_in_schema=False)
    async def labels_upload(request: Request):
        for f in _files(await _form(request), "choose one or more files", named=True):
            _label_upload(f.filename, await f.read())
        return _back("/labels")

    @app.post("/labels/{uid}/embed", include_in_schema=False)
    async def labels_embed(request: Request, uid: str):
        form = await _form(request)
        _do_embed(uid, str(form.get("producer") or ""), str(form.get("label") or "1"))
        return _back(f"/labels#{uid}")

    def _jobs_page(template: str, key: str, kind: str):
        def page(request: Request):
            return _page(request, template, {key: ws.list_jobs(kind)})
        return page

    # The lists of runs and audits: one page each, listing that kind of job.
    app.add_api_route("/assessments", _jobs_page("assessments.html", "runs", "assess"), methods=["GET"],
                      include_in_schema=False)
    app.add_api_route("/corpus", _jobs_page("corpus.html", "audits", "corpus"), methods=["GET"],
                      include_in_schema=False)

    @app.post("/assessments", include_in_schema=False)
    async def assessments_start(request: Request):
        form = await _form(request)
        try:
            body = AssessmentStart(target=str(form.get("target") or ""), sample=str(form.get("sample") or "standard"),
                                   seed=int(form.get("seed") or 0), api_key=str(form.get("api_key") or "") or None,
                                   banks=[str(b) for b in form.getlist("bank")] or ["starter"])
        except ValueError as exc:
            raise InputError(str(exc).splitlines()[0]) from None
        job = _do_start_assessment(body)
        return _back(f"/assessments/{job['id']}")

    @app.get("/assessments/compare", include_in_schema=False)
    def compare_page(request: Request, a: str | None = None, b: str | None = None):
        cmp = None
        if a and b:
            cmp = services.assess_compare(_run_dir(_assess_job(a)), _run_dir(_assess_job(b)))
        done = [j for j in ws.list_jobs("assess") if (jobs.job_dir(j) / "run.sqlite").exists()]
        return _page(request, "compare.html", {"runs": done, "cmp": cmp, "a": a or "", "b": b or ""})

    @app.get("/assessments/{jid}", include_in_schema=False)
    def assessment_page(request: Request, jid: str):
        job = jobs.progress(_assess_job(jid)["id"])
        rep = _report(job) if job["status"] in TERMINAL else None
        queue = services.assess_review_queue(_run_dir(job)) if rep else []
        return _page(request, "assessment.html", {"job": job, "rep": rep, "queue": queue[:100],
                                                  "charts": _charts(rep) if rep else []})

    @app.post("/assessments/{jid}/review", include_in_schema=False)
    async def review_page(request: Request, jid: str):
        form = await _form(request)
        job = _assess_job(jid)
        try:
            services.assess_override(_run_dir(job), str(form.get("item") or ""), str(form.get("verdict") or ""),
                                     str(form.get("reviewer") or ""), str(form.get("note") or ""))
        except KeyError:
            raise NotFound("item", form.get("item")) from None
        return _back(f"/assessments/{jid}#review")

    def _job_button(action):
        async def page(request: Request, jid: str):
            await _form(request)
            job = action(jid)
            return _back(JOB_PAGES[job["kind"]] + jid)
        return page

    # The cancel and resume buttons on a job's page: the API's action, then back to that page.
    app.add_api_route("/jobs/{jid}/cancel", _job_button(lambda jid: jobs.cancel(_check_id(jid, "job"))),
                      methods=["POST"], include_in_schema=False)
    app.add_api_route("/jobs/{jid}/resume", _job_button(_resume), methods=["POST"], include_in_schema=False)

    @app.post("/corpus", include_in_schema=False)
    async def corpus_launch(request: Request):
        form = await _form(request)
        job = await _corpus_from_form(form, _file(form, "choose a corpus file", named=True))
        return _back(f"/corpus/{job['id']}")

    @app.post("/corpus/import", include_in_schema=False)
    async def corpus_import(request: Request):
        f = _file(await _form(request), "choose a summary.json", named=True)
        job = _do_corpus_import(f.filename, await f.read())
        return _back(f"/corpus/{job['id']}")

    @app.get("/corpus/{jid}", include_in_schema=False)
    def audit_page(request: Request, jid: str):
        job = _finished_job("corpus", jid, sample=50)
        return _page(request, "audit.html", {"job": job, "sample": job["review_sample"]})

    @app.get("/dossier", include_in_schema=False)
    def dossier_page(request: Request):
        runs = [j for j in ws.list_jobs("assess") if j["status"] == "done"]
        audits = [j for j in ws.list_jobs("corpus") if j["status"] == "done" and not j["params"].get("imported")]
        return _page(request, "dossier.html", {"available": services.dossier_available(), "what": DOSSIER_WHAT,
                                               "dossiers": ws.list_jobs("dossier"), "runs": runs, "audits": audits})

    @app.post("/dossier", include_in_schema=False)
    async def dossier_build(request: Request):
        form = await _form(request)
        try:
            body = DossierBuild(service_id=int(form.get("service_id") or 0),
                                runs=[str(x) for x in form.getlist("runs")],
                                audits=[str(x) for x in form.getlist("audits")])
        except ValueError:
            raise InputError("choose a service", field="service_id") from None
        job = _do_dossier(body)
        return _back(f"/dossier/{job['id']}")

    @app.get("/dossier/{jid}", include_in_schema=False)
    def dossier_one(request: Request, jid: str):
        job = _finished_job("dossier", jid)
        return _page(request, "dossier_one.html", {"job": job, "gaps": job["gaps"]})

    # Downloads linked from the pages are the API's replies under the page's path (same function, no copy).
    for path, endpoint in (("/services/{sid}/profile.yaml", api_export), ("/services/{sid}/actions.xlsx",
                           api_actions_xlsx), ("/services/{sid}/actions.csv", api_actions_csv),
                           ("/services/{sid}/deadlines.ics", api_ics), ("/labels/{uid}/download", api_label_download),
                           ("/dossier/{jid}/download", api_dossier_download)):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)

    asgi = Guard(app, token=token, max_body=MAX_BODY, max_upload=MAX_UPLOAD, upload_paths=UPLOAD_PATHS)
    asgi.fastapi = app  # tests and the CLI reach the workspace through this
    return asgi


JOB_PAGES = {"assess": "/assessments/", "corpus": "/corpus/", "dossier": "/dossier/"}
JOB_WORDS = {"assess": "assessment", "corpus": "audit", "dossier": "dossier"}  # in "no such ..." messages
EVIDENCE_EXT = {".pdf", ".png", ".jpg", ".jpeg", ".txt", ".md", ".docx", ".xlsx", ".csv", ".zip", ".json", ".eml"}

DOSSIER_WHAT = [
    "Build the CAC filing package (algorithm filing, generative AI service registration) from this workspace: "
    "the service profile, the duties that apply, assessment runs, corpus audits and label checks as evidence.",
    "Show every statement the evidence does not support as a visible placeholder counted as a gap.",
    "Offer the package for download (DOCX/PDF/XLSX) once built.",
]


def _charts(rep: dict) -> list[dict]:
    """Rows for the inline SVG charts: per risk and per metric, the rate and its Wilson 95% interval."""
    out = []
    for code, block in sorted((rep.get("by_risk") or {}).items()):
        for metric, m in block.items():
            if not isinstance(m, dict) or "ci95" not in m or not m.get("n"):
                continue
            rate = m.get("pass_rate", m.get("refusal_rate"))
            ci = m.get("ci95") or [None, None]
            thr = (m.get("threshold") or {})
            out.append({"risk": code, "name": block.get("en", ""), "name_zh": block.get("zh", ""),
                        "metric": metric, "n": m["n"], "rate": rate, "lo": ci[0], "hi": ci[1],
                        "min": thr.get("min"), "max": thr.get("max"), "verdict": m.get("verdict")})
    return out
