"""``certpipe users``: the web console's users (add, passwd, disable, list). A password is read from a
prompt (twice, not shown) or from standard input with ``--password-stdin``; never from an argument."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import Group, app, out, settings
from pipeline.cli.tables import KEY, Listing
from pipeline.errors import CertpipeError
from pipeline.i18n import t

users_app = typer.Typer(cls=Group, help="控制台用户：添加、改密码、停用、列出 / the web console's users: add, passwd, "
                        "disable, list", no_args_is_help=True)
app.add_typer(users_app, name="users")

STDIN_HELP = "从标准输入读取密码（一行）/ read the password from standard input (one line)"


def _who() -> str:
    """Who ran the command, for the audit trail (``cli:<login name>``)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError, ImportError):
        return "cli"


def _password(lang: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CertpipeError("users.no_password", {})
        return line
    first = typer.prompt(t("users.prompt", lang), hide_input=True)
    again = typer.prompt(t("users.prompt_again", lang), hide_input=True)
    if first != again:
        raise CertpipeError("users.mismatch", {})
    return first


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    role: Annotated[str, typer.Option("--role", help="clerk（业务员）| reviewer（评定人员）| admin（管理员）/ role")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
    full_name: Annotated[str, typer.Option("--full-name", help="姓名，与评分表中审核员的写法一致（评定人员必填，"
                                           "除非用户名就是姓名）/ the person's name as workbooks write "
                                           "auditors' names")] = "",
) -> None:
    """添加控制台用户；密码提示输入两次，或用 --password-stdin 从标准输入读取。评定人员在控制台以姓名作出认证决定，
    以核对其不是该审核的审核员：用户名不是姓名时（如 wang.li）请用 --full-name 登记。

    Add a console user; the password is asked twice, or read from standard input with --password-stdin.
    A reviewer decides in the console in their full name, checked against the audit's team: give
    --full-name when the user name is not the person's name (wang.li)."""
    s = settings(ctx)
    if role not in ("clerk", "reviewer", "admin"):
        raise CertpipeError("users.bad_role", {"role": role, "roles": "clerk | reviewer | admin"})
    user = api.add_user(name, role, _password(s.lang, password_stdin), s.workspace, by=_who(), full_name=full_name)
    out.print(t("users.added", s.lang, name=user.name, role=t(f"web.role.{user.role}", s.lang)), markup=False)


@users_app.command("name")
def name_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    full_name: Annotated[str, typer.Argument(help="姓名 / the person's name")],
) -> None:
    """登记用户的姓名（与评分表中审核员的写法一致）：评定人员在控制台以此姓名作出认证决定。

    Record a user's full name, as workbooks write auditors' names: a reviewer decides in it."""
    s = settings(ctx)
    api.set_full_name(name, full_name, s.workspace, by=_who())
    out.print(t("users.full_name_done", s.lang, name=name, full_name=" ".join(full_name.split())), markup=False)


@users_app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=STDIN_HELP)] = False,
) -> None:
    """更改用户的密码；其已登录的会话随即结束。

    Change a user's password; their open sessions end."""
    s = settings(ctx)
    api.set_password(name, _password(s.lang, password_stdin), s.workspace, by=_who())
    out.print(t("users.passwd_done", s.lang, name=name), markup=False)


@users_app.command("disable")
def disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="用户名 / user name")]) -> None:
    """停用用户：不能再登录，已登录的会话随即结束（操作记录保留）。

    Disable a user: no more logins, their open sessions end (the audit trail keeps them)."""
    s = settings(ctx)
    api.disable_user(name, s.workspace, by=_who())
    out.print(t("users.disabled_done", s.lang, name=name), markup=False)


@users_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """列出控制台用户（用户名、角色、是否停用）。

    List the console's users (name, role, whether disabled)."""
    s = settings(ctx)
    users = api.list_users(s.workspace)
    if as_json:
        print(json.dumps([u.to_json() for u in users], ensure_ascii=False, indent=2))
        return
    if not users:
        out.print(t("users.none", s.lang), markup=False)
        return
    kinds = {"name": KEY, "full_name": KEY, "role": KEY, "state": KEY, "changed": KEY}
    table = Listing(t("users.title", s.lang), [(t(f"users.col.{c}", s.lang), kind) for c, kind in kinds.items()])
    for u in users:  # (plain text cells: a name is never markup)
        table.add_row(u.name, u.full_name or "—", t(f"web.role.{u.role}", s.lang),
                      t("users.disabled" if u.disabled else "users.enabled", s.lang), u.changed_at)
    table.print(out)
