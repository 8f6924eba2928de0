#!/usr/bin/env bash
# Run runcore's test suite: bootstrap the machine (scripts/bootstrap.sh), then pytest
# over tests/ and plugins/. Extra arguments go to pytest, e.g.
#   scripts/test.sh -k harness -x
#   RUNCORE_CONTAINERD_VERSIONS=1.7 scripts/test.sh     # one daemon only
# With CI=true, tests that need containerd FAIL instead of being skipped
# (RUNCORE_REQUIRE_CONTAINERD=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" = 0 ]; then
    scripts/bootstrap.sh
elif [ -x .venv/bin/python ]; then
    echo "test.sh: not root - skipping scripts/bootstrap.sh (containerd tests will skip)" >&2
else
    echo "test.sh: not root and no .venv: run scripts/bootstrap.sh as root first" >&2
    exit 1
fi

if [ "${CI:-}" = "true" ]; then
    export RUNCORE_REQUIRE_CONTAINERD=1
fi

paths=()
for p in tests plugins; do
    [ -e "$p" ] && paths+=("$p")
done
# A hung test dumps every thread's traceback after RUNCORE_TEST_HANG_DUMP seconds
# (pytest's faulthandler; 0 disables it) so a CI log shows where it hangs.
exec .venv/bin/python -m pytest -ra -o "faulthandler_timeout=${RUNCORE_TEST_HANG_DUMP:-300}" "${paths[@]}" "$@"
