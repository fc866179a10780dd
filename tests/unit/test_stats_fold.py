"""The per-subreddit sums and their fold (streams.processing.stats), no broker."""

from __future__ import annotations

import pytest

from streams.processing.stats import EMPTY, StatsAccumulator, fold, summary


def test_sums_per_subreddit_and_minute_then_fold_and_summary():
    acc = StatsAccumulator()
    acc.add("python", 120.5, new_post=True, sentiment=0.5, score_velocity=2.0)
    acc.add("python", 179.9, new_post=False, sentiment=0.9, score_velocity=1.0)
    acc.add("python", 180.0, new_post=True, sentiment=-0.5, score_velocity=0.0)
    acc.add("rust", 121.0, new_post=True, sentiment=0.25, score_velocity=3.0)
    deltas = {(d.subreddit, d.observed_at): d for d in acc.drain()}
    assert len(acc) == 0 and acc.drain() == []
    assert set(deltas) == {("python", 120.0), ("python", 180.0), ("rust", 120.0)}
    first = deltas["python", 120.0]
    assert (first.posts, first.sentiment_sum, first.score_velocity_sum, first.observations) == (1, 0.5, 3.0, 2)
    hour = dict(EMPTY)
    for d in deltas.values():
        if d.subreddit == "python":
            hour = fold(hour, d)
    s = summary(hour)
    assert s == {"posts": 2, "observations": 3, "mean_sentiment": pytest.approx(0.0), "score_velocity_sum": 3.0}
    assert summary(dict(EMPTY))["mean_sentiment"] is None
