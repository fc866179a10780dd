import pytest

from streams.analytics.trending import TrendingConfig, is_trending, trending_score

CFG = TrendingConfig()


def test_zero_everything_is_zero():
    assert trending_score(0.0, 0, 0.0, CFG) == 0.0


def test_all_terms_saturated_reach_exactly_one():
    # the old system topped out at 0.8 of a "0-1" scale: this one reaches 1
    assert trending_score(1e6, 10**6, -1.0, CFG) == pytest.approx(1.0)


def test_weighted_sum_of_saturated_terms():
    # velocity 5/10 -> 0.5*0.6, comments 50/100 -> 0.5*0.3, |sentiment| 0.25/0.5 -> 0.5*0.1
    assert trending_score(5.0, 50, -0.25, CFG) == pytest.approx(0.5)


def test_negative_velocity_counts_as_zero():
    assert trending_score(-100.0, 0, 0.0, CFG) == 0.0


def test_threshold_is_inclusive():
    cfg = TrendingConfig(threshold=0.5)
    assert is_trending(0.5, cfg) and not is_trending(0.4999, cfg)


def test_weights_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ValueError, match="must sum to 1, they sum to 1.3"):
        TrendingConfig(weight_velocity=0.9)
    assert TrendingConfig(weight_velocity=0.5, weight_comments=0.4).weight_sentiment == 0.1


def test_bounds_are_checked():
    with pytest.raises(ValueError, match="greater than 0"):
        TrendingConfig(velocity_high=0)
    with pytest.raises(ValueError, match="finite"):
        TrendingConfig(comments_high=float("inf"))


def test_analytics_builds_no_settings():
    """streams.analytics is pure: importing it reads no environment and imports neither the
    settings nor the app (a fresh interpreter, so other tests' imports do not hide it)."""
    import subprocess
    import sys

    code = (
        "import sys, streams.analytics.trending, streams.analytics.priority, streams.analytics.sentiment, "
        "streams.analytics.velocity; "
        "bad = [m for m in ('streams.settings', 'streams.app', 'dotenv', 'pydantic_settings') if m in sys.modules]; "
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"TRENDING_THRESHOLD": "x"})
    assert proc.returncode == 0, proc.stderr
