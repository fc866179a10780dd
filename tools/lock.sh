#!/usr/bin/env bash
# Regenerates requirements.lock, the image's hash-pinned lock of the runtime dependencies
# (pyproject.toml's [project] dependencies, every transitive package pinned with the sha256 of
# each of its files on PyPI), with pip-tools in a virtualenv of its own (.cache/pip-tools).
#   tools/lock.sh                                     keep the current pins, add / drop what pyproject.toml changed
#   tools/lock.sh --upgrade-package faust-streaming   one package to its newest allowed version (pip-compile's options)
#   tools/lock.sh --upgrade                           everything to the newest allowed versions
# Run it with the Python the image uses (3.11): markers are resolved for the running interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/pip-tools"
PIP_TOOLS_VERSION=7.6.2
if ! "$venv/bin/pip-compile" --version 2>/dev/null | grep -q "$PIP_TOOLS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
fi
cd "$root"
# no local wheel folders or private indexes end up in the lock
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
  "$venv/bin/pip-compile" --quiet --allow-unsafe --generate-hashes --strip-extras \
    --no-emit-index-url --no-emit-find-links --output-file=requirements.lock "$@" pyproject.toml
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) packages)" >&2
