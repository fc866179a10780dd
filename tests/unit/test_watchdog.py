from faust.types import TP

from streams.offsets import OK, RESEEK, WAIT, GapTracker, assess, watched


def test_caught_up_or_nothing_fetched_is_ok():
    assert assess(None, 0, False, None) == (OK, None)
    assert assess(10, 10, False, (10, 2)) == (OK, None)  # position = next needed: all fetched is done
    assert assess(5, 10, False, None) == (OK, None)  # re-seeked behind the commit


def test_a_record_being_processed_or_done_is_not_lost():
    assert assess(100, 10, True, (10, 2)) == (OK, None)


def test_three_checks_without_the_record_reseek():
    verdict, seen = assess(100, 10, False, None)
    assert (verdict, seen) == (WAIT, (10, 1))
    verdict, seen = assess(100, 10, False, seen)
    assert (verdict, seen) == (WAIT, (10, 2))
    assert assess(100, 10, False, seen) == (RESEEK, None)


def test_progress_resets_the_strikes():
    _, seen = assess(100, 10, False, None)
    _, seen = assess(100, 10, False, seen)
    assert assess(100, 12, False, seen) == (WAIT, (12, 1))


def test_changelogs_and_the_assignor_topic_are_not_watched():
    assert watched("reddit.posts") and watched("app-subreddit-stats")
    assert not watched("app-velocity-changelog") and not watched("app-__assignor-__leader")


TP0 = TP("reddit.posts", 0)


def test_gap_tracker_delivers_in_order_records():
    g = GapTracker()
    g.reset(TP0, 5)
    assert [g.admit(TP0, o) for o in (5, 6, 7)] == [None, None, None]
    assert g.expected[TP0] == 8
    assert g.admit(TP0, 6) is None and g.expected[TP0] == 8  # a redelivery: faust drops it itself


def test_gap_tracker_holds_a_record_past_the_expected_offset_and_asks_for_a_refetch():
    g = GapTracker()
    g.reset(TP0, 3)
    assert g.admit(TP0, 9) == 3  # stale prefetch: re-fetch from 3
    assert g.admit(TP0, 3) is None  # the re-fetch starts where expected
    assert g.admit(TP0, 4) is None


def test_gap_tracker_lets_a_real_gap_through_after_one_refetch():
    g = GapTracker()
    g.reset(TP0, 3)
    assert g.admit(TP0, 5) == 3  # offsets 3-4 are a transaction marker, say
    assert g.admit(TP0, 5) is None  # same record again after the re-fetch: a real gap
    assert g.expected[TP0] == 6


def test_gap_tracker_without_an_expected_offset_takes_what_comes():
    g = GapTracker()
    assert g.admit(TP0, 42) is None and g.expected[TP0] == 43
    g.reset(TP0, None)
    assert TP0 not in g.expected
    g.reset(TP0, 1)
    g.forget([TP0])
    assert TP0 not in g.expected
