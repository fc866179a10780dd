"""Declare ingest's topics with the app's partition count before the first record is produced
(otherwise the broker auto-creates them with its own default partition count)."""
from __future__ import annotations

import logging
from typing import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int, replication: int) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Raises KafkaError/OSError
    when the broker cannot be reached (the caller retries)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="redditstream-ingest-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(n, partitions, replication) for n in missing])
            except TopicAlreadyExistsError:  # another process won the race
                pass
            log.info("created topics %s (%d partitions, replication %d)", missing, partitions, replication)
        return missing
    finally:
        await admin.close()
