import pytest

from streams.analytics.velocity import MIN_MINUTES, Outcome, VelocityState, is_expired, update

TTL = 25 * 3600.0


def test_first_observation_is_a_baseline_with_zero_velocity():
    r = update(None, 10, 2, 1000.0, TTL)
    assert r.outcome is Outcome.FIRST and r.changed and not r.has_velocity
    assert r.state == VelocityState(10, 2, 1000.0, 0.0, 0.0)
    assert r.score_velocity == 0.0 and r.comment_velocity == 0.0


def test_velocity_is_per_minute():
    base = update(None, 10, 2, 1000.0, TTL).state
    r = update(base, 40, 8, 1000.0 + 120.0, TTL)  # two minutes later
    assert r.outcome is Outcome.UPDATED and r.has_velocity
    assert r.score_velocity == pytest.approx(15.0)
    assert r.comment_velocity == pytest.approx(3.0)
    assert r.state.observed_at == 1120.0 and r.state.score == 40


def test_negative_velocity_when_score_drops():
    base = VelocityState(100, 5, 0.0)
    r = update(base, 70, 5, 60.0, TTL)
    assert r.score_velocity == pytest.approx(-30.0)


def test_tiny_time_delta_is_floored_at_one_second():
    base = VelocityState(0, 0, 1000.0)
    r = update(base, 5, 1, 1000.25, TTL)  # a quarter of a second later
    assert r.score_velocity == pytest.approx(5 / MIN_MINUTES)  # = 300 per minute
    assert r.comment_velocity == pytest.approx(60.0)


def test_same_timestamp_is_a_redelivery_and_changes_nothing():
    base = VelocityState(10, 1, 500.0, score_velocity=4.0, comment_velocity=0.5)
    r = update(base, 999, 99, 500.0, TTL)
    assert r.outcome is Outcome.DUPLICATE and not r.changed
    assert r.state is base
    assert r.score_velocity == 4.0 and r.comment_velocity == 0.5


def test_out_of_order_observation_does_not_move_the_baseline():
    base = VelocityState(50, 5, 1000.0, score_velocity=2.0)
    r = update(base, 40, 4, 900.0, TTL)
    assert r.outcome is Outcome.OUT_OF_ORDER and not r.changed and not r.has_velocity
    assert r.state is base
    assert r.score_velocity == 0.0 and r.comment_velocity == 0.0


def test_baseline_older_than_ttl_is_treated_as_absent():
    base = VelocityState(50, 5, 0.0, score_velocity=9.0)
    r = update(base, 500, 50, TTL + 1.0, TTL)
    assert r.outcome is Outcome.EXPIRED and r.changed and not r.has_velocity
    assert r.state == VelocityState(500, 50, TTL + 1.0)
    assert r.score_velocity == 0.0


def test_baseline_exactly_at_ttl_is_still_valid():
    r = update(VelocityState(0, 0, 0.0), 60, 0, TTL, TTL)
    assert r.outcome is Outcome.UPDATED
    assert r.score_velocity == pytest.approx(60 / (TTL / 60))


def test_state_round_trips_through_dict():
    s = VelocityState(3, 4, 5.5, 1.25, -0.5)
    assert VelocityState.from_dict(s.to_dict()) == s


def test_is_expired_uses_wall_clock_age():
    s = VelocityState(0, 0, 1000.0)
    assert not is_expired(s, 1000.0 + TTL, TTL)
    assert is_expired(s, 1000.0 + TTL + 0.1, TTL)
