"""The domain, pure: the standard model and its checks, definitions parsed from text, audits,
scoring, certificate numbers and dates, audit ids, credit codes. No file system, no Excel, no Word;
imports the base only (docs/architecture.md, "Districts")."""
