"""redditstream: real-time Reddit analytics on Faust. `faust -A streams worker` runs a worker."""
from streams.app import app

# App commands: `faust -A streams ingest`, `faust -A streams simulate`, `faust -A streams backfill` (they import their
# dependencies lazily, so a worker does not load them).
from streams.ingest import command as _ingest_command  # noqa: E402,F401
from streams.simulator import command as _simulate_command  # noqa: E402,F401
from streams.backfill import command as _backfill_command  # noqa: E402,F401

__all__ = ["app"]
