"""The worker's Prometheus metrics at `/metrics`: those defined next to what they measure (agents,
tables, streams), and the figures read at scrape time (`WorkerCollector`)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from streams.app import app
from streams.runtime.consumer import ordered_consumer


@app.page("/metrics")
async def metrics(web, request):
    return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])


class WorkerCollector:
    """Figures read at scrape time: consumer lag per partition, database pools, velocity table size."""

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        lag = GaugeMetricFamily(
            "redditstream_consumer_lag",
            "End offset minus the group's committed offset, per assigned partition",
            labels=["topic", "partition"],
        )
        pools = GaugeMetricFamily(
            "redditstream_db_pool_connections",
            "Database pool connections (size, available, waiting requests, max)",
            labels=["pool", "state"],
        )
        velocity = GaugeMetricFamily(
            "redditstream_velocity_table_keys",
            "Velocity entries in this worker's active partitions (RocksDB estimate)",
            labels=["partition"],
        )
        consumer = ordered_consumer(app)
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
        from streams.db.pool import pools as db_pools

        for name, pool in sorted(db_pools().items()):
            s = pool.get_stats()
            for state, value in (
                ("size", s.get("pool_size", 0)),
                ("available", s.get("pool_available", 0)),
                ("waiting", s.get("requests_waiting", 0)),
                ("max", pool.max_size),
            ):
                pools.add_metric([name, state], value)
        try:
            from streams.app import settings
            from tables.state import VELOCITY

            for tp in sorted(consumer.assignment()):
                if tp.topic == settings.topic_posts:
                    velocity.add_metric([str(tp.partition)], VELOCITY.estimated_keys(tp.partition))
        except Exception:  # noqa: BLE001 - tables not open yet
            pass
        yield lag
        yield pools
        yield velocity


REGISTRY.register(WorkerCollector())
