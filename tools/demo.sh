#!/usr/bin/env bash
# `make demo`: the pipeline on the local stack: the Reddit simulator, ingest (posts, refreshes and
# comments) and a worker.
# `make demo ARCHIVE=1`: the same without Reddit API keys: ingest reads the archive simulator
# (REDDIT_SOURCE=archive, docs/archive.md); DEMO_ARCHIVE_API_URL=https://arctic-shift.photon-reddit.com
# reads the real archive instead (no simulator). Velocity and trending are off then.
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
archive=${DEMO_ARCHIVE:-${ARCHIVE:-}}  # `make demo ARCHIVE=1` (DEMO_ARCHIVE), or ARCHIVE=1 tools/demo.sh
unset ARCHIVE  # not a setting: ARCHIVE_* are the archive client's settings
sim_args=()
if [ "$archive" = 1 ]; then
  export REDDIT_SOURCE=archive
  export ARCHIVE_API_URL=${DEMO_ARCHIVE_API_URL:-http://127.0.0.1:$SIMULATOR_PORT}
  export ARCHIVE_REQUESTS_PER_SECOND=${ARCHIVE_REQUESTS_PER_SECOND:-2}
  # the archive simulator's world: a post every 6 s of its clock per subreddit, some in the same second
  export SIMULATOR_POSTS_PER_HOUR=${SIMULATOR_POSTS_PER_HOUR:-600} SIMULATOR_BURST=${SIMULATOR_BURST:-2}
  sim_args=(--archive)
fi
pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
}
trap cleanup EXIT INT TERM
if [ -z "${DEMO_ARCHIVE_API_URL:-}" ] || [ "$archive" != 1 ]; then
  "$bin/faust" -A streams simulate "${sim_args[@]}" &
  pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SIMULATOR_PORT") 2>/dev/null && break; sleep 0.2; done
fi
"$bin/faust" -A streams ingest &
pids+=($!)
"$bin/faust" -A streams worker -l info &
pids+=($!)
if [ "$archive" = 1 ]; then
  echo "[demo] archive on $ARCHIVE_API_URL (REDDIT_SOURCE=archive: no keys; velocity and trending off), ingest polling ${SUBREDDITS:-the default subreddits}"
else
  echo "[demo] simulator on $REDDIT_API_URL, ingest polling ${SUBREDDITS:-the default subreddits} (posts and comments)"
fi
echo "[demo] dashboard on http://127.0.0.1:${WEB_PORT:-6066}/ (API: /openapi.json, health: /health/, metrics: /metrics); Ctrl-C stops"
wait -n "${pids[@]}"
