"""``certpipe publish DIR``: the public register as static files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.i18n import t


@app.command(short_help="写出公开登记（静态网站）/ write the public register (static site)")
def publish(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(metavar="DIR", help="公开登记的目录 / the register's folder")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """把公开登记写入 DIR：可搜索的首页、每张证书一个页面与一个 JSON 文件、公钥；只含公开字段。任何网站服务器或
    对象存储都能直接提供这些文件；用手机扫描证书二维码打开页面时，浏览器会核验签名。certpipe.toml 中设置
    [publish] dir 后，run 与 watch 每批处理后自动写入。

    Write the public register to DIR: an index page with search, a page and a JSON file per
    certificate, the public keys; public fields only. Any web server or object store serves the files;
    a page opened from a certificate's QR code checks its signature in the browser. With [publish] dir
    in certpipe.toml, run and watch write it after every batch."""
    s = settings(ctx)
    done = api.publish_register(dest, s.workspace)
    if as_json:
        print(json.dumps({"dir": str(done.dest), "certificates": done.count, "written": done.written,
                          "seconds": round(done.seconds, 3)}, ensure_ascii=False, indent=2))
        return
    out.print(t("publish.done", s.lang, dir=done.dest, count=done.count, written=done.written,
                seconds=f"{done.seconds:.2f}"), markup=False)
