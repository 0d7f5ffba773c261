"""``certpipe users``: the console's users, their argon2 hashes, passwords never from an argument, and
the audit trail in a file of its own (the ledger untouched)."""

from __future__ import annotations

import json
import sqlite3

import pytest
import typer

from pipeline import api
from pipeline.cli import app
from pipeline.errors import CertpipeError
from tests.helpers.workspace import certpipe, make_ws


def test_add_list_passwd_disable_through_the_command(tmp_path):
    ws = make_ws(tmp_path)
    added = certpipe(ws, "users", "add", "li.ming", "--role", "clerk", "--password-stdin", input="first-pass-1\n")
    assert added.returncode == 0, added.stderr
    assert "li.ming" in added.stdout and "业务员" in added.stdout
    listed = json.loads(certpipe(ws, "users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("li.ming", "clerk", False)]
    with api.open_users(ws) as users:
        assert users.verify("li.ming", "first-pass-1") is not None
        assert users.verify("li.ming", "wrong") is None
    changed = certpipe(ws, "users", "passwd", "li.ming", "--password-stdin", input="second-pass-2\n")
    assert changed.returncode == 0, changed.stderr
    with api.open_users(ws) as users:
        assert users.verify("li.ming", "first-pass-1") is None and users.verify("li.ming", "second-pass-2")
    assert certpipe(ws, "users", "disable", "li.ming").returncode == 0
    with api.open_users(ws) as users:
        assert users.verify("li.ming", "second-pass-2") is None
        trail = users.trail()
    assert [(e.action, e.target) for e in trail] == [("user.disable", "li.ming"), ("user.passwd", "li.ming"),
                                                    ("user.add", "li.ming")]
    assert all(e.user.startswith("cli") and e.at for e in trail)  # who, from the command line, and when
    english = certpipe(ws, "--lang", "en", "users", "list")
    assert "disabled" in english.stdout and "clerk" in english.stdout
    assert not set("│┃━─┏┡") & set(english.stdout)  # piped: plain text, no box drawn


def test_the_password_is_hashed_with_argon2_in_its_own_file(tmp_path):
    ws = make_ws(tmp_path)
    api.add_user("wang", "reviewer", "a-long-secret", ws)
    db = sqlite3.connect(ws.users)
    (stored,) = db.execute("SELECT hash FROM users WHERE name = 'wang'").fetchone()
    assert stored.startswith("$argon2id$") and "a-long-secret" not in stored
    assert not ws.ledger.exists()  # users live apart from the ledger
    assert b"a-long-secret" not in ws.users.read_bytes()


@pytest.mark.parametrize("command", [("add",), ("passwd",)])
def test_no_command_takes_a_password_as_an_argument(command):
    group = typer.main.get_command(app).commands["users"]
    options = [opt for p in group.commands[command[0]].params for opt in p.opts]
    assert not any("password" in o and o != "--password-stdin" for o in options), options


def test_wrong_input_is_said_with_exit_2(tmp_path):
    ws = make_ws(tmp_path)
    short = certpipe(ws, "users", "add", "zhao", "--role", "clerk", "--password-stdin", input="short\n")
    assert short.returncode == 2 and "8" in short.stderr
    role = certpipe(ws, "users", "add", "zhao", "--role", "boss", "--password-stdin", input="long-enough-1\n")
    assert role.returncode == 2 and "boss" in role.stderr
    assert certpipe(ws, "users", "add", "zhao", "--role", "clerk", "--password-stdin",
                    input="long-enough-1\n").returncode == 0
    again = certpipe(ws, "--lang", "en", "users", "add", "zhao", "--role", "clerk", "--password-stdin",
                     input="long-enough-1\n")
    assert again.returncode == 2 and "exists" in again.stderr
    unknown = certpipe(ws, "users", "passwd", "nobody", "--password-stdin", input="long-enough-1\n")
    assert unknown.returncode == 2
    bad_name = certpipe(ws, "users", "add", "../x", "--role", "clerk", "--password-stdin", input="long-enough-1\n")
    assert bad_name.returncode == 2


def test_the_prompt_asks_twice(tmp_path):
    ws = make_ws(tmp_path)
    differ = certpipe(ws, "users", "add", "sun", "--role", "admin", input="long-enough-1\nother-thing-2\n")
    assert differ.returncode == 2 and not api.list_users(ws)
    same = certpipe(ws, "users", "add", "sun", "--role", "admin", input="long-enough-1\nlong-enough-1\n")
    assert same.returncode == 0, same.stderr
    assert "long-enough-1" not in same.stdout + same.stderr


def test_sessions_end_with_a_new_password(tmp_path):
    ws = make_ws(tmp_path)
    user = api.add_user("qian", "clerk", "long-enough-1", ws)
    with api.open_users(ws) as users:
        session = users.new_session(user, 1)
        assert users.session(session.token) is not None
        assert users.session("forged-token") is None
    api.set_password("qian", "long-enough-2", ws)
    with api.open_users(ws) as users:
        assert users.session(session.token) is None


def test_a_name_that_is_not_a_user_costs_a_hash_too(tmp_path):
    ws = make_ws(tmp_path)
    with api.open_users(ws) as users:
        assert users.verify("ghost", "whatever-1") is None
        assert users._dummy is not None and users._dummy.startswith("$argon2id$")
    with pytest.raises(CertpipeError):
        api.disable_user("ghost", ws)
