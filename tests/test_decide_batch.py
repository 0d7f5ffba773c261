"""Two workbooks of one audit with different content in one batch (the final one and an older draft
side by side in the inbox): neither is published as a silent revision of the other, whatever the
order or the number of workers; the refusal names the other file, and the one a person puts back
alone is processed."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from pipeline.excel.fill import fill_audit
from pipeline.flow.ledger import Ledger
from tests.helpers.workspace import certpipe, make_ws, run, sample_audit

GBT = "gbt27922-2011"


def _two_versions(ws, tmp_path):
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), "--org", "甲公司")
    assert done.returncode == 0, done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    final, draft = ws.inbox / f"{blank.stem}.xlsx", ws.inbox / f"{blank.stem} 赵敏终稿.xlsx"
    for dest, target in ((final, "97"), (draft, "82")):
        audit = sample_audit(audit_id=blank.stem, org="甲公司", target=target)
        fill_audit(blank, dest, replace(audit, info=replace(audit.info, lead_auditor="王立")))
    kept = tmp_path / "kept"
    kept.mkdir()
    for f in (final, draft):
        shutil.copy2(f, kept / f.name)
    return blank.stem, final.name, draft.name, kept


@pytest.mark.parametrize("workers", [1, 2])
def test_two_contents_of_one_audit_in_one_run_are_not_made_revisions_of_each_other(tmp_path, workers):
    ws = make_ws(tmp_path / "ws")
    audit_id, final, draft, kept = _two_versions(ws, tmp_path)
    result = run(ws, workers=workers)
    by_name = {o.name: o for o in result.outcomes}
    assert set(by_name) == {final, draft}
    assert all(o.revision in (None, 0, 1) for o in by_name.values())  # never an r2 of the other
    refused = [o for o in by_name.values() if o.status == "rejected"]
    assert refused, [(o.name, o.status) for o in by_name.values()]
    for o in refused:
        other = draft if o.name == final else final
        (problem,) = o.problems
        assert problem.key.startswith("pipe.same_audit") and problem.sheet and problem.cell
        assert other in problem.text("zh") and audit_id in problem.text("en")
    if workers == 1:  # one group: both refused, the order they were read in decides nothing
        assert len(refused) == 2
    with Ledger(ws.ledger, readonly=True) as ledger:
        done = ledger.db.execute("SELECT COUNT(*) FROM inputs WHERE audit_id = ? AND status = 'done'",
                                 (audit_id,)).fetchone()[0]
    assert done == 2 - len(refused) <= 1
    assert not (ws.outbox / audit_id / "history").exists()

    # a person chooses: the final one put back alone is processed (a refusal of this kind is retried)
    shutil.copy2(kept / final, ws.inbox / final)
    again = run(ws, workers=workers)
    (outcome,) = again.outcomes
    assert outcome.status in ("done", "duplicate"), (outcome.status, outcome.problems)
    with Ledger(ws.ledger, readonly=True) as ledger:
        (total,) = ledger.db.execute("SELECT total FROM inputs WHERE audit_id = ? AND status = 'done' "
                                     "ORDER BY revision DESC LIMIT 1", (audit_id,)).fetchone()
    assert total == "97"


def test_the_run_command_says_each_refusal_and_counts_no_phantom_decision(tmp_path):
    ws = make_ws(tmp_path / "ws")
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    _, final, draft, _ = _two_versions(ws, tmp_path)
    done = certpipe(ws, "run", "--workers", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "等待认证决定" not in done.stdout and final in done.stdout and draft in done.stdout
    decisions = certpipe(ws, "decisions", "--json")
    assert decisions.stdout.strip() == "[]"
