"""The web console (``certpipe serve``): a Starlette application over the same workspace the drivers
use. It reads the ledger (read-only) and the outbox, drops uploads into the inbox, and keeps its
users, sessions and audit trail in ``.certpipe/users.sqlite``. It imports the base, core types and
``pipeline.api`` only, like the CLI (``tests/test_architecture.py``)."""

from pipeline.web.app import create_app

__all__ = ["create_app"]
