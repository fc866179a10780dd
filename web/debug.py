"""`GET /debug/partitions/`: the consumer's view of its partitions, for operators chasing a stall."""
from __future__ import annotations

from streams.app import app


def _tps(tps) -> list[str]:  # noqa: ANN001
    return sorted(f"{tp.topic}[{tp.partition}]" for tp in tps)


@app.page("/debug/partitions/")
async def partitions(web, request):  # noqa: ANN001
    consumer = app.consumer
    assigned = consumer.assignment()
    inner = getattr(getattr(consumer, "_thread", None), "_ensure_consumer", None)
    aio_paused: list[str] = []
    if inner is not None:
        try:
            aio_paused = _tps(inner()._subscription.subscription.assignment.paused_partitions())  # type: ignore
        except Exception:  # noqa: BLE001 - diagnostics only
            aio_paused = ["unavailable"]
    return web.json({
        "assigned": _tps(assigned),
        "active": _tps(consumer._active_partitions or ()),
        "paused": _tps(consumer._paused_partitions or ()),
        "aiokafka_paused": aio_paused,
        "flow_active": app.flow_control.is_active(),
        "unacked": {f"{tp.topic}[{tp.partition}]": len(offs) for tp, offs in consumer._unacked_messages.items()}
        if hasattr(consumer, "_unacked_messages") else None,
        "committed": {f"{tp.topic}[{tp.partition}]": off for tp, off in consumer._committed_offset.items()},
    })
