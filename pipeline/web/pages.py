"""The console's pages, one function per route of ``security.ROUTES`` (same names). Each reads what it
shows through ``pipeline.api`` and renders a template; the rules (login, role, CSRF) were checked
before it runs (``app.guarded``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from pipeline import api
from pipeline.core.lifecycle import MANUAL, STATUSES, allowed
from pipeline.errors import CertpipeError
from pipeline.web.security import LOGIN_COOKIE, SESSION_COOKIE, client_of, cookie_args, new_token, same
from pipeline.web.upload import Refused, receive_upload

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
USER_NAME = re.compile(r"^[\w.@-]{1,64}$")


def _console(request: Request):
    return request.state.console


def _lang(request: Request) -> str:
    return request.state.lang


def _next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never ``//host`` or a scheme)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 500:
        return target
    return "/"


def _words(request: Request):
    """``words(standard, level)``: a level's key in the reader's words."""
    console, lang = _console(request), _lang(request)
    cache: dict = {}

    def words(standard, level) -> str:
        if not level:
            return ""
        if (standard, level) not in cache:
            cache[standard, level] = api.level_words(standard, level, lang, console.ws)
        return cache[standard, level]

    return words


def _reason(row, lang: str) -> str:
    if row.first_problem is not None:
        return row.first_problem.format(lang)
    if row.note is not None:
        return row.note.render(lang)
    return ""


# ---- logging in and out -------------------------------------------------------------------------
def _login_page(request: Request, status: int = 200, error: str | None = None, **params) -> Response:
    console = _console(request)
    token = new_token()
    response = console.render.page(request, "login.html", status=status, login_token=token,
                                   next=_next(request.query_params.get("next")), error=error, error_params=params)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, **cookie_args(console.https(request)))
    return response


async def login_form(request: Request) -> Response:
    if request.state.session is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


async def login(request: Request) -> Response:
    console = _console(request)
    form = await request.form(max_files=0, max_fields=10)
    if not same(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):  # type: ignore[arg-type]
        return console.render.error(request, 403, "web.csrf")
    name = str(form.get("name") or "").strip()[:64]
    password = str(form.get("password") or "")[:1024]
    client = client_of(request.scope.get("client"), request.headers, console.config.serve.trust_proxy)
    if console.limiter.blocked(client, name):
        return _login_page(request, 429, "web.login_limited")
    user = console.users.verify(name, password) if USER_NAME.fullmatch(name) else None
    if user is None:
        console.limiter.failed(client, name)
        console.users.record(name if USER_NAME.fullmatch(name) else "?", "login.failed", client)
        return _login_page(request, 401, "web.login_failed")
    console.limiter.succeeded(name)
    session = console.users.new_session(user, console.config.serve.session_hours)
    console.users.record(user.name, "login", client)
    response = RedirectResponse(_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=int(console.config.serve.session_hours * 3600),
                        **cookie_args(console.https(request)))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    console = _console(request)
    session = request.state.session
    console.users.end_session(session.token)
    console.users.record(session.user.name, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- the dashboard ------------------------------------------------------------------------------
async def dashboard(request: Request) -> Response:
    console, lang = _console(request), _lang(request)
    board = api.console_dashboard(console.ws)
    rejections = [(row, _reason(row, lang)) for row in board.rejections]
    today = sum(board.today.values())
    return console.render.page(request, "dashboard.html", board=board, rejections=rejections, today=today,
                               decisions=board.decisions, due=board.due)


# ---- uploads ------------------------------------------------------------------------------------
def _upload_query(request: Request) -> tuple[list[str], str]:
    names = [n for n in request.query_params.getlist("f") if n and len(n) < 200][:50]
    since = request.query_params.get("since", "")
    if not re.fullmatch(r"[0-9T:+.\-]{10,40}", since):
        since = ""
    return names, since


def _outcomes(request: Request, names: list[str], since: str) -> list[tuple[str, object, str]]:
    """(name, UploadOutcome or None while it waits, its reason)"""
    lang = _lang(request)
    found = api.upload_outcomes(names, since, _console(request).ws) if since else {}
    return [(n, found.get(n), _reason(found[n].row, lang) if n in found else "") for n in names]


async def upload_form(request: Request, status: int = 200, error: CertpipeError | None = None,
                      refused: list | None = None, stored: tuple[list[str], str] | None = None) -> Response:
    """The upload page; with the outcomes of the files named in the query (``f``, received ``since``),
    or of those just ``stored`` when the upload also refused some."""
    console = _console(request)
    names, since = stored or _upload_query(request)
    outcomes = _outcomes(request, names, since)
    query = urlencode([("since", since), *[("f", n) for n in names]]) if names else ""
    return console.render.page(request, "upload.html", status=status, outcomes=outcomes, words=_words(request),
                               pending=sum(1 for _, o, _ in outcomes if o is None), error=error,
                               refused=refused or [], query=query,
                               max_mb=f"{console.config.limits.max_file_mb:g}")


async def upload(request: Request) -> Response:
    console = _console(request)
    since = datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        received = await receive_upload(request, request.state.session.csrf)
    except Refused as refused:
        if refused.status == 403:
            return console.render.error(request, 403, refused.key)
        return await upload_form(request, refused.status, CertpipeError(refused.key, refused.params))
    user = request.state.session.user.name
    for name in received.stored:
        console.users.record(user, "upload", name)
    if received.refused:  # said on the page, beside the outcomes of the files that were taken
        return await upload_form(request, 200 if received.stored else 400, refused=list(received.refused),
                                 stored=(received.stored, since))
    query = urlencode([("since", since), *[("f", n) for n in received.stored]])
    return RedirectResponse(f"/upload?{query}", status_code=303)


async def upload_status(request: Request) -> Response:
    console = _console(request)
    names, since = _upload_query(request)
    outcomes = _outcomes(request, names, since)
    return console.render.page(request, "upload_outcomes.html", outcomes=outcomes, words=_words(request),
                               pending=sum(1 for _, o, _ in outcomes if o is None))


# ---- audits -------------------------------------------------------------------------------------
SEARCH_FIELDS = ("organisation", "credit_code", "audit_id", "certificate", "standard", "level", "date_from",
                 "date_to")


async def audits(request: Request) -> Response:
    console = _console(request)
    values = {k: request.query_params.get(k, "").strip()[:100] for k in SEARCH_FIELDS}
    for key in ("date_from", "date_to"):
        if values[key] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[key]):
            values[key] = ""
    after = request.query_params.get("after") or None
    page = api.search_audits(api.AuditQuery(**values), console.ws, after=after, limit=50)
    next_url = None
    if page.next_after:
        next_url = "/audits?" + urlencode([*[(k, v) for k, v in values.items() if v], ("after", page.next_after)])
    first_url = "/audits?" + urlencode([(k, v) for k, v in values.items() if v])
    standards = api.list_standards(console.ws)
    words = _words(request)
    levels = {}  # a level's key in words (the first standard that has it), for the choice
    for std in standards:
        for level in std.levels:
            levels.setdefault(level.key, words(std.key, level.key))
    return console.render.page(request, "audits.html", page=page, values=values, next_url=next_url,
                               first_url=first_url, standards=standards, levels=levels,
                               codes={std.key: std.code for std in standards}, words=words, first=after is None)


async def audit(request: Request) -> Response:
    console = _console(request)
    audit_id = request.path_params["audit_id"]
    details = api.audit_details(audit_id, console.ws) if len(audit_id) <= 100 else None
    if details is None:
        return console.render.error(request, 404, "web.not_found")
    lang = _lang(request)
    reasons = {row.id: _reason(row, lang) for row in details.inputs}
    return console.render.page(request, "audit.html", a=details, reasons=reasons, words=_words(request))


async def download(request: Request) -> Response:
    console = _console(request)
    input_id, name = request.path_params["input_id"], request.path_params["name"]
    path = api.download_path(input_id, name, console.ws)
    if path is None:
        return console.render.error(request, 404, "web.not_found")
    console.users.record(request.state.session.user.name, "download", f"{input_id}/{name}")
    return FileResponse(path, filename=name)


# ---- standards ----------------------------------------------------------------------------------
async def standards(request: Request) -> Response:
    console = _console(request)
    return console.render.page(request, "standards.html", standards=api.list_standards(console.ws))


async def standard(request: Request) -> Response:
    console = _console(request)
    key = request.path_params["key"]
    try:
        std = api.load_standard(key, console.ws) if KEY.fullmatch(key) else None
    except CertpipeError:
        std = None
    if std is None:
        return console.render.error(request, 404, "web.not_found")
    return console.render.page(request, "standard.html", std=std)


# ---- the audit trail ----------------------------------------------------------------------------
async def trail(request: Request) -> Response:
    console = _console(request)
    return console.render.page(request, "trail.html", entries=console.users.trail(300))


# ---- certification decisions ---------------------------------------------------------------------
REASON_MAX = 500


async def _form(request: Request):
    """The POST's form: the one ``guarded`` read for its CSRF field, else read now."""
    form = getattr(request.state, "form", None)
    return form if form is not None else await request.form(max_files=0, max_fields=20)


def _reason_of(form) -> str:
    return " ".join(str(form.get("reason") or "").split())[:REASON_MAX]


async def decisions(request: Request, status: int = 200, error: CertpipeError | None = None,
                    reason: str = "", failed: str = "") -> Response:
    """The queue of certification decisions, each with its approve / refuse form; an error of the last
    attempt shown above it (``failed``: its audit, the ``reason`` typed kept in its form)."""
    console = _console(request)
    queue = api.decisions(console.ws)
    done = request.query_params.get("done", "")[:100]
    notice = None
    if done and request.query_params.get("approved") in ("0", "1"):
        notice = ("web.decide.approved" if request.query_params["approved"] == "1" else "web.decide.refused", done)
    return console.render.page(request, "decisions.html", status=status, queue=queue, words=_words(request),
                               error=error, reason=reason, failed=failed, notice=notice)


async def decide(request: Request) -> Response:
    console = _console(request)
    audit_id = request.path_params["audit_id"][:100]
    form = await _form(request)
    reason = _reason_of(form)
    choice = form.get("decision")
    account = request.state.session.user
    user = account.name
    if choice not in ("approve", "refuse"):
        return await decisions(request, 400, CertpipeError("web.decide.choose"), reason, audit_id)
    # decided in the person's name as workbooks name auditors, so that the independence rule sees it
    person = account.full_name or (user if not user.isascii() else "")
    if not person:  # a login like wang.li says nothing of who it is: 王立 could decide his own audit
        return await decisions(request, 400, CertpipeError("web.decide.no_full_name", {"user": user}), reason,
                               audit_id)
    try:
        await run_in_threadpool(api.decide, audit_id, approve=choice == "approve", by=person, reason=reason,
                                workspace=console.ws)
    except CertpipeError as refused:
        console.users.record(user, f"decide.{choice}.refused", audit_id, {"key": refused.key})
        return await decisions(request, 400, refused, reason, audit_id)
    console.users.record(user, f"decide.{choice}", audit_id, {"reason": reason})
    query = urlencode({"done": audit_id, "approved": "1" if choice == "approve" else "0"})
    return RedirectResponse(f"/decisions?{query}", status_code=303)


# ---- certificates -------------------------------------------------------------------------------
async def certificates(request: Request) -> Response:
    console = _console(request)
    chosen = request.query_params.get("status", "")
    chosen = chosen if chosen in STATUSES else ""
    rows = api.certificates(console.ws, status=chosen or None)
    may_generate = request.state.session.user.role in ("clerk", "admin")
    return console.render.page(request, "certificates.html", rows=rows, statuses=STATUSES, chosen=chosen,
                               due=api.due(None, console.ws), words=_words(request), may_generate=may_generate)


async def due_workbooks(request: Request) -> Response:
    """The workbooks of the surveillance and recertification audits due and not yet generated, as one
    zip (``api.due_workbooks``); each is recorded with its certificate, so a second click makes none."""
    import io
    import tempfile
    import zipfile

    console = _console(request)
    user = request.state.session.user.name
    lang = getattr(request.state, "lang", "zh")
    with tempfile.TemporaryDirectory(prefix="certpipe-due-") as folder:
        made = await run_in_threadpool(api.due_workbooks, folder, None, console.ws, lang=lang)
        blob = io.BytesIO()
        with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as zf:
            for _item, path in made:
                zf.write(path, Path(path).name)
    console.users.record(user, "due.workbooks", str(len(made)), {"audits": [Path(p).stem for _i, p in made]})
    name = f"due-workbooks-{date.today().isoformat()}.zip"
    return Response(blob.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def certificate(request: Request, status: int = 200, error: CertpipeError | None = None,
                      reason: str = "") -> Response:
    console = _console(request)
    number = request.path_params["number"]
    try:
        row, history = api.certificate(number, console.ws) if KEY.fullmatch(number) else (None, [])
    except CertpipeError:
        row = None
    if row is None:
        return console.render.error(request, 404, "web.not_found")
    changed = request.query_params.get("changed", "")
    may = request.state.session.user.role in ("reviewer", "admin")
    actions = [a for a in allowed(row.status) if a in MANUAL] if may else []
    return console.render.page(request, "certificate.html", status=status, c=row, history=history,
                               actions=actions, error=error, reason=reason, words=_words(request),
                               changed=changed if changed in MANUAL else "")


async def change_certificate(request: Request) -> Response:
    console = _console(request)
    number, action = request.path_params["number"], request.path_params["action"]
    if action not in MANUAL or not KEY.fullmatch(number):
        return console.render.error(request, 404, "web.not_found")
    try:
        api.certificate(number, console.ws)
    except CertpipeError:
        return console.render.error(request, 404, "web.not_found")
    form = await _form(request)
    reason = _reason_of(form)
    if not reason:
        return await certificate(request, 400, CertpipeError("web.cert.no_reason"), reason)
    until = None
    if action == "suspend" and str(form.get("until") or "").strip():
        text = str(form.get("until")).strip()[:20]
        try:
            until = date.fromisoformat(text)
        except ValueError:
            return await certificate(request, 400, CertpipeError("cert.bad_date", {"value": text}), reason)
    account = request.state.session.user
    user = account.name
    # taken in the person's name as workbooks name auditors, so that the independence rule sees it
    person = account.full_name or user
    try:
        await run_in_threadpool(api.change_certificate, number, action, by=person, reason=reason, until=until,
                                workspace=console.ws)
    except CertpipeError as refused:
        console.users.record(user, f"cert.{action}.refused", number, {"key": refused.key})
        return await certificate(request, 400, refused, reason)
    console.users.record(user, f"cert.{action}", number, {"reason": reason, "until": str(until or "")})
    return RedirectResponse(f"/certificates/{number}?{urlencode({'changed': action})}", status_code=303)


# ---- public verification ------------------------------------------------------------------------
async def public_keys_js(request: Request) -> Response:
    """The trusted public keys for the public page's check of a QR link's signed token."""
    import json

    console = _console(request)
    keys = {k.key_id: k.b64 for k in api.public_keys(console.ws)}
    body = "window.CERTPIPE_KEYS = " + json.dumps(keys).replace("<", "\\u003c") + ";\n"
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


async def public_certificate(request: Request) -> Response:
    console = _console(request)
    number = request.path_params["number"]
    cert = api.public_certificate(number, console.ws) if KEY.fullmatch(number) else None
    if cert is None:
        return console.render.page(request, "public.html", status=404, cert=None, number="")
    level = api.level_words(cert.standard_key, cert.level, _lang(request), console.ws) if cert.level else ""
    signed = {"number": cert.number, "organisation": cert.organisation, "credit_code": cert.credit_code,
              "standard": cert.standard_key, "level": cert.level or "", "issue_date": cert.issue_date or "",
              "expiry_date": cert.expiry_date or ""}  # what the QR link's token signs, as the token says it
    return console.render.page(request, "public.html", cert=cert, level=level, number=cert.number, signed=signed)
