#!/usr/bin/env bash
# `make demo`: the pipeline on the local stack. Ctrl-C stops it (the stack stays up: `make down`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
set -a; . ./.env.local; set +a
bin="$root/.venv/bin"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM
"$bin/faust" -A streams worker -l info &
pids+=($!)
echo "[demo] worker on http://127.0.0.1:${WEB_PORT:-6066}/ (health: /health/, metrics: /metrics); Ctrl-C stops"
wait -n "${pids[@]}"
