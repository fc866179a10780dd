// The live dashboard: this worker's counters from /api/live/ (server-sent events), everything
// else from the JSON API every REFRESH_MS, the whole group's throughput from /api/rates/ (the
// database's rows per minute). Charts: uPlot (served from /vendor/, see web/dashboard.py).
"use strict";

const REFRESH_MS = 5000;
const MINUTE = 60;
const HOUR = 3600;
// the hourly chart draws the TOP_SUBREDDITS busiest subreddits (by observations over its span) and
// sums the rest into one "others" series (its legend entry names them); a lone one is drawn as itself
const TOP_SUBREDDITS = 10;
const COLORS = ["#ff6a3d", "#7fb3ff", "#4caf50", "#ffd54f", "#ba68c8", "#4dd0e1", "#f06292", "#aed581",
                "#ff8a65", "#9575cd", "#a1887f"]; // TOP_SUBREDDITS + 1
const OTHERS_COLOR = "#8b98a5";
const PANEL_BG = "#182029";
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const hasPlot = typeof window.uPlot === "function";
const charts = {}; // uPlot instances by key
const views = {}; // by key: what the chart shows (x range, partial bucket), read by its range and hooks
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

const AXIS = { stroke: "#8b98a5", grid: { stroke: "#24303c" }, labelFont: "12px system-ui, sans-serif" };

// The bucket still filling (`partial`: its start, width and label) gets a shaded band over its
// slot, a label (a DOM element, `.partial`) and hollow points: it is not a drop.
function markPartial(u, view) {
  let band = u.over.querySelector(".partial");
  if (!view.partial) {
    if (band) band.remove();
    return;
  }
  if (!band) {
    band = document.createElement("div");
    band.className = "partial";
    band.appendChild(document.createElement("span"));
    u.over.appendChild(band);
  }
  const { at, step, label } = view.partial;
  const left = Math.max(0, u.valToPos(at - step / 2, "x"));
  band.style.left = `${left}px`;
  band.style.width = `${Math.max(0, u.valToPos(at + step / 2, "x") - left)}px`;
  band.dataset.at = String(at);
  band.firstChild.textContent = label;
  // a slot narrower than its label (a minute in an hour) has the label on its left
  band.classList.toggle("narrow", band.offsetWidth < band.firstChild.offsetWidth + 8);
  const i = u.data[0].indexOf(at);
  if (i < 0) return;
  const { ctx } = u;
  const dpr = window.devicePixelRatio || 1;
  u.series.forEach((s, si) => {
    const v = u.data[si][i];
    if (si === 0 || !s.show || v === null || v === undefined) return;
    ctx.beginPath();
    ctx.arc(u.valToPos(at, "x", true), u.valToPos(v, s.scale, true), 4 * dpr, 0, 2 * Math.PI);
    ctx.fillStyle = PANEL_BG;
    ctx.fill();
    ctx.lineWidth = 2 * dpr;
    ctx.strokeStyle = typeof s.stroke === "function" ? s.stroke(u, si) : s.stroke;
    ctx.stroke();
  });
}

// A time chart. `view`: `axes` (titles: x, y and a second y for series on scale "v"), `range`
// (the x range; by default the data's, `pad` seconds around a single point), `partial`.
function lineChart(key, el, series, data, view) {
  el.dataset.points = String(data[0].length);
  if (!hasPlot) return;
  views[key] = view;
  const labels = series.map((s) => `${s.label}\t${s.title || ""}`).join("\n"); // drawn anew when they change
  if (charts[key] && charts[key].labels === labels) {
    charts[key].setData(data);
    return;
  }
  if (charts[key]) charts[key].destroy();
  el.textContent = "";
  const [xTitle, yTitle, vTitle] = view.axes;
  const pad = view.pad || 60;
  charts[key] = new uPlot({
    width: Math.max(el.clientWidth, 300), height: 260,
    axes: [{ ...AXIS, label: xTitle }, { ...AXIS, label: yTitle },
           ...(vTitle ? [{ ...AXIS, label: vTitle, scale: "v", side: 1, grid: { show: false } }] : [])],
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.stroke || COLORS[i % COLORS.length],
                                              width: 2, scale: s.scale || "y" }))],
    scales: { x: { time: true, range: (u, min, max) => views[key].range
                                                         || (min === max ? [min - pad, max + pad] : [min, max]) } },
    hooks: { draw: [(u) => markPartial(u, views[key])] },
  }, data, el);
  charts[key].labels = labels;
  for (const [i, s] of series.entries()) {
    if (!s.title) continue;
    const cell = charts[key].root.querySelectorAll(".u-legend .u-series")[i + 1];
    if (cell) cell.title = s.title;
  }
}

// Buckets of `step` seconds from the first to the last with data: the x range spans them (half a
// bucket either side), and the last one is partial while `now` is inside it.
function bucketView(first, last, step, now, axes) {
  const elapsed = now - last;
  const label = step === HOUR ? `partial hour · ${Math.max(1, Math.round(elapsed / MINUTE))} min`
    : `partial minute · ${Math.max(1, Math.round(elapsed))} s`;
  return { axes, range: [first - step / 2, last + step / 2],
           partial: elapsed >= 0 && elapsed < step ? { at: last, step, label } : null };
}

// ---------------------------------------------------------------- live counters (SSE)
function connectLive() {
  const source = new EventSource("/api/live/");
  source.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
  source.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "status down"; };
  source.onmessage = (msg) => {
    const e = JSON.parse(msg.data);
    text("events-rate", num(e.events_per_s));
    text("rows-rate", num(e.rows_per_s));
    text("dead-rate", num(e.dead_letters_per_s));
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
  text("comments-24h", num(s.comments_last_24h));
  text("comment-sentiment-24h", s.avg_comment_sentiment_24h === null ? "–" : s.avg_comment_sentiment_24h.toFixed(3));
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

// the post on Reddit: its permalink (a path on reddit.com) when the API has one, else its id
function redditUrl(p) {
  return p.permalink && p.permalink.startsWith("/") ? `https://www.reddit.com${p.permalink}`
    : `https://www.reddit.com/comments/${encodeURIComponent(p.post_id)}`;
}

async function refreshTrending() {
  const { posts } = await getJSON("/api/trending/?limit=15");
  const rows = posts.map((p) => {
    const link = document.createElement("a");
    link.href = redditUrl(p);
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = p.title;
    link.addEventListener("click", (ev) => ev.stopPropagation()); // to Reddit, not the history
    const tr = row([[link, "title"], [`r/${p.subreddit}`], [num(p.score), "num"], [num(p.score_velocity), "num"],
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
            [{ label: "score" }, { label: "upvotes/min", scale: "v", stroke: "#7fb3ff" }], data,
            { axes: ["observed at (local time)", "score", "upvotes per minute"] });
  // its comments: how many were created each minute, and their mean sentiment
  const c = post.comment_history;
  text("history-comments-seen", c.length ? `${num(post.comments_seen)} comments, mean sentiment `
    + `${post.comment_sentiment === null ? "–" : post.comment_sentiment.toFixed(3)}` : "no comments stored yet");
  if (!c.length) {
    $("history-comments-chart").dataset.points = "0";
    return;
  }
  lineChart("history_comments", $("history-comments-chart"),
            [{ label: "comments/min" }, { label: "sentiment", scale: "v", stroke: "#4caf50" }],
            [c.map((m) => epoch(m.minute)), c.map((m) => m.comments), c.map((m) => m.sentiment)],
            { axes: ["created at (local time)", "comments per minute", "mean sentiment"] });
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
  drawActivity(subs, Date.now() / 1000);
  drawCommentSentiment(subs, Date.now() / 1000);
}

// An hourly chart of one series per subreddit (the busiest TOP_SUBREDDITS by `spec.weight`, the
// rest combined into one "others" series by `spec.others`) over the hours from the first to the
// last with data; `spec.has` says which hours of a subreddit have a figure (`spec.value`), the
// others are `spec.missing`.
function hourlyChart(key, el, subs, now, spec) {
  const counted = subs.map((s) => {
    const hours = s.hourly.filter(spec.has);
    return { name: `r/${s.subreddit}`, total: hours.reduce((n, h) => n + spec.weight(h), 0),
             by: new Map(hours.map((h) => [epoch(h.hour), h])) };
  }).filter((s) => s.by.size);
  if (!counted.length) {
    if (!charts[key]) el.textContent = spec.empty;
    return;
  }
  counted.sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1));
  const stamps = counted.flatMap((s) => [...s.by.keys()]);
  const first = Math.min(...stamps);
  const last = Math.max(...stamps);
  const hours = Array.from({ length: (last - first) / HOUR + 1 }, (_, i) => first + i * HOUR);
  const shown = counted.length > TOP_SUBREDDITS + 1 ? counted.slice(0, TOP_SUBREDDITS) : counted;
  const rest = counted.slice(shown.length);
  const series = shown.map((s) => ({ label: s.name }));
  const value = (h) => (h ? spec.value(h) : spec.missing);
  const data = [hours, ...shown.map((s) => hours.map((t) => value(s.by.get(t))))];
  if (rest.length) {
    series.push({ label: `others (${rest.length})`, stroke: OTHERS_COLOR, title: rest.map((s) => s.name).join(", ") });
    data.push(hours.map((t) => spec.others(rest.map((s) => s.by.get(t)).filter(Boolean))));
  }
  el.dataset.subreddits = counted.map((s) => s.name).join(" ");
  el.dataset.others = rest.map((s) => s.name).join(" ");
  lineChart(key, el, series, data, bucketView(first, last, HOUR, now, ["hour (local time)", spec.yTitle]));
}

// Observations per hour (0 where a subreddit has none; "others" summed).
function drawActivity(subs, now) {
  hourlyChart("activity", $("activity-chart"), subs, now, {
    has: (h) => h.observations > 0, weight: (h) => h.observations, value: (h) => h.observations, missing: 0,
    others: (hs) => hs.reduce((n, h) => n + h.observations, 0), yTitle: "observations per hour",
    empty: "no hourly figures yet (post_metrics_hourly is rolled up by the maintenance timer, "
      + "or TimescaleDB's continuous aggregate)",
  });
}

// The mean comment sentiment per hour (a gap where a subreddit has no scored comment; "others":
// the mean of their comments, each hour's mean weighted by its comments), busiest by comments.
function drawCommentSentiment(subs, now) {
  const scored = (h) => h.comments > 0 && h.avg_comment_sentiment !== null;
  hourlyChart("comments", $("comments-chart"), subs, now, {
    has: scored, weight: (h) => h.comments, value: (h) => h.avg_comment_sentiment, missing: null,
    others: (hs) => {
      const n = hs.reduce((k, h) => k + h.comments, 0);
      return n ? hs.reduce((k, h) => k + h.avg_comment_sentiment * h.comments, 0) / n : null;
    },
    yTitle: "mean comment sentiment (VADER)",
    empty: "no comments yet (comment_metrics_hourly: the comments' hourly aggregate)",
  });
}

// The whole group's throughput per minute, from the database (every worker's rows), since the
// first minute with any in the last hour.
async function refreshRates() {
  const r = await getJSON("/api/rates/");
  const minutes = r.minutes.map((m) => epoch(m.minute));
  const busy = r.minutes.findIndex((m) => m.observations || m.dead_letters);
  const from = busy < 0 ? 0 : Math.min(busy, minutes.length - 2);
  const done = r.minutes.length >= 2 ? r.minutes[r.minutes.length - 2] : null;
  text("group-rate", done ? num(done.observations) : "–");
  const data = [minutes.slice(from), r.minutes.slice(from).map((m) => m.observations),
                r.minutes.slice(from).map((m) => m.dead_letters)];
  lineChart("rate", $("rate-chart"), [{ label: "observations" }, { label: "dead letters", stroke: "#ef5350" }], data,
            bucketView(data[0][0], data[0][data[0].length - 1], MINUTE, epoch(r.generated_at),
                       ["time (local)", "rows per minute"]));
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
  const parts = [refreshStats(), refreshRates(), refreshTrending(), refreshSubreddits(), refreshDlq()];
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
