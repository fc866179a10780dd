"""VADER sentiment of a post (docs/design.md §4): the `compound` score in [-1, 1].

Computed once per post id (the agents cache it in a table); refreshes never recompute it.
"""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # loads the lexicon once per process


def sentiment_text(title: str, selftext: str = "", selftext_chars: int = 0) -> str:
    """The text that is scored: the title, plus the first `selftext_chars` of the selftext."""
    extra = selftext[:selftext_chars].strip() if selftext_chars > 0 and selftext else ""
    return f"{title}\n{extra}" if extra else title


def compound(text: str) -> float:
    """VADER's normalised compound score of `text`; 0.0 for empty text."""
    if not text or not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])
