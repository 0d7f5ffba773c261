"""Which inbox names count, and the settled / readable checks, on real files."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline.flow.inbox import fingerprint, is_candidate, name_counts, needs_zip_check, readable_zip


@pytest.fixture(scope="module")
def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "评分"
    wb.active["B2"] = 42
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name",
    ["audit.xlsx", "AUDIT.XLSX", "审核 2024.xlsm", "old.xls", "binary.xlsb", "libre.ods", "a.b.xlsx"],
)
def test_workbooks_and_foreign_spreadsheets_count(tmp_path, name):
    assert is_candidate(tmp_path / name)  # judged by name while it does not exist
    (tmp_path / name).write_bytes(b"x")
    assert is_candidate(tmp_path / name)


@pytest.mark.parametrize(
    "name",
    [
        "~$audit.xlsx",  # Excel owner/lock file
        ".~lock.audit.xlsx#",  # LibreOffice lock file
        "audit.tmp",  # Excel's renamed original
        "lu123456.tmp",  # LibreOffice temp
        "ABCD1234",  # Excel temp, no extension
        ".audit.xlsx",  # dot-file (rsync temp, macOS ._ file)
        "._audit.xlsx",
        "audit.xlsx~",
        "#audit.xlsx#",
        "audit.xlsx.part",
        "notes.txt",
        "report.docx",
        "",
    ],
)
def test_lock_temp_hidden_and_other_files_do_not_count(tmp_path, name):
    assert not name_counts(name)
    if name:
        assert not is_candidate(tmp_path / name)


def test_a_directory_named_like_a_workbook_does_not_count(tmp_path):
    (tmp_path / "folder.xlsx").mkdir()
    assert name_counts("folder.xlsx")
    assert not is_candidate(tmp_path / "folder.xlsx")
    assert fingerprint(tmp_path / "folder.xlsx") is None


def test_only_xlsx_and_xlsm_need_the_zip_check():
    assert needs_zip_check(Path("a.xlsx")) and needs_zip_check(Path("a.XLSM"))
    assert not needs_zip_check(Path("a.xls")) and not needs_zip_check(Path("a.ods"))


def test_fingerprint_changes_on_write_touch_and_replace(tmp_path):
    p = tmp_path / "a.xlsx"
    assert fingerprint(p) is None
    p.write_bytes(b"12345")
    first = fingerprint(p)
    assert first is not None and first[0] == 5
    assert fingerprint(p) == first  # stable while nothing happens

    with p.open("ab") as f:
        f.write(b"6")
    second = fingerprint(p)
    assert second[0] == 6 and second != first

    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same size, new mtime
    third = fingerprint(p)
    assert third[:1] == second[:1] and third[1] != second[1]

    other = tmp_path / "other"
    other.write_bytes(b"123456")
    os.utime(other, ns=(st.st_atime_ns, third[1]))  # same size and mtime, different file
    os.replace(other, p)
    fourth = fingerprint(p)
    assert fourth[:2] == third[:2] and fourth[2] != third[2]

    p.unlink()
    assert fingerprint(p) is None


def test_readable_zip_accepts_a_real_workbook(tmp_path, xlsx_bytes):
    p = tmp_path / "ok.xlsx"
    p.write_bytes(xlsx_bytes)
    assert readable_zip(p)
    assert openpyxl.load_workbook(p).active["B2"].value == 42


@pytest.mark.parametrize("keep", [0, 1, 100, 0.5, 0.9, -22, -1])
def test_readable_zip_rejects_truncated_files(tmp_path, xlsx_bytes, keep):
    cut = int(len(xlsx_bytes) * keep) if isinstance(keep, float) else keep % len(xlsx_bytes)
    p = tmp_path / "half.xlsx"
    p.write_bytes(xlsx_bytes[:cut])
    assert not readable_zip(p)


def _rezip(xlsx: bytes, *, drop: str | None = None, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            if info.filename != drop:
                dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_readable_zip_checks_the_crc_of_workbook_xml(tmp_path, xlsx_bytes, compression):
    data = bytearray(_rezip(xlsx_bytes, compression=compression))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/workbook.xml")
    # Local header: 30 bytes + name + extra, then the member's data.
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x20
    p = tmp_path / "crc.xlsx"
    p.write_bytes(bytes(data))
    with zipfile.ZipFile(p) as zf:
        assert "xl/workbook.xml" in zf.namelist()  # the zip itself still opens
    assert not readable_zip(p)


def test_readable_zip_needs_both_members(tmp_path, xlsx_bytes):
    for member in ("[Content_Types].xml", "xl/workbook.xml"):
        p = tmp_path / "missing.xlsx"
        p.write_bytes(_rezip(xlsx_bytes, drop=member))
        assert not readable_zip(p), member
    p.write_bytes(_rezip(xlsx_bytes))
    assert readable_zip(p)


def test_readable_zip_is_false_for_non_zips_and_missing_files(tmp_path):
    ole = tmp_path / "encrypted.xlsx"  # password-protected workbooks are OLE compound files
    ole.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    ods = tmp_path / "sheet.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<x/>")
    assert not readable_zip(ole)
    assert not readable_zip(ods)
    assert not readable_zip(tmp_path / "nope.xlsx")
    assert not readable_zip(tmp_path)


def test_a_bombed_workbook_xml_is_not_inflated_to_check_it(tmp_path):
    import tracemalloc

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", b"<" + b" " * (200 * 2**20))  # 200 MB of spaces, ~200 KB packed
    tracemalloc.start()
    assert readable_zip(path) is True  # handed over, so intake rejects it by its limits
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20
