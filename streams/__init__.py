"""redditstream: real-time Reddit analytics on Faust. `faust -A streams worker` runs a worker."""
from streams.app import app

__all__ = ["app"]
