"""How every Kafka client of the project connects: its security options, from the settings.

One place builds them (docs/deploy.md, "Connecting to a managed Kafka"):
- `client_options` are aiokafka's keyword arguments (`security_protocol`, `ssl_context`,
  `sasl_mechanism`, `sasl_plain_username`, `sasl_plain_password`) for the producers of ingest and
  backfill, the admin client that declares topics, the connection check and the benches;
- `faust_credentials` are the same as faust's `broker_credentials` (`SASLCredentials`,
  `SSLCredentials`) for the worker's consumer and producer, and so for the DLQ replay, which
  produces through the worker's producer.

The password is read from its `SecretStr` here and handed to the client only: it is never
logged, and `describe` (what the logs, `/ready/` and the errors say) names the user, never it.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka.helpers import create_ssl_context

from streams.settings import Settings, SettingsError


def uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the `SSL` / `SASL_SSL` protocols (None otherwise): the brokers' CAs
    (KAFKA_SSL_CAFILE, else the system's), the client certificate for mutual TLS, and whether
    a certificate must name its host. A file that cannot be loaded is a SettingsError naming it."""
    if not uses_tls(settings):
        return None
    name = "KAFKA_SSL_CAFILE"
    try:
        context = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
        if not settings.kafka_ssl_cafile:
            context.load_default_certs()
        if settings.kafka_ssl_certfile:
            name = "KAFKA_SSL_CERTFILE"
            context.load_cert_chain(
                settings.kafka_ssl_certfile,
                settings.kafka_ssl_keyfile,
                settings.kafka_ssl_key_password.get_secret_value() or None,
            )
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise SettingsError(name, f"cannot be loaded: {reason}") from None
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def client_options(settings: Settings, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """aiokafka's security keyword arguments (for AIOKafkaProducer, AIOKafkaConsumer,
    AIOKafkaAdminClient, aiokafka.conn.create_conn)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if uses_tls(settings):
        options["ssl_context"] = context or ssl_context(settings)
    if uses_sasl(settings):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def options_of(env: Mapping[str, str]) -> dict[str, Any]:
    """`client_options` of an environment's KAFKA_* variables alone (the other settings of a
    partial environment, a bench's or a test's, are not read)."""
    return client_options(Settings.from_mapping({k: v for k, v in env.items() if k.startswith("KAFKA_")}))


def faust_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """faust's `broker_credentials` for the settings (None: PLAINTEXT, faust's default)."""
    context = ssl_context(settings)
    if uses_sasl(settings):
        # faust picks SASL_SSL when it is given a context, SASL_PLAINTEXT when not
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def describe(settings: Settings) -> str:
    """The connection's security in words, for logs, `/ready/` and errors: never the password."""
    parts: list[str] = [settings.kafka_security_protocol]
    if uses_sasl(settings):
        parts.append(f"{settings.kafka_sasl_mechanism} as {settings.kafka_sasl_username!r}")
    if uses_tls(settings):
        parts.append(f"CA {settings.kafka_ssl_cafile or 'system trust store'}")
        if settings.kafka_ssl_certfile:
            parts.append(f"client certificate {settings.kafka_ssl_certfile}")
    return ", ".join(parts)
