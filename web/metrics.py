"""Prometheus metrics of the worker, served at `/metrics`."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

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


class WorkerCollector:
    """Figures read at scrape time: consumer lag per partition, database pools, velocity table size."""

    def describe(self):  # noqa: ANN201 - prometheus_client protocol; no samples at registration
        return []

    def collect(self):  # noqa: ANN201
        from prometheus_client.core import GaugeMetricFamily

        lag = GaugeMetricFamily("redditstream_consumer_lag", "End offset minus the group's committed offset, "
                                "per assigned partition", labels=["topic", "partition"])
        pools = GaugeMetricFamily("redditstream_db_pool_connections", "Database pool connections "
                                  "(size, available, waiting requests, max)", labels=["pool", "state"])
        velocity = GaugeMetricFamily("redditstream_velocity_table_keys", "Velocity entries in this worker's "
                                     "active partitions (RocksDB estimate)", labels=["partition"])
        consumer = app.consumer
        try:
            committed = consumer.committed_offsets()
            for tp in sorted(consumer.assignment()):
                if tp.topic.endswith("-changelog") or tp.topic.endswith("__assignor-__leader"):
                    continue  # tables' changelogs are read, never committed (recovery is /ready/'s)
                high = consumer.highwater(tp)
                if high is not None:
                    lag.add_metric([tp.topic, str(tp.partition)], max(0, high - committed.get(tp, 0)))
        except Exception:  # noqa: BLE001 - consumer not started yet (or stopping): no samples
            pass
        from agents.sink import pool as sink_pool
        from web.resources import database
        for name, pool in (("sink", sink_pool), ("web", database.pool)):
            s = pool.get_stats()
            for state, value in (("size", s.get("pool_size", 0)), ("available", s.get("pool_available", 0)),
                                 ("waiting", s.get("requests_waiting", 0)), ("max", pool.max_size)):
                pools.add_metric([name, state], value)
        try:
            from agents.enrich import VELOCITY
            from streams.app import settings
            for tp in sorted(consumer.assignment()):
                if tp.topic == settings.topic_posts:
                    velocity.add_metric([str(tp.partition)], VELOCITY.estimated_keys(tp.partition))
        except Exception:  # noqa: BLE001 - tables not open yet
            pass
        yield lag
        yield pools
        yield velocity


REGISTRY.register(WorkerCollector())
