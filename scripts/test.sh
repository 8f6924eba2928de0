#!/usr/bin/env bash
# Run runcore's test suite: bootstrap the machine (scripts/bootstrap.sh), the quality
# gates (scripts/lint.sh: ruff, mypy, vulture, py.typed), then pytest over tests/ and
# plugins/. A failing gate fails the run (after pytest, so one run shows everything).
# RUNCORE_SKIP_LINT=1 skips the gates. Extra arguments go to pytest, e.g.
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

lint_status=0
if [ "${RUNCORE_SKIP_LINT:-0}" != 1 ]; then
    scripts/lint.sh || lint_status=$?
fi

paths=()
for p in tests plugins; do
    [ -e "$p" ] && paths+=("$p")
done
# A hung test dumps every thread's traceback after RUNCORE_TEST_HANG_DUMP seconds
# (pytest's faulthandler; 0 disables it) so a CI log shows where it hangs.
test_status=0
.venv/bin/python -m pytest -ra -o "faulthandler_timeout=${RUNCORE_TEST_HANG_DUMP:-300}" "${paths[@]}" "$@" || test_status=$?
if [ "$test_status" != 0 ]; then
    exit "$test_status"
fi
if [ "$lint_status" != 0 ]; then
    echo "test.sh: tests passed, but the quality gates failed (scripts/lint.sh)" >&2
    exit "$lint_status"
fi
