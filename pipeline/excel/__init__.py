"""The workbook: its contract (defined names), building blank ones, reading filled ones, the pure
checks, marking a rejected copy, schedules. Imports core and the base (docs/architecture.md)."""
