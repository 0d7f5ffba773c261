"""Files moving through the workspace: checking a file, processing it (validate, score, render,
publish, record, archive), the ledger, the register, the inbox, ``run`` and ``watch``. Imports core,
excel, word and the base (docs/architecture.md, "Data flow")."""
