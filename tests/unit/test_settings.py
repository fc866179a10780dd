from pathlib import Path

import pytest

from streams.analytics.trending import TrendingConfig
from streams.settings import Settings, SettingsError, documented, markdown_table
from streams.simulator.config import WorldConfig


def test_defaults_are_valid():
    s = Settings.from_mapping({})
    assert s.topic_partitions == 8
    assert s.kafka_broker_url == "kafka://127.0.0.1:9092"
    assert s.web_port == 6066
    assert s.velocity_ttl_hours == 25
    assert s.stats_cache_ttl == 30
    assert s.retention_days == 90
    assert s.refresh_tiers[0] == (1.0, 120.0)
    assert s.trending == TrendingConfig()


def test_settings_read_no_environment_of_their_own(monkeypatch):
    """The process environment reaches the settings only through the mapping they are given."""
    monkeypatch.setenv("TOPIC_PARTITIONS", "3")
    monkeypatch.setenv("TRENDING_THRESHOLD", "0.9")
    for s in (Settings(), Settings.from_mapping({})):
        assert s.topic_partitions == 8 and s.trending.threshold == 0.5
    assert Settings.from_mapping({"TOPIC_PARTITIONS": "3"}).topic_partitions == 3


def test_values_have_their_types():
    s = Settings.from_mapping(
        {
            "TOPIC_PARTITIONS": " 12 ",
            "SINK_FLUSH_SECONDS": "0.5",
            "PRODUCER_IDEMPOTENCE": "off",
            "PRODUCER_ACKS": "1",
            "LOG_LEVEL": "DEBUG",
            "CORS_ORIGINS": "http://a.example, https://b.example:8443/",
            "REFRESH_TIERS": "1:60,12:600",
            "TRENDING_THRESHOLD": "0.25",
        }
    )
    assert s.topic_partitions == 12 and type(s.topic_partitions) is int
    assert s.sink_flush_seconds == 0.5 and type(s.sink_flush_seconds) is float
    assert s.producer_idempotence is False and s.producer_acks == "1"
    assert s.log_level == "debug"
    assert s.cors_origins == ("http://a.example", "https://b.example:8443")
    assert s.refresh_tiers == ((1.0, 60.0), (12.0, 600.0))
    assert s.trending.threshold == 0.25 and s.trending.velocity_high == 10.0


def test_settings_are_immutable():
    s = Settings()
    with pytest.raises(ValueError):
        s.topic_partitions = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        s.trending.threshold = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("TOPIC_PARTITIONS", "abc", "not an integer"),
        ("TOPIC_PARTITIONS", "0", "below the minimum"),
        ("VELOCITY_TTL_HOURS", "-1", "must be above 0"),
        ("VELOCITY_TTL_HOURS", "nan", "not a finite number"),
        ("DATABASE_URL", "mysql://h/db", "scheme postgresql"),
        ("REDIS_URL", "redis://h:notaport/0", "malformed port"),
        ("KAFKA_BROKER_URL", "kafka://", "no broker"),
        ("KAFKA_BROKER_URL", "localhost", "not host:port"),
        ("SUBREDDITS", "python,not a sub", "not a valid subreddit"),
        ("LOG_FORMAT", "xml", "not one of"),
        ("TOPIC_POSTS", "bad topic!", "legal Kafka topic"),
        ("REFRESH_TIERS", "6:60,1:30", "increasing age"),
        ("REFRESH_TIERS", "1-60", "max_age_hours:interval_seconds"),
        ("TRENDING_WEIGHT_VELOCITY", "0.9", "sum to 1"),
        ("SINK_FLUSH_SECONDS", "0", "must be above 0"),
        ("SINK_FLUSH_SECONDS", "soon", "not a number"),
        ("TOPIC_PARTITIONS", "2000", "above the maximum 1024"),
        ("TOPIC_PARTITIONS", "", "not an integer"),
        ("PRODUCER_IDEMPOTENCE", "maybe", "not a boolean"),
        ("PRODUCER_ACKS", "2", "not one of"),
        ("DB_POOL_MIN", "9", "above DB_POOL_MAX=5"),
        ("TRENDING_THRESHOLD", "1.5", "above the maximum 1"),
        ("TRENDING_VELOCITY_HIGH", "0", "must be above 0"),
        ("TRENDING_SENTIMENT_HIGH", "inf", "not a finite number"),
        ("CORS_ORIGINS", "ftp://x", "not an origin"),
        ("SIMULATOR_SPEED", "-1", "below the minimum 0"),
        ("SIMULATOR_RATELIMIT_BUDGET", "many", "not an integer"),
    ],
)
def test_bad_values_name_the_variable(name, value, fragment):
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping({name: value})
    assert err.value.name == name
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"invalid setting {name}:")
    assert "\n" not in str(err.value)


def test_a_check_across_settings_names_the_one_it_refuses():
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping({"PRODUCER_ACKS": "1"})
    assert str(err.value) == "invalid setting PRODUCER_IDEMPOTENCE: an idempotent producer needs PRODUCER_ACKS=all"
    assert Settings.from_mapping({"PRODUCER_ACKS": "1", "PRODUCER_IDEMPOTENCE": "false"}).producer_acks == "1"


def test_a_value_with_a_line_break_is_refused_on_one_line():
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping({"LOG_LEVEL": "info\nerror"})
    assert err.value.name == "LOG_LEVEL" and "\n" not in str(err.value)


def test_broker_list_forms_normalise():
    assert Settings.from_mapping({"KAFKA_BROKER_URL": "a:9092,b:9093"}).kafka_broker_url == "kafka://a:9092;b:9093"
    assert Settings.from_mapping({"KAFKA_BROKER_URL": "kafka://a:1;b:2"}).kafka_broker_url == "kafka://a:1;b:2"


def test_subreddits_dedupe_case_insensitively_and_keep_order():
    s = Settings.from_mapping({"SUBREDDITS": "Python, rust ,python,Go_lang"})
    assert s.subreddits == ("Python", "rust", "Go_lang")


def test_secrets_are_masked_in_repr():
    s = Settings.from_mapping(
        {
            "REDDIT_CLIENT_SECRET": "hunter2hunter2",
            "ADMIN_TOKEN": "tok-123456",
            "DATABASE_URL": "postgresql://app:pg-pass-789@db:5432/x",
            "REDIS_URL": "redis://:redis-pass-246@cache:6379/0",
        }
    )
    for secret in ("hunter2", "tok-123456", "pg-pass-789", "redis-pass-246"):
        assert secret not in repr(s) and secret not in str(s)
    assert s.reddit_client_secret.get_secret_value() == "hunter2hunter2"
    assert s.admin_token.get_secret_value() == "tok-123456"
    assert s.database_url.get_secret_value() == "postgresql://app:pg-pass-789@db:5432/x"
    assert s.redis_url.get_secret_value() == "redis://:redis-pass-246@cache:6379/0"


def test_reddit_api_url_loses_trailing_slash():
    assert Settings.from_mapping({"REDDIT_API_URL": "http://127.0.0.1:8077/"}).reddit_api_url == "http://127.0.0.1:8077"


def test_every_setting_is_documented_once_with_its_default():
    rows = documented()
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names)) == 92
    assert {"TOPIC_PARTITIONS", "ADMIN_TOKEN", "TRENDING_THRESHOLD", "TRENDING_WEIGHT_SENTIMENT"} <= set(names)
    assert "TRENDING" not in names  # a group is its variables, not one of its own
    table = markdown_table()
    for name, _, doc in rows:
        assert doc, f"{name} has no documentation"
        assert f"| `{name}` |" in table


def test_each_documented_default_reads_back_as_the_default():
    """The table's default column is what the variable would be set to: set it, get the default."""
    defaults = Settings()
    for name, text, _ in documented():
        s = Settings.from_mapping({name: text})
        assert s == defaults, f"{name}={text!r} is not the default"


def test_the_trending_group_reads_its_variables():
    s = Settings.from_mapping(
        {
            "TRENDING_VELOCITY_HIGH": "20",
            "TRENDING_THRESHOLD": "0.7",
            "TRENDING_WEIGHT_VELOCITY": "0.5",
            "TRENDING_WEIGHT_COMMENTS": "0.4",
            "TRENDING_UNKNOWN": "ignored",
        }
    )
    assert isinstance(s.trending, TrendingConfig)
    assert s.trending.velocity_high == 20 and s.trending.threshold == 0.7
    assert (s.trending.weight_velocity, s.trending.weight_comments, s.trending.weight_sentiment) == (0.5, 0.4, 0.1)
    assert s.refresh_trending_factor == 0.5  # REFRESH_TRENDING_* is not the group's


def test_the_simulator_group_reads_its_variables():
    s = Settings.from_mapping(
        {"SIMULATOR_SEED": "7", "SIMULATOR_RATELIMIT_BUDGET": "5", "SIMULATOR_SPEED": "0", "SIMULATOR_PORT": "9001"}
    )
    assert isinstance(s.simulator, WorldConfig)
    assert (s.simulator.seed, s.simulator.ratelimit_budget, s.simulator.speed) == (7, 5, 0.0)
    assert s.simulator.history_posts == 150 and s.simulator_port == 9001 and s.simulator_host == "127.0.0.1"


def _readme_settings_table(readme: str, header: str) -> str:
    """The Markdown table of docs/configuration.md that starts with `header`: its contiguous `|` lines."""
    lines = readme.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == header]
    assert len(starts) == 1, f"docs/configuration.md has {len(starts)} tables headed {header!r}"
    table = []
    for line in lines[starts[0] :]:
        if not line.startswith("|"):
            break
        table.append(line.rstrip())
    return "\n".join(table)


def test_the_readme_settings_table_is_the_generated_one():
    """docs/configuration.md's settings table is exactly `python -m streams.settings --markdown`."""
    import difflib

    want = markdown_table().strip()
    readme = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    got = _readme_settings_table(readme, want.splitlines()[0].strip())
    diff = "\n".join(
        difflib.unified_diff(
            got.splitlines(), want.splitlines(), "docs/configuration.md", "markdown_table()", lineterm=""
        )
    )
    assert got == want, (
        "docs/configuration.md's settings table is stale; regenerate it with "
        f"`python -m streams.settings --markdown`:\n{diff}"
    )


def test_the_advertised_host_is_the_hostname_for_a_wildcard_bind():
    from streams.settings import advertised_host

    assert advertised_host("127.0.0.1", "box") == "127.0.0.1"
    assert advertised_host("worker-3.internal", "box") == "worker-3.internal"
    for wildcard in ("0.0.0.0", "::", ""):
        assert advertised_host(wildcard, "box") == "box"
