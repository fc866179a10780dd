"""Enrichment over a batch of post snapshots (docs/design.md §4).

`Enricher.live` takes the validated snapshots of one source message, all of one partition, in
their order, and in one pass:
1. reads the velocity entries of all their posts at once (one multi-get), and the sentiment
   cache only for the posts without an entry;
2. per snapshot, in order: sentiment (the entry's, else the cache's, else VADER once), the
   velocity update, the trending score, the observation's JSON. Later snapshots of the same
   post in the batch see the earlier ones' state;
3. writes the batch's state changes, one write per table (sentiment first, then velocity),
   and only then folds the sums into the stats and lists the entries for the Redis mirror.

A snapshot whose enrichment raises (a defect, not an environmental failure) is returned in
`failed` and leaves no trace in the state; the others go on. A read or write of the state that
raises propagates, nothing having been written (the caller retries the message).

`Enricher.historical` is the backfill's path: sentiment by VADER, no velocity, never trending,
no state touched.

The results are exactly those of the per-event path this replaced: tests/unit/test_enrich.py
checks a batch against the same snapshots enriched one message each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.analytics import sentiment, trending, velocity
from streams.deadletter import is_environmental
from streams.processing.state import Table, read_json
from streams.processing.stats import StatsAccumulator
from streams.records import encode_observation

Changes = dict[bytes, bytes | None]


@dataclass
class Enriched:
    """What one message's snapshots became."""

    observations: list[bytes] = field(default_factory=list)  # in the snapshots' order
    failed: list[tuple[int, Exception]] = field(default_factory=list)  # (index in the batch, error)
    changes: dict[str, Changes] = field(default_factory=dict)  # table name -> key -> value bytes
    mirror: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # post id -> velocity entry
    seen: int = 0  # comments whose id their post's entry already held (streams.processing.comments)


@dataclass(frozen=True)
class EnrichConfig:
    trending: trending.TrendingConfig
    selftext_chars: int  # SENTIMENT_SELFTEXT_CHARS
    velocity_ttl_s: float  # VELOCITY_TTL_HOURS in seconds


class Enricher:
    VELOCITY = "velocity"
    SENTIMENT = "sentiment"

    def __init__(self, config: EnrichConfig, velocity_table: Table, sentiment_table: Table) -> None:
        self.config = config
        self.velocity = velocity_table
        self.sentiment = sentiment_table
        self.stats = StatsAccumulator()

    def _vader(self, snap: dict) -> float:
        text = sentiment.sentiment_text(snap["title"], snap["selftext"], self.config.selftext_chars)
        return sentiment.compound(text)

    def live(self, snaps: Sequence[dict], partition: int) -> Enriched:
        cfg = self.config
        keys = list({s["id"].encode(): None for s in snaps})
        entries = read_json(self.velocity, partition, keys)
        misses = [k for k, v in entries.items() if v is None or "sentiment" not in v]
        cached: dict[bytes, float] = {}
        if misses:
            for k, v in zip(misses, self.sentiment.get_many(partition, misses), strict=True):
                if v is not None:
                    cached[k] = float(orjson.loads(v)["s"])
        out = Enriched()
        vel_changes: Changes = {}
        sent_changes: Changes = {}
        stats: list[tuple[str, float, bool, float, float]] = []
        for i, snap in enumerate(snaps):
            try:
                key = snap["id"].encode()
                raw = entries[key]
                prev = velocity.VelocityState.from_dict(raw) if raw else None
                computed = False
                if raw is not None and "sentiment" in raw:
                    compound = float(raw["sentiment"])
                elif key in cached:
                    compound = cached[key]
                else:
                    compound, computed = self._vader(snap), True
                result = velocity.update(
                    prev, snap["score"], snap["num_comments"], snap["observed_at"], cfg.velocity_ttl_s
                )
                score = trending.trending_score(result.score_velocity, snap["num_comments"], compound, cfg.trending)
                observation = encode_observation(
                    snap,
                    sentiment=compound,
                    score_velocity=result.score_velocity,
                    comment_velocity=result.comment_velocity,
                    trending_score=score,
                    is_trending=trending.is_trending(score, cfg.trending),
                    has_velocity=result.has_velocity,
                )
                state = None
                if result.changed:
                    state = result.state.to_dict()
                    state["sentiment"] = compound
                    encoded = orjson.dumps(state)
            except Exception as exc:
                if is_environmental(exc):
                    raise
                out.failed.append((i, exc))
                continue
            # nothing below can fail: the element's state changes are kept together
            out.observations.append(observation)
            if computed:
                cached[key] = compound
                sent_changes[key] = orjson.dumps({"s": compound, "t": snap["observed_at"]})
            if state is not None:
                entries[key] = state
                vel_changes[key] = encoded
                out.mirror.append((snap["id"], state))
            if result.outcome is not velocity.Outcome.DUPLICATE:
                sv = result.score_velocity if result.has_velocity else 0.0
                stats.append((snap["subreddit"], snap["observed_at"], computed, compound, sv))
        if sent_changes:
            self.sentiment.write(partition, sent_changes)
            out.changes[self.SENTIMENT] = sent_changes
        if vel_changes:
            self.velocity.write(partition, vel_changes)
            out.changes[self.VELOCITY] = vel_changes
        add = self.stats.add
        for sub, at, new_post, compound, sv in stats:
            add(sub, at, new_post=new_post, sentiment=compound, score_velocity=sv)
        return out

    def historical(self, snaps: Sequence[dict]) -> Enriched:
        cfg = self.config
        out = Enriched()
        for i, snap in enumerate(snaps):
            try:
                compound = self._vader(snap)
                score = trending.trending_score(0.0, snap["num_comments"], compound, cfg.trending)
                out.observations.append(
                    encode_observation(
                        snap,
                        sentiment=compound,
                        score_velocity=0.0,
                        comment_velocity=0.0,
                        trending_score=score,
                        is_trending=False,
                        has_velocity=False,
                    )
                )
            except Exception as exc:
                if is_environmental(exc):
                    raise
                out.failed.append((i, exc))
        return out
