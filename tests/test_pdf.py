"""PDF twins by LibreOffice; a clear error naming what to install when it or the CJK fonts are missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import pytest

from pipeline.config import Config
from pipeline.core.certificates import CertificateInfo
from pipeline.core.scoring import score
from pipeline.errors import RenderError
from pipeline.flow.standards import load_standard
from pipeline.word import pdf
from pipeline.word.render import Renderer
from pipeline.word.template_check import sample_audit

pytestmark = pytest.mark.slow

CERT = CertificateInfo("CP-2025-PDF-00007", date(2025, 4, 1), date(2028, 3, 31), date(2026, 3, 31))
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                   reason="LibreOffice / poppler-utils not installed")


@needs_soffice
def test_report_and_certificate_to_pdf_with_text_extracted(tmp_path):
    renderer = Renderer(Config())
    docs = []
    for key in ("info-system-integration", "gbt27922-2011"):
        std = load_standard(key)
        audit = sample_audit(std, org='R&D <北京> "分公司"')
        docs += renderer.render(audit, std, score(std, audit.entries), tmp_path / key, certificate=CERT)
    pdfs = pdf.convert_to_pdf(docs, instances=2)
    assert [p.with_suffix(".docx") for p in pdfs] == docs  # in order, beside their documents
    for doc, made in zip(docs, pdfs, strict=True):
        text = subprocess.run(["pdftotext", "-layout", str(made), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert 'R&D <北京> "分公司"' in text
        if doc.name.endswith("-report.docx"):
            assert "服务认证评价报告" in text
            assert re.search(r"第\s*2\s*页\s*/\s*共", text)
            assert not re.search(r"第\s*1\s*页", text)  # the cover has no footer
        else:
            assert CERT.number in text and "服务认证证书" in text
            assert text.count("\f") == 1  # one page, also with the specimen line
            assert _scanned(made, tmp_path)[0] == CERT.number  # the printed QR code reads back
    assert not list(tmp_path.rglob(".~pdf-*"))  # scratch folders removed


def _scanned(made, tmp_path) -> tuple[str | None, str | None]:
    """The QR code on the PDF's first page, rendered at 150 dpi as a printer would, read by zxing-cpp."""
    import zxingcpp
    from PIL import Image

    from pipeline.word.qr import split

    stem = tmp_path / f"{made.stem}-page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(made), str(stem)], check=True)
    (page,) = tmp_path.glob(f"{made.stem}-page*.png")
    found = zxingcpp.read_barcode(Image.open(page).convert("L"))
    assert found is not None, f"no QR code found on {made.name}"
    return split(found.text)


def test_missing_libreoffice_is_a_clear_error_before_any_work(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    monkeypatch.setattr(pdf, "_SOFFICE_PLACES", ())
    doc = tmp_path / "a-report.docx"
    doc.write_bytes(b"not converted")
    with pytest.raises(RenderError) as err:
        pdf.convert_to_pdf([doc])
    assert "LibreOffice" in err.value.render() and "libreoffice-writer" in str(err.value)
    assert err.value.key == "pdf.no_soffice" and "libreoffice-writer" in err.value.render_hint("en")
    assert list(tmp_path.iterdir()) == [doc]


def test_missing_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(pdf, "find_soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(pdf, "installed_font_families", lambda: {"DejaVu Sans"})
    with pytest.raises(RenderError) as err:
        pdf.require_pdf_tools()
    assert "Noto Serif CJK SC" in err.value.render() and "fonts-noto-cjk" in str(err.value)


def test_batches_spread_work_and_never_share_a_name(tmp_path):
    paths = [tmp_path / d / f"{n}.docx" for d in ("a", "b") for n in ("x-report", "x-certificate")]
    batches = pdf._batches(paths, 2)
    assert sorted(p for b in batches for p in b) == sorted(paths)
    for batch in batches:
        assert len({p.stem for p in batch}) == len(batch)
    assert len(batches) == 2


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_run_with_pdf_converts_a_chunk_in_one_call_and_publishes_pdfs(tmp_path):
    from pipeline.config import Config
    from pipeline.flow.run import run_inbox
    from tests.helpers.workspace import make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    for i in range(3):
        workbook(ws, f"p{i}.xlsx", sample_audit(audit_id=f"PDF-{i}", target="60" if i == 2 else "88"))
    (ws.inbox / "bad.xlsx").write_bytes(b"not a workbook")
    result = run_inbox(ws, Config(), pdf=True, workers=1)
    assert sorted(o.status for o in result.outcomes) == ["done", "done", "done", "rejected"]
    for i in range(3):
        folder = ws.outbox / f"PDF-{i}"
        assert (folder / f"PDF-{i}-report.pdf").stat().st_size > 0
        assert (folder / f"PDF-{i}-certificate.pdf").exists() == (i != 2)
    assert list(ws.inbox.iterdir()) == [] and list((ws.outbox / ".staging").iterdir()) == []


def test_each_profile_is_held_by_one_user_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, held = pdf._profile()
    second, other = pdf._profile()  # a second instance (or process) never gets a profile in use
    assert first != second and first.parent == second.parent == tmp_path / "cache" / "certpipe" / "libreoffice"
    assert (first / "fonts.conf").is_file()
    held.close()  # the first instance ends: its profile is free again, and kept
    third, again = pdf._profile()
    assert third == first
    other.close()
    again.close()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_run_with_pdf_leaves_no_profile_behind_even_without_a_cache_folder(tmp_path):
    """Pool workers end without running atexit; their temporary profiles go all the same."""
    import os
    import sys

    from tests.helpers.workspace import make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    for i in range(2):
        workbook(ws, f"p{i}.xlsx", sample_audit(audit_id=f"PT-{i}"))
    (tmp_path / "not-a-folder").write_text("x")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "not-a-folder"), "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "pipeline", "-W", str(ws.root), "-q", "run", "--pdf", "--workers", "2"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (ws.outbox / "PT-1" / "PT-1-certificate.pdf").is_file()
    assert not list(scratch.glob("certpipe-lo-*"))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_profile_that_fails_is_made_anew_once(tmp_path, monkeypatch):
    """A profile damaged by a kill during its first start would fail every later conversion on it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(pdf, "_slots", [])
    renderer = Renderer(Config())
    std = load_standard("gbt27922-2011")
    audit = sample_audit(std)
    docs = renderer.render(audit, std, score(std, audit.entries), tmp_path / "out", certificate=CERT)
    real, calls = subprocess.run, []

    def first_fails(cmd, **kwargs):
        calls.append(cmd)
        if len(calls) == 1:
            (pdf._slots[0][1] / "user" / "damaged").parent.mkdir(parents=True, exist_ok=True)
            (pdf._slots[0][1] / "user" / "damaged").write_text("x")
            return subprocess.CompletedProcess(cmd, 1, "", "Fatal exception: Signal 6")
        return real(cmd, **kwargs)

    monkeypatch.setattr(pdf.subprocess, "run", first_fails)
    pdfs = pdf.convert_to_pdf(docs, instances=1)
    assert len(calls) == 2 and [p.with_suffix(".docx") for p in pdfs] == docs
    assert not (pdf._slots[0][1] / "user" / "damaged").exists()  # the profile was made anew
