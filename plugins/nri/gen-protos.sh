#!/bin/sh
# Regenerate runcore-nri's protobuf modules from the hand-written protos under protos/:
#
#   protos/runcore_nri/_pb/**.proto  ->  runcore_nri/_pb/  (ttrpc envelope, NRI v0.6.1 API)
#   protos/nri_cri_testing/**.proto  ->  tests/nri_cri_testing/  (the CRI subset the tests use)
#
# Usage: plugins/nri/gen-protos.sh [OUTPUT_ROOT]   (default: plugins/nri itself)
# Set PYTHON to choose the interpreter (needs grpcio-tools); by default the repository's
# .venv is used when present, else python3. Same generator as scripts/gen-protos.sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$here}

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then
        PYTHON=$repo/.venv/bin/python
    else
        PYTHON=python3
    fi
fi

mkdir -p "$out/tests"
rm -rf "$out/runcore_nri/_pb" "$out/tests/nri_cri_testing"

cd "$here/protos"
# Sorted lists so that the generated output does not depend on directory order.
main=$(find runcore_nri -name '*.proto' | LC_ALL=C sort)
cri=$(find nri_cri_testing -name '*.proto' | LC_ALL=C sort)
# shellcheck disable=SC2086  # word splitting of the file lists is intended
"$PYTHON" -m grpc_tools.protoc -I. --python_out="$out" --pyi_out="$out" $main
# shellcheck disable=SC2086
"$PYTHON" -m grpc_tools.protoc -I. --python_out="$out/tests" --pyi_out="$out/tests" $cri

# Every generated directory becomes a package.
for root in "$out/runcore_nri/_pb" "$out/tests/nri_cri_testing"; do
    find "$root" -type d | while read -r dir; do
        [ -f "$dir/__init__.py" ] || : > "$dir/__init__.py"
    done
done
cat > "$out/runcore_nri/_pb/__init__.py" <<'PY'
"""Generated protobuf modules for ttrpc and NRI v0.6.1 (do not edit).

Regenerate with ``plugins/nri/gen-protos.sh`` from the protos under ``plugins/nri/protos/``.
"""
PY
cat > "$out/tests/nri_cri_testing/__init__.py" <<'PY'
"""Generated protobuf modules for the CRI subset used by the tests (do not edit).

Regenerate with ``plugins/nri/gen-protos.sh`` from ``plugins/nri/protos/nri_cri_testing/``.
"""
PY
