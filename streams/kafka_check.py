"""Can this process reach and authenticate to the brokers? One connection, and what its failure means.

`check` opens one connection to each bootstrap server in turn (TLS handshake, SASL
authentication, an API-versions request: aiokafka's `create_conn`) until one answers. A failure
is explained in one line that names the setting to look at:

- fatal (the configuration is wrong; trying again cannot help): a wrong user or password, a
  mechanism the broker does not enable, a CA that does not match the broker's certificate, a
  client certificate the broker refuses, a PLAINTEXT client on a TLS listener or a TLS client
  on a PLAINTEXT one;
- transient (the broker may come): refused, reset, timed out, unresolvable.

`preflight` is what a process runs before it starts its clients: on a fatal failure it ends
the process with its one line and exit status 3, with no traceback; on a transient one it
retries with the project's backoff (streams.retry) for up to `wait` seconds, one line an
attempt, and then either ends the same way (the worker, the backfill) or goes on, leaving
the clients' own retries to connect later (ingest, which buffers while the broker is away).
The aiokafka clients themselves would report all of these as "Unable to bootstrap".
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
import time
from dataclasses import asdict, dataclass
from typing import NoReturn

from aiokafka import errors
from aiokafka.conn import create_conn

from streams.admin import bootstrap_servers
from streams.kafka_client import client_options, describe, uses_sasl, uses_tls
from streams.retry import Backoff
from streams.settings import Settings, SettingsError, exit_refused

log = logging.getLogger(__name__)

EXIT_STATUS = 3  # a Kafka connection that cannot work as configured (2 is a bad setting)
TLS_RECORD = range(0x14030000, 0x18040000)  # a TLS record header read as a Kafka frame's length


@dataclass(frozen=True)
class Outcome:
    """What one check found. `state`: "ok", "failed" (fatal) or "unreachable" (transient)."""

    state: str
    security: str
    broker: str
    detail: str
    checked_at: float

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def fatal(self) -> bool:
        return self.state == "failed"

    def line(self) -> str:
        return f"kafka {self.broker} ({self.security}): {self.detail}"

    def as_dict(self) -> dict:
        return asdict(self)


def _root(exc: BaseException) -> BaseException:
    """The first cause that says more than "connection closed"."""
    seen = exc
    while seen.__cause__ is not None and isinstance(seen, errors.KafkaConnectionError):
        seen = seen.__cause__
    return seen


def explain(exc: BaseException, settings: Settings) -> tuple[bool, str]:
    """(fatal, one line) for a failed connection's exception."""
    root = _root(exc)
    protocol = settings.kafka_security_protocol
    if isinstance(root, errors.SaslAuthenticationFailed | errors.AuthenticationFailedError):
        return True, (
            f"authentication failed for user {settings.kafka_sasl_username!r} with {settings.kafka_sasl_mechanism}: "
            "check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        )
    if isinstance(root, errors.UnsupportedSaslMechanismError | errors.AuthenticationMethodNotSupported):
        return True, (
            f"the broker does not enable KAFKA_SASL_MECHANISM={settings.kafka_sasl_mechanism} on this listener "
            "(PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512: ask the cluster which)"
        )
    if isinstance(root, ssl.SSLCertVerificationError):
        reason = root.verify_message or root.reason or str(root)
        return True, (
            f"the broker's certificate is not trusted ({reason}): KAFKA_SSL_CAFILE="
            f"{settings.kafka_ssl_cafile or '(the system trust store)'} does not sign it, or it does not name the host"
        )
    if isinstance(root, ssl.SSLError):
        reason = root.reason or str(root)
        if "CERTIFICATE" in reason.upper():
            return True, (
                f"the broker refused this client's certificate ({reason}): the listener needs mutual TLS with a "
                "certificate it trusts (KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE)"
            )
        if "WRONG_VERSION_NUMBER" in reason.upper() or "RECORD_LAYER" in reason.upper():
            return True, f"the listener does not speak TLS ({reason}): KAFKA_SECURITY_PROTOCOL={protocol} expects it"
        return True, f"TLS failed: {reason}"
    if isinstance(root, asyncio.IncompleteReadError) and root.expected in TLS_RECORD:
        return True, (
            f"the listener speaks TLS and KAFKA_SECURITY_PROTOCOL={protocol} does not: use SSL or SASL_SSL "
            "(and KAFKA_SSL_CAFILE)"
        )
    if isinstance(root, ConnectionResetError | asyncio.IncompleteReadError | errors.KafkaConnectionError) and (
        uses_tls(settings) or uses_sasl(settings)
    ):
        # A PLAINTEXT listener resets a TLS ClientHello or a SASL handshake it does not expect.
        return True, (
            f"the listener closed the connection during the {'TLS' if uses_tls(settings) else 'SASL'} handshake: "
            f"does it take KAFKA_SECURITY_PROTOCOL={protocol}? (a PLAINTEXT listener closes it like this)"
        )
    if isinstance(root, errors.IllegalSaslStateError):
        return True, (
            f"the listener does not take SASL (the broker refused the handshake): KAFKA_SECURITY_PROTOCOL={protocol} "
            "does not match it"
        )
    if isinstance(root, asyncio.TimeoutError | TimeoutError):
        return False, "no answer in time"
    if isinstance(root, OSError):
        return False, f"cannot connect ({root.strerror or root})"
    return False, f"{type(root).__name__}: {root}"


async def check(settings: Settings, timeout: float = 10.0) -> Outcome:
    """One connection to the first bootstrap server that answers, or what went wrong."""
    security = describe(settings)
    options = client_options(settings)
    servers = bootstrap_servers(settings.kafka_broker_url).split(",")
    outcome = None
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout * 1000), **options), timeout
            )
        except Exception as exc:  # noqa: BLE001 - explained, not raised
            fatal, detail = explain(exc, settings)
            outcome = Outcome("failed" if fatal else "unreachable", security, server, detail, time.time())
            if fatal:
                return outcome
            continue
        conn.close()
        return Outcome("ok", security, server, "connected and authenticated", time.time())
    assert outcome is not None
    return outcome


def _exit(line: str) -> NoReturn:
    print(f"redditstream: {line}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_STATUS)


async def preflight(settings: Settings, *, wait: float = 60.0, required: bool = True) -> Outcome:
    """Check before starting the clients: a fatal failure ends the process with one line; a
    transient one is retried with backoff for `wait` seconds, then ends it (`required`) or is
    left to the clients' own retries."""
    try:
        backoff = Backoff(settings.ingest_retry_base_seconds, settings.ingest_retry_max_seconds)
        deadline = time.monotonic() + wait
        attempt = 0
        while True:
            outcome = await check(settings)
            if outcome.ok:
                log.info("kafka %s: connected (%s)", outcome.broker, outcome.security)
                return outcome
            if outcome.fatal:
                _exit(outcome.line())
            delay = backoff.delay(attempt)
            attempt += 1
            if time.monotonic() + delay > deadline:
                if required:
                    _exit(f"{outcome.line()}; gave up after {wait:g}s")
                log.warning("%s; going on, the clients retry", outcome.line())
                return outcome
            log.warning("%s; retrying in %.1fs", outcome.line(), delay)
            await asyncio.sleep(delay)
    except SettingsError as exc:  # a CA or client certificate that cannot be loaded
        exit_refused(exc)
