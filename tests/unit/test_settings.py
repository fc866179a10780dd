from pathlib import Path

import pytest

from streams.settings import SPECS, Settings, SettingsError, markdown_table


def test_defaults_are_valid():
    s = Settings.from_mapping({})
    assert s.topic_partitions == 8
    assert s.kafka_broker_url == "kafka://127.0.0.1:9092"
    assert s.web_port == 6066
    assert s.velocity_ttl_hours == 25
    assert s.stats_cache_ttl == 30
    assert s.retention_days == 90
    assert s.refresh_tiers[0] == (1.0, 120.0)


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
    ],
)
def test_bad_values_name_the_variable(name, value, fragment):
    with pytest.raises(SettingsError) as err:
        Settings.from_mapping({name: value})
    assert err.value.name == name
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"invalid setting {name}:")


def test_broker_list_forms_normalise():
    assert Settings.from_mapping({"KAFKA_BROKER_URL": "a:9092,b:9093"}).kafka_broker_url == "kafka://a:9092;b:9093"
    assert Settings.from_mapping({"KAFKA_BROKER_URL": "kafka://a:1;b:2"}).kafka_broker_url == "kafka://a:1;b:2"


def test_subreddits_dedupe_case_insensitively_and_keep_order():
    s = Settings.from_mapping({"SUBREDDITS": "Python, rust ,python,Go_lang"})
    assert s.subreddits == ("Python", "rust", "Go_lang")


def test_secrets_are_masked_in_repr():
    s = Settings.from_mapping({"REDDIT_CLIENT_SECRET": "hunter2hunter2", "ADMIN_TOKEN": "tok-123456"})
    assert "hunter2" not in repr(s) and "tok-123456" not in repr(s)
    assert s.reddit_client_secret == "hunter2hunter2"


def test_reddit_api_url_loses_trailing_slash():
    assert Settings.from_mapping({"REDDIT_API_URL": "http://127.0.0.1:8077/"}).reddit_api_url == "http://127.0.0.1:8077"


def test_every_spec_is_in_the_markdown_table():
    table = markdown_table()
    for spec in SPECS:
        assert f"`{spec.name}`" in table


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
