"""``certpipe serve``: the web console on this workspace, beside ``watch`` (it takes no workspace lock)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import app, out, settings
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
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.print(t("serve.exposed", s.lang, host=host), markup=False)
    shown = f"[{host}]" if ":" in host else host
    out.print(t("serve.listening", s.lang, url=f"http://{shown}:{port}/"), markup=False)
    uvicorn.run(console, host=host, port=port, log_level="warning" if s.verbosity <= 0 else "info",
                proxy_headers=False, server_header=False)
