#!/usr/bin/env bash
# Headless Chromium and its driver for the dashboard test (Debian's chromium, chromium-driver),
# installed with apt when missing. Idempotent; prints nothing when both are there.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
echo "[browser] installing chromium and chromium-driver (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium chromium-driver >/dev/null
