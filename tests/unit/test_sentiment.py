from streams.analytics.sentiment import compound, sentiment_text


def test_polarity_of_titles():
    assert compound("I love this, it is wonderful and amazing!") > 0.5
    assert compound("This is terrible, awful and I hate it") < -0.5
    assert compound("") == 0.0 and compound("   ") == 0.0


def test_selftext_joins_only_when_configured():
    assert sentiment_text("Title", "body text here", 0) == "Title"
    assert sentiment_text("Title", "body text here", 4) == "Title\nbody"
    assert sentiment_text("Title", "", 100) == "Title"
