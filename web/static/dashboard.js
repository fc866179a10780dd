// The live dashboard: this worker's counters from /api/live/ (server-sent events), everything
// else from the JSON API every REFRESH_MS. Charts: uPlot (served from /vendor/, see web/dashboard.py).
"use strict";

const REFRESH_MS = 5000;
const RATE_POINTS = 150; // 5 minutes of 2-second samples
const COLORS = ["#ff6a3d", "#7fb3ff", "#4caf50", "#ffd54f", "#ba68c8", "#4dd0e1", "#f06292", "#aed581"];
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const hasPlot = typeof window.uPlot === "function";
const charts = {};
let selected = null; // the post whose history is shown (its id), and its title
let selectedTitle = "";

function notice(text) {
  const el = $("notice");
  el.hidden = !text;
  el.textContent = text || "";
}
if (!hasPlot) notice("uPlot is not installed (run `make install`): charts are off, numbers still update.");

async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => ({ error: `HTTP ${resp.status}` }));
  if (!resp.ok) throw new Error(`${path}: ${body.error || resp.status}`);
  return body;
}

function text(id, value) { $(id).textContent = value; }
function num(value) { return value === null || value === undefined ? "–" : fmt.format(value); }
function epoch(iso) { return Date.parse(iso) / 1000; }

const AXIS = { stroke: "#8b98a5", grid: { stroke: "#24303c" } };

// `pad`: seconds shown around a single point (uPlot would otherwise span years)
function lineChart(key, el, series, data, pad = 60) {
  el.dataset.points = String(data[0].length);
  if (!hasPlot) return;
  const width = Math.max(el.clientWidth, 300);
  if (charts[key] && charts[key].series.length === series.length + 1) {
    charts[key].setData(data);
    return;
  }
  if (charts[key]) charts[key].destroy();
  el.textContent = "";
  charts[key] = new uPlot({
    width, height: 240,
    axes: [AXIS, AXIS, ...(series.some((s) => s.scale === "v")
      ? [{ ...AXIS, scale: "v", side: 1, grid: { show: false } }] : [])],
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.stroke || COLORS[i % COLORS.length],
                                              width: 2, scale: s.scale || "y" }))],
    scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - pad, max + pad] : [min, max]) } },
  }, data, el);
}

// ---------------------------------------------------------------- live counters (SSE)
const rate = [[], [], []];
function connectLive() {
  const source = new EventSource("/api/live/");
  source.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
  source.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "status down"; };
  source.onmessage = (msg) => {
    const e = JSON.parse(msg.data);
    text("events-rate", num(e.events_per_s));
    text("rows-rate", num(e.rows_per_s));
    text("dead-rate", num(e.dead_letters_per_s));
    rate[0].push(e.at); rate[1].push(e.events_per_s); rate[2].push(e.rows_per_s);
    if (rate[0].length > RATE_POINTS) rate.forEach((a) => a.shift());
    lineChart("rate", $("rate-chart"), [{ label: "events/s" }, { label: "rows/s" }], rate);
  };
}

// ---------------------------------------------------------------- the API
async function refreshStats() {
  const s = await getJSON("/api/stats/");
  text("total-posts", num(s.total_posts));
  text("posts-24h", num(s.posts_last_24h));
  text("obs-24h", num(s.observations_last_24h));
  text("sentiment-24h", s.avg_sentiment_24h === null ? "–" : s.avg_sentiment_24h.toFixed(3));
  text("trending-now", num(s.trending_now));
  const authors = $("authors");
  authors.textContent = "";
  for (const a of s.top_authors.slice(0, 5)) {
    const li = document.createElement("li");
    li.textContent = `${a.author} (${a.posts})`;
    authors.appendChild(li);
  }
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const [value, cls] of cells) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (value instanceof Node) td.appendChild(value); else td.textContent = value;
    tr.appendChild(td);
  }
  return tr;
}

function fill(tbody, rows, emptyText, columns) {
  tbody.textContent = "";
  if (!rows.length) {
    const tr = row([[emptyText, ""]]);
    tr.className = "empty";
    tr.firstChild.colSpan = columns;
    tbody.appendChild(tr);
  }
  for (const r of rows) tbody.appendChild(r);
}

async function refreshTrending() {
  const { posts } = await getJSON("/api/trending/?limit=15");
  const rows = posts.map((p) => {
    const tr = row([[p.title, "title"], [`r/${p.subreddit}`], [num(p.score), "num"], [num(p.score_velocity), "num"],
                    [num(p.num_comments), "num"], [p.trending_score.toFixed(2), "num"]]);
    tr.dataset.postId = p.post_id;
    tr.title = p.title;
    if (p.post_id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => showHistory(p.post_id, p.title)
      .catch((err) => notice(`The history of this post could not be loaded: ${err.message}`)));
    return tr;
  });
  fill($("trending").tBodies[0], rows, "no trending posts yet", 6);
}

async function showHistory(postId, title) {
  selected = postId;
  selectedTitle = title;
  for (const tr of $("trending").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.postId === postId);
  const post = await getJSON(`/api/posts/${encodeURIComponent(postId)}/`);
  $("history-panel").hidden = false;
  text("history-title", title);
  const h = post.history;
  const data = [h.map((o) => epoch(o.observed_at)), h.map((o) => o.score), h.map((o) => o.score_velocity)];
  lineChart("history", $("history-chart"),
            [{ label: "score" }, { label: "upvotes/min", scale: "v", stroke: "#7fb3ff" }], data);
}

async function refreshSubreddits() {
  const subs = await getJSON("/api/subreddits/");
  const rows = subs.map((s) => {
    const bar = document.createElement("span");
    const v = s.avg_sentiment_24h || 0;
    bar.className = `bar ${v >= 0 ? "pos" : "neg"}`;
    // full width at |0.5| (TRENDING_SENTIMENT_HIGH's default: VADER averages seldom go further)
    bar.style.width = `${Math.max(2, Math.round(Math.min(Math.abs(v) / 0.5, 1) * 120))}px`;
    const cell = document.createElement("span");
    cell.append(bar, s.avg_sentiment_24h === null ? "–" : v.toFixed(3));
    return row([[`r/${s.subreddit}`], [num(s.posts_24h), "num"], [cell], [num(s.trending_now), "num"]]);
  });
  fill($("subreddits").tBodies[0], rows, "no posts yet", 4);
  // one series per subreddit over the last 24 hourly buckets (null where a bucket is empty)
  if (!subs.some((s) => s.hourly.length)) {
    if (!charts.activity) $("activity-chart").textContent = "no hourly figures yet (post_metrics_hourly is rolled up "
      + "by the maintenance timer, or TimescaleDB's continuous aggregate)";
    return;
  }
  const now = Math.floor(Date.now() / 3600000) * 3600;
  const hours = Array.from({ length: 24 }, (_, i) => now - (23 - i) * 3600);
  const top = subs.slice(0, COLORS.length);
  const data = [hours, ...top.map((s) => {
    const by = new Map(s.hourly.map((h) => [epoch(h.hour), h.observations]));
    return hours.map((t) => (by.has(t) ? by.get(t) : null));
  })];
  lineChart("activity", $("activity-chart"), top.map((s) => ({ label: `r/${s.subreddit}` })), data, 3600);
}

async function refreshDlq() {
  const d = await getJSON("/dlq/stats/");
  text("dlq-open", num(d.not_replayed));
  text("dlq-total", num(d.total));
  const counts = (by) => Object.entries(by || {}).sort((a, b) => b[1] - a[1])
    .map(([name, n]) => row([[name], [num(n), "num"]]));
  fill($("dlq").tBodies[0], counts(d.by_error_type), "none", 2);
  fill($("dlq-topics").tBodies[0], counts(d.by_topic), "none", 2);
}

async function refresh() {
  const parts = [refreshStats(), refreshTrending(), refreshSubreddits(), refreshDlq()];
  if (selected) parts.push(showHistory(selected, selectedTitle));
  const results = await Promise.allSettled(parts);
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  notice(failed.length ? `Some figures could not be loaded: ${failed.join("; ")}` :
         (hasPlot ? "" : "uPlot is not installed (run `make install`): charts are off, numbers still update."));
  text("updated", `updated ${new Date().toLocaleTimeString()}`);
}

connectLive();
refresh();
setInterval(refresh, REFRESH_MS);
