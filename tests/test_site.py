"""``certpipe publish``: the public register as static files, public fields only, and in a real
headless browser (Debian's chromium): search finds a certificate, a QR link says genuine, an edited one
forged."""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.config import Config, Issuer, Publish
from pipeline.flow import verify as verify_module
from pipeline.flow.keys import init_keys
from pipeline.flow.run import run_inbox
from pipeline.flow.site import publish_site
from pipeline.word.qr import split
from tests.helpers.workspace import make_ws, sample_audit, workbook
from tests.test_verify import qr_of

BASE = "https://cert.example.cn"
ORG = "北京某某信息技术服务有限公司"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A signing workspace that issued two certificates, its register published: (ws, site, links)."""
    root = tmp_path_factory.mktemp("site")
    ws = make_ws(root)
    init_keys(ws)
    workbook(ws, "a.xlsx", sample_audit(audit_id="S-2026-001", target="95", org=ORG))
    workbook(ws, "b.xlsx", sample_audit(audit_id="S-2026-002", target="85", org='上海 <b>"某某"</b> & 服务公司'))
    config = Config(issuer=Issuer(verify_url=BASE), publish=Publish(dir="../public"))
    result = run_inbox(ws, config, workers=1, settle=0)
    assert [o.status for o in result.outcomes] == ["done", "done"]
    links = {}
    for cert in sorted(ws.outbox.glob("*/*-certificate.docx")):
        links[cert.parent.name] = qr_of(cert)
    return ws, root / "public", links


def test_run_publishes_the_register_with_public_fields_only(issued):
    _, site, links = issued
    assert (site / "index.html").is_file() and (site / "keys.json").is_file()
    number, _ = split(links["S-2026-001"])
    page = (site / "c" / number / "index.html").read_text(encoding="utf-8")
    data = json.loads((site / "c" / f"{number}.json").read_text(encoding="utf-8"))
    assert data["organisation"] == ORG and data["status"] == "issued" and data["number"] == number
    assert ORG in page and 'data-status="issued"' in page
    everything = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*") if p.is_file())
    audit = sample_audit()
    for private in (audit.info.lead_auditor, audit.info.auditors, "查阅记录", '"total"', "S-2026-001"):
        assert private and private not in everything, private  # auditors, notes, scores, audit ids
    assert "PRIVATE" not in everything
    markup = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*") if p.suffix in (".html", ".js"))
    assert "<b>" not in markup and "&lt;b&gt;" in markup  # a hostile name escaped in pages and scripts
    # no request leaves the folder: every src and href is relative
    refs = re.findall(r'(?:src|href)="([^"]*)"', everything)
    assert refs and not [r for r in refs if "//" in r or r.startswith("/")]
    keys = json.loads((site / "keys.json").read_text())
    assert [set(k) for k in keys] == [{"key_id", "algorithm", "public_key", "created", "retired"}]


def test_a_withdrawn_certificate_is_genuine_but_withdrawn_and_its_public_page_says_so(tmp_path, cli):
    """Withdrawn with the real command: verify says so, and the public register ([publish] dir) is
    written again by the change itself."""
    ws = make_ws(tmp_path)
    init_keys(ws)
    (ws.root / "certpipe.toml").write_text(f'[issuer]\nverify_url = "{BASE}"\n[publish]\ndir = "../public"\n',
                                           encoding="utf-8")
    workbook(ws, "a.xlsx", sample_audit(audit_id="W-2026-001", target="95", org=ORG))
    code, _, err = cli("-W", ws.root, "run")
    assert code == 0, err
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    link = qr_of(cert)
    number, _ = split(link)
    site = tmp_path / "public"
    assert json.loads((site / "c" / f"{number}.json").read_text())["status"] == "issued"
    code, _, err = cli("-W", ws.root, "certificates", "withdraw", number, "--by", "赵敏", "--reason", "严重违规")
    assert code == 0, err
    code, out, _ = cli("-W", ws.root, "verify", link, "--json")
    assert code == 1 and json.loads(out)["status"] == "withdrawn"
    page = (site / "c" / number / "index.html").read_text(encoding="utf-8")
    assert 'data-status="withdrawn"' in page and "撤销" in page and "withdrawn" in page
    data = json.loads((site / "c" / f"{number}.json").read_text())
    assert data["status"] == "withdrawn" and [h["status"] for h in data["history"]] == ["issued", "withdrawn"]
    assert "赵敏" not in page and "严重违规" not in page  # who and why stay inside the body
    when = data["history"][-1]["when"]  # the data keeps the ISO stamp; the page shows it as a person reads it
    assert "T" in when and when[:16].replace("T", " ") in page and when not in page


def test_publish_refuses_the_workspace_itself(issued, cli):
    ws, _, _ = issued
    for bad in (ws.root, ws.inbox, ws.state / "x"):
        code, _, err = cli("-W", ws.root, "--lang", "en", "publish", bad)
        assert code == 2 and "cannot be written" in err


def test_publish_rewrites_only_what_changed(issued, tmp_path):
    ws, _, _ = issued
    config = Config(issuer=Issuer(verify_url=BASE))
    first = publish_site(ws, config, tmp_path / "again")
    assert first.count == 2 and first.written == 2 * 2 + 3 + 3 + 1
    assert publish_site(ws, config, tmp_path / "again").written == 0


# ---- the browser ------------------------------------------------------------------------------
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def served(issued):
    _, site, _ = issued
    handler = functools.partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("chromium / chromedriver not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=390,844"):  # a phone's screen
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _result(browser) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(
        lambda d: d.find_element("id", "check").get_attribute("data-result") not in ("none", "checking"))
    return browser.find_element("id", "check").get_attribute("data-result")


@pytest.mark.slow
def test_search_finds_a_certificate_in_the_browser(browser, served, issued):
    from selenium.webdriver.support.ui import WebDriverWait

    _, _, links = issued
    number, _ = split(links["S-2026-001"])
    browser.get(served + "/")
    assert browser.find_element("tag name", "html").get_attribute("data-lang") == "zh"
    browser.find_element("id", "search").send_keys("某某信息")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements("css selector", "#results li"))
    items = browser.find_elements("css selector", "#results li a")
    assert [a.text for a in items] == [number]
    browser.find_element("id", "lang").click()  # English
    assert browser.find_element("tag name", "html").get_attribute("data-lang") == "en"
    assert "Certificate register" in browser.find_element("tag name", "h1").text
    items[0].click()
    assert ORG in browser.find_element("tag name", "main").text
    browser.find_element("id", "lang").click()  # back to Chinese for the next test


@pytest.mark.slow
def test_a_real_qr_link_of_a_specimen_says_specimen_and_an_edited_one_forged(browser, served, issued):
    _, _, links = issued
    for audit_id in ("S-2026-001", "S-2026-002"):  # signed and unaltered, but specimens (issuer incomplete)
        link = links[audit_id].replace(BASE, served)
        browser.get(link)
        assert _result(browser) == "specimen", audit_id
        assert browser.find_element("css selector", '[data-check="specimen"]').is_displayed()
    number, token = split(links["S-2026-001"])
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    level = raw.find(b"star")  # the level key, edited in place
    assert level > 0
    raw[level:level + 4] = b"STAR"
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    browser.get("about:blank")
    browser.get(f"{served}/c/{number}/#{forged}")
    assert _result(browser) == "forged"
    assert browser.find_element("css selector", '[data-check="forged"]').is_displayed()
    # the other certificate's genuine token on this page: signed, but not this certificate
    _, other = split(links["S-2026-002"])
    browser.get("about:blank")
    browser.get(f"{served}/c/{number}/#{other}")
    assert _result(browser) == "mismatch"


def test_the_site_assets_are_in_the_package():
    from pipeline.flow.site import ASSET_FILES, ASSETS

    assert ASSETS.parent == Path(verify_module.__file__).resolve().parents[1]
    assert all((ASSETS / name).is_file() for name in ASSET_FILES)


@pytest.mark.slow
def test_watch_publishes_the_register_when_the_inbox_falls_idle(tmp_path):
    import time

    from pipeline.flow.watch import watch_inbox

    ws = make_ws(tmp_path)
    init_keys(ws)
    workbook(ws, "w.xlsx", sample_audit(audit_id="W-2026-001", target="95"))
    config = Config(issuer=Issuer(verify_url=BASE), publish=Publish(dir=str(tmp_path / "public")))
    stop = threading.Event()
    thread = threading.Thread(target=watch_inbox, args=(ws, config, stop), kwargs={"settle": 0, "poll": True},
                              daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "public" / "c").glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
    (page,) = (tmp_path / "public" / "c").glob("*.json")
    assert json.loads(page.read_text())["status"] == "issued"


def test_the_score_is_published_only_when_configured(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="P-2026-001", target="95", org=ORG))
    run_inbox(ws, Config(), workers=1, settle=0)
    (number,) = [n for n, _ in _certificates(ws)]
    plain, scored = tmp_path / "plain", tmp_path / "scored"
    publish_site(ws, Config(), plain)
    publish_site(ws, Config(publish=Publish(show_score=True)), scored)
    assert "total" not in json.loads((plain / "c" / f"{number}.json").read_text())
    total = json.loads((scored / "c" / f"{number}.json").read_text())["total"]
    assert total and total in (scored / "c" / number / "index.html").read_text(encoding="utf-8")
    assert "评价得分" in (scored / "c" / number / "index.html").read_text(encoding="utf-8")


def _certificates(ws):
    from pipeline.flow.ledger import Ledger

    with Ledger(ws.ledger, readonly=True) as ledger:
        return ledger.certificates()


def test_the_page_shows_the_scope_and_its_data_carries_it(issued):
    _, site, links = issued
    number, _ = split(links["S-2026-001"])
    data = json.loads((site / "c" / f"{number}.json").read_text(encoding="utf-8"))
    page = (site / "c" / number / "index.html").read_text(encoding="utf-8")
    assert data["scope"] and data["scope"] in page and "认证范围" in page and "Scope" in page


@pytest.mark.slow
def test_a_token_signed_for_another_scope_is_a_mismatch_and_an_older_token_still_checks(browser, served, issued):
    """The page compares the token's scope digest with its own scope's: a token for another scope (as a
    revision would sign) is not this page's; a version 1 token (no digest) checks as before."""
    from dataclasses import replace

    from pipeline.core.token import decode, encode, printed_hash
    from pipeline.flow.keys import load_signer

    ws, _, links = issued
    number, token = split(links["S-2026-001"])
    claims = decode(token).claims
    signer = load_signer(ws)
    assert claims.scope_hash
    other = encode(replace(claims, scope_hash=printed_hash("全部软件与硬件服务")), signer.key_id, signer.sign)
    browser.get("about:blank")
    browser.get(f"{served}/c/{number}/#{other}")
    assert _result(browser) == "mismatch"
    older = encode(replace(claims, scope_hash=None, approval_hash=None), signer.key_id, signer.sign)
    browser.get("about:blank")
    browser.get(f"{served}/c/{number}/#{older}")
    assert _result(browser) == "specimen"  # signed and matching (a specimen: the issuer is incomplete)


@pytest.mark.slow
def test_a_certificate_expired_since_the_register_was_published_shows_expired(browser, tmp_path):
    """Published the day before yesterday, when it was in force; it expired yesterday and nothing
    published since: the page and the search say expired by the visitor's date, not "in force"."""
    import sqlite3
    from datetime import date, timedelta

    from selenium.webdriver.support.ui import WebDriverWait

    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="E-2026-001", target="95", org=ORG))
    run_inbox(ws, Config(issuer=Issuer(verify_url=BASE)), workers=1, settle=0)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    with sqlite3.connect(ws.ledger) as db:
        db.execute("UPDATE certificates SET expires_on = ?, details = json_set(details, '$.expiry_date', ?)",
                   (yesterday, yesterday))
        (number,) = db.execute("SELECT number FROM certificates").fetchone()
    site = tmp_path / "public"
    publish_site(ws, Config(issuer=Issuer(verify_url=BASE)), site, today=date.today() - timedelta(days=2))
    assert json.loads((site / "c" / f"{number}.json").read_text())["status"] == "issued"  # as published then
    assert 'data-status="issued"' in (site / "c" / number / "index.html").read_text(encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        browser.get(f"{base}/c/{number}/")
        status = browser.find_element("id", "status")
        assert status.get_attribute("data-status") == "expired" and "过期失效" in status.text
        assert "有效" not in status.text.replace("有效期", "")
        browser.get(base + "/")
        browser.find_element("id", "search").send_keys(number)
        WebDriverWait(browser, 10).until(lambda d: d.find_elements("css selector", "#results li"))
        (item,) = browser.find_elements("css selector", "#results li")
        assert item.get_attribute("data-status") == "expired" and "过期失效" in item.text
    finally:
        server.shutdown()
        server.server_close()
