"""Pure analytics: plain functions, no I/O (DESIGN §2)."""
