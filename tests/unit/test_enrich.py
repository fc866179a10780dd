"""The enrichment over a batch (streams.processing.enrich), against an in-memory state: no
broker, no faust app."""

from __future__ import annotations

import orjson
import pytest

from streams.analytics import sentiment, trending
from streams.analytics.velocity import VelocityState, update
from streams.processing.enrich import EnrichConfig, Enricher
from streams.processing.state import MemoryTable
from streams.records import snapshot_fields
from tests.scenario import TTL, interleaved, scripted, snapshot

NOW = 1_800_000_000.0
CONFIG = EnrichConfig(trending.TrendingConfig(), selftext_chars=500, velocity_ttl_s=TTL)


def enricher() -> Enricher:
    return Enricher(CONFIG, MemoryTable(), MemoryTable())


def snaps_of(script) -> list[dict]:
    return [snapshot_fields(s) for s in script.firsts + script.refreshes]


def one_by_one(snaps: list[dict], e: Enricher | None = None) -> tuple[Enricher, list[bytes]]:
    e = e or enricher()
    out: list[bytes] = []
    for s in snaps:
        out += e.live([s], 0).observations
    return e, out


def test_a_batch_gives_exactly_what_one_message_per_event_gives():
    stream = [
        snapshot_fields(s)
        for _, s in interleaved(
            60, 3, "p", subs=["a", "b"], seed=3, now=NOW, chunk=10, created_ago=(3600, 600), refresh_gap=(30, 600)
        )
    ]
    stream += snaps_of(scripted(NOW))
    single, expected = one_by_one(stream)
    batched = enricher()
    got: list[bytes] = []
    for i in range(0, len(stream), 37):  # batches that split a post's observations between them
        got += batched.live(stream[i : i + 37], 0).observations
    assert got == expected
    for name in ("velocity", "sentiment"):
        assert getattr(batched, name).partitions == getattr(single, name).partitions
    assert sorted(batched.stats.drain()) == sorted(single.stats.drain())


def test_velocity_state_is_the_reference_fold():
    script = scripted(NOW)
    e = enricher()
    e.live(snaps_of(script), 3)
    for pid, want in script.expected().items():
        raw = e.velocity.get_many(3, [pid.encode()])[0]
        got = VelocityState.from_dict(orjson.loads(raw))
        assert (got.score, got.comments, got.observed_at) == (want.score, want.comments, want.observed_at)
        assert got.score_velocity == pytest.approx(want.score_velocity)
        assert got.comment_velocity == pytest.approx(want.comment_velocity)


def test_observations_carry_velocity_sentiment_and_trending():
    first = snapshot_fields(snapshot("abc", NOW, 10, 1, title="I love this wonderful library"))
    later = snapshot_fields(snapshot("abc", NOW + 120, 50, 3, source="refresh"))
    result = enricher().live([first, later], 0)
    a, b = (orjson.loads(o) for o in result.observations)
    assert a["has_velocity"] is False and a["score_velocity"] == 0.0
    assert a["sentiment"] == pytest.approx(sentiment.compound("I love this wonderful library"))
    assert b["sentiment"] == a["sentiment"]  # computed once, carried by the velocity entry
    assert b["has_velocity"] is True and b["score_velocity"] == pytest.approx(20.0)  # 40 in 2 min
    assert b["comment_velocity"] == pytest.approx(1.0)
    want = trending.trending_score(20.0, 3, a["sentiment"], CONFIG.trending)
    assert b["trending_score"] == pytest.approx(want)
    assert b["is_trending"] is trending.is_trending(want, CONFIG.trending)
    assert b["snapshot"] == later


def test_one_multi_get_and_one_write_per_table_per_batch(monkeypatch):
    calls: list[str] = []
    real = sentiment.compound
    monkeypatch.setattr(sentiment, "compound", lambda text: calls.append(text) or real(text))
    e = enricher()
    snaps = snaps_of(scripted(NOW))
    result = e.live(snaps, 0)
    assert e.velocity.writes == 1 and e.sentiment.writes == 1
    assert len(calls) == len({s["id"] for s in snaps})  # VADER once per post
    e.live(snaps, 0)  # the same observations again: all duplicates or out of order
    assert len(calls) == len({s["id"] for s in snaps})  # none recomputed
    assert set(result.changes) == {"velocity", "sentiment"}
    assert result.changes["velocity"] == e.velocity.partitions[0]
    # the mirror gets every entry that changed (not a duplicate's, not an out-of-order one's), in order
    state: dict = {}
    changed = []
    for s in snaps:
        r = update(state.get(s["id"]), s["score"], s["num_comments"], s["observed_at"], TTL)
        state[s["id"]] = r.state
        if r.changed:
            changed.append(s["id"])
    assert [pid for pid, _ in result.mirror] == changed
    assert len(changed) < len(snaps)  # the script has duplicates and out-of-order observations


def test_the_sentiment_cache_is_used_when_the_velocity_entry_is_gone(monkeypatch):
    e = enricher()
    e.live([snapshot_fields(snapshot("x1", NOW, 1, 0, title="Terrible awful bug"))], 0)
    e.velocity.partitions[0].clear()  # the entry expired; the cached sentiment stays
    monkeypatch.setattr(sentiment, "compound", lambda text: pytest.fail("VADER ran again"))
    result = e.live([snapshot_fields(snapshot("x1", NOW + 60, 5, 0))], 0)
    assert orjson.loads(result.observations[0])["sentiment"] < 0
    assert "sentiment" not in result.changes


def test_a_failing_element_is_returned_alone_and_leaves_no_state(monkeypatch):
    e = enricher()
    good = snapshot_fields(snapshot("ok1", NOW, 1, 0))
    bad = snapshot_fields(snapshot("boom", NOW, 1, 0, title="explode"))
    real = sentiment.compound

    def compound(text: str) -> float:
        if text == "explode":
            raise RuntimeError("a defect")
        return real(text)

    monkeypatch.setattr(sentiment, "compound", compound)
    result = e.live([good, bad, good | {"observed_at": NOW + 60}], 0)
    assert [i for i, _ in result.failed] == [1]
    assert len(result.observations) == 2
    assert e.velocity.get_many(0, [b"boom"]) == [None] and e.sentiment.get_many(0, [b"boom"]) == [None]
    assert e.velocity.get_many(0, [b"ok1"])[0] is not None


def test_an_environmental_failure_propagates_with_nothing_written():
    class Failing(MemoryTable):
        def write(self, partition, changes):
            raise OSError("No space left on device")

    e = Enricher(CONFIG, Failing(), Failing())
    with pytest.raises(OSError):
        e.live([snapshot_fields(snapshot("a", NOW, 1, 0))], 0)
    assert len(e.stats) == 0


def test_historical_has_sentiment_and_no_velocity_and_touches_no_state():
    e = enricher()
    snap = snapshot_fields(snapshot("h1", NOW - 86400 * 400, 900, 300, title="Great news", source="backfill"))
    result = e.historical([snap])
    obs = orjson.loads(result.observations[0])
    assert obs["sentiment"] == pytest.approx(sentiment.compound("Great news"))
    assert obs["has_velocity"] is False and obs["is_trending"] is False and obs["score_velocity"] == 0.0
    assert obs["trending_score"] == pytest.approx(trending.trending_score(0.0, 300, obs["sentiment"], CONFIG.trending))
    assert e.velocity.partitions == {} and e.sentiment.partitions == {} and len(e.stats) == 0
