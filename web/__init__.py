"""Faust web views (DESIGN §6)."""
