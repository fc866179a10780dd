"""`GET /debug/partitions/`: the consumer's view of its partitions, for operators chasing a stall."""
from __future__ import annotations

from streams.app import app


def _tps(tps) -> list[str]:  # noqa: ANN001
    return sorted(f"{tp.topic}[{tp.partition}]" for tp in tps)


@app.page("/debug/partitions/")
async def partitions(web, request):  # noqa: ANN001
    consumer = app.consumer
    assigned = consumer.assignment()
    aio_state: dict = {}
    try:
        aio = consumer._thread._consumer  # the aiokafka consumer behind faust's consumer thread
        assignment = aio._subscription.subscription.assignment
        for tp in assignment.tps:
            st = assignment.state_value(tp)
            aio_state[f"{tp.topic}[{tp.partition}]"] = {
                "paused": st.paused, "position": st._position, "status": str(st._status),
                "reset": st._reset_strategy}
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        aio_state = {"unavailable": repr(exc)}
    return web.json({
        "assigned": _tps(assigned),
        "active": _tps(consumer._active_partitions or ()),
        "paused": _tps(consumer._paused_partitions or ()),
        "aiokafka": aio_state,
        "flow_active": app.flow_control.is_active(),
        "unacked_messages": len(consumer._unacked_messages),
        "acked_not_committed": {f"{tp.topic}[{tp.partition}]": len(offs) for tp, offs in consumer._acked.items() if offs},
        "committed": {f"{tp.topic}[{tp.partition}]": off for tp, off in consumer._committed_offset.items()},
    })


@app.page("/debug/tasks/")
async def debug_tasks(web, request):  # noqa: ANN001
    """Where every asyncio task of the worker's main loop is waiting (innermost frame last)."""
    import asyncio

    out = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=30)
        out.append({"task": task.get_name(),
                    "stack": [f"{f.f_code.co_filename.rsplit('/', 2)[-1]}:{f.f_lineno} {f.f_code.co_name}"
                              for f in frames]})
    return web.json({"tasks": out})
