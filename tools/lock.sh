#!/usr/bin/env bash
# Regenerates the two hash-pinned locks (pip-compile --generate-hashes: every transitive package
# pinned with the sha256 of each of its files on PyPI), with pip-tools in a virtualenv of its own
# (.cache/pip-tools):
#   requirements.lock       the runtime: pyproject.toml's [project] dependencies (the image installs it)
#   requirements-test.lock  the runtime and the `test` extra (`make install` installs it), the
#                           runtime's packages at requirements.lock's versions (-c requirements.lock)
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
# no local wheel folders or private indexes end up in the locks
compile() {
  env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
    "$venv/bin/pip-compile" --quiet --allow-unsafe --generate-hashes --strip-extras \
      --no-emit-index-url --no-emit-find-links "$@"
}
compile --output-file=requirements.lock "$@" pyproject.toml
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) packages)" >&2
compile --extra=test --constraint=requirements.lock --output-file=requirements-test.lock "$@" pyproject.toml
echo "wrote requirements-test.lock ($(grep -c '==' requirements-test.lock) packages)" >&2
