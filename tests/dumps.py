"""Dump files like the public Reddit archives, generated for tests and the backfill bench.

Two generations: `old` (Pushshift: `created_utc` as a string, no `upvote_ratio`,
`retrieved_on`) and `new` (Arctic Shift: numbers, `upvote_ratio`, `retrieved_utc` and a
`_meta.retrieved_2nd_on` second fetch). Written with a 2 GiB zstd window (`--long=31`, content
size unknown) as the real dumps are, which the default decompressor refuses.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import zstandard

TITLES = [
    "Ünïcode 🐍 release notes: wonderful work",
    "This bug is terrible and awful",
    "Ask: how do you test streams?",
    "数据工程 and Kafka",
    "Great news, love it!",
    "Neutral post number",
]


def submission(i: int, *, generation: str, sub: str, created: float, prefix: str = "d") -> dict:
    rnd = random.Random(i)
    score, comments = rnd.randint(0, 5000), rnd.randint(0, 900)
    base = {
        "id": f"{prefix}{i:x}",
        "subreddit": sub,
        "title": f"{TITLES[i % len(TITLES)]} #{i}",
        "selftext": ("body ✓ " * rnd.randint(0, 40)).strip(),
        "author": "[deleted]" if i % 17 == 0 else f"user{i % 97}",
        "score": score,
        "num_comments": comments,
        "url": f"https://example.org/{i}",
        "permalink": f"/r/{sub}/comments/{prefix}{i:x}/",
        "over_18": i % 23 == 0,
    }
    if generation == "old":
        return {**base, "created_utc": str(int(created)), "retrieved_on": int(created) + 86400}
    return {
        **base,
        "name": f"t3_{prefix}{i:x}",
        "created_utc": created,
        "upvote_ratio": round(rnd.random(), 2),
        "retrieved_utc": int(created) + 3600,
        "_meta": {"retrieved_2nd_on": int(created) + 7 * 86400},
    }


def expected(line: dict, selftext_max: int = 2000) -> dict:
    """What the mapping must make of `line` (an independent statement of the documented rules)."""
    created = float(line["created_utc"])
    observed = line.get("_meta", {}).get("retrieved_2nd_on") or line.get("retrieved_on") or line.get("retrieved_utc")
    return {
        "id": line["id"],
        "subreddit": line["subreddit"],
        "title": line["title"],
        "selftext": line["selftext"][:selftext_max],
        "author": None if line["author"] == "[deleted]" else line["author"],
        "created_utc": created,
        "observed_at": float(observed or created),
        "score": line["score"],
        "num_comments": line["num_comments"],
        "upvote_ratio": line.get("upvote_ratio", 1.0),
        "url": line["url"],
        "permalink": line["permalink"],
        "over_18": line["over_18"],
        "source": "backfill",
    }


BODIES = [
    "This is wonderful, thank you! 🎉",
    "Terrible idea, it broke everything.",
    "Ünïcode reply: 数据 and Kafka",
    "[deleted]",
    "[removed]",
    "ok",
]


def comment(i: int, *, generation: str, sub: str, created: float, post: str, parent: str | None = None) -> dict:
    """A line of an `RC_` / `<name>_comments` dump, in either generation (`old`: Pushshift, numbers as
    strings where it had them, `retrieved_on`; `new`: Arctic Shift, numbers, `name`, `_meta`)."""
    body = BODIES[i % len(BODIES)]
    gone = body in ("[deleted]", "[removed]")
    base = {
        "id": f"c{i:x}",
        "link_id": f"t3_{post}",
        "parent_id": parent or f"t3_{post}",
        "subreddit": sub,
        "body": body if i % 7 else body + " " + "long " * 3000,
        "author": "[deleted]" if gone or i % 13 == 0 else f"commenter{i % 31}",
        "score": (i * 7) % 50 - 5,
        "controversiality": 0,
        "gilded": 0,
        "distinguished": None,
        "edited": False,
    }
    if generation == "old":
        return {**base, "created_utc": str(int(created)), "retrieved_on": int(created) + 86400, "ups": base["score"]}
    return {
        **base,
        "name": f"t1_c{i:x}",
        "created_utc": int(created),
        "retrieved_on": int(created) + 3600,
        "_meta": {"retrieved_2nd_on": int(created) + 86400},
        "subreddit_id": "t5_2qh0y",
        "total_awards_received": 0,
    }


def expected_comment(line: dict, body_max: int = 10_000) -> dict:
    """What the mapping must make of a comment line (an independent statement of the documented rules)."""
    created = float(line["created_utc"])
    observed = line.get("_meta", {}).get("retrieved_2nd_on") or line.get("retrieved_on")
    body = line["body"]
    return {
        "id": line["id"],
        "post_id": line["link_id"][3:],
        "parent_id": line["parent_id"],
        "subreddit": line["subreddit"],
        "author": None if line["author"] == "[deleted]" else line["author"],
        "body": None if body in ("[deleted]", "[removed]") else body[:body_max],
        "score": int(line["score"]),
        "created_utc": created,
        "observed_at": float(observed or created),
        "source": "backfill",
    }


def lines_of(rows: Iterable[dict | bytes]) -> Iterator[bytes]:
    for row in rows:
        yield row if isinstance(row, bytes) else json.dumps(row, ensure_ascii=False).encode()


def write_zst(path: Path, rows: Iterable[dict | bytes], *, long_window: bool = True) -> Path:
    params = zstandard.ZstdCompressionParameters.from_level(
        3, window_log=31 if long_window else 20, enable_ldm=long_window, write_content_size=False
    )
    with open(path, "wb") as f, zstandard.ZstdCompressor(compression_params=params).stream_writer(f) as w:
        for line in lines_of(rows):
            w.write(line + b"\n")
    return path


def write_gz(path: Path, rows: Iterable[dict | bytes]) -> Path:
    with gzip.open(path, "wb") as f:
        for line in lines_of(rows):
            f.write(line + b"\n")
    return path


def write_plain(path: Path, rows: Iterable[dict | bytes]) -> Path:
    with open(path, "wb") as f:
        for line in lines_of(rows):
            f.write(line + b"\n")
    return path


BAD_LINES = [  # (bytes, reason)
    (b"{not json", "not_json"),
    (b'["an", "array"]', "not_object"),
    (b'{"title": "no id", "subreddit": "python", "created_utc": 1}', "missing_id"),
    (b'{"id": "x1", "subreddit": "python", "created_utc": 1}', "missing_title"),
    (b'{"id": "x2", "title": "t", "created_utc": 1}', "missing_subreddit"),
    (b'{"id": "x3", "title": "t", "subreddit": "python", "created_utc": "yesterday"}', "bad_type"),
    (b'{"id": "x4", "title": 5, "subreddit": "python", "created_utc": 1}', "bad_type"),
    (b'{"id": "NOT-ID", "title": "t", "subreddit": "python", "created_utc": 1}', "bad_id"),
    ('{"id": "x5", "title": "trunc\xc3'.encode("latin-1"), "not_json"),
]


# the selection the backfill tests ask for (tests/integration/test_backfill.py, test_archive_backfill.py):
# two of three subreddits in any case, 2.5 of 10 days
SELECTION = ("--subreddits", "rust,PYTHON", "--since", "2026-10-03", "--until", "2026-10-05T12:00:00")
SELECTION_START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()


def selected(records: Iterable[dict]) -> set[str]:
    """The ids of `records` that SELECTION selects."""
    lo, hi = datetime(2026, 10, 3, tzinfo=UTC).timestamp(), datetime(2026, 10, 5, 12, tzinfo=UTC).timestamp()
    return {
        r["id"] for r in records if r["subreddit"].lower() in ("rust", "python") and lo <= float(r["created_utc"]) < hi
    }
