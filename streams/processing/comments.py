"""Processing over a batch of comments (docs/design.md §4): sentiment once per comment id, and
each post's conversation in one changelog-backed table.

`CommentProcessor.live` takes the validated comments of one source message, all of one
partition (the comments topic is keyed by the POST id, so a post's comments share its
partition and its state), and in one pass:
1. reads the entries of all their posts at once (one multi-get of the `post_comments` table);
2. per comment, in order: a comment id the post's entry already holds is a duplicate (a
   redelivery after a crash, a re-poll): its stored sentiment goes out again, nothing is
   counted. Otherwise VADER's compound of the body's first `sentiment_chars` characters (None
   for a removed or deleted body, left out of every mean), and the post's entry counts it;
3. writes the batch's changed entries in one write, then folds the new comments into the
   per-subreddit sums (not the backfill's: its minutes are long past).

A post's entry (JSON) is one key, so a comment is counted and remembered in one write: a crash
anywhere leaves the count and the ids in step, and a redelivered comment is counted once.
    {"n": comments seen, "ns": those with a sentiment, "ss": their sentiment sum,
     "last": the newest comment's created_utc, "m": {minute: comments} of the rate window,
     "ids": {comment id: its sentiment}}
At most `ids_per_post` ids are remembered per post (each costs the entry ~20 bytes); a post
with more (a megathread) keeps counting its later comments without remembering them, and those
are counted again if they are redelivered — the one documented inexactness.

Comments per minute are measured from the stream itself (the comments' own created_utc), not
from Reddit's num_comments: the comments of the RATE_WINDOW_S before the post's newest one,
divided by its minutes. Order-independent: comments arriving in any order give the same entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from streams.analytics import sentiment
from streams.deadletter import is_environmental
from streams.processing.enrich import Changes, Enriched
from streams.processing.state import Table, read_json
from streams.processing.stats import StatsAccumulator
from streams.records import encode_comment_observation

RATE_WINDOW_S = 600.0  # comments per minute: over the ten minutes up to the post's newest comment


@dataclass(frozen=True)
class CommentConfig:
    sentiment_chars: int  # COMMENT_SENTIMENT_CHARS
    ids_per_post: int  # COMMENT_IDS_PER_POST


def new_entry() -> dict[str, Any]:
    return {"n": 0, "ns": 0, "ss": 0.0, "last": 0.0, "m": {}, "ids": {}}


def count(entry: dict[str, Any], created_utc: float, compound: float | None) -> None:
    """Count one new comment into a post's entry (in place)."""
    entry["n"] += 1
    if compound is not None:
        entry["ns"] += 1
        entry["ss"] += compound
    last = entry["last"] = max(entry["last"], created_utc)
    first_minute = last - last % 60.0 - (RATE_WINDOW_S - 60.0)
    minute = created_utc - created_utc % 60.0
    buckets: dict[str, int] = entry["m"]
    if minute >= first_minute:
        key = str(int(minute))
        buckets[key] = buckets.get(key, 0) + 1
    for key in [k for k in buckets if int(k) < first_minute]:
        del buckets[key]


def summary(entry: dict[str, Any] | None) -> dict[str, Any]:
    """A post's live comment figures, from its entry (None: no comment seen)."""
    if entry is None:
        return {"comments_seen": 0, "mean_sentiment": None, "comments_per_minute": 0.0, "last_comment_at": None}
    return {
        "comments_seen": entry["n"],
        "mean_sentiment": entry["ss"] / entry["ns"] if entry["ns"] else None,
        "comments_per_minute": sum(entry["m"].values()) / (RATE_WINDOW_S / 60.0),
        "last_comment_at": entry["last"] or None,
    }


class CommentProcessor:
    TABLE = "post_comments"

    def __init__(self, config: CommentConfig, table: Table, stats: StatsAccumulator) -> None:
        self.config = config
        self.table = table
        self.stats = stats

    def compound(self, body: str | None) -> float | None:
        if body is None:
            return None
        return sentiment.compound(body[: self.config.sentiment_chars])

    def live(self, comments: Sequence[dict], partition: int) -> Enriched:
        keys = list({c["post_id"].encode(): None for c in comments})
        # the entries as read (parsed from their bytes: this batch's own objects, changed in place)
        entries = read_json(self.table, partition, keys)
        out = Enriched()
        changed: dict[bytes, dict] = {}
        new: list[tuple[str, float, float | None]] = []
        for i, c in enumerate(comments):
            try:
                key = c["post_id"].encode()
                entry = entries[key]
                cid = c["id"]
                seen = entry is not None and cid in entry["ids"]
                compound = entry["ids"][cid] if seen else self.compound(c["body"])  # type: ignore[index]
                observation = encode_comment_observation(c, compound)
            except Exception as exc:
                if is_environmental(exc):
                    raise
                out.failed.append((i, exc))
                continue
            # nothing below can fail: the comment is counted and remembered together
            out.observations.append(observation)
            if seen:
                out.seen += 1
                continue
            if entry is None:
                entry = entries[key] = new_entry()
            count(entry, c["created_utc"], compound)
            if len(entry["ids"]) < self.config.ids_per_post:
                entry["ids"][cid] = compound
            changed[key] = entry
            if c["source"] != "backfill":
                new.append((c["subreddit"], c["observed_at"], compound))
        if changed:
            changes: Changes = {k: orjson.dumps(v) for k, v in changed.items()}
            self.table.write(partition, changes)
            out.changes[self.TABLE] = changes
        for sub, at, compound in new:
            self.stats.add_comment(sub, at, compound)
        return out
