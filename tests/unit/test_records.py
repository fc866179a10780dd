import json

import pytest

from streams.records import InvalidMessage, decode_snapshot, encode

GOOD = {
    "id": "t3_abc12",
    "subreddit": "python",
    "title": "hello",
    "created_utc": 1700000000,
    "observed_at": 1700000100.5,
    "score": 5,
    "num_comments": 1,
    "upvote_ratio": 1,
    "author": None,
    "selftext": "body",
    "over_18": False,
    "source": "refresh",
}


def test_decodes_and_normalises():
    s = decode_snapshot(json.dumps(GOOD).encode())
    assert s.id == "abc12"  # t3_ prefix removed
    assert s.created_utc == 1700000000.0 and isinstance(s.created_utc, float)
    assert s.author is None and s.source == "refresh"
    assert decode_snapshot(encode(s)) == s  # round trip


@pytest.mark.parametrize(
    "raw,fragment",
    [
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"not json", "not JSON"),
        (b"[1,2]", "JSON object"),
        (None, "tombstone"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "id"}).encode(), "missing field 'id'"),
        (json.dumps({**GOOD, "score": "12"}).encode(), "'score' must be int"),
        (json.dumps({**GOOD, "score": True}).encode(), "got bool"),
        (json.dumps({**GOOD, "score": 1.5}).encode(), "'score' must be int"),
        (json.dumps({**GOOD, "id": "ABC!"}).encode(), "base-36"),
        (json.dumps({**GOOD, "upvote_ratio": 1.5}).encode(), "outside [0, 1]"),
        (json.dumps({**GOOD, "num_comments": -1}).encode(), "negative"),
        (json.dumps({**GOOD, "source": "other"}).encode(), "'source'"),
        (json.dumps({**GOOD, "author": 5}).encode(), "'author'"),
        # NaN and infinities are not JSON (RFC 8259): refused by the parser, before any field check
        (
            b'{"id":"a","subreddit":"p","title":"t","created_utc":NaN,"observed_at":1,"score":1,'
            b'"num_comments":1,"upvote_ratio":1}',
            "not JSON",
        ),
        (
            b'{"id":"a","subreddit":"p","title":"t","created_utc":1e999,"observed_at":1,"score":1,'
            b'"num_comments":1,"upvote_ratio":1}',
            "not JSON",
        ),
    ],
)
def test_rejects_with_a_reason(raw, fragment):
    with pytest.raises(InvalidMessage) as err:
        decode_snapshot(raw)
    assert fragment in str(err.value)


def test_optional_fields_default():
    minimal = {
        k: GOOD[k]
        for k in ("id", "subreddit", "title", "created_utc", "observed_at", "score", "num_comments", "upvote_ratio")
    }
    s = decode_snapshot(json.dumps(minimal))
    assert s.author is None and s.selftext == "" and s.source == "new" and s.over_18 is False


def test_snapshot_fields_are_the_records_asdict_with_defaults_filled_in():
    from streams.records import snapshot_fields, snapshot_from_dict

    minimal = {
        "id": "t3_abc",
        "subreddit": "python",
        "title": "t",
        "created_utc": 1,
        "observed_at": 2,
        "score": 3,
        "num_comments": 0,
        "upvote_ratio": 1,
    }
    fields = snapshot_fields(minimal)
    assert fields == snapshot_from_dict(minimal).asdict()
    assert fields["id"] == "abc" and fields["author"] is None and fields["source"] == "new"
    assert isinstance(fields["created_utc"], float) and isinstance(fields["upvote_ratio"], float)


def test_every_encode_observation_call_passes_exactly_the_enrichment_fields():
    # encode_observation does not check its keywords per event (the agents' hot path): every
    # call in the code must name exactly the Observation's enrichment fields, and they decode
    import ast
    from pathlib import Path

    import orjson

    from streams.records import ENRICHMENT_FIELDS, decode_snapshot_fields, encode_observation, observation_fields

    root = Path(__file__).resolve().parents[2]
    calls = []
    for folder in ("agents", "streams", "tables", "web"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "encode_observation":
                    calls.append((path.name, node.lineno, {k.arg for k in node.keywords}))
    assert calls, "no call of encode_observation found"
    for name, line, keywords in calls:
        assert keywords == set(ENRICHMENT_FIELDS), f"{name}:{line} passes {sorted(keywords)}"
    snap = decode_snapshot_fields(
        json.dumps(
            {
                "id": "abc1",
                "subreddit": "python",
                "title": "t",
                "created_utc": 1.7e9,
                "observed_at": 1.7e9 + 5,
                "score": 3,
                "upvote_ratio": 0.9,
                "num_comments": 1,
                "source": "new",
            }
        )
    )
    values = {
        "sentiment": 0.5,
        "score_velocity": 1,
        "comment_velocity": 0.0,
        "trending_score": 0.2,
        "is_trending": False,
        "has_velocity": True,
    }
    back_snap, back = observation_fields(orjson.loads(encode_observation(snap, **values)))
    assert back_snap == snap and back == tuple(
        float(values[n]) if ENRICHMENT_FIELDS[n] is float else values[n] for n in ENRICHMENT_FIELDS
    )
