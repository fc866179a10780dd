"""`/debug/` views for operators chasing a stall (admin token only, web.auth).

`GET /debug/partitions/`: the consumer's view of its partitions; `GET /debug/tasks/`: where
every asyncio task waits; `POST /debug/rebalance/`: a rebalance on demand."""

from __future__ import annotations

import gc

from faust.web import Request, Response, View

from streams.app import app, settings
from streams.runtime.consumer import ordered_consumer
from web.auth import require_admin


@app.page("/debug/partitions/")
async def partitions(web, request):
    require_admin(request, settings.admin_token)
    return web.json({**ordered_consumer(app).debug_state(), "flow_active": app.flow_control.is_active()})


def _await_chain(coro) -> list[str]:
    """The frames a suspended coroutine is waiting in, outermost first (follows `cr_await`)."""
    out: list[str] = []
    while coro is not None and len(out) < 40:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            path = "/".join(frame.f_code.co_filename.rsplit("/", 2)[-2:])
            out.append(f"{path}:{frame.f_lineno} {frame.f_code.co_name}")
        nxt = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) or getattr(coro, "ag_await", None)
        if type(nxt).__name__ == "coroutine_wrapper":  # coro.__await__(): the coroutine it wraps
            inner = [r for r in gc.get_referents(nxt) if hasattr(r, "cr_frame")]
            nxt = inner[0] if inner else nxt
        if nxt is None and frame is None:
            break
        if (
            nxt is not None
            and not hasattr(nxt, "cr_frame")
            and not hasattr(nxt, "gi_frame")
            and not hasattr(nxt, "ag_frame")
        ):
            out.append(f"awaiting {type(nxt).__name__}: {str(nxt)[:160]}")
            break
        coro = nxt
    return out


@app.page("/debug/tasks/")
async def debug_tasks(web, request):
    """Where every asyncio task of the worker's main loop is waiting (outermost frame first)."""
    import asyncio

    require_admin(request, settings.admin_token)
    out = [{"task": task.get_name(), "stack": _await_chain(task.get_coro())} for task in asyncio.all_tasks()]
    return web.json({"tasks": out})


@app.page("/debug/rebalance/")
class Rebalance(View):
    """`POST /debug/rebalance/` makes this worker rejoin its group: a rebalance on demand, for
    operators (e.g. after moving partitions by hand) and for the rebalance tests. Needs
    `Authorization: Bearer $ADMIN_TOKEN` (401 without it, 403 when no token is set)."""

    async def post(self, request: Request) -> Response:
        require_admin(request, settings.admin_token)
        await ordered_consumer(app).request_rejoin()
        return self.json({"rejoining": True}, status=202)
