"""Try deploy/certpipe.service as far as a machine without a running systemd allows.

1. ``systemd-analyze verify`` on a copy of the unit whose paths point at this install and a fresh
   workspace (when systemd-analyze exists).
2. Runs the unit's ExecStart under its settings: User/Group (when run as root; ``nobody`` stands in
   for a missing ``certpipe`` user), WorkingDirectory, Environment, UMask, and systemd's plain
   environment (nothing inherited from this shell but PATH).
3. Drops sample workbooks into the inbox, waits for their outputs, drops one more and sends SIGTERM
   (KillSignal) while that file may be in hand; checks certpipe exits 0 within TimeoutStopSec,
   that the file is either fully published or still in the inbox, and that the log file has
   one JSON line per outcome.
4. A broken certpipe.toml: ExecStart must exit 2 (RestartPreventExitStatus: no restart loop)
   without touching the inbox.

    .venv/bin/python deploy/try_unit.py [--pdf] [--keep]

Ends with one JSON line: what was checked and how long stopping took."""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNIT = HERE / "certpipe.service"
CERTPIPE = Path(sys.executable).with_name("certpipe")


def read_unit(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    section = None
    for line in text.splitlines():  # systemd allows repeated keys (Environment=), configparser does not
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key}", []).append(value)
    return settings


def wait_for(condition, seconds: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise SystemExit(f"FAILED: no {what} after {seconds} s")
        time.sleep(0.02)
    return time.monotonic() - start


def in_hand(ws: Path, name: str) -> bool:
    """The watcher has claimed ``name`` (ledger row 'processing'): SIGTERM now lands mid-file."""
    import sqlite3

    path = ws / ".certpipe" / "ledger.sqlite"
    if not path.exists():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT 1 FROM inputs WHERE name = ? AND status = 'processing'", (name,)).fetchone()
            return row is not None
    except sqlite3.Error:
        return False


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--pdf", action="store_true", help="also make PDFs (CERTPIPE_RUN_PDF=true)")
    args.add_argument("--keep", action="store_true", help="keep the temporary folder")
    opts = args.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="certpipe-unit-"))
    ws, home = tmp / "srv", tmp / "var-lib"
    text = UNIT.read_text(encoding="utf-8")
    text = (text.replace("/opt/certpipe/bin/certpipe", str(CERTPIPE)).replace("/srv/certpipe", str(ws))
            .replace("/var/lib/certpipe", str(home)))
    local_unit = tmp / "certpipe.service"
    local_unit.write_text(text, encoding="utf-8")
    unit = read_unit(text)
    result: dict = {"unit": str(UNIT.relative_to(HERE.parent)), "pdf": opts.pdf}

    # samples: the demo's filled workbooks (one per built-in standard)
    subprocess.run([str(CERTPIPE), "-q", "demo", str(tmp / "demo")], check=True, capture_output=True)
    samples = sorted((tmp / "demo" / "archive").rglob("*.xlsx"))
    subprocess.run([str(CERTPIPE), "init", str(ws)], check=True, capture_output=True)
    home.mkdir()

    if shutil.which("systemd-analyze"):
        verify = subprocess.run(["systemd-analyze", "verify", str(local_unit)], capture_output=True, text=True)
        problems = [line for line in (verify.stderr + verify.stdout).splitlines()
                    if line.strip() and "Failed to resolve user" not in line and "User=" not in line]
        result["systemd_analyze_verify"] = problems or "ok"

    # the unit's process settings
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    for line in unit.get("Service.Environment", []):
        for item in shlex.split(line):
            key, _, value = item.partition("=")
            env[key] = value
    if opts.pdf:
        env["CERTPIPE_RUN_PDF"] = "true"
    cwd = unit["Service.WorkingDirectory"][0]
    umask = int(unit.get("Service.UMask", ["0022"])[0], 8)
    exec_start = shlex.split(unit["Service.ExecStart"][0])
    stop_timeout = float(unit.get("Service.TimeoutStopSec", ["90"])[0])
    kill_signal = getattr(signal, unit.get("Service.KillSignal", ["SIGTERM"])[0])
    user, group = unit["Service.User"][0], unit["Service.Group"][0]
    uid = gid = None
    if os.geteuid() == 0:
        try:
            uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        except KeyError:
            user, group = "nobody", "nogroup"
            uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        for path in (ws, home):
            for root, dirs, files in os.walk(path):
                for name in [*dirs, *files, ""]:
                    os.chown(os.path.join(root, name), uid, gid)
        result["user"] = f"{user}:{group}"
    else:
        result["user"] = f"(not root: ran as uid {os.geteuid()}, User={user} not applied)"

    def preexec() -> None:
        os.umask(umask)
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    def start() -> subprocess.Popen:
        nonlocal uid, gid
        try:
            return subprocess.Popen(exec_start, cwd=cwd, env=env, preexec_fn=preexec,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except PermissionError:  # this install (e.g. a venv under /root) is not readable by User=
            result["user"] = f"root ({user} cannot read {exec_start[0]}: User= not applied)"
            uid = gid = None
            return start()

    # 1. a normal life: backlog, a new file, SIGTERM
    shutil.copy(samples[0], ws / "inbox" / samples[0].name)
    proc = start()
    try:
        outbox = ws / "outbox"
        audit_dirs = lambda: [p for p in outbox.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]  # noqa: E731
        result["first_output_s"] = round(wait_for(lambda: audit_dirs() or proc.poll() is not None, 120,
                                                  "output for the backlog file"), 2)
        if proc.poll() is not None:
            raise SystemExit(f"FAILED: certpipe exited {proc.returncode}: {proc.communicate()[1]}")
        last = samples[1]
        shutil.copy(last, ws / "inbox" / last.name)
        wait_for(lambda: in_hand(ws, last.name) or len(audit_dirs()) == 2, 60, "claim of the last file")
        signalled_in_hand = len(audit_dirs()) < 2
        t0 = time.monotonic()
        proc.send_signal(kill_signal)
        out, err = proc.communicate(timeout=stop_timeout)
        result["stop_s"] = round(time.monotonic() - t0, 2)
    finally:
        if proc.poll() is None:
            proc.kill()
    result["exit_code"] = proc.returncode
    assert proc.returncode == 0, f"exit {proc.returncode}\n{err}"
    in_inbox = (ws / "inbox" / last.name).exists()
    published = len(audit_dirs()) == 2
    assert in_inbox != published, "the last file must be either published or still waiting, exactly one"
    result["last_file"] = "published" if published else "still in the inbox (stopped before it was taken)"
    result["signal_landed"] = "while the last file was in hand" if signalled_in_hand else "after it was published"
    log_lines = [json.loads(line) for line in (ws / "logs" / "certpipe.log").read_text().splitlines()]
    outcomes = [r for r in log_lines if r.get("status")]
    assert all("time" in r and "file" in r for r in outcomes), outcomes
    assert {r["status"] for r in outcomes} == {"done"}, outcomes
    result["log_outcomes"] = len(outcomes)
    files = [p for p in (ws / "outbox").rglob("*") if p.is_file()]
    result["outbox_modes"] = sorted({oct(p.stat().st_mode & 0o777) for p in files})
    result["outbox_owner"] = sorted({pwd.getpwuid(p.stat().st_uid).pw_name for p in files})
    result["stdout_tail"] = out.strip().splitlines()[-1:]  # what the journal would show

    # 2. a broken certpipe.toml: exit 2, no restart, nothing touched
    (ws / "certpipe.toml").write_text('[watch]\nsettle = 2\n', encoding="utf-8")
    shutil.copy(samples[2], ws / "inbox" / samples[2].name)
    before = sorted(p.name for p in (ws / "inbox").iterdir())
    proc = start()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (proc.returncode, err)
    assert "watch.settle" in err, err
    assert sorted(p.name for p in (ws / "inbox").iterdir()) == before
    result["bad_config_exit"] = proc.returncode
    result["bad_config_message"] = err.strip().splitlines()[1].strip()

    if opts.keep:
        result["kept"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
