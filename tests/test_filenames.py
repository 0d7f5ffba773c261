"""``safe_name`` against Windows' rules for names, the strictest of the three systems (checked here on
any system, so that a name made on Linux can be copied to a Windows share)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.filenames import MAX_NAME, reserved, safe_name

#: Windows: no control characters or ``<>:"/\\|?*``; no trailing dot or space; no device name, whatever
#: its extension and with spaces before it; at most 255 UTF-16 units.
DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
           *(f"{d}{i}" for d in ("COM", "LPT") for i in [*range(10), "¹", "²", "³"])}
FORBIDDEN = re.compile(r'[\x00-\x1f<>:"/\\|?*]')
#: A published file's path under the outbox: ``<name>/<name>-certificate.docx``. Windows' classic
#: limit is 260 characters for the whole path; certpipe's part must leave most of it to the outbox.
LONGEST_SUFFIX = "-certificate.docx"


def windows_problem(name: str) -> str | None:
    if not name:
        return "empty"
    if FORBIDDEN.search(name):
        return "a forbidden character"
    if name[-1] in " .":
        return "a trailing dot or space"
    stem = name.split(".")[0].rstrip(" ")
    if stem.upper() in DEVICES or unicodedata.normalize("NFKC", stem).upper() in DEVICES:
        return "a device name"
    if len(name.encode("utf-16-le")) // 2 > 255:
        return "too long"
    return None


NASTY = ["CON", "con", "con .txt", "Nul.tar.gz", "CONIN$", "conout$.xlsx", "COM¹", "lpt9.docx", "AUX.",
         "a.", "a ", " .hidden", "..", "a/b", "a\\b", "C:", "what?", "a*b", "<x>", 'say "hi"', "pipe|d",
         "tab\there", "x" * 300, "审" * 200, "T-2026-001", "ÄÖ\u0301", "\u202eevil", "ｃｏｎ"]


@pytest.mark.parametrize("text", NASTY)
def test_every_name_is_valid_on_windows(text):
    name = safe_name(text)
    assert windows_problem(name) is None, (text, name)
    assert len(name) <= MAX_NAME + 9
    assert len(f"{name}/{name}{LONGEST_SUFFIX}") < 200  # leaves 60 characters for where the outbox is


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_any_text_makes_a_windows_name_and_two_texts_never_meet(text):
    name = safe_name(text)
    assert windows_problem(name) is None, (text, name)
    assert safe_name(text + "x") != name or text + "x" == name


def test_device_names_are_known_as_windows_knows_them():
    assert reserved("CON") and reserved("con .txt") and reserved("com1.xlsx") and reserved("COM¹")
    assert not reserved("CONTRACT") and not reserved("com10") and not reserved("nul-1")


def test_the_nasty_names_stay_apart_where_case_does_not_count(tmp_path):
    """Windows' file systems ignore case: the names made must differ in more than case."""
    names = [safe_name(text) for text in NASTY]
    assert len({name.casefold() for name in names}) == len(NASTY)
    for name in names:  # and each is a real folder and file here
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}{LONGEST_SUFFIX}").write_bytes(b"x")
