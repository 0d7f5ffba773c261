"""The time limit never leaves a ledger transaction open, even with other threads running (watch)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.flow.ledger import Ledger
from pipeline.flow.timelimit import TimeLimit, time_limit


def test_an_alarm_during_a_transaction_fires_after_it(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)  # a thread the signal may reach, like watchdog's
    other.start()
    try:
        with pytest.raises(TimeLimit), time_limit(0.05), ledger.transaction() as db:
            db.execute("INSERT INTO counters(scope, value) VALUES ('x', 1)")
            time.sleep(0.3)  # the limit runs out in here
        assert not ledger.db.in_transaction
        assert ledger.db.execute("SELECT value FROM counters WHERE scope = 'x'").fetchone() == (1,)
        with ledger.transaction() as db:  # and the database takes writes again
            db.execute("UPDATE counters SET value = 2 WHERE scope = 'x'")
    finally:
        stop.set()
