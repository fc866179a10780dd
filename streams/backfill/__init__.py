"""Backfill: history from the public Reddit dumps through the same pipeline (`faust -A streams backfill`)."""
