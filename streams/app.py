"""The Faust app: one object that agents, tables and views register on (DESIGN §1)."""
from __future__ import annotations

import asyncio
import sys

import faust

from streams import logs
from streams.settings import load_or_exit

settings = load_or_exit()


class App(faust.App):
    """faust.App whose autodiscovery fails loudly: a module that cannot be imported would
    otherwise be logged and skipped, leaving a worker that runs without some of its agents."""

    def _on_autodiscovery_error(self, name: str) -> None:
        raise RuntimeError(f"cannot import {name}") from sys.exc_info()[1]

    async def on_first_start(self) -> None:
        """Before the consumer subscribes: the source topics exist, with their partitions led."""
        await super().on_first_start()
        if self.producer_only or self.client_only:
            return
        from aiokafka.errors import KafkaError

        from streams.admin import bootstrap_servers, ensure_topics

        delay = 0.5
        while not self.should_stop:
            try:
                await ensure_topics(
                    bootstrap_servers(settings.kafka_broker_url),
                    [settings.topic_posts, settings.topic_refresh, settings.topic_dlq, settings.topic_observations],
                    settings.topic_partitions, settings.topic_replication)
                return
            except (KafkaError, OSError) as exc:
                self.log.warning("cannot declare topics (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


app = App(
    settings.app_id,
    broker=settings.kafka_broker_url,
    store="rocksdb://",
    datadir=settings.data_dir,
    autodiscover=["agents", "tables", "web"],
    origin="streams",
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.topic_replication,
    topic_allow_declare=True,
    table_standby_replicas=settings.table_standby_replicas,
    # changelog topics are compacted; a lost table is rebuilt from them on start
    table_cleanup_interval=60.0,
    broker_session_timeout=settings.kafka_session_timeout,
    broker_heartbeat_interval=max(settings.kafka_session_timeout / 10, 0.5),
    producer_acks=-1,
    producer_compression_type="snappy",
    producer_linger_ms=50,
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=settings.web_host,
    web_in_thread=False,
    logging_config=logs.dict_config(settings.log_level, settings.log_format),
)
