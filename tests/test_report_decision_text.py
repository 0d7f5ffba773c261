"""What a report says of the certificate, read back from the .docx of both built-in report templates:
a certificate issued, one awaiting the certification decision, a surveillance that keeps a
certificate's level or waits to change it, the decision taken since, no level reached. A report of a
level reached must never say that no level was reached."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import docx
import pytest

from pipeline.config import Config
from pipeline.core.audit import Entries
from pipeline.core.certificates import CertificateInfo
from pipeline.core.certify import Plan
from pipeline.core.scoring import score
from pipeline.flow.standards import load_standard
from pipeline.word.context import Decided
from pipeline.word.render import Renderer
from pipeline.word.template_check import sample_audit
from tests.helpers.issuer import complete_issuer

CERT = CertificateInfo("CP-2026-GBT27922-00042", date(2026, 4, 1), date(2029, 3, 31), date(2027, 4, 1))
HELD = "CP-2025-GBT27922-00007"
NO_LEVEL = {"zh": "未达到评价等级", "en": "No level reached"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(Config(issuer=complete_issuer(name="测试认证中心")))


def section8(path) -> list[str]:
    """The paragraphs of the report's section 8 (certificate and surveillance), up to section 9."""
    paras = [p.text for p in docx.Document(str(path)).paragraphs]
    start = next(i for i, text in enumerate(paras) if text.startswith("8 "))
    end = next(i for i, text in enumerate(paras) if text.startswith("9 "))
    return [text for text in paras[start + 1:end] if text.strip()]


def _render(renderer, tmp_path, lang, *, level=True, **kw):
    std = load_standard("gbt27922-2011")
    audit = sample_audit(std)
    if not level:
        audit = replace(audit, entries=Entries(scores={leaf.code: Decimal(0) for leaf in std.leaves}))
    card = score(std, audit.entries)
    assert (card.level is not None) == level
    paths = renderer.render(audit, std, card, tmp_path, lang=lang, **kw)
    return std, card, paths


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_certificate_issued_at_once_is_named_with_its_dates(renderer, tmp_path, lang):
    std, card, (report, _certificate) = _render(renderer, tmp_path, lang, certificate=CERT, plan=Plan("issue"))
    says, due = section8(report)
    assert CERT.number in says and std.describe_level(card.level, lang) in says
    assert ("2026年4月1日" if lang == "zh" else "2026-04-01") in says
    assert ("2029年3月31日" if lang == "zh" else "2029-03-31") in says
    assert due.endswith("2027年4月1日" if lang == "zh" else "2027-04-01")
    assert NO_LEVEL[lang] not in says + due


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_level_awaiting_the_certification_decision_says_so_not_no_level(renderer, tmp_path, lang):
    std, card, paths = _render(renderer, tmp_path, lang, plan=Plan("wait", kind="issue"),
                               decision_note="awaiting")
    assert [p.name for p in paths] == [f"{paths[0].stem}.docx"] and paths[0].stem.endswith("-report")
    says, due = section8(paths[0])
    assert std.describe_level(card.level, lang) in says
    assert ("待认证决定" if lang == "zh" else "awaits the certification decision") in says
    assert due.endswith("证书签发后确定" if lang == "zh" else "set when the certificate is issued")
    assert NO_LEVEL[lang] not in says + due and "不颁发证书" not in says + due


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_surveillance_that_keeps_the_level_names_the_certificate_kept(renderer, tmp_path, lang):
    std, card, paths = _render(renderer, tmp_path, lang, plan=Plan("maintain", HELD))
    assert len(paths) == 1  # no new certificate
    says, due = section8(paths[0])
    assert HELD in says and std.describe_level(card.level, lang) in says
    assert ("监督审核通过" if lang == "zh" else "Surveillance passed") in says
    assert HELD in due
    assert NO_LEVEL[lang] not in says + due


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("level", [True, False])
def test_a_surveillance_that_would_change_the_level_awaits_the_decision(renderer, tmp_path, lang, level):
    std, card, (report,) = _render(renderer, tmp_path, lang, level=level, plan=Plan("wait", HELD, kind="surveillance"))
    says, due = section8(report)
    assert HELD in says and HELD in due
    assert ("待认证决定" if lang == "zh" else "awaits the certification decision") in says
    assert ("保持原样" if lang == "zh" else "stands as issued") in says
    assert (std.describe_level(card.level, lang) if level else NO_LEVEL[lang]) in says


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_level_reached_says_no_certificate(renderer, tmp_path, lang):
    _std, _card, (report,) = _render(renderer, tmp_path, lang, level=False, certificate=CERT, plan=Plan("none"))
    says, due = section8(report)
    assert NO_LEVEL[lang] in says and CERT.number not in says + due
    assert ("不颁发证书" if lang == "zh" else "no certificate") in says


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_decision_taken_replaces_the_wait(renderer, tmp_path, lang):
    on = Decided(approved=True, on=date(2026, 4, 1))
    std, card, (report, _certificate) = _render(renderer, tmp_path, lang, certificate=CERT, decided=on,
                                                plan=Plan("wait", kind="issue"))
    says, due = section8(report)
    assert CERT.number in says and ("批准" if lang == "zh" else "Approved") in says
    assert "待认证决定" not in says and "awaits" not in says
    assert due.endswith("2027年4月1日" if lang == "zh" else "2027-04-01")

    refused = Decided(approved=False, on=date(2026, 4, 2))
    (tmp_path / "refused").mkdir()
    _s, _c, (report,) = _render(renderer, tmp_path / "refused", lang, decided=refused, plan=Plan("wait", kind="issue"))
    says, due = section8(report)
    assert ("不予颁发证书" if lang == "zh" else "refused the certificate") in says
    assert ("2026年4月2日" if lang == "zh" else "2026-04-02") in says
    assert ("不颁发证书" if lang == "zh" else "no certificate") in due

    (tmp_path / "changed").mkdir()
    _s, _c, (report,) = _render(renderer, tmp_path / "changed", lang, decided=on,
                                plan=Plan("wait", HELD, kind="surveillance"))
    says, _due = section8(report)
    assert HELD in says and std.describe_level(card.level, lang) in says
    assert ("改为" if lang == "zh" else "now holds") in says
