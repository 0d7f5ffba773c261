"""Documents: an audit's Word report and certificate, and the Word templates certpipe may use, checked."""

from __future__ import annotations

from pathlib import Path

from pipeline.api.standards import load_standard
from pipeline.api.workspace import open_workspace, root_of
from pipeline.core.audit import Audit
from pipeline.core.certificates import CertificateInfo
from pipeline.core.scoring import ScoreCard
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


def render_documents(audit: Audit, std: Standard, card: ScoreCard, out_dir: Path | str, *, lang: str = "zh",
                     revision: int = 1, certificate: CertificateInfo | None = None,
                     workspace: Path | str | Workspace | None = None) -> list[Path]:
    """The Word report (and the certificate, when ``certificate`` is given and a level was reached)
    into ``out_dir``, from the workspace's templates or the built-in ones."""
    from pipeline.word.render import Renderer

    ws, config = open_workspace(workspace)
    return Renderer(config, workspace_templates=ws.templates).render(
        audit, std, card, Path(out_dir), lang=lang, revision=revision, certificate=certificate)


def template_files(workspace: Path | str | Workspace | None = None) -> list[tuple[Path, str | None]]:
    """Every Word template certpipe may use: (path, the standard key of its folder or None)."""
    from pipeline.word.template_check import default_templates

    return default_templates(root_of(workspace))


def check_template(path: Path | str, lang: str = "zh", *, std_key: str | None = None,
                   workspace: Path | str | Workspace | None = None) -> list:
    """Every problem of a Word template (``TemplateProblem``), found by reading it and by rendering it
    with a sample audit of ``std_key``'s standard (default: one whose samples fill every variable)."""
    from pipeline.word.template_check import DEFAULT_STANDARD
    from pipeline.word.template_check import check_template as check

    try:
        std = load_standard(std_key or DEFAULT_STANDARD, workspace)
    except CertpipeError:
        std = load_standard(DEFAULT_STANDARD)
    return check(Path(path), std, lang)
