from types import SimpleNamespace

from streams.ingest.convert import to_snapshot
from streams.records import decode_snapshot, encode


def _json(**over):
    d = {
        "id": "abc123",
        "name": "t3_abc123",
        "subreddit": "python",
        "title": "Hello",
        "selftext": "x" * 50,
        "author": "alice",
        "created_utc": 1700000000.0,
        "score": 42,
        "num_comments": 7,
        "upvote_ratio": 0.93,
        "url": "https://example.org",
        "permalink": "/r/python/comments/abc123/hello/",
        "over_18": False,
    }
    d.update(over)
    return d


def test_raw_json_to_snapshot_round_trips():
    snap = to_snapshot(_json(), observed_at=1700000100.0, source="new", selftext_max=10)
    assert snap.selftext == "x" * 10
    back = decode_snapshot(encode(snap))
    assert back == snap
    assert back.id == "abc123" and back.source == "new" and back.score == 42 and back.author == "alice"


def test_deleted_author_is_null():
    assert to_snapshot(_json(author="[deleted]"), 1.7e9, "refresh", 100).author is None
    assert to_snapshot(_json(author=None), 1.7e9, "refresh", 100).author is None


def test_submission_like_object():
    sub = SimpleNamespace(display_name="Python")
    post = SimpleNamespace(**{**_json(), "subreddit": sub, "author": "bob"})
    snap = to_snapshot(post, 1700000100.0, "refresh", 2000)
    assert snap.subreddit == "Python" and snap.author == "bob" and snap.source == "refresh"


def test_out_of_range_values_are_clamped():
    snap = to_snapshot(_json(upvote_ratio=1.2, num_comments=-1), 1.7e9, "new", 10)
    assert snap.upvote_ratio == 1.0 and snap.num_comments == 0
