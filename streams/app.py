"""The Faust app: one object that agents, tables and views register on (DESIGN §1)."""
from __future__ import annotations

import faust

from streams import logs
from streams.settings import load_or_exit

settings = load_or_exit()

app = faust.App(
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
    broker_session_timeout=settings.broker_session_timeout,
    # changelog topics are compacted; a lost table is rebuilt from them on start
    table_cleanup_interval=60.0,
    producer_acks=-1,
    producer_compression_type="snappy",
    producer_linger_ms=50,
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=settings.web_host,
    web_in_thread=False,
    logging_config=logs.dict_config(settings.log_level, settings.log_format),
)
