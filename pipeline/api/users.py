"""The web console's users: added, named, given a password, disabled, listed."""

from __future__ import annotations

from pathlib import Path

from pipeline.api.workspace import looked_at
from pipeline.workspace import Workspace


def open_users(workspace: Path | str | Workspace | None = None):
    """The workspace's console users, sessions and audit trail (``.certpipe/users.sqlite``, made on
    first use): a ``UserStore``; close it, or use ``with``."""
    from pipeline.flow.users import UserStore

    return UserStore(looked_at(workspace).users)


def add_user(name: str, role: str, password: str, workspace: Path | str | Workspace | None = None, *,
             by: str = "", full_name: str = ""):
    """A new console user (``role``: clerk | reviewer | admin); the password is kept as an argon2 hash;
    ``full_name`` as workbooks name auditors (a reviewer decides in it). Returns the ``User``."""
    with open_users(workspace) as users:
        return users.add(name, role, password, by=by, full_name=full_name)


def set_full_name(name: str, full_name: str, workspace: Path | str | Workspace | None = None, *, by: str = "") -> None:
    """A console user's full name, as workbooks name auditors (``certpipe users name``)."""
    with open_users(workspace) as users:
        users.set_full_name(name, full_name, by=by)


def set_password(name: str, password: str, workspace: Path | str | Workspace | None = None, *,
                 by: str = "") -> None:
    """A user's new password; their open sessions end."""
    with open_users(workspace) as users:
        users.set_password(name, password, by=by)


def disable_user(name: str, workspace: Path | str | Workspace | None = None, *, by: str = "") -> None:
    """A user who may no longer log in; their open sessions end (the user stays in the audit trail)."""
    with open_users(workspace) as users:
        users.disable(name, by=by)


def list_users(workspace: Path | str | Workspace | None = None) -> list:
    """Every console user (``User``: name, role, disabled, created_at, changed_at), by name."""
    with open_users(workspace) as users:
        return users.users()
