"""Scripted post observations and the velocity state they must leave (the reference fold)."""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.analytics.velocity import VelocityState, update
from tests import harness
from tests.kafka_tools import produce_json

TTL = 25 * 3600.0


def snapshot(
    pid: str,
    observed_at: float,
    score: int,
    comments: int,
    *,
    sub: str = "python",
    created: float | None = None,
    title: str = "A fine post about streams",
    source: str = "new",
) -> dict:
    return {
        "id": pid,
        "subreddit": sub,
        "title": title,
        "selftext": "",
        "author": "alice",
        "created_utc": created if created is not None else observed_at - 30,
        "observed_at": observed_at,
        "score": score,
        "num_comments": comments,
        "upvote_ratio": 0.9,
        "url": "https://example.org/x",
        "permalink": f"/r/{sub}/comments/{pid}/",
        "over_18": False,
        "source": source,
    }


def interleaved(
    n_posts: int,
    refreshes: int,
    prefix: str,
    *,
    subs: list[str],
    seed: int,
    now: float,
    chunk: int,
    created_ago: tuple[float, float],
    refresh_gap: tuple[float, float],
    titles: list[str] | None = None,
) -> list[tuple[str, dict]]:
    """(kind, snapshot) in emission order: per chunk of posts their first observations ("new",
    for the posts topic), interleaved with the k-th refresh ("refresh") of the chunk k before.
    Posts were created `created_ago[0]` s ago minus up to `created_ago[1]` s; a refresh comes
    `refresh_gap` s (uniform) after the observation before it; every (id, observed_at) is
    distinct and observed_at a whole millisecond. Titles: one of `titles` and the post's number,
    or "A post about streams <id>"."""
    rnd = random.Random(seed)
    posts = []
    for i in range(n_posts):
        created = round(now - created_ago[0] + rnd.random() * created_ago[1], 3)
        post = {"id": f"{prefix}{i:x}", "created": created, "t": created + 30}
        post.update(score=rnd.randint(1, 50), comments=rnd.randint(0, 5), sub=rnd.choice(subs))
        post["title"] = f"{rnd.choice(titles)} #{i}" if titles else f"A post about streams {post['id']}"
        posts.append(post)
    chunks = [posts[i : i + chunk] for i in range(0, n_posts, chunk)]
    out: list[tuple[str, dict]] = []
    for c in range(len(chunks) + refreshes):
        for k in range(refreshes + 1):
            j = c - k
            if not 0 <= j < len(chunks):
                continue
            kind = "new" if k == 0 else "refresh"
            for p in chunks[j]:
                if k:
                    p["t"] += rnd.uniform(*refresh_gap)
                    p["score"] += rnd.randint(-3, 40)
                    p["comments"] += rnd.randint(0, 5)
                observed = round(p["t"], 3)
                extra = {"sub": p["sub"], "created": p["created"], "title": p["title"], "source": kind}
                out.append((kind, snapshot(p["id"], observed, p["score"], p["comments"], **extra)))
    return out


@dataclass
class Script:
    """First observations go to the posts topic, later ones to the refresh topic."""

    firsts: list[dict] = field(default_factory=list)
    refreshes: list[dict] = field(default_factory=list)

    def expected(self) -> dict[str, VelocityState]:
        state: dict[str, VelocityState] = {}
        for snap in self.firsts + self.refreshes:
            state[snap["id"]] = update(
                state.get(snap["id"]), snap["score"], snap["num_comments"], snap["observed_at"], TTL
            ).state
        return state

    def post_ids(self) -> list[str]:
        return sorted({s["id"] for s in self.firsts})


def scripted(now: float) -> Script:
    """Hand-written cases: in order, out of order, duplicate, after the TTL, tiny delta."""
    s = Script()
    t = now - 600
    # in order, three refreshes
    s.firsts.append(snapshot("inorder1", t, 10, 1))
    s.refreshes += [
        snapshot("inorder1", t + 60, 70, 4, source="refresh"),
        snapshot("inorder1", t + 180, 130, 10, source="refresh"),
        snapshot("inorder1", t + 300, 100, 12, source="refresh"),
    ]
    # out of order: the t+120 observation arrives after t+240 and must not move the baseline
    s.firsts.append(snapshot("outoforder", t, 5, 0))
    s.refreshes += [
        snapshot("outoforder", t + 240, 45, 8, source="refresh"),
        snapshot("outoforder", t + 120, 25, 4, source="refresh"),
    ]
    # duplicate delivery of the same observation
    s.firsts.append(snapshot("dupe1", t, 1, 0))
    s.refreshes += [
        snapshot("dupe1", t + 60, 31, 3, source="refresh"),
        snapshot("dupe1", t + 60, 31, 3, source="refresh"),
    ]
    # baseline older than the TTL: treated as absent, then a fresh velocity
    s.firsts.append(snapshot("afterttl", now - TTL - 7200, 3, 0, created=now - TTL - 7300))
    s.refreshes += [
        snapshot("afterttl", now - 120, 500, 50, source="refresh"),
        snapshot("afterttl", now - 60, 560, 53, source="refresh"),
    ]
    # a quarter-second delta is floored at one second
    s.firsts.append(snapshot("tinydelta", now - 30, 100, 2))
    s.refreshes.append(snapshot("tinydelta", now - 29.75, 102, 2, source="refresh"))
    return s


def random_posts(now: float, n_posts: int, n_refresh: int, seed: int = 7, prefix: str = "p") -> Script:
    rnd = random.Random(seed)
    s = Script()
    for i in range(n_posts):
        pid = f"{prefix}{i:x}"
        t, score, comments = now - 3000 + rnd.random() * 60, rnd.randint(1, 50), rnd.randint(0, 5)
        s.firsts.append(snapshot(pid, t, score, comments, sub=rnd.choice(["python", "rust", "golang"])))
        for _ in range(n_refresh):
            t += rnd.uniform(20, 300)
            score += rnd.randint(-3, 40)
            comments += rnd.randint(0, 5)
            s.refreshes.append(snapshot(pid, t, score, comments, source="refresh"))
    return s


def send(env: Mapping[str, str], topic: str, snaps: list[dict]) -> int:
    """Produce snapshots keyed by post id (tests/kafka_tools.py `produce_json`)."""
    return produce_json(env, topic, snaps)


def _seconds(value: object) -> float:
    """Epoch seconds of the Redis mirror's `ts` (a number) or the API's `observed_at` (ISO 8601 UTC)."""
    if isinstance(value, str) and value.endswith("Z"):
        return datetime.fromisoformat(value[:-1] + "+00:00").timestamp()
    return float(value)  # type: ignore[arg-type]


def matches(got: Mapping, want: VelocityState) -> bool:
    return (
        int(got["score"]) == want.score
        and int(got["comments"]) == want.comments
        and abs(_seconds(got["observed_at"] if "observed_at" in got else got["ts"]) - want.observed_at) < 1e-6
        and abs(float(got["score_velocity"]) - want.score_velocity) < 1e-9
        and abs(float(got["comment_velocity"]) - want.comment_velocity) < 1e-9
    )


def velocity_from_api(worker: harness.Worker, pid: str) -> dict | None:
    from urllib.error import HTTPError

    try:
        return worker.get_json(f"/api/posts/{pid}/velocity/")
    except HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def mismatches(worker: harness.Worker, expected: Mapping[str, VelocityState]) -> list[str]:
    bad = []
    for pid, want in expected.items():
        got = velocity_from_api(worker, pid)
        if got is None or not matches(got, want):
            bad.append(f"{pid}: got {got}, want {want}")
    return bad


def wait_exact(worker: harness.Worker, expected: Mapping[str, VelocityState], timeout: float = 90) -> None:
    last: list[str] = []

    def ok() -> bool:
        nonlocal last
        last = mismatches(worker, expected)
        return not last

    try:
        harness.wait_for(ok, timeout, "the velocity table to match the reference", interval=1.0)
    except AssertionError as exc:
        try:
            partitions = json.dumps(worker.get_json("/debug/partitions/"))
        except Exception as err:  # noqa: BLE001 - diagnostics only
            partitions = repr(err)
        try:
            tasks = json.dumps(
                [
                    t
                    for t in worker.get_json("/debug/tasks/")["tasks"]
                    if any("agents/" in f or "streams/" in f for f in t["stack"])
                ]
            )
        except Exception as err:  # noqa: BLE001 - diagnostics only
            tasks = repr(err)
        raise AssertionError(
            f"{exc}: {len(last)} mismatches, e.g. {last[:5]}\n"
            f"consumer: {partitions}\nour tasks: {tasks}\n{worker.tail(30)}"
        ) from None


def wipe(path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def now() -> float:
    return time.time()


def sink_dead_letter(env: Mapping[str, str], post_id: str, title: str = "forbidden title") -> None:
    """A sink-stage dead letter of post `post_id`: a CHECK constraint refuses its title while the
    post goes through the worker; once it is in dlq_events the constraint is dropped, so that a
    replay of it lands in posts."""
    url = env["DATABASE_URL"]
    harness.query(url, f"ALTER TABLE posts ADD CONSTRAINT no_forbidden CHECK (title <> '{title}') NOT VALID")
    try:
        send(env, env["TOPIC_POSTS"], [snapshot(post_id, time.time() - 30, 3, 1, title=title)])
        harness.wait_for(
            lambda: harness.query(url, "SELECT count(*) FROM dlq_events WHERE key = %s", (post_id,))[0][0] == 1,
            60,
            "the sink's dead letter",
        )
    finally:
        harness.query(url, "ALTER TABLE posts DROP CONSTRAINT no_forbidden")
