"""Table-routed views that answer 503 while the partition owner is not known yet."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from streams.app import app

log = logging.getLogger(__name__)


def routed(table: Any, match_info: str) -> Callable:
    """Like `app.table_route`, but a lookup that fails during start-up or a rebalance (no
    metadata for the changelog topic yet, or an owner that just died) is a 503 with a reason,
    not a 500."""

    def decorate(fn: Callable) -> Callable:
        route = app.table_route(table=table, match_info=match_info)(fn)

        @functools.wraps(fn)
        async def view(self, request, **kwargs):
            try:
                return await route(self, request, **kwargs)
            except (TypeError, KeyError) as exc:
                log.info("cannot route %s yet: %r", request.path, exc)
                return self.json(
                    {"error": "the owner of this key is not known yet (starting or rebalancing)"}, status=503
                )
            except (aiohttp.ClientError, OSError) as exc:
                log.info("owner of %s unreachable: %r", request.path, exc)
                return self.json({"error": "the worker that owns this key does not answer (rebalancing?)"}, status=503)

        return view

    return decorate
