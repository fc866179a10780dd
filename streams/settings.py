"""Every setting, read from the environment (and optional `.env` files), validated once.

Precedence: the process environment, then `.env.local` (written by `make up`), then `.env`.
A bad value raises :class:`SettingsError`, whose message names the variable and the problem;
`streams.app` turns it into a one-line exit at start-up.

The table in README.md ("Configuration") is generated from ``SPECS`` below
(`python -m streams.settings --markdown`), so it cannot drift from the code.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"invalid setting {name}: {problem}")
        self.name = name
        self.problem = problem


# ---------------------------------------------------------------- parsers (pure)


def _int(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not an integer") from None
        if lo is not None and value < lo:
            raise ValueError(f"{value} is below the minimum {lo}")
        if hi is not None and value > hi:
            raise ValueError(f"{value} is above the maximum {hi}")
        return value

    return parse


def _float(lo: float | None = None, hi: float | None = None, *, strict_lo: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{raw!r} is not a finite number")
        if lo is not None and (value <= lo if strict_lo else value < lo):
            raise ValueError(f"{value:g} must be {'above' if strict_lo else 'at least'} {lo:g}")
        if hi is not None and value > hi:
            raise ValueError(f"{value:g} is above the maximum {hi:g}")
        return value

    return parse


def _bool(raw: str) -> bool:
    v = raw.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not a boolean (use true/false)")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        v = raw.strip().lower()
        if v not in options:
            raise ValueError(f"{raw!r} is not one of {', '.join(options)}")
        return v

    return parse


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


def _str(raw: str) -> str:
    return raw.strip()


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


@dataclass(frozen=True)
class Spec:
    name: str
    default: str
    parse: Callable[[str], Any]
    doc: str
    secret: bool = False


SPECS: tuple[Spec, ...] = (
    # services
    Spec(
        "KAFKA_BROKER_URL",
        "kafka://127.0.0.1:9092",
        _brokers,
        "Kafka bootstrap servers (`kafka://h1:9092;h2:9092` or `h1:9092,h2:9092`).",
    ),
    Spec(
        "DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/redditstream",
        _url("postgresql", "postgres"),
        "PostgreSQL / TimescaleDB DSN.",
    ),
    Spec(
        "REDIS_URL",
        "redis://127.0.0.1:6379/0",
        _url("redis", "rediss", "unix"),
        "Redis for the velocity mirror and caches.",
    ),
    # Reddit
    Spec(
        "SUBREDDITS",
        "python,datascience,machinelearning,programming,technology",
        _subreddits,
        "Comma-separated subreddits to poll.",
    ),
    Spec("REDDIT_CLIENT_ID", "", _str, "Reddit app client id (script app)."),
    Spec("REDDIT_CLIENT_SECRET", "", _str, "Reddit app client secret.", secret=True),
    Spec(
        "REDDIT_USER_AGENT",
        "redditstream/0.1 (by u/redditstream)",
        _str,
        "User agent sent to Reddit (Reddit asks for a descriptive one).",
    ),
    Spec(
        "REDDIT_API_URL",
        "",
        _url("http", "https", optional=True),
        "Base URL of a Reddit-compatible API (the simulator); empty = real Reddit.",
    ),
    Spec(
        "REFRESH_TIERS",
        "1:120,6:300,24:900,48:3600",
        _tiers,
        "Refresh priority: `max_age_hours:interval_s` tiers; posts older than the last tier stop being tracked.",
    ),
    Spec(
        "REFRESH_TRENDING_FACTOR",
        "0.5",
        _float(0.01, 1.0),
        "Trending posts are re-polled at this fraction of their tier's interval.",
    ),
    Spec("SELFTEXT_MAX_CHARS", "2000", _int(0), "Selftext is cut to this many characters in `PostSnapshot`."),
    Spec(
        "REFRESH_TRENDING_VELOCITY",
        "5",
        _float(0.0, strict_lo=True),
        "Ingest treats a post as trending for refresh priority when its score grew at least this fast "
        "(upvotes/minute) between its last two observations.",
    ),
    # ingest (faust -A streams ingest)
    Spec(
        "INGEST_POLL_SECONDS",
        "10",
        _float(0.05, 3600.0),
        "Pause between two poll rounds of one subreddit's `new` listing.",
    ),
    Spec(
        "INGEST_MAX_PAGES",
        "10",
        _int(1, 100),
        "Most pages of 100 posts one poll round follows (`after`) before it stops.",
    ),
    Spec(
        "INGEST_REFRESH_CHECK_SECONDS",
        "5",
        _float(0.05, 3600.0),
        "How often the refresh loop looks for tracked posts that are due.",
    ),
    Spec(
        "INGEST_SEEN_TTL_HOURS",
        "72",
        _float(0.0, 24 * 365.0, strict_lo=True),
        "How long the ids already emitted as new (and tracked posts) are kept in Redis.",
    ),
    Spec("INGEST_REQUEST_TIMEOUT", "16", _int(1, 300), "Seconds before one Reddit API request times out."),
    Spec(
        "INGEST_RETRY_BASE_SECONDS",
        "1.0",
        _float(0.0, 60.0, strict_lo=True),
        "First backoff after a 5xx or a timeout; doubles per attempt, jittered.",
    ),
    Spec(
        "INGEST_RETRY_MAX_SECONDS", "60", _float(0.0, 3600.0, strict_lo=True), "Longest backoff between two attempts."
    ),
    Spec(
        "INGEST_RETRY_ATTEMPTS",
        "6",
        _int(1, 100),
        "Attempts of one request before the round gives up (it is tried again next round).",
    ),
    Spec(
        "INGEST_RATELIMIT_RESERVE",
        "5",
        _int(0, 1000),
        "Requests left unspent in a rate-limit window: below it every task waits for the reset.",
    ),
    Spec(
        "INGEST_BUFFER_RECORDS",
        "10000",
        _int(1, 10_000_000),
        "Records held while the broker is slow or down; when full, polling pauses.",
    ),
    Spec(
        "INGEST_SHUTDOWN_TIMEOUT",
        "60",
        _float(0.0, 3600.0, strict_lo=True),
        "Longest a stopping ingest waits to deliver its pending records.",
    ),
    Spec("INGEST_METRICS_PORT", "0", _int(0, 65535), "Port of ingest's Prometheus endpoint (0 = off)."),
    # producer (ingest's aiokafka producer)
    Spec("PRODUCER_LINGER_MS", "500", _int(0, 60_000), "How long the producer waits to fill a batch."),
    Spec("PRODUCER_BATCH_BYTES", "65536", _int(1024, 16 * 1024 * 1024), "Largest record batch per partition."),
    Spec(
        "PRODUCER_COMPRESSION",
        "snappy",
        _choice("none", "gzip", "snappy", "lz4", "zstd"),
        "Compression of record batches.",
    ),
    Spec(
        "PRODUCER_ACKS",
        "all",
        _choice("all", "1", "0"),
        "Acknowledgements the producer waits for (`all` with idempotence).",
    ),
    Spec(
        "PRODUCER_IDEMPOTENCE",
        "true",
        _bool,
        "Idempotent producer: broker-side de-duplication of retried batches (needs `PRODUCER_ACKS=all`).",
    ),
    # simulator (faust -A streams simulate)
    Spec("SIMULATOR_HOST", "127.0.0.1", _str, "Address the simulator binds."),
    Spec("SIMULATOR_PORT", "8077", _int(1, 65535), "Port of the simulator (`REDDIT_API_URL=http://127.0.0.1:8077`)."),
    Spec(
        "SIMULATOR_SUBREDDITS",
        "",
        _subreddits_or_none,
        "Subreddits the simulator serves (comma-separated; empty = `SUBREDDITS`); others answer 404.",
    ),
    Spec("SIMULATOR_SEED", "42", _int(0), "Seed of the synthetic posts: same seed, same posts."),
    Spec(
        "SIMULATOR_HISTORY_POSTS",
        "150",
        _int(0, 100_000),
        "Posts each subreddit already has when the simulator starts.",
    ),
    Spec(
        "SIMULATOR_POSTS_PER_HOUR",
        "60",
        _float(0.0, 1e6, strict_lo=True),
        "New posts per subreddit per simulated hour.",
    ),
    Spec(
        "SIMULATOR_SPEED",
        "1.0",
        _float(0.0, 1e6),
        "Simulated seconds per real second (0 freezes the clocks; `/_sim/advance` moves them).",
    ),
    Spec(
        "SIMULATOR_RATELIMIT_BUDGET", "1000", _int(1), "Requests per rate-limit window the simulator allows (then 429)."
    ),
    Spec(
        "SIMULATOR_RATELIMIT_WINDOW",
        "600",
        _float(0.0, 86400.0, strict_lo=True),
        "Seconds of the simulator's rate-limit window.",
    ),
    # topics
    Spec("TOPIC_POSTS", "reddit.posts", _topic, "Topic of first observations."),
    Spec("TOPIC_REFRESH", "reddit.refresh", _topic, "Topic of later observations."),
    Spec("TOPIC_DLQ", "reddit.dlq", _topic, "Dead-letter topic."),
    Spec(
        "TOPIC_BACKFILL",
        "reddit.backfill",
        _topic,
        "Topic of observations from the dump files (`faust -A streams backfill`).",
    ),
    Spec(
        "TOPIC_OBSERVATIONS",
        "reddit.observations",
        _topic,
        "Enriched observations, from the processing agents to the sink.",
    ),
    Spec(
        "TOPIC_PARTITIONS",
        "8",
        _int(1, 1024),
        "Partitions of every topic and table changelog: the most workers that can share the work.",
    ),
    Spec(
        "TOPIC_REPLICATION",
        "1",
        _int(1, 16),
        "Replication factor of the topics the app creates (3 on a production cluster).",
    ),
    # worker
    Spec("APP_ID", "redditstream", _topic, "Faust app id: the consumer group and the prefix of changelog topics."),
    Spec(
        "DATA_DIR",
        "./.data",
        _str,
        "Where the worker keeps its RocksDB tables, in `<APP_ID>-data/` (faust's `--datadir` wins when given).",
    ),
    Spec(
        "TABLE_STANDBY_REPLICAS",
        "1",
        _int(1, 8),
        "Standby replicas of each table (≥ 1: faust's 0 path skips changelog recovery).",
    ),
    Spec(
        "KAFKA_SESSION_TIMEOUT",
        "30",
        _float(3.0, 600.0),
        "Seconds before a silent worker is dropped from the group and its partitions move.",
    ),
    Spec(
        "KAFKA_MAX_PARTITION_FETCH_BYTES",
        "262144",
        _int(1024, 64 * 1024 * 1024),
        "Most bytes the worker fetches per partition and request. Fetched records wait in one queue: smaller keeps "
        "the sink's records from waiting behind a large backlog of source records.",
    ),
    Spec("SINK_BATCH_SIZE", "500", _int(1, 100_000), "Rows per database flush."),
    Spec(
        "OBSERVATION_BATCH_SIZE",
        "500",
        _int(1, 5_000),
        "Observations per message to the sink's topic (one JSON array per source partition).",
    ),
    Spec(
        "OBSERVATION_BATCH_SECONDS",
        "0.05",
        _float(0.0, 10.0, strict_lo=True),
        "Longest an observation waits for its batch before it is sent.",
    ),
    Spec("SINK_FLUSH_SECONDS", "2.0", _float(0.0, 3600.0, strict_lo=True), "Longest a row waits in the sink buffer."),
    Spec(
        "VELOCITY_TTL_HOURS",
        "25",
        _float(0.0, 24 * 365.0, strict_lo=True),
        "A velocity baseline older than this is treated as absent and expired.",
    ),
    Spec(
        "SENTIMENT_SELFTEXT_CHARS",
        "0",
        _int(0, 10_000),
        "How much of the selftext joins the title for sentiment (0 = title only).",
    ),
    # trending (see streams/analytics/trending.py for the formula)
    Spec(
        "TRENDING_VELOCITY_HIGH",
        "10",
        _float(0.0, strict_lo=True),
        "Score velocity (upvotes/minute) that saturates the velocity term.",
    ),
    Spec(
        "TRENDING_COMMENTS_HIGH", "100", _float(0.0, strict_lo=True), "Comment count that saturates the comments term."
    ),
    Spec(
        "TRENDING_SENTIMENT_HIGH",
        "0.5",
        _float(0.0, 1.0, strict_lo=True),
        "|VADER compound| that saturates the sentiment term.",
    ),
    Spec("TRENDING_WEIGHT_VELOCITY", "0.6", _float(0.0, 1.0), "Weight of the velocity term."),
    Spec("TRENDING_WEIGHT_COMMENTS", "0.3", _float(0.0, 1.0), "Weight of the comments term."),
    Spec(
        "TRENDING_WEIGHT_SENTIMENT",
        "0.1",
        _float(0.0, 1.0),
        "Weight of the sentiment term (the three weights must sum to 1).",
    ),
    Spec("TRENDING_THRESHOLD", "0.5", _float(0.0, 1.0), "`is_trending = trending_score >= TRENDING_THRESHOLD`."),
    # backfill (faust -A streams backfill)
    Spec(
        "BACKFILL_CHECKPOINT",
        "./.backfill/checkpoint.json",
        _str,
        "Where `backfill --resume` keeps, per file, the lines whose records are on the broker.",
    ),
    # storage
    Spec("RETENTION_DAYS", "90", _int(1, 36500), "Days of `post_metrics_history` kept."),
    Spec("DB_POOL_MIN", "1", _int(1, 100), "Smallest database pool size."),
    Spec("DB_POOL_MAX", "5", _int(1, 100), "Largest database pool size."),
    Spec(
        "SINK_RETRY_MAX_SECONDS",
        "30",
        _float(0.1, 3600.0),
        "Longest pause between two attempts of a failed sink flush (exponential backoff up to this).",
    ),
    Spec(
        "ROLLUP_LOOKBACK_HOURS",
        "72",
        _int(1, 24 * 365),
        "`post_metrics_hourly` buckets re-computed on each refresh (late rows older than this are not rolled up).",
    ),
    Spec(
        "MAINTENANCE_INTERVAL_SECONDS",
        "300",
        _float(1.0, 86400.0),
        "Plain PostgreSQL only: how often the leader refreshes `post_metrics_hourly` and deletes expired history.",
    ),
    # web
    Spec("WEB_PORT", "6066", _int(1, 65535), "Port of the worker's web server (API, metrics, dashboard)."),
    Spec(
        "WEB_HOST",
        "127.0.0.1",
        _str,
        "Address the web server binds (0.0.0.0 in a container); other workers reach this one at it, or at the "
        "hostname when it is a wildcard.",
    ),
    Spec("STATS_CACHE_TTL", "30", _int(0, 86400), "Seconds `/api/stats/` is cached in Redis."),
    Spec(
        "ADMIN_TOKEN",
        "",
        _str,
        "Bearer token of the admin actions (DLQ replay, `/debug/` views); empty turns them off (403).",
        secret=True,
    ),
    Spec(
        "CORS_ORIGINS",
        "",
        _origins,
        "Origins allowed to call the API from a browser (comma-separated, `*` for any); empty = CORS off.",
    ),
    # ops
    Spec("LOG_LEVEL", "info", _choice("debug", "info", "warning", "error"), "Log level."),
    Spec("LOG_FORMAT", "text", _choice("text", "json"), "`json` for one JSON object per log line."),
)


def _attr(name: str) -> str:
    return name.lower()


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(repr=False)

    def __getattr__(self, item: str) -> Any:
        try:
            return self.values[item]
        except KeyError:
            raise AttributeError(item) from None

    def __repr__(self) -> str:
        shown = {k: ("***" if s.secret and self.values[k] else self.values[k]) for s in SPECS for k in [_attr(s.name)]}
        return f"Settings({shown})"

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for spec in SPECS:
            raw = env.get(spec.name)
            if raw is None:
                raw = spec.default
            try:
                values[_attr(spec.name)] = spec.parse(raw)
            except ValueError as exc:
                raise SettingsError(spec.name, str(exc)) from None
        _check_cross(values)
        return cls(values)


def _check_cross(v: dict[str, Any]) -> None:
    total = v["trending_weight_velocity"] + v["trending_weight_comments"] + v["trending_weight_sentiment"]
    if abs(total - 1.0) > 1e-6:
        raise SettingsError(
            "TRENDING_WEIGHT_VELOCITY", f"the three TRENDING_WEIGHT_* must sum to 1, they sum to {total:g}"
        )
    if v["db_pool_min"] > v["db_pool_max"]:
        raise SettingsError("DB_POOL_MIN", f"{v['db_pool_min']} is above DB_POOL_MAX={v['db_pool_max']}")
    if v["producer_idempotence"] and v["producer_acks"] != "all":
        raise SettingsError("PRODUCER_IDEMPOTENCE", "an idempotent producer needs PRODUCER_ACKS=all")
    if v["table_standby_replicas"] > 0 and v["topic_replication"] < 1:
        raise SettingsError("TOPIC_REPLICATION", "must be at least 1")


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


def load_or_exit() -> Settings:
    """Settings for a process entry point: a bad value ends it with one line, no traceback."""
    try:
        return load()
    except SettingsError as exc:
        print(f"redditstream: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


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
    for s in SPECS:
        default = f"`{s.default}`" if s.default else "(empty)"
        rows.append(f"| `{s.name}` | {default} | {s.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    if "--markdown" in sys.argv:
        print(markdown_table())
    else:
        print(load_or_exit())
