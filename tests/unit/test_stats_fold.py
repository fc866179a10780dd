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
    s = summary(hour, 60.0)
    assert s == {
        "posts": 2,
        "observations": 3,
        "mean_sentiment": pytest.approx(0.0),
        "score_velocity_sum": 3.0,
        "comments": 0,
        "comments_per_minute": 0.0,
        "mean_comment_sentiment": None,
    }
    assert summary(dict(EMPTY), 1.0)["mean_sentiment"] is None


def test_comments_count_per_minute_and_their_mean_leaves_out_gone_bodies():
    acc = StatsAccumulator()
    acc.add_comment("python", 125.0, 0.5)
    acc.add_comment("python", 130.0, None)  # a removed body: counted, no sentiment
    acc.add_comment("python", 170.0, -0.25)
    acc.add("python", 150.0, new_post=True, sentiment=0.1, score_velocity=0.0)
    (delta,) = acc.drain()
    assert (delta.comments, delta.comment_sentiment_sum, delta.comment_sentiments) == (3, 0.25, 2)
    minute = fold(dict(EMPTY), delta)
    s = summary(minute, 1.0)
    assert s["comments"] == 3 and s["comments_per_minute"] == 3.0
    assert s["mean_comment_sentiment"] == pytest.approx(0.125)
    assert summary(minute, 60.0)["comments_per_minute"] == pytest.approx(0.05)


def test_a_window_from_before_the_comments_folds_from_zero():
    old = {"posts": 1, "sentiment_sum": 0.5, "score_velocity_sum": 0.0, "observations": 1}
    acc = StatsAccumulator()
    acc.add_comment("python", 60.0, 0.5)
    (delta,) = acc.drain()
    folded = fold(old, delta)
    assert folded["posts"] == 1 and folded["comments"] == 1 and folded["comment_sentiment_sum"] == 0.5
