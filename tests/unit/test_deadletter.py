import json

from streams.deadletter import envelope, original_bytes
from streams.records import DeadLetter, InvalidMessage, encode


def test_envelope_keeps_utf8_payload_as_text():
    dl = envelope(
        topic="reddit.posts",
        partition=3,
        offset=42,
        key=b"abc",
        value=b'{"id": 1}',
        error=InvalidMessage("field 'id' must be str"),
        now=100.0,
        worker="w",
    )
    assert dl.payload == '{"id": 1}' and dl.payload_encoding == "utf-8"
    assert dl.key == "abc" and dl.partition == 3 and dl.offset == 42
    assert dl.error_type == "InvalidMessage" and "must be str" in dl.error
    assert original_bytes(dl) == b'{"id": 1}'


def test_envelope_keeps_binary_payload_as_base64():
    raw = bytes(range(256))
    dl = envelope(topic="t", partition=0, offset=0, key=None, value=raw, error=ValueError("x"))
    assert dl.payload_encoding == "base64" and dl.key is None
    assert original_bytes(dl) == raw


def test_envelope_of_a_tombstone():
    dl = envelope(topic="t", partition=0, offset=0, key="k", value=None, error=ValueError("x"))
    assert original_bytes(dl) is None


def test_envelope_round_trips_as_json():
    dl = envelope(topic="t", partition=1, offset=2, key="k", value=b"\xff", error=KeyError("y"))
    back = DeadLetter.from_data(json.loads(encode(dl)))
    assert original_bytes(back) == b"\xff" and back.error_type == "KeyError"


def test_environmental_failures_are_retried_not_dead_lettered():
    from streams.deadletter import is_environmental

    assert is_environmental(OSError(28, "No space left on device"))
    assert is_environmental(Exception("IO error: No space left on device: While appending to file: x.log"))
    assert not is_environmental(ValueError("field 'score' must be int"))
    assert not is_environmental(KeyError("id"))
