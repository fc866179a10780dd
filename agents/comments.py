"""Consume comments (`reddit.comments`, keyed by their post id): streams.processing.comments
through the one path of the source agents (agents.enrich.handle: batches or single objects,
manual acks, per-element dead letters with their exact bytes, the commit protocol)."""

from __future__ import annotations

from agents.enrich import Pipeline, consume, stats
from streams.app import app, settings
from streams.metrics import COMMENTS as COMMENTS_TOTAL
from streams.processing.comments import CommentConfig, CommentProcessor
from streams.records import comment_fields
from streams.topics import comments_topic
from tables.state import POST_COMMENTS

TOPIC = comments_topic.get_topic_name()
PROCESSOR = CommentProcessor(
    CommentConfig(settings.comment_sentiment_chars, settings.comment_ids_per_post), POST_COMMENTS, stats
)
NEW, SEEN = COMMENTS_TOTAL.labels("new"), COMMENTS_TOTAL.labels("seen")


def process(comments, partition: int):
    result = PROCESSOR.live(comments, partition)
    NEW.inc(len(result.observations) - result.seen)
    SEEN.inc(result.seen)
    return result


COMMENTS = Pipeline(comment_fields, process, {CommentProcessor.TABLE: POST_COMMENTS}, key_field="post_id")


@app.agent(comments_topic)
async def process_comments(stream):
    await consume(stream, TOPIC, COMMENTS)
