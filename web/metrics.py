"""Prometheus metrics of the worker, served at `/metrics`."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from streams.app import app

EVENTS = Counter("redditstream_events_total", "Messages consumed, by topic and outcome", ["topic", "outcome"])
DEAD_LETTERS = Counter("redditstream_dead_letters_total", "Dead letters published, by source topic and error type",
                       ["source_topic", "error_type"])
PROCESS_SECONDS = Histogram("redditstream_process_seconds", "Time to enrich one event", ["topic"],
                            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0))
MIRROR_PENDING = Gauge("redditstream_redis_mirror_pending", "Velocity entries not yet mirrored to Redis")
MIRROR_FLUSHED = Counter("redditstream_redis_mirror_written_total", "Velocity entries written to Redis")
MIRROR_ROUND_TRIPS = Counter("redditstream_redis_mirror_round_trips_total", "Pipelined Redis round trips of the mirror")


@app.page("/metrics")
async def metrics(web, request):  # noqa: ANN001 - faust view signature
    return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

# storage (agents/sink.py, agents/dlq.py)
SINK_ROWS = Counter("redditstream_sink_rows_total", "Observations committed by the sink, by outcome (written | dead_letter)",
                    ["outcome"])
SINK_FLUSH_SECONDS = Histogram("redditstream_sink_flush_seconds", "Time to commit one sink batch (including retries)",
                               buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0))
SINK_RETRIES = Counter("redditstream_sink_retries_total", "Failed database writes that are being retried", ["agent"])
SINK_BUFFERED = Gauge("redditstream_sink_buffered", "Events buffered by a sink, not yet committed", ["agent"])
DLQ_PERSISTED = Counter("redditstream_dlq_persisted_total", "Dead letters stored in dlq_events")
