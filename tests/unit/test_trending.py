import pytest

from streams.analytics.trending import TrendingConfig, is_trending, trending_score
from streams.settings import Settings

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


def test_config_comes_from_settings():
    s = Settings.from_mapping(
        {
            "TRENDING_VELOCITY_HIGH": "20",
            "TRENDING_THRESHOLD": "0.7",
            "TRENDING_WEIGHT_VELOCITY": "0.5",
            "TRENDING_WEIGHT_COMMENTS": "0.4",
        }
    )
    cfg = TrendingConfig.from_settings(s)
    assert cfg.velocity_high == 20 and cfg.threshold == 0.7
    assert cfg.weight_velocity + cfg.weight_comments + cfg.weight_sentiment == pytest.approx(1.0)
