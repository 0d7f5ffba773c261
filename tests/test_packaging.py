"""A wheel (what `pip install .` makes) carries the built-in standards, templates and messages, so
any install finds them, not only an editable one."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow


def test_the_wheel_carries_standards_templates_and_messages(tmp_path: Path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("certpipe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for std in (ROOT / "standards").glob("*.yaml"):
        assert f"pipeline/_builtin/standards/{std.name}" in names
    for tpl in (ROOT / "templates").glob("*.docx"):
        assert f"pipeline/_builtin/templates/{tpl.name}" in names
    for msg in (ROOT / "pipeline" / "messages").glob("*.yaml"):
        assert f"pipeline/messages/{msg.name}" in names
    assert "pipeline/certpipe.toml" in names
