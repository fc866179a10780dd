"""The dashboard in a real headless Chromium (selenium, Debian's chromium + chromium-driver)
against a worker fed by the simulator through ingest: the page shows the database's numbers,
draws its uPlot charts, and a click on a trending post draws its history. Saves a screenshot
(.artifacts/dashboard.png; with DASHBOARD_SCREENSHOT_TO_DOCS=1 also docs/dashboard.png, the README's)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest

from tests import harness
from tests.ingest_support import ingest_env, procs  # noqa: F401 - fixtures

ARTIFACTS = harness.ROOT / ".artifacts"
DOCS = harness.ROOT / "docs"


def q(url: str, sql: str) -> int:
    return harness.query(url, sql)[0][0]


@pytest.fixture
def browser():
    proc = subprocess.run([str(harness.ROOT / "tools" / "browser.sh")], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"tools/browser.sh failed:\n{proc.stderr}"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1500",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the driver's path is given: selenium-manager must not try to download one
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def test_dashboard_shows_the_pipeline_live(ingest_env, procs, start_worker, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # the simulator's clock runs (scores keep growing, so posts stay trending from refresh to
    # refresh; a velocity of 1 upvote/min saturates its term) and makes few new posts (the counts
    # stay put for seconds at a time while the page is checked; the 40 posts of history span 20 h,
    # young enough to be refreshed)
    env = {
        **ingest_env,
        "SUBREDDITS": "python,rust,golang",
        "SIMULATOR_HISTORY_POSTS": "40",
        "SIMULATOR_SPEED": "60",
        "SIMULATOR_POSTS_PER_HOUR": "2",
        "TRENDING_VELOCITY_HIGH": "1",
        "INGEST_POLL_SECONDS": "1",
        "INGEST_REFRESH_CHECK_SECONDS": "0.5",
        "REFRESH_TIERS": "1:2,6:2,24:2,48:2",
        "STATS_CACHE_TTL": "1",
        "MAINTENANCE_INTERVAL_SECONDS": "2",
        "LOG_FORMAT": "text",
    }
    sim = procs("simulate", env)
    w = start_worker(**{k: v for k, v in env.items() if k != "WEB_PORT"})
    procs("ingest", env)
    url = env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts") >= 120, 90, "the simulator's 120 posts in posts")
    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 900})  # a head start for the scores
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts WHERE is_trending") >= 3, 90, "refreshes that make posts trend"
    )
    harness.wait_for(
        lambda: q(url, "SELECT coalesce(sum(observations), 0) FROM post_metrics_hourly") > 0, 60, "the hourly rollup"
    )

    browser.get(w.url + "/")
    wait = WebDriverWait(browser, 60, poll_frequency=0.25)
    text = lambda css: browser.find_element(By.CSS_SELECTOR, css).text  # noqa: E731

    def number(css: str) -> float | None:
        try:
            return float(text(css).replace(",", ""))
        except ValueError:
            return None

    wait.until(lambda _: text("#status") == "live")
    # the counters are the database's figures (the stats cache lives 1 s here)
    wait.until(lambda _: number("#total-posts") == q(url, "SELECT count(*) FROM posts"))
    wait.until(lambda _: number("#posts-24h") is not None and number("#obs-24h") >= number("#total-posts"))
    assert -1 <= number("#sentiment-24h") <= 1
    wait.until(
        lambda _: number("#trending-now")
        == q(url, "SELECT count(*) FROM posts WHERE is_trending AND last_observed_at > now() - interval '25 hours'")
    )
    wait.until(lambda _: number("#events-rate") is not None and number("#dlq-open") == 0)
    # the live rate chart (SSE) and the hourly activity chart are drawn by uPlot
    wait.until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, "#rate-chart canvas")
        and int(browser.find_element(By.ID, "rate-chart").get_attribute("data-points")) >= 3
    )
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#activity-chart canvas"))
    legend = text("#activity-chart .u-legend")
    assert "r/python" in legend and "r/rust" in legend
    rows = wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#trending tbody tr:not(.empty)"))
    assert len(rows) == min(15, int(number("#trending-now")))
    subs = browser.find_elements(By.CSS_SELECTOR, "#subreddits tbody tr:not(.empty)")
    assert {r.text.split()[0] for r in subs} == {"r/python", "r/rust", "r/golang"}

    post_id = rows[0].get_attribute("data-post-id")
    rows[0].click()
    wait.until(
        lambda _: browser.find_element(By.ID, "history-panel").is_displayed()
        and browser.find_elements(By.CSS_SELECTOR, "#history-chart canvas")
    )
    points = int(browser.find_element(By.ID, "history-chart").get_attribute("data-points"))
    assert points == q(url, f"SELECT count(*) FROM post_metrics_history WHERE post_id = '{post_id}'") and points >= 2

    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe
    # the whole page in one picture (beyond the window: Chromium's DevTools screenshot)
    width, height = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 20_000
    if os.environ.get("DASHBOARD_SCREENSHOT_TO_DOCS"):  # to renew the README's picture
        shutil.copyfile(ARTIFACTS / "dashboard.png", DOCS / "dashboard.png")

    # a route answering an error is said on the page, the rest goes on
    browser.execute_script("showHistory('zzzzzzzzz', 'gone').catch((e) => notice(e.message))")
    wait.until(lambda _: "no post" in text("#notice").lower() or "not found" in text("#notice").lower())
    assert text("#status") == "live" and number("#total-posts") is not None
    # without uPlot (here: its files blocked) the page says so and still shows the numbers
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/vendor/*"]})
    browser.refresh()
    wait.until(lambda _: "uPlot is not installed" in text("#notice"))
    wait.until(
        lambda _: number("#total-posts") == q(url, "SELECT count(*) FROM posts")
        and browser.find_elements(By.CSS_SELECTOR, "#trending tbody tr:not(.empty)")
    )
    assert not browser.find_elements(By.CSS_SELECTOR, "canvas")

    status, _, body = w.request("/api/live/?x=1")
    assert status == 400 and "x" in json.loads(body)["error"]
    status, _, body = w.request("/vendor/uPlot.esm.js")
    assert status == 404 and "error" in json.loads(body)
    assert w.alive()
    # an open page (its /api/live/ stream) does not hold up a graceful stop
    wait.until(lambda _: text("#status") == "live")
    assert w.stop(30), f"the worker did not stop within 30 s with the dashboard open:\n{w.tail()}"
