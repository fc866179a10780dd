"""With REDDIT_SOURCE=archive the dashboard says plainly that velocity and trending are off
(headless Chromium); without it the note is not shown."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests import harness
from tests.integration.test_dashboard import browser  # noqa: F401 - fixture


def test_the_dashboard_says_trending_is_off_with_the_archive(start_worker, browser):
    archive = start_worker("archive", REDDIT_SOURCE="archive")
    browser.get(archive.url + "/")
    note = harness.wait_for(lambda: browser.find_element(By.ID, "source-note"), 30, "the page")
    assert note.is_displayed()
    assert "trending are off" in note.text and "Reddit's own API" in note.text
    harness.wait_for(lambda: browser.find_element(By.ID, "total-posts").text != "–", 30, "the figures load")

    reddit = start_worker("reddit", REDDIT_SOURCE="reddit")
    browser.get(reddit.url + "/")
    note = harness.wait_for(lambda: browser.find_element(By.ID, "source-note"), 30, "the page")
    assert not note.is_displayed()
