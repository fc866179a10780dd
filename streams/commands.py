"""What the Faust commands share: logging as the settings say, and a stop on SIGTERM/SIGINT.

A Faust app command runs inside a `mode` worker whose signal handlers cancel the command's
task; the commands here replace them with an event, so that they can stop in order (ingest
delivers every pending record before it returns).
"""

from __future__ import annotations

import asyncio
import logging.config
import signal

from streams import logs
from streams.settings import Settings


def setup_logging(settings: Settings) -> None:
    logging.config.dictConfig(logs.dict_config(settings.log_level, settings.log_format))


def stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
