from agents.watchdog import OK, RESEEK, WAIT, assess


def test_caught_up_or_nothing_fetched_is_ok():
    assert assess(None, None, None, False) == (OK, None)
    assert assess(11, 10, (5, 1), False) == (OK, None)   # position = done + 1: all fetched is done
    assert assess(5, 10, None, False) == (OK, None)      # re-seeked behind what was done


def test_a_busy_agent_is_not_a_stall():
    assert assess(100, 10, (10, 1), True) == (WAIT, (10, 1))


def test_two_checks_without_progress_reseek():
    verdict, seen = assess(100, 10, None, False)
    assert verdict == WAIT and seen == (10, 1)
    assert assess(100, 10, seen, False) == (RESEEK, None)


def test_progress_resets_the_strikes():
    verdict, seen = assess(100, 10, (10, 1), False)
    assert verdict == RESEEK
    verdict, seen = assess(100, 20, (10, 1), False)  # moved since the last check
    assert verdict == WAIT and seen == (20, 1)


def test_a_partition_never_processed_is_reseeked_after_two_checks():
    verdict, seen = assess(240, None, None, False)
    assert verdict == WAIT and seen == (None, 1)
    assert assess(240, None, seen, False) == (RESEEK, None)


def test_nothing_fetched_beyond_the_start_is_ok():
    assert assess(0, None, None, False) == (OK, None)
    assert assess(40, None, None, False, start=40) == (OK, None)  # at the group's committed offset
    assert assess(41, None, None, False, start=40)[0] == WAIT
