#!/usr/bin/env bash
# `make demo`: the pipeline on the local stack: the Reddit simulator, ingest (posts, refreshes and
# comments) and a worker.
# Ctrl-C stops all three (the stack stays up: `make down`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
set -a; . ./.env.local; set +a
bin="$root/.venv/bin"
# the simulator stands in for Reddit: dummy credentials, a faster clock so that posts move
export SIMULATOR_PORT=${SIMULATOR_PORT:-8077}
export REDDIT_API_URL=${DEMO_REDDIT_API_URL:-http://127.0.0.1:$SIMULATOR_PORT}
export REDDIT_CLIENT_ID=${REDDIT_CLIENT_ID:-demo} REDDIT_CLIENT_SECRET=${REDDIT_CLIENT_SECRET:-demo}
export SIMULATOR_SPEED=${SIMULATOR_SPEED:-10}
# each subreddit's newest comments every 5 s (the simulator's posts gain comments as its clock runs)
export INGEST_COMMENTS_SECONDS=${INGEST_COMMENTS_SECONDS:-5}
# the hourly rollup (plain PostgreSQL) every 30 s instead of 5 minutes, so the dashboard's hourly chart fills soon
export MAINTENANCE_INTERVAL_SECONDS=${MAINTENANCE_INTERVAL_SECONDS:-30}
pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
}
trap cleanup EXIT INT TERM
"$bin/faust" -A streams simulate &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SIMULATOR_PORT") 2>/dev/null && break; sleep 0.2; done
"$bin/faust" -A streams ingest &
pids+=($!)
"$bin/faust" -A streams worker -l info &
pids+=($!)
echo "[demo] simulator on $REDDIT_API_URL, ingest polling ${SUBREDDITS:-the default subreddits} (posts and comments)"
echo "[demo] dashboard on http://127.0.0.1:${WEB_PORT:-6066}/ (API: /openapi.json, health: /health/, metrics: /metrics); Ctrl-C stops"
wait -n "${pids[@]}"
