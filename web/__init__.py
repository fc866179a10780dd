"""Faust web views (docs/design.md §6)."""
