"""The web console through the ASGI test client: every route for every role and for nobody, the CSRF
check, downloads that cannot leave the outbox, uploads refused before they are read whole, logins
limited, cookies and the public page."""

from __future__ import annotations

import asyncio
import re
import shutil
import warnings
from datetime import date, timedelta
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette's test client warns that its httpx backend is deprecated
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from pipeline import api
from pipeline.excel.fill import fill_workbook
from pipeline.web import create_app
from pipeline.web.security import ROUTES, LoginLimiter
from tests.helpers.console import csrf_of, log_in
from tests.helpers.workspace import make_ws, run, sample_audit, workbook

PASSWORDS = {"clerk": "clerk-pass-1", "reviewer": "reviewer-pass-1", "admin": "admin-pass-1"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace run once: one certified audit, one rejected workbook; a user of every role."""
    ws = make_ws(tmp_path_factory.mktemp("web"))
    workbook(ws, "good.xlsx", sample_audit(audit_id="W-2026-001", target="88"))
    bad = workbook(ws, "bad.xlsx", sample_audit(audit_id="W-2026-002"))
    fill_workbook(bad, bad, {"lead_auditor": None})
    run(ws)
    for role, password in PASSWORDS.items():
        api.add_user(role, role, password, ws)
    return ws


@pytest.fixture(scope="module")
def facts(ws):
    rows = {r.name: r for r in api.ledger_rows(ws)}
    good, bad = rows["good.xlsx"], rows["bad.xlsx"]
    assert good.status == "done" and bad.status == "rejected"
    return {"good": good, "bad": bad, "report": "W-2026-001-report.docx",
            "annotated": next(p.name for p in (ws.root / bad.output).glob("*-problems.xlsx"))}


def client(ws, role: str | None = None) -> TestClient:
    c = TestClient(create_app(ws), base_url="http://testserver")
    if role:
        log_in(c, role, PASSWORDS[role])
    return c


def url_of(route, facts) -> str:
    values = {"number": facts["good"].certificate_no, "audit_id": "W-2026-001", "input_id": facts["good"].id,
              "name": facts["report"], "key": "gbt27922-2011", "action": "suspend"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), route.path)


def call(c: TestClient, route, url: str, csrf: str = ""):
    if route.method == "GET":
        return c.get(url, follow_redirects=False)
    if route.name == "upload":
        return c.post(url, data={"csrf": csrf}, files={"file": ("x.xlsx", b"PK\x03\x04 not a real workbook")},
                      follow_redirects=False)
    return c.post(url, data={"csrf": csrf}, follow_redirects=False)


PROTECTED = [r for r in ROUTES if r.roles]
#: POST routes whose form needs more than its token (a decision, a reason): sent bare, they say so.
FORMS_WITH_WORDS = {"decide", "change_certificate"}


@pytest.mark.parametrize("role", ["clerk", "reviewer", "admin"])
@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_for_every_role(ws, facts, route, role):
    c = client(ws, role)
    csrf = csrf_of(c.get("/").text)
    response = call(c, route, url_of(route, facts), csrf)
    if role in route.roles:
        if route.name in FORMS_WITH_WORDS:  # the bare form lacks its choice or reason: said on the page
            assert response.status_code == 400 and 'id="error"' in response.text, response.text[:300]
            return
        assert response.status_code in (200, 303), (response.status_code, response.text[:300])
        if response.status_code == 303:
            assert route.method == "POST"
    else:
        assert response.status_code == 403
        assert "无权" in response.text


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_refuses_nobody(ws, facts, route):
    c = client(ws)
    response = call(c, route, url_of(route, facts))
    if route.method == "GET":
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == 403
    assert facts["report"] not in response.text


def test_the_role_table_is_what_the_issue_asks():
    roles = {(r.method, r.path): r.roles for r in ROUTES}
    assert roles["POST", "/upload"] == {"clerk", "admin"}  # reviewers decide, they do not bring workbooks in
    assert roles["GET", "/trail"] == {"admin"}
    assert not roles["GET", "/c/{number}"] and not roles["GET", "/login"]
    assert all(r.roles for r in ROUTES if r.path not in ("/login", "/c/{number}", "/c/keys.js"))


def test_public_routes_need_no_login(ws, facts):
    c = client(ws)
    assert c.get("/login").status_code == 200
    assert c.get(f"/c/{facts['good'].certificate_no}").status_code == 200


# ---- CSRF ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_form_without_its_token_is_refused(ws, token):
    c = client(ws, "clerk")
    data = {} if token is None else {"csrf": token}
    response = c.post("/logout", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert c.get("/", follow_redirects=False).status_code == 200  # still logged in: nothing happened


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_an_upload_without_its_token_is_refused_and_nothing_reaches_the_inbox(ws, token):
    c = client(ws, "clerk")
    before = sorted(p.name for p in ws.inbox.iterdir())
    data = {} if token is None else {"csrf": token}
    response = c.post("/upload", data=data, files={"file": ("sneaky.xlsx", b"PK\x03\x04")}, follow_redirects=False)
    assert response.status_code == 403
    assert sorted(p.name for p in ws.inbox.iterdir()) == before


def test_a_token_in_the_header_counts_too(ws):
    c = client(ws, "clerk")
    csrf = csrf_of(c.get("/").text)
    assert c.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303  # logged out


def test_the_login_form_has_its_own_token(ws):
    c = client(ws)
    c.get("/login")
    response = c.post("/login", data={"csrf": "made-up", "name": "clerk", "password": PASSWORDS["clerk"]},
                      follow_redirects=False)
    assert response.status_code == 403
    assert "certpipe_session" not in response.headers.get("set-cookie", "")


# ---- downloads ----------------------------------------------------------------------------------
def test_downloads_give_the_published_files(ws, facts):
    c = client(ws, "reviewer")
    report = c.get(f"/files/{facts['good'].id}/{facts['report']}")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    assert report.content == (ws.root / facts["good"].output / facts["report"]).read_bytes()
    annotated = c.get(f"/files/{facts['bad'].id}/{facts['annotated']}")
    assert annotated.status_code == 200 and annotated.content[:2] == b"PK"


@pytest.mark.parametrize("tail", [
    "..%2F..%2F.certpipe%2Fusers.sqlite", "..%2Fgood.xlsx", "%2e%2e", ".sha256", ".revision",
    "..%5C..%5Ccertpipe.toml", "%2Fetc%2Fpasswd", "link.docx", "nothing.docx"])
def test_a_path_traversal_download_is_404(ws, facts, tail):
    folder = ws.root / facts["good"].output
    link = folder / "link.docx"
    if not link.is_symlink():
        link.symlink_to(ws.root.parent / "secret.txt")
        (ws.root.parent / "secret.txt").write_text("secret")
    c = client(ws, "admin")
    response = c.get(f"/files/{facts['good'].id}/{tail}")
    assert response.status_code == 404
    assert "secret" not in response.text


def test_a_file_of_another_input_or_an_unknown_input_is_404(ws, facts):
    c = client(ws, "admin")
    assert c.get(f"/files/{facts['bad'].id}/{facts['report']}").status_code == 404
    assert c.get(f"/files/999999/{facts['report']}").status_code == 404
    assert c.get("/static/../certpipe.toml").status_code == 404


# ---- uploads ------------------------------------------------------------------------------------
async def _asgi(app, method: str, path: str, headers: list, chunks: list[bytes]) -> tuple[int, int]:
    """Call the app directly, the body given chunk by chunk: (status, chunks it read)."""
    read = 0
    sent: dict = {}

    async def receive():
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "scheme": "http",
             "http_version": "1.1", "root_path": ""}
    await app(scope, receive, send)
    return sent["status"], read


@pytest.fixture
def small_ws(tmp_path):
    """A workspace whose files may be 1 MB at most."""
    ws = make_ws(tmp_path)
    ws.config_file.write_text("[limits]\nmax_file_mb = 1\n", encoding="utf-8")
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    return ws


def _session(ws) -> tuple[str, str]:
    c = client(ws, "clerk")
    return c.cookies["certpipe_session"], csrf_of(c.get("/upload").text)


def _multipart(csrf: str, size: int, chunk: int = 64 * 1024) -> tuple[bytes, list[bytes]]:
    boundary = b"XyZbOuNdArY"
    head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + csrf.encode()
            + b"\r\n--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    body = [head] + [b"x" * chunk for _ in range(size // chunk)] + [b"\r\n--" + boundary + b"--\r\n"]
    return boundary, body


def test_an_oversized_upload_is_refused_while_it_streams(small_ws):
    token, csrf = _session(small_ws)
    boundary, chunks = _multipart(csrf, 8 * 2**20)  # 8 MB against a 1 MB cap, no length declared
    headers = [(b"content-type", b"multipart/form-data; boundary=" + boundary),
               (b"cookie", b"certpipe_session=" + token.encode())]
    status, read = asyncio.run(_asgi(create_app(small_ws), "POST", "/upload", headers, chunks))
    assert status == 413
    assert read < len(chunks) / 4, f"read {read} of {len(chunks)} chunks before refusing"
    assert list(small_ws.inbox.iterdir()) == []  # the partial file is gone, nothing else was dropped


def test_an_upload_declared_too_large_is_refused_before_a_byte_is_read(small_ws):
    token, csrf = _session(small_ws)
    boundary, chunks = _multipart(csrf, 40 * 2**20)
    length = sum(len(c) for c in chunks)
    headers = [(b"content-type", b"multipart/form-data; boundary=" + boundary),
               (b"content-length", str(length).encode()), (b"cookie", b"certpipe_session=" + token.encode())]
    status, read = asyncio.run(_asgi(create_app(small_ws), "POST", "/upload", headers, chunks))
    assert status == 413 and read == 0


def test_an_upload_under_the_cap_arrives_whole_under_a_safe_name(small_ws):
    c = client(small_ws, "clerk")
    csrf = csrf_of(c.get("/upload").text)
    content = bytes(range(256)) * 1000
    response = c.post("/upload", data={"csrf": csrf}, files=[
        ("file", ("../../evil name?.XLSX", content)), ("file", ("notes.txt", b"hello"))], follow_redirects=False)
    assert response.status_code == 200  # one stored, one refused: the page says which
    stored = [p for p in small_ws.inbox.iterdir()]
    assert len(stored) == 1 and stored[0].read_bytes() == content
    assert stored[0].suffix == ".xlsx" and "/" not in stored[0].name and "?" not in stored[0].name
    assert "notes.txt" in response.text and ".xlsx" in response.text
    assert f'data-name="{stored[0].name}"' in response.text  # the file taken waits for its outcome
    again = c.post("/upload", data={"csrf": csrf}, files={"file": ("../../evil name?.XLSX", b"other")},
                   follow_redirects=False)
    assert again.status_code == 303
    names = sorted(p.name for p in small_ws.inbox.iterdir())
    assert len(names) == 2 and stored[0].read_bytes() == content  # never replaced: a second name


def test_the_outcome_of_an_upload_appears_once_processed(tmp_path):
    ws = make_ws(tmp_path)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    source = workbook(ws, "made.xlsx", sample_audit(audit_id="U-2026-001", target="90"))
    content = source.read_bytes()
    source.unlink()
    c = client(ws, "clerk")
    csrf = csrf_of(c.get("/upload").text)
    response = c.post("/upload", data={"csrf": csrf}, files={"file": ("U-2026-001.xlsx", content)},
                      follow_redirects=False)
    assert response.status_code == 303
    page = c.get(response.headers["location"])
    assert "等待处理" in page.text and 'data-pending="1"' in page.text
    run(ws)
    status = c.get(response.headers["location"].replace("/upload?", "/upload/status?"))
    assert 'data-pending="0"' in status.text and "已出报告" in status.text
    assert "U-2026-001-report.docx" in status.text
    trail = [(e.user, e.action, e.target) for e in api.open_users(ws).trail()]
    assert ("clerk", "upload", "U-2026-001.xlsx") in trail
    api.add_user("admin", "admin", PASSWORDS["admin"], ws)
    page = client(ws, "admin").get("/trail").text
    assert "上传" in page and "U-2026-001.xlsx" in page and "添加用户" in page


# ---- logging in ---------------------------------------------------------------------------------
def test_logins_are_limited(ws):
    c = client(ws)
    for _ in range(5):
        page = c.get("/login")
        r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "admin", "password": "wrong"},
                   follow_redirects=False)
        assert r.status_code == 401
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "admin", "password": PASSWORDS["admin"]},
               follow_redirects=False)
    assert r.status_code == 429 and "certpipe_session" not in r.headers.get("set-cookie", "")


def test_the_limiter_forgets_old_failures():
    now = [0.0]
    limiter = LoginLimiter(attempts=2, window=60, clock=lambda: now[0])
    limiter.failed("1.2.3.4", "x")
    limiter.failed("1.2.3.4", "y")
    assert limiter.blocked("1.2.3.4", "z") and not limiter.blocked("5.6.7.8", "z")
    now[0] = 61
    assert not limiter.blocked("1.2.3.4", "z")


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(tmp_path):
    ws = make_ws(tmp_path)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)

    def cookie(headers: dict) -> str:
        c = client(ws)
        page = c.get("/login")
        r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "clerk", "password": PASSWORDS["clerk"]},
                   headers=headers, follow_redirects=False)
        return next(v for v in r.headers.get_list("set-cookie") if v.startswith("certpipe_session="))

    plain = cookie({"X-Forwarded-Proto": "https"})  # not believed: no trusted proxy
    assert "HttpOnly" in plain and "SameSite=strict" in plain and "Secure" not in plain
    ws.config_file.write_text("[serve]\ntrust_proxy = true\n", encoding="utf-8")
    assert "Secure" in cookie({"X-Forwarded-Proto": "https"})
    assert "Secure" in TestClient(create_app(ws), base_url="https://testserver").get("/login").headers["set-cookie"]


def test_a_disabled_user_is_logged_out_and_cannot_log_in(tmp_path):
    ws = make_ws(tmp_path)
    api.add_user("temp", "clerk", "temporary-1", ws)
    c = TestClient(create_app(ws))
    log_in(c, "temp", "temporary-1")
    assert c.get("/", follow_redirects=False).status_code == 200
    api.disable_user("temp", ws)
    assert c.get("/", follow_redirects=False).status_code == 303
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "temp", "password": "temporary-1"},
               follow_redirects=False)
    assert r.status_code == 401


def test_after_login_only_a_local_page_is_opened(ws):
    c = client(ws)
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "name": "clerk", "password": PASSWORDS["clerk"],
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"


# ---- pages --------------------------------------------------------------------------------------
def test_every_response_carries_the_security_headers(ws):
    r = client(ws).get("/login")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_the_public_page_shows_public_fields_only(ws, facts):
    number = facts["good"].certificate_no
    page = client(ws).get(f"/c/{number}")
    assert page.status_code == 200
    assert number in page.text and "测试服务有限公司" in page.text and "有效" in page.text
    for secret in ("W-2026-001", facts["good"].total, "outbox", "/audits", "/files", "logout", "csrf"):
        assert secret not in page.text, secret
    english = client(ws).get(f"/c/{number}?lang=en")
    assert "issued" in english.text and "Certificate verification" in english.text
    unknown = client(ws).get("/c/CP-1999-NOPE-00001")
    assert unknown.status_code == 404 and 'id="cert"' not in unknown.text and "证书查询" in unknown.text
    assert client(ws).get("/c/%3Cscript%3E").status_code == 404


def test_the_dashboard_shows_the_rejection_and_its_first_problem(ws, facts):
    page = client(ws, "clerk").get("/")
    assert "bad.xlsx" in page.text and facts["annotated"] in page.text
    assert "审核组长" in page.text  # the first problem, in words
    assert "没有处理程序在运行" in page.text
    last = max(r.finished_at for r in api.ledger_rows(ws) if r.finished_at)
    assert f"最近一次处理：{last[:10]} {last[11:16]}<" in page.text  # the time as a person reads it


def test_the_audit_page_shows_the_scorecard_and_downloads(ws, facts):
    page = client(ws, "reviewer").get("/audits/W-2026-001")
    assert page.status_code == 200
    assert facts["good"].certificate_no in page.text and facts["report"] in page.text
    assert f">{facts['good'].total}<" in page.text
    assert client(ws, "reviewer").get("/audits/NOPE-1").status_code == 404


def test_the_language_switch_is_kept_in_a_cookie(ws):
    c = client(ws, "clerk")
    assert "Dashboard" in c.get("/?lang=en").text
    assert "Dashboard" in c.get("/").text
    assert "概览" in c.get("/?lang=zh").text


def test_search_finds_by_every_field(ws, facts):
    c = client(ws, "reviewer")
    number = facts["good"].certificate_no

    def ids(query: str) -> list[str]:
        return re.findall(r'href="/audits/([^"]+)"', c.get(f"/audits?{query}").text)

    assert ids("organisation=测试服务") == ["W-2026-002", "W-2026-001"]
    assert ids(f"certificate={number}") == ["W-2026-001"]
    assert ids("audit_id=W-2026-00") == ["W-2026-002", "W-2026-001"]
    assert ids("standard=gbt27922-2011&level=" + facts["good"].level) == ["W-2026-001"]
    assert ids("organisation=nobody-at-all") == []
    # its only workbook was rejected: "rejected" where the ledger keeps a rejection's audit id, else "no
    # accepted workbook yet"; never done
    state = re.search(r'<tr class="(\w+)"><td><a href="/audits/W-2026-002"', c.get("/audits?audit_id=W-2026-002").text)
    assert state and state.group(1) in ("rejected", "waiting")
    assert '<tr class="done">' in c.get("/audits?audit_id=W-2026-001").text


def test_serve_binds_to_this_computer_unless_told():
    import typer

    from pipeline.cli import app

    command = typer.main.get_command(app).commands["serve"]
    host = next(p for p in command.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_the_console_never_writes_the_ledger(ws):
    before = Path(ws.ledger).stat().st_mtime_ns
    c = client(ws, "admin")
    for url in ("/", "/audits", "/audits/W-2026-001", "/standards", "/trail"):
        assert c.get(url).status_code == 200
    assert Path(ws.ledger).stat().st_mtime_ns == before


@pytest.mark.slow
def test_the_console_runs_beside_watch(tmp_path):
    """``certpipe watch`` holds the workspace; the console still shows it, takes an upload into the inbox,
    shows the outcome watch records (the ledger read while watch writes it), and a reviewer's decision
    issues the certificate while watch keeps running (run again in the Windows-like mode by ``.ci/run``:
    watch then starts its workers by spawn, without fcntl or SIGALRM)."""
    import subprocess
    import sys
    import time

    from tests.helpers.workspace import QUICK

    ws = make_ws(tmp_path)
    ws.config_file.write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    api.add_user("赵决定", "reviewer", DECIDER["赵决定"], ws)
    source = workbook(ws, "made.xlsx", sample_audit(audit_id="V-2026-001", target="90"))
    content = source.read_bytes()
    source.unlink()
    watch = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch", "--poll"],
                             env={**QUICK, "CERTPIPE_WATCH_SETTLE_SECONDS": "0.3"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = client(ws, "clerk")
        deadline = time.monotonic() + 60
        while "watch" not in c.get("/").text.split('id="watcher"', 1)[1][:200]:
            assert time.monotonic() < deadline, "the dashboard never saw watch"
            time.sleep(0.2)
        csrf = csrf_of(c.get("/upload").text)
        response = c.post("/upload", data={"csrf": csrf}, files={"file": ("V-2026-001.xlsx", content)},
                          follow_redirects=False)
        assert response.status_code == 303
        status_url = response.headers["location"].replace("/upload?", "/upload/status?")
        while 'data-pending="0"' not in (page := c.get(status_url).text):
            assert time.monotonic() < deadline + 60, "the outcome never appeared"
            time.sleep(0.3)
        assert "已出报告" in page and "V-2026-001-report.docx" in page
        assert watch.poll() is None

        reviewer = TestClient(create_app(ws), base_url="http://testserver")
        log_in(reviewer, "赵决定", DECIDER["赵决定"])
        csrf = csrf_of(reviewer.get("/decisions").text)
        decided = reviewer.post("/decisions/V-2026-001", data={"csrf": csrf, "decision": "approve", "reason": "符合"},
                                follow_redirects=False)
        assert decided.status_code == 303, decided.text[:300]
        (cert,) = api.certificates(ws)
        assert cert.status == "issued" and (ws.outbox / "V-2026-001" / "V-2026-001-certificate.docx").is_file()
        assert watch.poll() is None  # watch kept its workspace and keeps running
    finally:
        watch.terminate()
        watch.wait(30)
    assert watch.returncode == 0


def test_an_older_revision_downloads_from_its_history_folder(tmp_path):
    ws = make_ws(tmp_path)
    api.add_user("reviewer", "reviewer", PASSWORDS["reviewer"], ws)
    workbook(ws, "r1.xlsx", sample_audit(audit_id="R-2026-001", target="82"))
    run(ws)
    workbook(ws, "r2.xlsx", sample_audit(audit_id="R-2026-001", target="92"))
    run(ws)
    details = api.audit_details("R-2026-001", ws)
    first, second = sorted((r for r in details.inputs if r.status == "done"), key=lambda r: r.revision)
    assert (first.revision, second.revision) == (1, 2) and details.scorecard["total"] == 92
    old = api.download_path(first.id, "R-2026-001-report.docx", ws)
    new = api.download_path(second.id, "R-2026-001-report.docx", ws)
    assert old == ws.outbox / "R-2026-001" / "history" / "r1" / "R-2026-001-report.docx"
    assert new == ws.outbox / "R-2026-001" / "R-2026-001-report.docx"
    c = client(ws, "reviewer")
    page = c.get("/audits/R-2026-001").text
    assert f"/files/{first.id}/R-2026-001-report.docx" in page and f"/files/{second.id}/R-2026-001-report.docx" in page
    assert c.get(f"/files/{first.id}/R-2026-001-report.docx").content == old.read_bytes() != new.read_bytes()


@pytest.mark.slow
def test_the_wheel_carries_the_console(tmp_path):
    """Templates, the stylesheet and the script ship inside the package: nothing is fetched from a CDN."""
    import subprocess
    import sys
    import zipfile

    from tests.helpers.paths import ROOT

    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("certpipe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    web = ROOT / "pipeline" / "web"
    for path in [*web.glob("templates/*.html"), *web.glob("static/*")]:
        assert f"pipeline/web/{path.relative_to(web).as_posix()}" in names
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, f"{path.name} refers to another site"


@pytest.mark.slow
def test_certpipe_serve_answers_on_this_computer_and_stops_on_sigterm(ws, facts):
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.helpers.workspace import QUICK

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "serve", "--port", str(port)],
                              env=QUICK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/c/{facts['good'].certificate_no}", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "certpipe serve did not start"
                time.sleep(0.2)
        assert page.status == 200 and "有效" in page.read().decode("utf-8")
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out


def test_serve_on_a_taken_port_says_so_and_exits_2(cli, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = cli("-W", str(make_ws(tmp_path).root), "--lang", "en", "serve", "--port", str(port))
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_serve_says_when_nobody_could_log_in(cli, tmp_path):
    import socket

    with socket.socket() as taken:  # stops it right after the start-up words
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, out, _ = cli("-W", str(make_ws(tmp_path).root), "serve", "--port", str(taken.getsockname()[1]))
    assert code == 2 and "certpipe users add" in out


@pytest.mark.parametrize(("status", "shown", "found"), [
    ("suspended", "暂停", True), ("withdrawn", "撤销", True), ("cancelled", "注销", True),
    ("pending", None, False), ("refused", None, False)])
def test_the_public_page_shows_the_current_status_the_ledger_keeps(tmp_path, status, shown, found):
    """The public page says the certificate's status today; one not (yet) issued is nobody's business."""
    import shutil
    import sqlite3

    ws = make_ws(tmp_path)
    workbook(ws, "good.xlsx", sample_audit(audit_id="P-2026-001", target="88"))
    run(ws)
    (number,) = sqlite3.connect(ws.ledger).execute("SELECT number FROM certificates").fetchone()
    db = sqlite3.connect(ws.ledger)
    db.execute("UPDATE certificates SET status = ? WHERE number = ?", (status, number))
    db.commit()
    db.close()
    page = client(ws).get(f"/c/{number}")
    if found:
        assert page.status_code == 200 and f'class="state-{status}">{shown}<' in page.text
    else:
        assert page.status_code == 404 and "测试服务有限公司" not in page.text
    shutil.rmtree(ws.root)


def test_a_certificate_past_its_expiry_shows_expired(tmp_path):
    import sqlite3

    ws = make_ws(tmp_path)
    workbook(ws, "good.xlsx", sample_audit(audit_id="E-2026-001", target="88"))
    run(ws)
    (number,) = sqlite3.connect(ws.ledger).execute("SELECT number FROM certificates").fetchone()
    assert api.public_certificate(number, ws).status == "issued"
    with sqlite3.connect(ws.ledger) as db:
        db.execute("UPDATE certificates SET expires_on = '2001-01-01' WHERE number = ?", (number,))
    assert api.public_certificate(number, ws).status == "expired"
    page = client(ws).get(f"/c/{number}?lang=en")
    assert 'class="state-expired">expired<' in page.text


def test_a_suspended_certificate_shows_suspended_on_its_public_page(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "good.xlsx", sample_audit(audit_id="S-2026-001", target="88"))
    run(ws)
    number = api.certificates(ws, status="issued")[0].number
    assert "有效" in client(ws).get(f"/c/{number}").text
    api.change_certificate(number, "suspend", by="赵敏", reason="监督审核未按期进行", workspace=ws)
    page = client(ws).get(f"/c/{number}")
    assert page.status_code == 200 and 'class="state-suspended">暂停<' in page.text
    assert "赵敏" not in page.text and "监督审核未按期进行" not in page.text  # who and why stay inside
    assert 'class="state-suspended">suspended<' in client(ws).get(f"/c/{number}?lang=en").text
    api.add_user("reviewer", "reviewer", PASSWORDS["reviewer"], ws)
    inside = client(ws, "reviewer").get("/audits/S-2026-001").text
    assert 'id="certificate-status">暂停<' in inside


# ---- certification decisions and certificates (issue 16) -----------------------------------------
DECIDER = {"赵决定": "decider-pass-1", "王立": "lead-pass-1"}  # 王立 is the sample audit's lead auditor


@pytest.fixture(scope="module")
def review_ws(tmp_path_factory):
    """A workspace in review mode whose run left three certification decisions waiting; reviewers 赵决定
    (independent) and 王立 (the audits' lead auditor), a clerk."""
    from pipeline.flow.run import run_inbox

    ws = make_ws(tmp_path_factory.mktemp("review"))
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    for n in (1, 2, 3):
        workbook(ws, f"r{n}.xlsx", sample_audit(audit_id=f"R-2026-00{n}", target="92", org=f"评审{n}号公司"))
    ws, config = api.open_workspace(ws)
    run_inbox(ws, config, workers=1, settle=0)
    assert sorted(d.audit_id for d in api.decisions(ws)) == ["R-2026-001", "R-2026-002", "R-2026-003"]
    assert api.certificates(ws) == []
    for name, password in DECIDER.items():
        api.add_user(name, "reviewer", password, ws)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    api.add_user("admin", "admin", PASSWORDS["admin"], ws)
    return ws


def review_client(ws, name: str) -> TestClient:
    c = TestClient(create_app(ws), base_url="http://testserver")
    log_in(c, name, DECIDER.get(name) or PASSWORDS[name])
    return c


def trail_of(ws) -> list[tuple[str, str, str]]:
    with api.open_users(ws) as users:
        return [(e.user, e.action, e.target) for e in users.trail(100)]


def test_the_queue_lists_what_waits_and_the_dashboard_counts_it(review_ws):
    c = review_client(review_ws, "赵决定")
    page = c.get("/decisions")
    assert page.status_code == 200
    assert '<a href="/audits/R-2026-002">R-2026-002</a>' in page.text
    organisation = api.decisions(review_ws)[0].organisation
    assert organisation.startswith("评审") and organisation in page.text  # (one credit code: one organisation)
    assert "发证" in page.text and "王立、陈晓" in page.text
    assert page.text.count('name="csrf"') >= 3 and 'value="approve"' in page.text and 'value="refuse"' in page.text
    waiting = len(api.decisions(review_ws))
    board = c.get("/").text
    assert re.search(rf'id="decisions"><a href="/decisions">{waiting}</a>', board), board
    assert 'href="/decisions"' in board and 'href="/certificates"' in board  # the menu
    clerk = review_client(review_ws, "clerk")
    assert clerk.get("/decisions").status_code == 403
    assert 'href="/decisions"' not in clerk.get("/").text


@pytest.mark.parametrize("url", ["/decisions/R-2026-003", "/certificates/CP-NONE/suspend"])
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_decision_or_change_without_its_token_is_refused(review_ws, url, token):
    c = review_client(review_ws, "赵决定")
    data = {"decision": "approve", "reason": "x"} | ({} if token is None else {"csrf": token})
    response = c.post(url, data=data, follow_redirects=False)
    assert response.status_code == 403 and "安全校验失败" in response.text
    assert "R-2026-003" in [d.audit_id for d in api.decisions(review_ws)]


def test_a_clerk_may_not_decide_even_with_a_good_token(review_ws):
    c = review_client(review_ws, "clerk")
    csrf = csrf_of(c.get("/").text)
    response = c.post("/decisions/R-2026-003", data={"csrf": csrf, "decision": "approve", "reason": "x"},
                      follow_redirects=False)
    assert response.status_code == 403
    assert "R-2026-003" in [d.audit_id for d in api.decisions(review_ws)]
    # the attempt is in the audit trail (the guide says refused attempts are), with what was asked for
    assert ("clerk", "denied", "POST /decisions/R-2026-003") in trail_of(review_ws)
    response = review_client(review_ws, "赵决定").post("/decisions/R-2026-003", data={"csrf": "forged"})
    assert response.status_code == 403 and ("赵决定", "csrf.refused", "/decisions/R-2026-003") in trail_of(review_ws)
    page = review_client(review_ws, "admin").get("/trail").text
    assert "越权请求被拒绝" in page and "表单令牌不符" in page


def test_the_lead_auditor_may_not_decide_and_is_told_why(review_ws):
    c = review_client(review_ws, "王立")
    csrf = csrf_of(c.get("/decisions").text)
    response = c.post("/decisions/R-2026-002", data={"csrf": csrf, "decision": "approve", "reason": "符合"},
                      follow_redirects=False)
    assert response.status_code == 400
    assert "王立" in response.text and "不能作出认证决定" in response.text and "17065" in response.text
    assert "Traceback" not in response.text and "CertpipeError" not in response.text
    assert "R-2026-002" in [d.audit_id for d in api.decisions(review_ws)]
    assert not [c for c in api.certificates(review_ws) if c.audit_id == "R-2026-002"]
    assert ("王立", "decide.approve.refused", "R-2026-002") in trail_of(review_ws)
    english = c.post("/decisions/R-2026-002?lang=en", data={"csrf": csrf, "decision": "approve"})
    assert "may not make its certification decision" in english.text
    nothing = c.post("/decisions/R-2026-002?lang=zh", data={"csrf": csrf, "reason": "符合"})
    assert nothing.status_code == 400 and "请选择批准或不予批准" in nothing.text


def test_a_reviewer_approves_and_refuses_through_the_console(review_ws):
    c = review_client(review_ws, "赵决定")
    csrf = csrf_of(c.get("/decisions").text)
    response = c.post("/decisions/R-2026-001", data={"csrf": csrf, "decision": "approve", "reason": "符合要求"},
                      follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/decisions?done=R-2026-001")
    assert "已批准审核 R-2026-001" in c.get(response.headers["location"]).text
    (cert,) = [x for x in api.certificates(review_ws) if x.audit_id == "R-2026-001"]
    assert cert.status == "issued"
    assert (review_ws.outbox / "R-2026-001" / "R-2026-001-certificate.docx").is_file()
    _, history = api.certificate(cert.number, review_ws)
    assert any(e.by == "赵决定" and e.reason == "符合要求" for e in history)
    refused = c.post("/decisions/R-2026-003", data={"csrf": csrf, "decision": "refuse", "reason": "证据不足"},
                     follow_redirects=False)
    assert refused.status_code == 303
    assert [d.audit_id for d in api.decisions(review_ws)] == ["R-2026-002"]
    assert not [x for x in api.certificates(review_ws) if x.audit_id == "R-2026-003"]
    trail = trail_of(review_ws)
    assert ("赵决定", "decide.approve", "R-2026-001") in trail and ("赵决定", "decide.refuse", "R-2026-003") in trail
    again = c.post("/decisions/R-2026-001", data={"csrf": csrf, "decision": "approve", "reason": "x"})
    assert again.status_code == 400 and "没有待认证决定的事项" in again.text


def test_a_reviewer_suspends_a_certificate_and_the_public_page_says_so(review_ws):
    number = api.certificates(review_ws, status="issued")[0].number if api.certificates(review_ws) else None
    if number is None:  # this test alone: approve first, as the console does
        api.decide("R-2026-001", approve=True, by="赵决定", reason="符合要求", workspace=review_ws)
        number = api.certificates(review_ws, status="issued")[0].number
    clerk = review_client(review_ws, "clerk")
    assert clerk.get(f"/certificates/{number}").status_code == 200
    assert 'id="form-suspend"' not in clerk.get(f"/certificates/{number}").text  # clerks look only
    c = review_client(review_ws, "赵决定")
    page = c.get(f"/certificates/{number}")
    assert 'id="form-suspend"' in page.text and 'id="form-withdraw"' in page.text
    assert 'id="form-restore"' not in page.text  # not allowed from issued
    csrf = csrf_of(page.text)
    assert c.post(f"/certificates/{number}/suspend", data={"csrf": csrf, "reason": " "}).status_code == 400
    bad_date = c.post(f"/certificates/{number}/suspend", data={"csrf": csrf, "reason": "x", "until": "明年"})
    assert bad_date.status_code == 400 and "不是日期" in bad_date.text
    assert c.post(f"/certificates/{number}/explode", data={"csrf": csrf, "reason": "x"}).status_code == 404
    assert c.post("/certificates/CP-NONE-1/suspend", data={"csrf": csrf, "reason": "x"}).status_code == 404
    assert c.get("/certificates/CP-NONE-1").status_code == 404
    assert api.certificate(number, review_ws)[0].status == "issued"

    until = (date.today() + timedelta(days=60)).isoformat()  # (within the certificate's validity)
    response = c.post(f"/certificates/{number}/suspend",
                      data={"csrf": csrf, "reason": "监督审核未按期进行", "until": until},
                      follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/certificates/{number}?changed=suspend"
    shown = c.get(response.headers["location"]).text
    assert "证书已暂停" in shown and 'id="certificate-status">暂停<' in shown and "监督审核未按期进行" in shown
    assert 'id="form-restore"' in shown and 'id="form-suspend"' not in shown
    public = TestClient(create_app(review_ws)).get(f"/c/{number}")
    assert 'class="state-suspended">暂停<' in public.text
    row, _ = api.certificate(number, review_ws)
    assert row.status == "suspended" and row.suspended_until == until
    assert ("赵决定", "cert.suspend", number) in trail_of(review_ws)
    again = c.post(f"/certificates/{number}/suspend", data={"csrf": csrf, "reason": "再次"})
    assert again.status_code == 400 and 'id="error"' in again.text  # the one table refuses it, in words
    assert ("赵决定", "cert.suspend.refused", number) in trail_of(review_ws)

    listed = c.get("/certificates?status=suspended").text
    assert f'<a href="/certificates/{number}">{number}</a>' in listed
    assert number not in c.get("/certificates?status=issued").text
    assert number in clerk.get("/certificates?status=nonsense").text  # an unknown status: every one


def test_what_is_due_is_counted_on_the_dashboard_and_listed_with_the_certificates(tmp_path):
    import sqlite3
    from datetime import date, timedelta

    ws = make_ws(tmp_path)
    workbook(ws, "good.xlsx", sample_audit(audit_id="D-2026-001", target="88"))
    run(ws)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    c = client(ws, "clerk")
    assert re.search(r'id="due"><a href="/certificates#due-title">0</a>', c.get("/").text)
    (number,) = sqlite3.connect(ws.ledger).execute("SELECT number FROM certificates").fetchone()
    soon = (date.today() + timedelta(days=10)).isoformat()
    with sqlite3.connect(ws.ledger) as db:
        db.execute("UPDATE certificates SET surveillance_due = ? WHERE number = ?", (soon, number))
    assert sum(api.workspace_status(ws).due.values()) == 1
    assert re.search(r'id="due"><a href="/certificates#due-title">1</a>', c.get("/").text)
    listed = c.get("/certificates").text
    assert 'id="due"' in listed and "监督审核" in listed and soon in listed
    assert f'<a href="/certificates/{number}">{number}</a>' in listed
    # the due audits' workbooks as one zip, for the office: generated once, recorded, in the trail
    import io
    import zipfile

    assert 'id="due-zip"' in listed and "<title>" in listed and "<title><h2" not in listed
    page_csrf = csrf_of(listed)
    got = c.post("/due/workbooks.zip", data={"csrf": page_csrf})
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert len(names) == 1 and names[0].endswith(".xlsx")
    planned = Path(names[0]).stem
    assert api.due(None, ws)[0].planned == planned  # recorded with its certificate
    again = c.post("/due/workbooks.zip", data={"csrf": page_csrf})
    assert zipfile.ZipFile(io.BytesIO(again.content)).namelist() == []  # made once
    assert ("clerk", "due.workbooks", "1") in trail_of(ws)
    assert c.post("/due/workbooks.zip", data={}).status_code == 403  # no token


# ---- the console on Windows (this file runs again in the Windows-like mode: .ci/run) ---------------
#: What the console's modules may take from ``os`` and ``signal`` on Windows too: nothing POSIX-only.
POSIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "resource", "termios", "pty", "tty", "posix", "syslog"}
POSIX_ONLY_OS = {"fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "setsid", "setpgid", "getpgid",
                 "killpg", "mkfifo", "sync", "chown", "lchown", "fchown", "getloadavg", "nice", "wait",
                 "waitpid", "WNOHANG"}
WINDOWS_SIGNALS = {"SIGINT", "SIGTERM", "SIGBREAK", "SIGABRT", "SIGFPE", "SIGILL", "SIGSEGV", "SIG_DFL", "SIG_IGN",
                   "signal", "getsignal", "Signals", "default_int_handler", "raise_signal", "set_wakeup_fd",
                   "strsignal", "valid_signals", "CTRL_C_EVENT", "CTRL_BREAK_EVENT"}


def _console_modules() -> list[Path]:
    """The console's own modules and the ones its pages write through (uploads, users, decisions)."""
    from tests.helpers.paths import ROOT

    package = ROOT / "pipeline"
    return [*sorted((package / "web").glob("*.py")), package / "cli" / "serve.py", package / "cli" / "users.py",
            *(package / "flow" / f"{name}.py" for name in ("uploads", "users", "console_queries", "decisions",
                                                           "certs")), package / "lock.py"]


def _posix_only(path: Path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"import {n}" for n in names if n.split(".")[0] in POSIX_ONLY_MODULES]
            if isinstance(node, ast.ImportFrom) and node.module in ("os", "signal"):
                allowed = WINDOWS_SIGNALS if node.module == "signal" else None
                found += [f"from {node.module} import {a.name}" for a in node.names
                          if (a.name in POSIX_ONLY_OS if allowed is None else a.name not in allowed)]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and node.attr in POSIX_ONLY_OS:
                found.append(f"os.{node.attr}")
            if node.value.id == "signal" and node.attr not in WINDOWS_SIGNALS:
                found.append(f"signal.{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in ("fork", "forkserver"):
            found.append(f"start method {node.value!r}")
    return [f"{path.name}: {what}" for what in found]


def test_the_console_uses_nothing_windows_lacks():
    """No fork, fcntl or signal Windows has not, in the console or in what its pages write through; the
    scan itself sees one when it is there."""
    assert [m.name for m in _console_modules() if not m.is_file()] == []
    assert [p for m in _console_modules() for p in _posix_only(m)] == []
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "sample.py"
        sample.write_text("import fcntl, os, signal\nsignal.signal(signal.SIGHUP, print)\nos.fork()\n"
                          "from signal import setitimer\nimport multiprocessing as mp\nmp.get_context('fork')\n",
                          encoding="utf-8")
        assert sorted(_posix_only(sample)) == sorted(f"sample.py: {w}" for w in (
            "import fcntl", "signal.SIGHUP", "os.fork", "from signal import setitimer", "start method 'fork'"))


def test_uploads_get_names_windows_accepts(tmp_path):
    """Whatever a browser sends as a file's name (device names, ``:``, trailing dots and spaces, very
    long ones), the inbox gets a name Windows takes, the workbook's suffix kept, none replacing another."""
    from tests.test_filenames import NASTY, windows_problem

    ws = make_ws(tmp_path)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    c = client(ws, "clerk")
    csrf = csrf_of(c.get("/upload").text)
    sent = [f"{n}.xlsx" for n in NASTY if "/" not in n and "\\" not in n] + [
        "CON.xlsx", "aux .XLSX", "com1.xlsm", "C:evil.xlsx", "a. .xlsx", "审核?.xlsx", "x" * 400 + ".xlsx"]
    for start in range(0, len(sent), 10):  # at most 20 files a form
        response = c.post("/upload", data={"csrf": csrf}, follow_redirects=False,
                          files=[("file", (n, b"PK\x03\x04" + n.encode())) for n in sent[start:start + 10]])
        assert response.status_code == 303, response.text[:300]
    stored = sorted(ws.inbox.iterdir())
    assert len(stored) == len(sent)
    assert [(p.name, windows_problem(p.name)) for p in stored if windows_problem(p.name)] == []
    assert all(p.suffix in (".xlsx", ".xlsm") for p in stored)
    assert sorted(p.read_bytes()[4:].decode() for p in stored) == sorted(sent)  # every one whole, none replaced


def test_a_certificate_issued_by_a_decision_shows_its_organisation(tmp_path):
    ws = make_ws(tmp_path)
    ws.config_file.write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    workbook(ws, "o.xlsx", sample_audit(audit_id="O-2026-001", target="92", org="明远物业服务有限公司"))
    from pipeline.flow.run import run_inbox

    run_inbox(*api.open_workspace(ws), workers=1, settle=0)
    api.decide("O-2026-001", approve=True, by="赵决定", reason="符合", workspace=ws)
    (cert,) = api.certificates(ws)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    assert "明远物业服务有限公司" in client(ws).get(f"/c/{cert.number}").text
    assert "明远物业服务有限公司" in client(ws, "clerk").get("/certificates").text


def test_the_audit_search_speaks_words_and_a_copy_dropped_again_does_not_hide_the_outcome(tmp_path):
    ws = make_ws(tmp_path)
    audit = sample_audit(audit_id="W-2026-001", target="92")
    workbook(ws, "a.xlsx", audit)
    run(ws)
    (archived,) = ws.archive.rglob("a.xlsx")
    shutil.copy(archived, ws.inbox / "again.xlsx")  # the same file, dropped once more: a duplicate
    run(ws)
    api.add_user("clerk", "clerk", PASSWORDS["clerk"], ws)
    page = client(ws, "clerk").get("/audits").text
    row = page[page.index("W-2026-001"):]
    row = row[:row.index("</tr>")]
    assert "已出报告" in row and "重复" not in row
    assert "GB/T 27922" in row and "gbt27922-2011" not in row  # the standard by its code
    assert ">three-star<" not in page and "三星" in page  # the level choice in words


def test_a_reviewer_whose_login_is_not_a_name_decides_in_the_name_on_record(tmp_path, cli):
    """A lead auditor with the login wang.li must not approve the audit he led: the console decides in
    the person's name, and a login that is no name needs one on record first."""
    from pipeline.flow.run import run_inbox

    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    workbook(ws, "w.xlsx", sample_audit(audit_id="W-2026-009", target="92", org="维新公司"))  # led by 王立
    run_inbox(*api.open_workspace(ws), workers=1, settle=0)
    api.add_user("wang.li", "reviewer", "wang-li-pass-1", ws)
    c = TestClient(create_app(ws), base_url="http://testserver")
    log_in(c, "wang.li", "wang-li-pass-1")
    csrf = csrf_of(c.get("/decisions").text)
    nameless = c.post("/decisions/W-2026-009", data={"csrf": csrf, "decision": "approve", "reason": "符合"},
                      follow_redirects=False)
    assert nameless.status_code == 400 and "certpipe users name wang.li" in nameless.text
    code, out, _ = cli("-W", ws.root, "users", "name", "wang.li", "王　立")
    assert code == 0 and "王 立" in out
    led = c.post("/decisions/W-2026-009", data={"csrf": csrf, "decision": "approve", "reason": "符合"},
                 follow_redirects=False)
    assert led.status_code == 400 and "不能作出认证决定" in led.text
    assert [d.audit_id for d in api.decisions(ws)] == ["W-2026-009"] and api.certificates(ws) == []
    assert [u.full_name for u in api.list_users(ws) if u.name == "wang.li"] == ["王 立"]
