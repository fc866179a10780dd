"""How the baselines connect to Kafka: the same KAFKA_* settings as the pipeline (TLS, SASL), so
that a comparison on a secured cluster is a comparison (streams.kafka_client)."""

from __future__ import annotations

from typing import Any


def kafka_security() -> dict[str, Any]:
    from streams.kafka_client import options_of
    from streams.settings import environment

    return options_of(environment())
