"""The Faust app: one object that agents, tables and views register on (docs/design.md §1).

Importing this module builds the app and reads the settings (a bad one ends the process with
one line); nothing else in the project does so on import. `faust -A streams` reaches it
through the package's lazy `app` attribute (streams/__init__.py).
"""

from __future__ import annotations

import functools
import gc

from streams import kafka_check, logs
from streams.kafka_client import faust_credentials
from streams.runtime.application import App
from streams.runtime.versions import require_verified
from streams.settings import SettingsError, advertised_host, data_dir, exit_refused, load_or_exit

require_verified()
settings = load_or_exit()
try:
    credentials = faust_credentials(settings)  # TLS / SASL (docs/deploy.md); None: PLAINTEXT
except SettingsError as exc:  # a CA or client certificate that cannot be loaded
    exit_refused(exc)

# The cyclic GC collects its youngest generation every 700 allocations by default: hundreds of
# times a second in a worker, which allocates several objects per event. Every 20,000 (and the
# older generations every 20 of those) took ~10 % off the worker's CPU per event
# (bench/processing_bench.py, side by side). Objects without reference cycles are freed at once
# either way; only cyclic garbage waits a little longer.
gc.set_threshold(20_000, 20, 20)

COMMANDS = (
    "streams.ingest.command",
    "streams.backfill.command",
    "streams.simulator.command",
    "streams.migrate.command",
)


def cors_options(origins: tuple[str, ...]) -> dict:
    """faust's `web_cors_options` for CORS_ORIGINS (empty: none, so CORS is off)."""
    from aiohttp_cors import ResourceOptions

    return {
        origin: ResourceOptions(
            allow_credentials=False, expose_headers="*", allow_headers="*", allow_methods=["GET", "POST"]
        )
        for origin in origins
    }


app = App(
    settings.app_id,
    broker=settings.kafka_broker_url,
    broker_credentials=credentials,
    # faust's RocksDB store that restores a partition ahead of its changelog (streams.runtime.store)
    store="redditstream://",
    datadir=data_dir(settings.data_dir),
    # the wiring: the agents, tables, views and the app's commands (`faust -A streams ingest`,
    # `simulate`, `backfill`, `migrate`; they import what they need lazily, so a worker does not load it)
    autodiscover=["agents", "tables", "web", *COMMANDS],
    origin="streams",
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.topic_replication,
    topic_allow_declare=True,
    table_standby_replicas=settings.table_standby_replicas,
    # changelog topics are compacted; a lost table is rebuilt from them on start
    table_cleanup_interval=60.0,
    broker_session_timeout=settings.kafka_session_timeout,
    consumer_max_fetch_size=settings.kafka_max_partition_fetch_bytes,
    broker_heartbeat_interval=max(settings.kafka_session_timeout / 10, 0.5),
    producer_acks=-1,
    producer_compression_type="snappy",
    producer_linger=0.05,
    producer_max_batch_size=256 * 1024,
    web_port=settings.web_port,
    web_bind=settings.web_host,
    web_host=advertised_host(settings.web_host),  # the canonical URL the table-routed views forward to
    web_in_thread=False,
    web="redditstream://",  # the web server driver (web/server.py): faust's aiohttp one, `/` left to the dashboard
    # faust's /table/ and /router/ views would answer anyone with table contents; nothing here
    # needs them (web.routing forwards to a key's owner through app.router, not those views)
    web_tables_enabled=False,
    web_router_enabled=False,
    web_cors_options=cors_options(settings.cors_origins),
    logging_config=logs.dict_config(settings.log_level, settings.log_format),
)
# A worker checks its Kafka connection before its clients start: a configuration that cannot
# work (a wrong password, CA, mechanism or protocol) ends it with one line; an absent broker
# does not (faust's clients retry, /ready/ says so).
app.preflight = functools.partial(kafka_check.preflight, settings, wait=0, required=False)
