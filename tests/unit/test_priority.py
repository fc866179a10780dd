from streams.analytics.priority import is_trending, refresh_interval

TIERS = ((1.0, 120.0), (6.0, 300.0), (24.0, 900.0), (48.0, 3600.0))


def test_interval_by_age_tier():
    assert refresh_interval(0, TIERS) == 120
    assert refresh_interval(3599, TIERS) == 120
    assert refresh_interval(3600, TIERS) == 300
    assert refresh_interval(7 * 3600, TIERS) == 900
    assert refresh_interval(47.9 * 3600, TIERS) == 3600


def test_trending_posts_refresh_faster():
    assert refresh_interval(600, TIERS, trending=True, trending_factor=0.5) == 60
    assert refresh_interval(2 * 3600, TIERS, trending=True, trending_factor=0.25) == 75


def test_past_the_last_tier_is_not_tracked():
    assert refresh_interval(48 * 3600, TIERS) is None
    assert refresh_interval(100 * 3600, TIERS, trending=True) is None


def test_negative_age_counts_as_new():
    assert refresh_interval(-5, TIERS) == 120


def test_is_trending_uses_upvotes_per_minute():
    assert is_trending(10, 0.0, 70, 60.0, velocity_threshold=50)  # 60/min
    assert not is_trending(10, 0.0, 40, 60.0, velocity_threshold=50)  # 30/min
    assert not is_trending(None, None, 500, 60.0, velocity_threshold=1)  # no previous observation
    assert not is_trending(10, 60.0, 500, 30.0, velocity_threshold=1)  # out of order
