#!/usr/bin/env bash
# runcore's quality gates; scripts/test.sh runs them before pytest, `tox -e lint` alone.
# Configuration lives in pyproject.toml ([tool.ruff], [tool.mypy], [tool.vulture]).
#
#   ruff check          lint: pyflakes, pycodestyle errors, bugbear (whole tree)
#   ruff format --check formatting of every Python file (FORMATTED below)
#   mypy                strict, for the modules in STRICT below
#   vulture             dead code (whitelist: scripts/vulture_whitelist.py)
#   py.typed            every distribution ships its PEP 561 marker
#
# Every gate runs even when an earlier one fails; the exit status is 1 if any failed.
# Tools: the pinned versions of the `lint` extra (scripts/bootstrap.sh installs them).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-.venv/bin/python}

# mypy --strict: the plugin contract, the plugin system, and the hook implementations.
STRICT=(
    runcore/hookspecs.py runcore/api.py runcore/spec_editor.py runcore/plugin
    runcore/context.py runcore/errors.py runcore/cli/plugin_set.py runcore/rootfs_mount.py
    runcore/builtin plugins/*/runcore_*/__init__.py examples/*/runcore_*/__init__.py
)
# Every Python file is in `ruff format` style (the Markdown code samples are not checked).
FORMATTED=(runcore plugins examples tests scripts benchmarks)

failed=()
gate() {
    local name=$1
    shift
    echo "lint: $name" >&2
    "$@" || failed+=("$name")
}

py_typed() {
    local missing=0 pkg
    for pkg in runcore plugins/*/runcore_* examples/*/runcore_*; do
        [ -f "$pkg/__init__.py" ] || continue  # a package, not runcore_x.egg-info
        if [ ! -f "$pkg/py.typed" ]; then
            echo "$pkg/py.typed is missing (PEP 561 marker)" >&2
            missing=1
        fi
    done
    return "$missing"
}

gate "ruff check" "$PY" -m ruff check --quiet .
gate "ruff format" "$PY" -m ruff format --check --quiet "${FORMATTED[@]}"
gate "mypy (strict)" "$PY" -m mypy "${STRICT[@]}"
gate "vulture" "$PY" -m vulture
gate "py.typed" py_typed

if [ "${#failed[@]}" -gt 0 ]; then
    echo "lint: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "lint: all gates passed" >&2
