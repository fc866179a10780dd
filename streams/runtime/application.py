"""The faust App class of the project, and its aiokafka producer.

`App` is faust's with two changes, both through faust's overridable hooks (private methods,
verified versions: streams.runtime.versions):
- autodiscovery fails loudly: a module that cannot be imported would otherwise be logged and
  skipped, leaving a worker that runs without some of its agents;
- the transport's consumer is `OrderedConsumer` (streams.runtime.consumer): no offsets skipped
  after a rebalance.
It also runs `preflight` (when set: the Kafka connection check, streams.kafka_check) when it
first starts, before its consumer and producer connect (mode's `on_first_start` hook).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from streams.runtime.consumer import OrderedConsumer


class App(faust.App):
    preflight: Callable[[], Awaitable[object]] | None = None

    async def on_first_start(self) -> None:
        if self.preflight is not None:
            await self.preflight()
        await super().on_first_start()

    def _on_autodiscovery_error(self, name: str) -> None:
        raise RuntimeError(f"cannot import {name}") from sys.exc_info()[1]

    def _new_transport(self) -> Any:
        transport = super()._new_transport()
        transport.Consumer = OrderedConsumer  # type: ignore[misc]  # faust's documented way to swap it
        return transport


def kafka_producer(app: faust.App) -> Any:
    """The aiokafka producer under faust's (started with the app): for record batches
    (`create_batch`/`send_batch`, streams.checkpoint.changelog), which faust's producer does not offer."""
    return app.producer._ensure_producer()  # type: ignore[attr-defined]  # the aiokafka driver's
