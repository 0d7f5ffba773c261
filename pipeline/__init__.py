"""certpipe: service-certification audits scored in Excel, reported in Word.

The public Python API is ``pipeline.api``, every name of it importable from here
(``from pipeline import score_file``); see docs/python-api.md. Names load when first used, so
``import pipeline.core.scoring`` does not pull in Excel, Word or the inbox machinery."""

from __future__ import annotations

import importlib

__version__ = "0.1.0"


def __getattr__(name: str):
    api = importlib.import_module("pipeline.api")
    if name == "__all__":  # ``from pipeline import *``
        return list(api.__all__)
    if name in api.__all__:
        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *importlib.import_module("pipeline.api").__all__])
