"""redditstream: real-time Reddit analytics on Faust. `faust -A streams worker` runs a worker.

The app (`streams.app`) is built on first use of this package's `app` attribute (PEP 562), not
on import: `streams.records`, `streams.analytics.*` and the rest import without building it or
reading a setting.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from streams.app import app as the_app

        globals()["app"] = the_app  # the App, not the module the import bound to this name
        return the_app
    raise AttributeError(f"module 'streams' has no attribute {name!r}")
