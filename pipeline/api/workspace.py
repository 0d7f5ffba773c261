"""The workspace: opened with its checked configuration, or made new; and how every API function takes
its ``workspace`` argument (``open_workspace``; ``looked_at`` for those who only look; ``root_of``)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


def open_workspace(workspace: Path | str | Workspace | None = None) -> tuple[Workspace, Config]:
    """The workspace and its checked configuration (``[paths]`` applied)."""
    if isinstance(workspace, Workspace):
        return workspace, load_config(workspace.config_file)
    root = Path(workspace or Path.cwd()).resolve()
    config = load_config(root / "certpipe.toml")
    return Workspace.configured(root, config), config


def looked_at(workspace: Path | str | Workspace | None) -> Workspace:
    """The workspace for those who only look (``status``, ``ledger``): a broken certpipe.toml does not
    stop them; its ``[paths]`` are then the defaults."""
    if isinstance(workspace, Workspace):
        return workspace
    try:
        return open_workspace(workspace)[0]
    except CertpipeError:
        return Workspace(Path(workspace or Path.cwd()).resolve())


def root_of(workspace: Path | str | Workspace | None) -> Path | None:
    """The folder of a ``workspace`` argument, its certpipe.toml not read; None when none was given
    (the built-in definitions and templates only)."""
    if workspace is None:
        return None
    return workspace.root if isinstance(workspace, Workspace) else Path(workspace).resolve()


def init_workspace(directory: Path | str) -> Workspace:
    """Make an empty workspace with a commented certpipe.toml (an existing one is checked first)."""
    from pipeline.flow.setup import init_workspace as init

    return init(Path(directory))[0]
