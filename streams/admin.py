"""Kafka administration shared by the commands: the bootstrap list, and declaring topics.

Ingest calls :func:`ensure_topics` before its first record: a producer that writes to a topic
that does not exist yet would get the broker's default partition count, not
`TOPIC_PARTITIONS`. (Workers let faust declare their topics; a worker whose consumer does not
see a new topic yet is covered by agents.watchdog.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


def bootstrap_servers(kafka_broker_url: str) -> str:
    """aiokafka's bootstrap list from a faust `kafka://h1:9092;h2:9092` URL."""
    return kafka_broker_url.removeprefix("kafka://").replace(";", ",")


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int,
    replication: int,
    ready_timeout: float = 30.0,
    *,
    security: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet and wait until every partition has a leader.
    `security` is the clients' options (streams.kafka_client.client_options).
    Returns the names created. Raises KafkaError/OSError when the broker cannot be reached."""
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="redditstream-admin", **(security or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(n, partitions, replication) for n in missing])
            except TopicAlreadyExistsError:  # another process won the race
                pass
            log.info("created topics %s (%d partitions, replication %d)", missing, partitions, replication)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        while True:
            described = await admin.describe_topics(wanted)
            pending = [
                t["topic"]
                for t in described
                if t.get("error_code")
                or not t.get("partitions")
                or any(p.get("leader", -1) < 0 for p in t["partitions"])
            ]
            if not pending:
                return missing
            if loop.time() > deadline:
                log.warning("topics %s have partitions without a leader after %.0fs", pending, ready_timeout)
                return missing
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
