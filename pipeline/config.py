"""``certpipe.toml``: every setting, validated before any file is touched.

An unknown key or a wrong type is a ``ConfigError`` naming the key and the file. Environment
variables ``CERTPIPE_<SECTION>_<KEY>`` (e.g. ``CERTPIPE_WATCH_SETTLE_SECONDS=2``) override the file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Issuer(_Section):
    name: str = "certpipe 服务认证中心"
    name_en: str = "certpipe Service Certification Centre"
    address: str = "（请在 certpipe.toml 的 [issuer] 中填写认证机构地址）"
    signatory: str = ""
    verify_url: str = Field("", description="prefix of the verification link put in the QR code")


class Certificates(_Section):
    number_format: str = Field(
        "CP-{year}-{standard}-{seq:05d}",
        description="fields: year, standard (short code), seq (counter per year), level",
    )
    validity_years: int = Field(3, ge=1, le=10)
    surveillance_months: int = Field(12, ge=1, le=36)


class Limits(_Section):
    max_file_mb: float = Field(20, gt=0)
    max_member_mb: float = Field(50, gt=0, description="largest inflated member of the workbook zip")
    seconds_per_file: float = Field(60, gt=0)


class Watch(_Section):
    settle_seconds: float = Field(1.0, ge=0)
    poll: bool = False


class Run(_Section):
    workers: int = Field(0, ge=0, description="0 = one per core")
    pdf: bool = False


class Config(_Section):
    lang: Literal["zh", "en"] = "zh"
    issuer: Issuer = Issuer()
    certificates: Certificates = Certificates()
    limits: Limits = Limits()
    watch: Watch = Watch()
    run: Run = Run()


def _env_overrides(environ: dict[str, str]) -> dict:
    out: dict = {}
    for name, field in Config.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub in annotation.model_fields:
                value = environ.get(f"CERTPIPE_{name}_{sub}".upper())
                if value is not None:
                    out.setdefault(name, {})[sub] = value
        elif (value := environ.get(f"CERTPIPE_{name}".upper())) is not None:
            out[name] = value
    return out


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def load_config(path: Path, environ: dict[str, str] | None = None) -> Config:
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(key="err.config_syntax", params={"path": path, "detail": exc}) from exc
    data = _merge(data, _env_overrides(dict(os.environ if environ is None else environ)))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(key="err.config_unknown", params={"path": path, "key": key}) from exc
        raise ConfigError(key="err.config_value", params={"path": path, "key": key, "detail": first["msg"],
                                                          "count": len(exc.errors())}) from exc
