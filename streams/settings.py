"""Every setting, read from the environment (and optional `.env` files), validated once.

Precedence: the process environment, then `.env.local` (written by `make up`), then `.env`.
The settings are pydantic-settings models: each field has its type, bounds, default and
documentation, and its environment variable is its name in capitals (a group's fields are
prefixed with the group's name: `trending.threshold` is `TRENDING_THRESHOLD`). A bad value raises
:class:`SettingsError`, whose one-line message names the variable and the problem;
`streams.app` turns it into a one-line exit at start-up.

The table in docs/configuration.md is generated from the models
(`python -m streams.settings --markdown`), so it cannot drift from the code.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Self
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, BeforeValidator, Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from streams.analytics.trending import TrendingConfig
from streams.simulator.config import WorldConfig


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""

    def __init__(self, name: str, problem: str) -> None:
        problem = " ".join(problem.split())  # one line, whatever the value held
        super().__init__(f"invalid setting {name}: {problem}")
        self.name = name
        self.problem = problem


# ---------------------------------------------------------------- the domain formats (pure)


def _url(*schemes: str, optional: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        v = raw.strip()
        if optional and not v:
            return ""
        parts = urlsplit(v)
        if parts.scheme not in schemes:
            raise ValueError(f"{v!r} is not a URL with scheme {' or '.join(schemes)}")
        if not parts.hostname and not parts.path.lstrip("/"):
            raise ValueError(f"{v!r} has no host")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError(f"{v!r} has a malformed port") from None
        return v.rstrip("/")

    return parse


_HOSTPORT = re.compile(r"^[A-Za-z0-9_.\-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$")


def _brokers(raw: str) -> str:
    """`kafka://h1:9092;h2:9092`, `h1:9092,h2:9092` → faust's `kafka://h1:9092;h2:9092`."""
    v = raw.strip()
    if v.startswith("kafka://"):
        v = v[len("kafka://") :]
    hosts = [h.strip() for h in re.split(r"[;,]", v) if h.strip()]
    if not hosts:
        raise ValueError("no broker given")
    for h in hosts:
        if not _HOSTPORT.match(h) or not 0 < int(h.rsplit(":", 1)[1]) < 65536:
            raise ValueError(f"{h!r} is not host:port")
    return "kafka://" + ";".join(hosts)


_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


def _subreddits(raw: str) -> tuple[str, ...]:
    names = [s.strip() for s in raw.split(",") if s.strip()]
    bad = [s for s in names if not _SUBREDDIT.match(s)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} not a valid subreddit name")
    if not names:
        raise ValueError("no subreddit given")
    seen: dict[str, str] = {}
    for s in names:
        seen.setdefault(s.lower(), s)
    return tuple(seen.values())


def _subreddits_or_none(raw: str) -> tuple[str, ...]:
    return _subreddits(raw) if raw.strip() else ()


_TOPIC = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")


def _topic(raw: str) -> str:
    v = raw.strip()
    if not _TOPIC.match(v) or v in (".", ".."):
        raise ValueError(f"{v!r} is not a legal Kafka topic name")
    return v


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for o in origins:
        if o != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?", o):
            raise ValueError(f"{o!r} is not an origin (scheme://host[:port]) or *")
    return origins


def _tiers(raw: str) -> tuple[tuple[float, float], ...]:
    """`1:120,6:600,24:1800`: posts younger than 1 h every 120 s, < 6 h every 600 s, …"""
    tiers = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            age, every = (float(x) for x in part.split(":"))
        except ValueError:
            raise ValueError(f"{part!r} is not max_age_hours:interval_seconds") from None
        if age <= 0 or every <= 0:
            raise ValueError(f"{part!r}: both numbers must be positive")
        tiers.append((age, every))
    if not tiers:
        raise ValueError("no tier given")
    if [t[0] for t in tiers] != sorted({t[0] for t in tiers}):
        raise ValueError("tiers must be in increasing age order, each age once")
    return tuple(tiers)


# ---------------------------------------------------------------- the settings


def _readable_file(raw: str) -> str:
    v = raw.strip()
    if v and not os.access(v, os.R_OK):
        raise ValueError(f"{v!r} is not a readable file" if os.path.exists(v) else f"{v!r} does not exist")
    return v


def _from_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """A domain format's parser applied to a value read from the environment (a typed value,
    as a default or a keyword argument, is validated by its type alone)."""
    return BeforeValidator(lambda v: parse(v) if isinstance(v, str) else v)


def _lower(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


def _upper(v: Any) -> Any:
    return v.strip().upper() if isinstance(v, str) else v


Brokers = Annotated[str, _from_text(_brokers)]
Topic = Annotated[str, _from_text(_topic)]
Subreddits = Annotated[tuple[str, ...], _from_text(_subreddits)]
PostgresUrl = Annotated[SecretStr, _from_text(_url("postgresql", "postgres"))]
RedisUrl = Annotated[SecretStr, _from_text(_url("redis", "rediss", "unix"))]
KafkaProtocol = Annotated[Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], BeforeValidator(_upper)]
SaslMechanism = Annotated[Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], BeforeValidator(_upper)]
ReadableFile = Annotated[str, _from_text(_readable_file)]
Compression = Annotated[Literal["none", "gzip", "snappy", "lz4", "zstd"], BeforeValidator(_lower)]
Acks = Annotated[Literal["all", "1", "0"], BeforeValidator(_lower)]
LogLevel = Annotated[Literal["debug", "info", "warning", "error"], BeforeValidator(_lower)]
LogFormat = Annotated[Literal["text", "json"], BeforeValidator(_lower)]


class Settings(BaseSettings):
    """Every setting: `settings.<name>` is the value of the variable `<NAME>`, typed."""

    model_config = SettingsConfigDict(
        frozen=True,
        allow_inf_nan=False,  # NaN and ±inf are no bound, no interval
        str_strip_whitespace=True,
        enable_decoding=False,  # lists are comma-separated (the domain formats above), not JSON
        env_nested_delimiter="_",  # a group's fields: TRENDING_THRESHOLD is trending.threshold
        env_nested_max_split=1,
    )

    # services
    kafka_broker_url: Brokers = Field(
        "kafka://127.0.0.1:9092",
        description="Kafka bootstrap servers (`kafka://h1:9092;h2:9092` or `h1:9092,h2:9092`).",
    )
    kafka_security_protocol: KafkaProtocol = Field(
        "PLAINTEXT",
        description="How every Kafka client connects: `PLAINTEXT`, `SSL` (TLS; mutual with a client certificate), "
        '`SASL_PLAINTEXT` or `SASL_SSL` (docs/deploy.md, "Connecting to a managed Kafka").',
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        "PLAIN", description="SASL mechanism of the `SASL_*` protocols: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`."
    )
    kafka_sasl_username: str = Field("", description="SASL user name (the `SASL_*` protocols need it).")
    kafka_sasl_password: SecretStr = Field(
        SecretStr(""), description="SASL password (a secret: never logged, nor shown by `/debug/`)."
    )
    kafka_ssl_cafile: ReadableFile = Field(
        "", description="PEM file of the CAs that sign the brokers' certificates; empty = the system's trust store."
    )
    kafka_ssl_certfile: ReadableFile = Field(
        "", description="PEM client certificate (chain) for mutual TLS; needs `KAFKA_SSL_KEYFILE`."
    )
    kafka_ssl_keyfile: ReadableFile = Field("", description="PEM private key of `KAFKA_SSL_CERTFILE`.")
    kafka_ssl_key_password: SecretStr = Field(
        SecretStr(""), description="Password of `KAFKA_SSL_KEYFILE` when the key is encrypted."
    )
    kafka_ssl_check_hostname: bool = Field(
        True, description="Check that a broker's certificate names the host connected to (TLS protocols)."
    )
    database_url: PostgresUrl = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/redditstream"), description="PostgreSQL / TimescaleDB DSN."
    )
    redis_url: RedisUrl = Field(
        SecretStr("redis://127.0.0.1:6379/0"), description="Redis for the velocity mirror and caches."
    )
    # Reddit
    subreddits: Subreddits = Field(
        ("python", "datascience", "machinelearning", "programming", "technology"),
        description="Comma-separated subreddits to poll.",
    )
    reddit_client_id: SecretStr = Field(SecretStr(""), description="Reddit app client id (script app).")
    reddit_client_secret: SecretStr = Field(SecretStr(""), description="Reddit app client secret.")
    reddit_user_agent: str = Field(
        "redditstream/0.1 (by u/redditstream)",
        description="User agent sent to Reddit (Reddit asks for a descriptive one).",
    )
    reddit_api_url: Annotated[str, _from_text(_url("http", "https", optional=True))] = Field(
        "", description="Base URL of a Reddit-compatible API (the simulator); empty = real Reddit."
    )
    refresh_tiers: Annotated[tuple[tuple[float, float], ...], _from_text(_tiers)] = Field(
        ((1.0, 120.0), (6.0, 300.0), (24.0, 900.0), (48.0, 3600.0)),
        description="Refresh priority: `max_age_hours:interval_s` tiers; posts older than the last tier stop being "
        "tracked.",
    )
    refresh_trending_factor: float = Field(
        0.5, ge=0.01, le=1, description="Trending posts are re-polled at this fraction of their tier's interval."
    )
    selftext_max_chars: int = Field(
        2000, ge=0, description="Selftext is cut to this many characters in `PostSnapshot`."
    )
    refresh_trending_velocity: float = Field(
        5.0,
        gt=0,
        description="Ingest treats a post as trending for refresh priority when its score grew at least this fast "
        "(upvotes/minute) between its last two observations.",
    )
    # ingest (faust -A streams ingest)
    ingest_poll_seconds: float = Field(
        10.0, ge=0.05, le=3600, description="Pause between two poll rounds of one subreddit's `new` listing."
    )
    ingest_max_pages: int = Field(
        10, ge=1, le=100, description="Most pages of 100 posts one poll round follows (`after`) before it stops."
    )
    ingest_refresh_check_seconds: float = Field(
        5.0, ge=0.05, le=3600, description="How often the refresh loop looks for tracked posts that are due."
    )
    ingest_seen_ttl_hours: float = Field(
        72.0,
        gt=0,
        le=24 * 365,
        description="How long the ids already emitted as new (and tracked posts) are kept in Redis.",
    )
    ingest_request_timeout: int = Field(
        16, ge=1, le=300, description="Seconds before one Reddit API request times out."
    )
    ingest_retry_base_seconds: float = Field(
        1.0, gt=0, le=60, description="First backoff after a 5xx or a timeout; doubles per attempt, jittered."
    )
    ingest_retry_max_seconds: float = Field(60.0, gt=0, le=3600, description="Longest backoff between two attempts.")
    ingest_retry_attempts: int = Field(
        6,
        ge=1,
        le=100,
        description="Attempts of one request before the round gives up (it is tried again next round).",
    )
    ingest_ratelimit_reserve: int = Field(
        5,
        ge=0,
        le=1000,
        description="Requests left unspent in a rate-limit window: below it every task waits for the reset.",
    )
    ingest_buffer_records: int = Field(
        10000,
        ge=1,
        le=10_000_000,
        description="Records held while the broker is slow or down; when full, polling pauses.",
    )
    ingest_shutdown_timeout: float = Field(
        60.0, gt=0, le=3600, description="Longest a stopping ingest waits to deliver its pending records."
    )
    ingest_metrics_port: int = Field(0, ge=0, le=65535, description="Port of ingest's Prometheus endpoint (0 = off).")
    # producer (ingest's aiokafka producer)
    producer_linger_ms: int = Field(500, ge=0, le=60_000, description="How long the producer waits to fill a batch.")
    producer_batch_bytes: int = Field(
        65536, ge=1024, le=16 * 1024 * 1024, description="Largest record batch per partition."
    )
    producer_compression: Compression = Field("snappy", description="Compression of record batches.")
    producer_acks: Acks = Field("all", description="Acknowledgements the producer waits for (`all` with idempotence).")
    producer_idempotence: bool = Field(
        True,
        description="Idempotent producer: broker-side de-duplication of retried batches (needs `PRODUCER_ACKS=all`).",
    )
    # simulator (faust -A streams simulate)
    simulator_host: str = Field("127.0.0.1", description="Address the simulator binds.")
    simulator_port: int = Field(
        8077, ge=1, le=65535, description="Port of the simulator (`REDDIT_API_URL=http://127.0.0.1:8077`)."
    )
    simulator_subreddits: Annotated[tuple[str, ...], _from_text(_subreddits_or_none)] = Field(
        (),
        description="Subreddits the simulator serves (comma-separated; empty = `SUBREDDITS`); others answer 404.",
    )
    # the simulated world (streams/simulator/config.py): SIMULATOR_<FIELD>
    simulator: WorldConfig = WorldConfig()  # immutable: one default shared
    # topics
    topic_posts: Topic = Field("reddit.posts", description="Topic of first observations.")
    topic_refresh: Topic = Field("reddit.refresh", description="Topic of later observations.")
    topic_dlq: Topic = Field("reddit.dlq", description="Dead-letter topic.")
    topic_backfill: Topic = Field(
        "reddit.backfill", description="Topic of observations from the dump files (`faust -A streams backfill`)."
    )
    topic_observations: Topic = Field(
        "reddit.observations", description="Enriched observations, from the processing agents to the sink."
    )
    topic_partitions: int = Field(
        8,
        ge=1,
        le=1024,
        description="Partitions of every topic and table changelog: the most workers that can share the work.",
    )
    topic_replication: int = Field(
        1, ge=1, le=16, description="Replication factor of the topics the app creates (3 on a production cluster)."
    )
    # worker
    app_id: Topic = Field(
        "redditstream", description="Faust app id: the consumer group and the prefix of changelog topics."
    )
    data_dir: str = Field(
        "./.data",
        description="Where the worker keeps its RocksDB tables, in `<APP_ID>-data/` (faust's `--datadir` wins when "
        "given).",
    )
    table_standby_replicas: int = Field(
        1,
        ge=1,
        le=8,
        description="Standby replicas of each table (≥ 1: faust's 0 path skips changelog recovery).",
    )
    kafka_session_timeout: float = Field(
        30.0,
        ge=3,
        le=600,
        description="Seconds before a silent worker is dropped from the group and its partitions move.",
    )
    kafka_max_partition_fetch_bytes: int = Field(
        262144,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Most bytes the worker fetches per partition and request. Fetched records wait in one queue: "
        "smaller keeps the sink's records from waiting behind a large backlog of source records.",
    )
    sink_batch_size: int = Field(500, ge=1, le=100_000, description="Rows per database flush.")
    observation_batch_size: int = Field(
        500,
        ge=1,
        le=5_000,
        description="Observations per message to the sink's topic (one JSON array per source partition).",
    )
    observation_batch_seconds: float = Field(
        0.05, gt=0, le=10, description="Longest an observation waits for its batch before it is sent."
    )
    sink_flush_seconds: float = Field(2.0, gt=0, le=3600, description="Longest a row waits in the sink buffer.")
    velocity_ttl_hours: float = Field(
        25.0, gt=0, le=24 * 365, description="A velocity baseline older than this is treated as absent and expired."
    )
    sentiment_selftext_chars: int = Field(
        0,
        ge=0,
        le=10_000,
        description="How much of the selftext joins the title for sentiment (0 = title only).",
    )
    # trending (see streams/analytics/trending.py for the formula): TRENDING_<FIELD>
    trending: TrendingConfig = TrendingConfig()  # immutable: one default shared
    # comments (the conversation under each post: docs/pipeline.md)
    topic_comments: Topic = Field(
        "reddit.comments", description="Topic of comments (`CommentSnapshot`s, keyed by their post id)."
    )
    comment_sentiment_chars: int = Field(
        2000, ge=1, le=10_000, description="How much of a comment's body is scored for sentiment (VADER)."
    )
    comment_body_max_chars: int = Field(
        10_000,
        ge=0,
        le=10_000,
        description="A comment's body is cut to this many characters (Reddit's own limit: 10,000).",
    )
    comment_ids_per_post: int = Field(
        20_000,
        ge=0,
        le=200_000,
        description="Comment ids each post's entry remembers (exactly-once counting; ~20 bytes each); a post's later "
        "comments are counted without.",
    )
    ingest_comments_seconds: float = Field(
        15.0,
        ge=0,
        le=3600,
        description="Pause between two polls of one subreddit's newest comments (`/r/{sub}/comments`); 0 = comments "
        "are not polled.",
    )
    ingest_comments_share: float = Field(
        0.3,
        gt=0,
        le=1,
        description="Most of each rate-limit window the comment pollers may spend (the posts keep the rest).",
    )
    # backfill (faust -A streams backfill)
    backfill_checkpoint: str = Field(
        "./.backfill/checkpoint.json",
        description="Where `backfill --resume` keeps, per file, the lines whose records are on the broker.",
    )
    # storage
    retention_days: int = Field(90, ge=1, le=36500, description="Days of `post_metrics_history` kept.")
    db_pool_min: int = Field(1, ge=1, le=100, description="Smallest database pool size.")
    db_pool_max: int = Field(5, ge=1, le=100, description="Largest database pool size.")
    sink_retry_max_seconds: float = Field(
        30.0,
        ge=0.1,
        le=3600,
        description="Longest pause between two attempts of a failed sink flush (exponential backoff up to this).",
    )
    rollup_lookback_hours: int = Field(
        72,
        ge=1,
        le=24 * 365,
        description="`post_metrics_hourly` buckets re-computed on each refresh (late rows older than this are not "
        "rolled up).",
    )
    maintenance_interval_seconds: float = Field(
        300.0,
        ge=1,
        le=86400,
        description="Plain PostgreSQL only: how often the leader refreshes `post_metrics_hourly` and deletes expired "
        "history.",
    )
    # web
    web_port: int = Field(
        6066, ge=1, le=65535, description="Port of the worker's web server (API, metrics, dashboard)."
    )
    web_host: str = Field(
        "127.0.0.1",
        description="Address the web server binds (0.0.0.0 in a container); other workers reach this one at it, or "
        "at the hostname when it is a wildcard.",
    )
    stats_cache_ttl: int = Field(30, ge=0, le=86400, description="Seconds `/api/stats/` is cached in Redis.")
    admin_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token of the admin actions (DLQ replay, `/debug/` views); empty turns them off (403).",
    )
    cors_origins: Annotated[tuple[str, ...], _from_text(_origins)] = Field(
        (),
        description="Origins allowed to call the API from a browser (comma-separated, `*` for any); empty = CORS off.",
    )
    # ops
    log_level: LogLevel = Field("info", description="Log level.")
    log_format: LogFormat = Field("text", description="`json` for one JSON object per log line.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the constructor is given: `Settings()` is the defaults, and the environment is
        read where it is named (`from_mapping(environment())`), never implicitly."""
        return (init_settings,)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        """The settings of an environment (variable → text); a bad value raises SettingsError."""
        try:
            return cls(**_Environment(cls, env)())
        except ValidationError as exc:
            raise _refusal(exc.errors()[0]) from None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # `field` names the setting the refusal points at (_refusal)
        if self.db_pool_min > self.db_pool_max:
            raise PydanticCustomError(
                "pool_bounds",
                "{low} is above DB_POOL_MAX={high}",
                {"field": "db_pool_min", "low": self.db_pool_min, "high": self.db_pool_max},
            )
        sasl = self.kafka_security_protocol.startswith("SASL_")
        tls = self.kafka_security_protocol.endswith("SSL")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise PydanticCustomError(
                "sasl_credentials",
                "KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
                {"field": "kafka_sasl_username", "protocol": self.kafka_security_protocol},
            )
        if not sasl and (self.kafka_sasl_username or self.kafka_sasl_password.get_secret_value()):
            raise PydanticCustomError(
                "sasl_unused",
                "is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL (use SASL_SSL or SASL_PLAINTEXT)",
                {
                    "field": "kafka_sasl_username" if self.kafka_sasl_username else "kafka_sasl_password",
                    "protocol": self.kafka_security_protocol,
                },
            )
        for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
            if getattr(self, name) and not tls:
                raise PydanticCustomError(
                    "tls_unused",
                    "is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS (use SSL or SASL_SSL)",
                    {"field": name, "protocol": self.kafka_security_protocol},
                )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise PydanticCustomError(
                "client_certificate",
                "a client certificate needs both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE",
                {"field": "kafka_ssl_certfile" if self.kafka_ssl_keyfile else "kafka_ssl_keyfile"},
            )
        if self.producer_idempotence and self.producer_acks != "all":
            raise PydanticCustomError(
                "idempotence", "an idempotent producer needs PRODUCER_ACKS=all", {"field": "producer_idempotence"}
            )
        return self


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source (variable names, groups, case) over a given mapping
    instead of `os.environ`: the merged `.env` files and process environment of `environment()`."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._given.items()}


def _number(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _refusal(err: ErrorDetails) -> SettingsError:
    """pydantic's error, as the one line that names the variable and says what is wrong."""
    ctx = err.get("ctx") or {}
    # where the error is (a check across fields adds the one it reports), cut to a variable's name
    parts = [str(part) for part in err["loc"]] + ([str(ctx["field"])] if "field" in ctx else [])
    names = {name for name, _ in _fields(Settings)}
    name = next(
        (n for n in ("_".join(parts[:k]).upper() for k in range(len(parts), 0, -1)) if n in names),
        "_".join(parts).upper(),
    )
    raw = err["input"]
    kind = err["type"]
    if kind in ("int_parsing", "int_from_float", "int_type"):
        problem = f"{raw!r} is not an integer"
    elif kind in ("float_parsing", "float_type"):
        problem = f"{raw!r} is not a number"
    elif kind == "finite_number":
        problem = f"{raw!r} is not a finite number"
    elif kind == "bool_parsing":
        problem = f"{raw!r} is not a boolean (use true/false)"
    elif kind == "literal_error":
        problem = f"{raw!r} is not one of {ctx['expected']}"
    elif kind == "greater_than_equal":
        problem = f"{raw} is below the minimum {_number(ctx['ge'])}"
    elif kind == "greater_than":
        problem = f"{raw} must be above {_number(ctx['gt'])}"
    elif kind == "less_than_equal":
        problem = f"{raw} is above the maximum {_number(ctx['le'])}"
    elif kind == "value_error":  # a domain format's parser (above): its own words
        problem = str(ctx["error"])
    else:  # a check across fields, or pydantic's own words
        problem = err["msg"]
    return SettingsError(name, problem)


# ---------------------------------------------------------------- the documentation


def _env_text(value: Any) -> str:
    """A typed value as the environment writes it (`1:120,6:300`, `true`, `0.5`)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(":".join(map(_env_text, v)) if isinstance(v, tuple) else _env_text(v) for v in value)
    return str(value)


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    for name, info in model.model_fields.items():
        group = info.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            yield from _fields(group, f"{prefix}{name}_")
        else:
            yield f"{prefix}{name}".upper(), info


def documented() -> list[tuple[str, str, str]]:
    """Every variable, in the models' order: (name, default as the environment writes it, meaning)."""
    return [
        (name, _env_text(info.get_default(call_default_factory=True)), info.description or "")
        for name, info in _fields(Settings)
    ]


def environment(base_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The merged environment: `.env`, overridden by `.env.local`, overridden by the process."""
    base = base_dir or Path(os.environ.get("REDDITSTREAM_HOME", "."))
    merged: dict[str, str] = {}
    for name in (".env", ".env.local"):
        path = base / name
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load() -> Settings:
    return Settings.from_mapping(environment())


def exit_refused(exc: SettingsError) -> NoReturn:
    """End the process with the refusal's one line (exit status 2), no traceback."""
    print(f"redditstream: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None


def load_or_exit() -> Settings:
    """Settings for a process entry point: a bad value ends it with one line, no traceback."""
    try:
        return load()
    except SettingsError as exc:
        exit_refused(exc)


def data_dir(setting: str, environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None) -> str:
    """The app's data directory: faust's `--datadir` when given, else one per app id under
    `DATA_DIR` (`{conf.name}` is faust's app id), as faust's own default `{conf.name}-data`
    keeps: two app ids never share a table's files.

    faust sets F_DATADIR from `--datadir` only after `-A` has imported the app (faust/cli/base.py
    `_prepare_cli`), too late for App() to see it, so the option is read from the command line
    here the way faust reads `-A` itself (`_maybe_import_app`)."""
    env = os.environ if environ is None else environ
    args = list(sys.argv if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--datadir" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--datadir="):
            return arg.split("=", 1)[1]
    if env.get("F_DATADIR"):
        return env["F_DATADIR"]
    os.makedirs(setting, exist_ok=True)  # faust creates the app's folder, not its parents
    return os.path.join(setting, "{conf.name}-data")


def advertised_host(bind: str, hostname: str | None = None) -> str:
    """The host other workers reach this one at (faust's `web_host`, its canonical URL): the bind
    address, unless that is a wildcard (`0.0.0.0`, `::`, empty: every interface, as in a
    container), then this machine's hostname. Table-routed views forward to it."""
    if bind.strip() in ("", "0.0.0.0", "::", "[::]", "*"):
        import socket

        return hostname or socket.gethostname()
    return bind


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, doc in documented():
        rows.append(f"| `{name}` | {f'`{default}`' if default else '(empty)'} | {doc} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    if "--markdown" in sys.argv:
        print(markdown_table())
    else:
        print(repr(load_or_exit()))
