"""The console in a real browser (Debian's chromium, headless, 1366×768, driven by Selenium through the
system chromedriver): a clerk logs in, uploads a good and a bad workbook, sees both outcomes appear
when the inbox is processed, and downloads the report and the annotated workbook; the public page of
the certificate opens without a login. In review mode a reviewer approves a waiting decision and
suspends the certificate it issued, a clerk is refused both, and the public page says 暂停 / suspended.
The pages fit a 1366×768 window, the public page a phone's.

With ``CERTPIPE_SCREENSHOTS=1`` the main pages are also saved into docs/images/ for the guides
(``console-*.png``, squeezed to a small palette)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from pipeline import api
from pipeline.excel.fill import fill_workbook
from tests.helpers.paths import ROOT
from tests.helpers.workspace import certpipe, make_ws, run, sample_audit, workbook

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
IMAGES = ROOT / "docs" / "images"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The console of a new workspace, served by uvicorn on a free local port, in a thread."""
    ws = make_ws(tmp_path)
    api.add_user("clerk", "clerk", "clerk-pass-1", ws)
    yield from _serve(ws)


@pytest.fixture
def review_server(tmp_path):
    """The console of a workspace in ``[decision] mode = "review"`` whose ``certpipe run`` left two
    certification decisions waiting; a reviewer who took no part in the audits (赵决定), one who led them
    (王立) and a clerk."""
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    workbook(ws, "R-2026-001.xlsx", sample_audit(audit_id="R-2026-001", target="92", org="明远物业服务有限公司"))
    workbook(ws, "R-2026-002.xlsx", sample_audit(audit_id="R-2026-002", target="85", org="明远物业服务有限公司"))
    done = certpipe(ws, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(d.audit_id for d in api.decisions(ws)) == ["R-2026-001", "R-2026-002"]
    assert api.certificates(ws) == []
    api.add_user("赵决定", "reviewer", "decider-pass-1", ws)
    api.add_user("王立", "reviewer", "lead-pass-1", ws)  # the sample audits' lead auditor
    api.add_user("clerk", "clerk", "clerk-pass-1", ws)
    yield from _serve(ws)


def _serve(ws):
    import uvicorn

    from pipeline.web import create_app

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    yield ws, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM or not DRIVER:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,768", "--lang=zh-CN", "--hide-scrollbars"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "safebrowsing.enabled": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1366, 768)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _wait(condition, timeout: float = 30.0, what: str = ""):
    """``condition()`` once it is true; an element replaced meanwhile (the poll rewrites the list) is
    looked up again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _shot(driver, name: str) -> None:
    """A screenshot of the page for the guides, when asked for (small palette, small file)."""
    if os.environ.get("CERTPIPE_SCREENSHOTS") != "1":
        return
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    image.quantize(colors=48, method=Image.Quantize.MEDIANCUT).save(IMAGES / f"console-{name}.png", optimize=True)


def _made(tmp_path: Path, ws) -> tuple[Path, Path]:
    """A good and a bad workbook of this workspace, outside its inbox (as a clerk has them)."""
    good = workbook(ws, "B-2026-001.xlsx", sample_audit(audit_id="B-2026-001", target="88", org="明远物业服务有限公司"))
    bad = workbook(ws, "B-2026-002.xlsx", sample_audit(audit_id="B-2026-002", org="青禾家政服务有限公司"))
    fill_workbook(bad, bad, {"lead_auditor": None})
    mine = tmp_path / "mine"
    mine.mkdir()
    return shutil.move(good, mine / good.name), shutil.move(bad, mine / bad.name)


def test_a_clerk_uploads_sees_the_outcomes_and_downloads(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    ws, base = server
    good, bad = _made(tmp_path, ws)
    driver = browser

    driver.get(f"{base}/")
    assert "/login" in driver.current_url
    _shot(driver, "login")
    driver.find_element(By.ID, "name").send_keys("clerk")
    driver.find_element(By.ID, "password").send_keys("clerk-pass-1")
    driver.find_element(By.ID, "login").click()
    _wait(lambda: driver.current_url.rstrip("/") == base, what="the dashboard")
    assert "概览" in driver.title

    driver.find_element(By.LINK_TEXT, "上传评分表").click()
    _wait(lambda: driver.current_url.endswith("/upload"), what="the upload page")
    driver.find_element(By.ID, "file").send_keys(f"{good}\n{bad}")
    driver.find_element(By.ID, "send").click()
    rows = _wait(lambda: [(r.get_attribute("data-name"), r.text)
                          for r in driver.find_elements(By.CSS_SELECTOR, "#outcomes tr[data-name]")],
                 what="the upload list")
    assert {name for name, _ in rows} == {good.name, bad.name}
    assert all("等待处理" in text for _, text in rows)
    assert sorted(p.name for p in ws.inbox.iterdir()) == sorted([good.name, bad.name])

    result = run(ws)  # the watcher's work, done here
    assert sorted(o.status for o in result.outcomes) == ["done", "rejected"]

    # the page polls: both outcomes appear without a reload
    _wait(lambda: driver.find_element(By.ID, "outcomes").get_attribute("data-pending") == "0", 30,
          "the outcomes to appear")
    time.sleep(0.5)  # the poll has stopped (nothing pending): the rows stay as they are
    done = driver.find_element(By.CSS_SELECTOR, f'#outcomes tr[data-name="{good.name}"]')
    rejected = driver.find_element(By.CSS_SELECTOR, f'#outcomes tr[data-name="{bad.name}"]')
    assert "已出报告" in done.text and "B-2026-001" in done.text
    assert "退回" in rejected.text and "审核组长" in rejected.text
    _fits(driver)
    _shot(driver, "upload")

    done.find_element(By.PARTIAL_LINK_TEXT, "-report.docx").click()
    rejected.find_element(By.PARTIAL_LINK_TEXT, "-problems.xlsx").click()
    report = _wait(lambda: next(iter(driver.downloads.glob("*-report.docx")), None), what="the report download")
    annotated = _wait(lambda: next(iter(driver.downloads.glob("*-problems.xlsx")), None),
                      what="the annotated workbook download")
    _wait(lambda: not list(driver.downloads.glob("*.crdownload")), what="the downloads to finish")
    assert report.read_bytes() == (ws.outbox / "B-2026-001" / report.name).read_bytes()
    assert annotated.read_bytes()[:2] == b"PK"
    from openpyxl import load_workbook

    assert load_workbook(annotated).sheetnames  # a workbook that opens

    driver.find_element(By.LINK_TEXT, "概览").click()
    _wait(lambda: driver.current_url.rstrip("/") == base, what="the dashboard")
    assert "B-2026-002.xlsx" in driver.find_element(By.ID, "rejections").text
    _fits(driver)
    _shot(driver, "dashboard")

    driver.find_element(By.LINK_TEXT, "审核查询").click()
    _wait(lambda: driver.current_url.endswith("/audits"), what="the audit search")
    driver.find_element(By.NAME, "organisation").send_keys("明远")
    driver.find_element(By.ID, "search").click()
    _wait(lambda: "organisation=" in driver.current_url, what="the search's results")
    table = driver.find_element(By.ID, "audits")
    assert "B-2026-001" in table.text and "CP-2026-" in table.text
    _fits(driver)
    _shot(driver, "audits")

    table.find_element(By.LINK_TEXT, "B-2026-001").click()
    _wait(lambda: driver.current_url.endswith("/audits/B-2026-001"), what="the audit's page")
    assert "88" in driver.find_element(By.ID, "total").text
    _fits(driver)
    _shot(driver, "audit")
    number = driver.find_element(By.CSS_SELECTOR, "#certificate a").text

    driver.find_element(By.ID, "lang-switch").click()
    _wait(lambda: "Scorecard" in driver.page_source, what="the page in English")

    driver.find_element(By.ID, "logout").click()
    _wait(lambda: "/login" in driver.current_url, what="the login page after logging out")
    driver.get(f"{base}/c/{number}?lang=zh")
    assert "有效" in driver.find_element(By.ID, "status").text
    assert "明远物业服务有限公司" in driver.find_element(By.ID, "cert").text
    driver.set_window_size(412, 860)  # a phone
    _fits(driver)
    _shot(driver, "public")


def test_a_workbook_dropped_on_the_page_reaches_the_inbox(server, browser, tmp_path):
    """The drag-and-drop path (console.js): a file dropped on the box is sent with the form's token and
    the page lists it as waiting."""
    import base64

    from selenium.webdriver.common.by import By

    ws, base = server
    good, _ = _made(tmp_path, ws)
    driver = browser
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys("clerk")
    driver.find_element(By.ID, "password").send_keys("clerk-pass-1")
    driver.find_element(By.ID, "login").click()
    _wait(lambda: driver.current_url.rstrip("/") == base, what="the dashboard")
    driver.get(f"{base}/upload")
    driver.execute_script("""
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], arguments[1]));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true,
                                                                             cancelable: true}));
    """, base64.b64encode(good.read_bytes()).decode(), "拖放的评分表.xlsx")
    rows = _wait(lambda: [(r.get_attribute("data-name"), r.text)
                          for r in driver.find_elements(By.CSS_SELECTOR, "#outcomes tr[data-name]")],
                 what="the dropped file's row")
    assert rows[0][0] == "拖放的评分表.xlsx" and "等待处理" in rows[0][1]
    assert (ws.inbox / "拖放的评分表.xlsx").read_bytes() == good.read_bytes()


def test_the_public_page_checks_the_qr_links_token_in_the_browser(server, browser):
    """The page a certificate's QR code opens when the console is the verification host: genuine for
    the real link's token, forged for an edited one, mismatch for another certificate's."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from pipeline.flow.keys import init_keys
    from pipeline.word.qr import split
    from tests.test_verify import qr_of

    ws, base = server
    init_keys(ws)
    # a body whose details are complete and a standard whose definition is official: no specimens
    with ws.config_file.open("a", encoding="utf-8") as fh:
        fh.write('\n[issuer]\nname = "北京示例认证中心"\naddress = "北京市海淀区示例路 1 号"\nsignatory = "王建国"\n'
                 'approval_no = "CNCA-R-2026-001"\n')
    isi = "info-system-integration"
    workbook(ws, "a.xlsx", sample_audit(isi, audit_id="Q-2026-001", target="190", org="明远物业服务有限公司"))
    workbook(ws, "b.xlsx", sample_audit(isi, audit_id="Q-2026-002", target="180", org="青禾家政服务有限公司"))
    from pipeline.flow.run import run_inbox

    run_inbox(*api.open_workspace(ws), workers=1, settle=0)  # with the workspace's certpipe.toml
    links = {p.parent.name: qr_of(p) for p in ws.outbox.glob("*/*-certificate.docx")}
    _, token = split(links["Q-2026-001"])  # (no verify_url here: the QR code carries the token alone)
    _, other = split(links["Q-2026-002"])
    number = next(c.number for c in api.certificates(ws) if c.audit_id == "Q-2026-001")

    def result(fragment: str) -> str:
        browser.get(f"{base}/c/{number}#{fragment}")
        WebDriverWait(browser, 15).until(
            lambda d: d.find_element(By.ID, "check").get_attribute("data-result") not in (None, "", "checking"))
        return browser.find_element(By.ID, "check").get_attribute("data-result")

    assert result(token) == "genuine"
    assert "真实" in browser.find_element(By.CSS_SELECTOR, '[data-check="genuine"]').text
    edited = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    assert result(edited) == "forged"
    assert result(other) == "mismatch"


def _log_in(driver, base: str, name: str, password: str) -> None:
    driver.get(f"{base}/login")
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    _wait(lambda: driver.current_url.rstrip("/") == base, what=f"the dashboard of {name}")


def _log_out(driver, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/")
    driver.find_element(By.ID, "logout").click()
    _wait(lambda: "/login" in driver.current_url, what="the login page after logging out")


def _fits(driver) -> None:
    """Nothing on the page is wider than the window: no sideways scrolling, no table past its box."""
    wide = driver.execute_script("""
        const view = document.documentElement.clientWidth;
        const out = [];
        if (document.documentElement.scrollWidth > view) out.push("page " + document.documentElement.scrollWidth);
        for (const t of document.querySelectorAll("table, form, dl, header"))
            if (t.getBoundingClientRect().right > view + 0.5 || t.scrollWidth > t.clientWidth + 1)
                out.push((t.id || t.tagName) + " " + Math.round(t.getBoundingClientRect().right));
        return out;""")
    assert not wide, f"{driver.current_url} overflows a {driver.get_window_size()['width']} px window: {wide}"


def _one_line(driver, selector: str) -> None:
    """Every element of ``selector`` (an audit id, a certificate number) on one line, never broken."""
    broken = driver.execute_script("""
        return [...document.querySelectorAll(arguments[0])].filter(e => e.getClientRects().length > 1)
                                                            .map(e => e.textContent);""", selector)
    assert not broken, f"broken over lines on {driver.current_url}: {broken}"


def _post_as_page(driver, action: str, fields: dict) -> None:
    """What a hand-made form would send: a POST to ``action`` with the session's own CSRF token (taken
    from the page's logout form) and ``fields``, the browser then showing the answer."""
    driver.execute_script("""
        const form = document.createElement("form");
        form.method = "post"; form.action = arguments[0];
        const fields = Object.assign({csrf: document.querySelector("input[name=csrf]").value}, arguments[1]);
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();""", action, fields)


def test_a_reviewer_approves_suspends_and_the_public_page_says_so(review_server, browser):
    """The reviewer's half, in review mode: the decision queue, an approval with a reason issuing the
    certificate, a clerk refused both pages' actions, the lead auditor refused the decision of the audit
    he led (independence), the suspension with a reason, and the certificate's
    public page saying 暂停 / suspended on a phone. Every console page met fits 1366×768."""
    from selenium.webdriver.common.by import By

    ws, base = review_server
    driver = browser

    _log_in(driver, base, "赵决定", "decider-pass-1")
    driver.find_element(By.LINK_TEXT, "认证决定").click()
    _wait(lambda: driver.current_url.endswith("/decisions"), what="the decision queue")
    queue = driver.find_element(By.ID, "decisions")
    assert "R-2026-001" in queue.text and "R-2026-002" in queue.text and "王立、陈晓" in queue.text
    _fits(driver)
    _one_line(driver, "#decisions td a")
    row = next(r for r in queue.find_elements(By.CSS_SELECTOR, "tbody tr") if "R-2026-001" in r.text)
    row.find_element(By.NAME, "reason").send_keys("材料齐全，符合发证要求")
    _shot(driver, "decisions")
    row.find_element(By.CSS_SELECTOR, 'button[value="approve"]').click()
    notice = _wait(lambda: driver.find_element(By.ID, "notice").text, what="the approval's notice")
    assert "已批准审核 R-2026-001" in notice
    assert "R-2026-001" not in driver.find_element(By.ID, "decisions").text
    assert [d.audit_id for d in api.decisions(ws)] == ["R-2026-002"]

    driver.find_element(By.LINK_TEXT, "证书").click()
    _wait(lambda: driver.current_url.endswith("/certificates"), what="the certificates")
    (issued,) = driver.find_elements(By.CSS_SELECTOR, "#certificates tbody tr")
    assert "R-2026-001" in issued.text and issued.find_element(By.CSS_SELECTOR, "td.state-issued").text == "有效"
    number = issued.find_element(By.CSS_SELECTOR, "td a").text
    (cert,) = api.certificates(ws)
    assert (cert.number, cert.status, cert.audit_id) == (number, "issued", "R-2026-001")
    assert (ws.outbox / "R-2026-001" / "R-2026-001-certificate.docx").is_file()
    _fits(driver)
    _one_line(driver, "#certificates td a")
    button = driver.find_element(By.ID, "filter")  # the filter's button at its own size, not a grid cell's
    assert button.size["height"] <= driver.find_element(By.NAME, "status").size["height"] + 8
    _shot(driver, "certificates")

    # a clerk sees neither the queue nor the forms, and is refused when sending them anyway
    _log_out(driver, base)
    _log_in(driver, base, "clerk", "clerk-pass-1")
    assert not driver.find_elements(By.LINK_TEXT, "认证决定")
    driver.get(f"{base}/decisions")
    assert driver.find_element(By.TAG_NAME, "h1").text == "403"
    assert "无权" in driver.find_element(By.ID, "error").text
    driver.get(f"{base}/certificates/{number}")
    assert not driver.find_elements(By.ID, "form-suspend")
    _post_as_page(driver, f"/certificates/{number}/suspend", {"reason": "业务员试图暂停"})
    _wait(lambda: driver.find_element(By.TAG_NAME, "h1").text == "403", what="the clerk's suspension refused")
    assert "无权" in driver.find_element(By.ID, "error").text
    driver.get(f"{base}/certificates/{number}")
    _post_as_page(driver, "/decisions/R-2026-002", {"decision": "approve", "reason": "业务员试图批准"})
    _wait(lambda: driver.find_element(By.TAG_NAME, "h1").text == "403", what="the clerk's decision refused")
    assert api.certificate(number, ws)[0].status == "issued"
    assert [d.audit_id for d in api.decisions(ws)] == ["R-2026-002"]
    _log_out(driver, base)

    # the audit's lead auditor, a reviewer too, may not decide it: the page says why, nothing changes
    _log_in(driver, base, "王立", "lead-pass-1")
    driver.get(f"{base}/decisions")
    row = driver.find_element(By.ID, "decisions").find_element(By.XPATH, './/tr[contains(., "R-2026-002")]')
    row.find_element(By.NAME, "reason").send_keys("符合")
    row.find_element(By.CSS_SELECTOR, 'button[value="approve"]').click()
    error = _wait(lambda: driver.find_element(By.ID, "error").text, what="the independence rule's refusal")
    assert "王立" in error and "不能作出认证决定" in error
    assert driver.find_element(By.NAME, "reason").get_attribute("value") == "符合"  # what was typed is kept
    assert [d.audit_id for d in api.decisions(ws)] == ["R-2026-002"] and len(api.certificates(ws)) == 1
    _log_out(driver, base)

    _log_in(driver, base, "赵决定", "decider-pass-1")
    driver.get(f"{base}/certificates")
    driver.find_element(By.LINK_TEXT, number).click()
    _wait(lambda: driver.current_url.endswith(f"/certificates/{number}"), what="the certificate's page")
    assert driver.find_element(By.ID, "certificate-status").text == "有效"
    form = driver.find_element(By.ID, "form-suspend")
    form.find_element(By.NAME, "reason").send_keys("监督审核未按期进行")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    _wait(lambda: "changed=suspend" in driver.current_url, what="the suspension")
    assert "证书已暂停" in driver.find_element(By.ID, "notice").text
    assert driver.find_element(By.ID, "certificate-status").text == "暂停"
    history = driver.find_element(By.ID, "history").text
    assert "监督审核未按期进行" in history and "赵决定" in history
    assert driver.find_element(By.ID, "form-restore") and not driver.find_elements(By.ID, "form-suspend")
    assert api.certificate(number, ws)[0].status == "suspended"
    _fits(driver)
    _shot(driver, "certificate")
    for page in ("/", "/audits", "/audits/R-2026-001", "/standards", "/decisions?lang=en", "/certificates",
                 f"/certificates/{number}", "/audits?lang=zh"):
        driver.get(base + page)
        _fits(driver)
        _one_line(driver, 'td a[href^="/audits/"], td a[href^="/certificates/"]')

    driver.find_element(By.ID, "logout").click()
    _wait(lambda: "/login" in driver.current_url, what="the login page after logging out")
    driver.set_window_size(390, 844)  # a phone
    driver.get(f"{base}/c/{number}")
    assert driver.find_element(By.ID, "status").text == "暂停"
    assert number in driver.find_element(By.ID, "cert").text
    _fits(driver)
    driver.find_element(By.LINK_TEXT, "English").click()
    _wait(lambda: "lang=en" in driver.current_url, what="the public page in English")
    assert driver.find_element(By.ID, "status").text == "suspended"
    assert "监督审核" not in driver.page_source and "赵决定" not in driver.page_source  # nothing internal
    _fits(driver)
