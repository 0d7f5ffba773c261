"""A certification body with every required ``[issuer]`` field: its certificates are no specimens."""

from __future__ import annotations

from pipeline.config import Issuer

BODY = {"name": "测试认证有限公司", "address": "北京市海淀区测试路 1 号", "signatory": "王建国",
        "approval_no": "CNCA-R-2026-001"}


def complete_issuer(**overrides) -> Issuer:
    return Issuer(**{**BODY, **overrides})


#: The same as certpipe.toml text, for a workspace a test runs by command.
TOML = "[issuer]\n" + "".join(f'{key} = "{value}"\n' for key, value in BODY.items())
