"""The dashboard in a real headless Chromium (selenium, Debian's chromium + chromium-driver)
against a worker fed by the simulator through ingest: the page shows the database's numbers,
draws its uPlot charts, and a click on a trending post draws its history. Saves a screenshot
(.artifacts/dashboard.png; with DASHBOARD_SCREENSHOT_TO_DOCS=1 also docs/dashboard.png, the README's).

Before the worker starts, the database gets rows this worker never processes (as another worker
of the group, earlier, would have written them): observations of the 3 simulated subreddits and
12 more in the three previous hours, and of the simulated ones in the hour before. So the
page must show 15 subreddits in the hourly chart (more than its colours), fit its time axis to 4
hours, not 24, and draw the group's throughput, history included, from the database rather than
from this worker's counters."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import jsonschema
import pytest

from tests import harness
from tests.ingest_support import ingest_env, procs  # noqa: F401 - fixtures

ARTIFACTS = harness.ROOT / ".artifacts"
DOCS = harness.ROOT / "docs"


ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
SIMULATED = ("python", "rust", "golang")
SEEDED = (
    "askscience",
    "worldnews",
    "datascience",
    "linux",
    "programming",
    "machinelearning",
    "javascript",
    "devops",
    "webdev",
    "haskell",
    "cpp",
    "java",
)
# subreddit k of the 15 (from 1): (16 - k) * 5 + h * 3 observations spread over the h-th hour before this one
SEED_HOURS = f"""
INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments, upvote_ratio)
SELECT 'zh' || k || 'x' || h || 'x' || n, date_bin('1 hour', now(), {ORIGIN}) - make_interval(hours => h)
       + make_interval(secs => (n - 1) * 3600.0 / ((16 - k) * 5 + h * 3)), sub, 10 + n, n %% 7, 0.9
  FROM unnest(%(subs)s::text[]) WITH ORDINALITY AS t(sub, k), generate_series(1, 3) AS h,
       generate_series(1, (16 - k::int) * 5 + h * 3) AS n
"""
# the 59 minutes before this one: 20 + (7 m mod 23) observations each, of the simulated subreddits
SEED_MINUTES = f"""
INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments, upvote_ratio)
SELECT 'zm' || m || 'x' || n, date_bin('1 minute', now(), {ORIGIN}) - make_interval(mins => m)
       + make_interval(secs => n), (%(subs)s::text[])[1 + n %% 3], 10, 0, 0.9
  FROM generate_series(1, 59) AS m, generate_series(1, 20 + (7 * m) %% 23) AS n
"""
PER_HOUR = "SELECT extract(epoch FROM bucket)::bigint, sum(observations) FROM post_metrics_hourly GROUP BY 1"
# the minutes of /api/rates/: this one and the 59 before
PER_MINUTE = f"""
SELECT extract(epoch FROM date_bin('1 minute', observed_at, {ORIGIN}))::bigint, count(*)
  FROM post_metrics_history
 WHERE observed_at >= date_bin('1 minute', now(), {ORIGIN}) - interval '59 minutes' GROUP BY 1
"""


def q(url: str, sql: str) -> int:
    return harness.query(url, sql)[0][0]


def by_time(url: str, sql: str) -> dict[int, int]:
    return {int(t): int(n) for t, n in harness.query(url, sql)}


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
        "INGEST_COMMENTS_SECONDS": "1",
    }
    url = env["DATABASE_URL"]
    harness.query(url, SEED_HOURS, {"subs": [*SIMULATED, *SEEDED]})
    harness.query(url, SEED_MINUTES, {"subs": list(SIMULATED)})
    sim = procs("simulate", env)
    w = start_worker(**{k: v for k, v in env.items() if k != "WEB_PORT"})
    procs("ingest", env)
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts") >= 120, 90, "the simulator's 120 posts in posts")
    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 900})  # a head start for the scores
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts WHERE is_trending") >= 3, 90, "refreshes that make posts trend"
    )
    harness.wait_for(
        lambda: q(url, "SELECT count(DISTINCT subreddit) FROM post_metrics_hourly") == 15, 60, "the hourly rollup"
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
    js = browser.execute_script
    wait.until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, "#rate-chart canvas")
        and browser.find_elements(By.CSS_SELECTOR, "#activity-chart canvas")
    )

    # -- the hourly chart: all 15 subreddits, the 10 busiest as themselves, the other 5 as "others"
    everyone = {f"r/{s}" for s in (*SIMULATED, *SEEDED)}
    wait.until(
        lambda _: set((browser.find_element(By.ID, "activity-chart").get_attribute("data-subreddits") or "").split())
        == everyone
    )
    # one look at the chart (it is drawn again when its ranking changes)
    labels, legend, others_title, others = js(
        """const el = document.getElementById("activity-chart");
        const rows = [...el.querySelectorAll(".u-legend .u-series")].slice(1);
        return [charts.activity.series.slice(1).map((s) => s.label),
                rows.map((r) => r.querySelector(".u-label").textContent), rows.at(-1).title,
                el.dataset.others.split(" ")];"""
    )
    assert len(labels) == 11 and labels[-1] == "others (5)" and len(others) == 5, (labels, others)
    assert legend == labels and set(others_title.split(", ")) == set(others)
    assert set(labels[:-1]) | set(others) == everyone
    # the busiest first: by observations over the chart's hours, as the database counts them
    totals = dict(harness.query(url, "SELECT 'r/' || subreddit, sum(observations) FROM post_metrics_hourly GROUP BY 1"))
    assert min(totals[n] for n in labels[:-1]) >= max(totals[n] for n in others)

    # every observation is in one series: per complete hour the series add up to the database's sum
    def hourly_sums_match(_) -> bool:
        hours, *series = js("return charts.activity.data")
        db = by_time(url, PER_HOUR)
        return set(db) <= set(hours) and all(sum(s[i] for s in series) == db[t] for i, t in enumerate(hours[:-1]))

    wait.until(hourly_sums_match)

    # -- its time axis is fitted to the data: the 3 seeded hours and this one (half an hour each side)
    first, last = harness.query(
        url,
        "SELECT extract(epoch FROM min(bucket))::bigint, extract(epoch FROM max(bucket))::bigint"
        " FROM post_metrics_hourly",
    )[0]
    assert last - first in (3 * 3600, 4 * 3600)  # 4 if an hour began since the seeding
    x_range = "return [charts.activity.scales.x.min, charts.activity.scales.x.max]"
    wait.until(lambda _: js(x_range) == [first - 1800, last + 1800], f"x range {js(x_range)}, buckets {first}-{last}")

    # -- the current hour is marked partial (a labelled band over its slot), a finished one is not
    band = browser.find_element(By.CSS_SELECTOR, "#activity-chart .partial")
    assert band.is_displayed() and "partial hour" in band.text and int(band.get_attribute("data-at")) == last
    left = js("return charts.activity.valToPos(arguments[0], 'x')", last - 1800)
    assert abs(float(band.value_of_css_property("left").removesuffix("px")) - left) < 1
    # the same figures seen two hours later: the last hour is complete, no band
    gone = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        getJSON("/api/subreddits/").then((subs) => {
          drawActivity(subs, arguments[0] + 7200);
          const view = views.activity.partial;
          requestAnimationFrame(() => {
            const bands = document.querySelectorAll("#activity-chart .partial").length;
            drawActivity(subs, Date.now() / 1000); // and back to now
            done([view, bands]);
          });
        });""",
        last,
    )
    assert gone == [None, 0], gone
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#activity-chart .partial"))

    # -- the throughput chart: the whole group's rows per minute from the database, the seeded
    # minutes (never seen by this worker, before the page opened) included
    def minutes_match(_) -> bool:
        minutes, observed, _dead = js("return charts.rate.data")
        db = by_time(url, PER_MINUTE)
        return minutes[0] == min(db) and all(observed[i] == db.get(t, 0) for i, t in enumerate(minutes[:-1]))

    wait.until(minutes_match)
    minutes, observed, _dead = js("return charts.rate.data")
    seeded = by_time(url, PER_MINUTE.replace("WHERE", "WHERE post_id LIKE 'zm%' AND"))  # those still in the window
    assert len(seeded) >= 57 and all(observed[minutes.index(t)] >= n for t, n in seeded.items())
    x_min, x_max = js("return [charts.rate.scales.x.min, charts.rate.scales.x.max]")
    assert (x_min, x_max) == (minutes[0] - 30, minutes[-1] + 30)
    band = browser.find_element(By.CSS_SELECTOR, "#rate-chart .partial")
    assert "partial minute" in band.text and int(band.get_attribute("data-at")) == minutes[-1]
    # the counter: the last full minute, as the database counts it
    wait.until(
        lambda _: number("#group-rate") == by_time(url, PER_MINUTE).get(js("return charts.rate.data[0].at(-2)"), 0)
    )
    doc = json.loads(w.request("/openapi.json")[2])
    status, _, body = w.request("/api/rates/")
    assert status == 200
    schema = {
        **doc["paths"]["/api/rates/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        "components": doc["components"],
    }
    jsonschema.Draft202012Validator(schema).validate(json.loads(body))
    assert len(json.loads(body)["minutes"]) == 60
    status, _, body = w.request("/api/rates/?minutes=5")
    assert status == 400 and "minutes" in json.loads(body)["error"]

    # -- the comments: the counters are the database's, and the hourly comment sentiment per
    # subreddit is comment_metrics_hourly's (the mean of each subreddit's hours, as stored)
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM comment_metrics_hourly") > 0, 60, "the comments' rollup")
    wait.until(lambda _: number("#comments-24h") is not None and number("#comments-24h") > 0)
    assert -1 <= number("#comment-sentiment-24h") <= 1
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#comments-chart canvas"))

    def comment_sentiment_matches(_) -> bool:
        hours, *series = js("return charts.comments.data")
        labels = js("return charts.comments.series.slice(1).map((s) => s.label)")
        db = {
            (f"r/{s}", int(t)): v
            for s, t, v in harness.query(
                url,
                "SELECT subreddit, extract(epoch FROM bucket)::bigint, avg_sentiment FROM comment_metrics_hourly "
                "WHERE avg_sentiment IS NOT NULL",
            )
        }
        drawn = {(n, t): v for n, ys in zip(labels, series, strict=True) for t, v in zip(hours, ys, strict=True)}
        return all(abs(drawn.get(k, 9) - v) < 1e-9 for k, v in db.items() if not k[0].startswith("others"))

    wait.until(comment_sentiment_matches)
    assert set(js("return charts.comments.series.slice(1).map((s) => s.label)")) <= {f"r/{s}" for s in SIMULATED}

    # -- every chart has its axis titles
    assert js("return Object.fromEntries(Object.entries(charts).map(([k, u]) => [k, u.axes.map((a) => a.label)]))") == {
        "rate": ["time (local)", "rows per minute"],
        "activity": ["hour (local time)", "observations per hour"],
        "comments": ["hour (local time)", "mean comment sentiment (VADER)"],
    }

    rows = wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, "#trending tbody tr:not(.empty)"))
    assert len(rows) == min(15, int(number("#trending-now")))
    subs = browser.find_elements(By.CSS_SELECTOR, "#subreddits tbody tr:not(.empty)")
    assert {r.text.split()[0] for r in subs} == everyone

    # -- a title links to the post on Reddit (its permalink), in a new tab
    post_id = rows[0].get_attribute("data-post-id")
    link = rows[0].find_element(By.CSS_SELECTOR, "td.title a")
    permalink = harness.query(url, "SELECT permalink FROM posts WHERE post_id = %s", (post_id,))[0][0]
    assert permalink.startswith("/r/") and f"/comments/{post_id}/" in permalink
    assert link.get_attribute("href") == f"https://www.reddit.com{permalink}"
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel").split()
    assert link.text == harness.query(url, "SELECT title FROM posts WHERE post_id = %s", (post_id,))[0][0]
    # without a permalink: the post's id on reddit.com
    assert js("return redditUrl({post_id: 'abc12', permalink: ''})") == "https://www.reddit.com/comments/abc12"

    rows[0].find_elements(By.TAG_NAME, "td")[1].click()  # the row, not its link
    wait.until(
        lambda _: browser.find_element(By.ID, "history-panel").is_displayed()
        and browser.find_elements(By.CSS_SELECTOR, "#history-chart canvas")
    )
    # every observation of the post (it is observed every 2 s here, the page reads it every 5 s)
    wait.until(
        lambda _: int(browser.find_element(By.ID, "history-chart").get_attribute("data-points"))
        == q(url, f"SELECT count(*) FROM post_metrics_history WHERE post_id = '{post_id}'")
        >= 2
    )
    assert js("return charts.history.axes.map((a) => a.label)") == [
        "observed at (local time)",
        "score",
        "upvotes per minute",
    ]
    # its comments per minute and their sentiment: one point per minute with comments, as stored
    minutes = f"SELECT count(DISTINCT date_trunc('minute', created_utc)) FROM comments WHERE post_id = '{post_id}'"
    harness.wait_for(lambda: q(url, minutes) > 0, 60, f"comments of the trending post {post_id}")
    wait.until(
        lambda _: int(browser.find_element(By.ID, "history-comments-chart").get_attribute("data-points") or 0)
        == q(url, minutes)
        and sum(js("return charts.history_comments.data[1]"))
        == q(url, f"SELECT count(*) FROM comments WHERE post_id = '{post_id}'")
    )
    assert js("return charts.history_comments.axes.map((a) => a.label)") == [
        "created at (local time)",
        "comments per minute",
        "mean sentiment",
    ]
    assert len(browser.window_handles) == 1  # the click on the row opened no tab

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
    for chart in ("rate-chart", "activity-chart", "comments-chart"):  # each chart alone, to look at closely
        browser.find_element(By.ID, chart).find_element(By.XPATH, "..").screenshot(str(ARTIFACTS / f"{chart}.png"))
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
