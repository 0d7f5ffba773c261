"""``certpipe serve``: the web console on this workspace, beside ``watch`` (it takes no workspace lock)."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.errors import CertpipeError
from pipeline.i18n import t


@app.command(short_help="网页控制台 / the web console")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="监听地址（默认只本机）/ address to listen on (default: this "
                                                     "computer only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="端口 / port")] = 8000,
) -> None:
    """网页控制台：概览、上传评分表、审核查询与下载、标准、证书公开查询（/c/证书编号）。与 certpipe watch
    同时运行，不占用工作区。用户由 certpipe users 管理。默认只监听本机 127.0.0.1；对局域网开放时请放在
    HTTPS 反向代理之后（见 docs/deployment.md）。

    The web console: dashboard, uploads, audit search and downloads, standards, public certificate
    verification (/c/NUMBER). Runs beside certpipe watch without taking the workspace. Users are managed
    with certpipe users. Listens on 127.0.0.1 only unless told; for a LAN put it behind an HTTPS reverse
    proxy (see docs/deployment.md)."""
    import uvicorn

    from pipeline.web import create_app

    s = settings(ctx)
    console = create_app(s.workspace)
    if not api.list_users(s.workspace):  # nobody could log in
        out.print(t("users.none", s.lang), markup=False)
    _check_address(host, port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.print(t("serve.exposed", s.lang, host=host), markup=False)
    shown = f"[{host}]" if ":" in host else host
    out.print(t("serve.listening", s.lang, url=f"http://{shown}:{port}/"), markup=False)
    config = uvicorn.Config(console, host=host, port=port, log_level="warning" if s.verbosity <= 0 else "info",
                            proxy_headers=False, server_header=False)
    server = _server_class()(config)
    try:
        server.run()
    except SystemExit:
        if server.started:
            raise
    if not server.started:  # the address is taken, or not this computer's: uvicorn said why in its log line
        raise CertpipeError("serve.cannot_listen", {"host": host, "port": port})


def _check_address(host: str, port: int) -> None:
    """Refuse, in the user's words, an address that cannot be listened on (taken, or not this computer's)
    before uvicorn tries it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            if hasattr(socket, "SO_REUSEADDR") and not hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does, on POSIX
            probe.bind(address)
    except OSError as exc:
        raise CertpipeError("serve.cannot_listen", {"host": host, "port": port}) from exc


def _server_class():
    """Made when first needed: uvicorn loads only for ``serve``."""
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopped by Ctrl-C, SIGTERM or (Windows) Ctrl-Break with exit code 0 like
        ``watch`` (uvicorn's own handling raises the signal again once it has stopped, so the process
        would die of it)."""

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            stops = (signal.SIGINT, signal.SIGTERM, *((signal.SIGBREAK,) if hasattr(signal, "SIGBREAK") else ()))
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server
