from tables.mirror import mirror_fields


def test_mirror_fields_are_the_documented_hash():
    f = mirror_fields(
        {"score": 10, "comments": 2, "observed_at": 1700000000.5, "score_velocity": 1.5, "comment_velocity": -0.25}
    )
    assert f == {
        "score": "10",
        "comments": "2",
        "ts": "1700000000.5",
        "score_velocity": "1.5",
        "comment_velocity": "-0.25",
    }
