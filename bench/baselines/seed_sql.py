"""SQL both seed baselines write with (the same tables and indexes as the pipeline's sink)."""

POST_COLUMNS = (
    "post_id, subreddit, title, author, created_utc, last_observed_at, score, num_comments, "
    "upvote_ratio, url, permalink, over_18, sentiment, score_velocity, comment_velocity, "
    "trending_score, is_trending"
)
POST_VALUES = "(%s, %s, %s, %s, to_timestamp(%s), to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
POST_CONFLICT = """ON CONFLICT (post_id) DO UPDATE SET score = EXCLUDED.score, num_comments = EXCLUDED.num_comments,
    upvote_ratio = EXCLUDED.upvote_ratio, last_observed_at = EXCLUDED.last_observed_at,
    score_velocity = EXCLUDED.score_velocity, comment_velocity = EXCLUDED.comment_velocity,
    trending_score = EXCLUDED.trending_score, is_trending = EXCLUDED.is_trending, sentiment = EXCLUDED.sentiment
    WHERE posts.last_observed_at < EXCLUDED.last_observed_at"""
HISTORY_COLUMNS = "post_id, observed_at, subreddit, score, num_comments, upvote_ratio, score_velocity, comment_velocity"
HISTORY_VALUES = "(%s, to_timestamp(%s), %s, %s, %s, %s, %s, %s)"
HISTORY_CONFLICT = "ON CONFLICT (post_id, observed_at) DO NOTHING"


def post_params(s: dict, sentiment: float, sv: float, cv: float, score: float, trending: bool) -> tuple:
    return (
        s["id"],
        s["subreddit"],
        s["title"],
        s.get("author"),
        s["created_utc"],
        s["observed_at"],
        s["score"],
        s["num_comments"],
        s["upvote_ratio"],
        s.get("url", ""),
        s.get("permalink", ""),
        bool(s.get("over_18", False)),
        sentiment,
        sv,
        cv,
        score,
        trending,
    )


def history_params(s: dict, sv: float | None, cv: float | None) -> tuple:
    return (s["id"], s["observed_at"], s["subreddit"], s["score"], s["num_comments"], s["upvote_ratio"], sv, cv)


def trending(sv: float, comments: int, sentiment: float) -> float:
    """The seed's trending rule with the same thresholds as the pipeline's defaults."""
    return 0.6 * min(max(sv, 0.0) / 10.0, 1.0) + 0.3 * min(comments / 100.0, 1.0) + 0.1 * min(abs(sentiment) / 0.5, 1.0)
