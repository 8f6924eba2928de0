#!/bin/sh
# Regenerate runcore/_pb/ (protobuf messages, gRPC stubs, .pyi type stubs) from
# the hand-written wire-compatible protos under protos/.
#
# Usage: scripts/gen-protos.sh [OUTPUT_ROOT]
#   OUTPUT_ROOT defaults to the repository root, so files land in runcore/_pb/.
#   Set PYTHON to choose the interpreter (needs grpcio-tools); by default the
#   repository's .venv is used when present, else python3.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo}

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then
        PYTHON=$repo/.venv/bin/python
    else
        PYTHON=python3
    fi
fi

include=$("$PYTHON" -c 'import os, grpc_tools; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')

mkdir -p "$out"
rm -rf "$out/runcore/_pb"

cd "$repo/protos"
# Sorted list so that the generated output does not depend on directory order.
files=$(find runcore/_pb -name '*.proto' | LC_ALL=C sort)
# shellcheck disable=SC2086  # word splitting of $files is intended
"$PYTHON" -m grpc_tools.protoc -I. -I"$include" \
    --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" $files

# protoc writes a *_pb2_grpc.py for every file; keep only those with a service.
find "$out/runcore/_pb" -name '*_pb2_grpc.py' | while read -r f; do
    grep -q 'Stub' "$f" || rm -f "$f"
done

# Every generated directory becomes a package.
find "$out/runcore/_pb" -type d | while read -r dir; do
    [ -f "$dir/__init__.py" ] || : > "$dir/__init__.py"
done
cat > "$out/runcore/_pb/__init__.py" <<'PY'
"""Generated protobuf/gRPC modules for containerd's API (do not edit).

Regenerate with ``scripts/gen-protos.sh`` from the protos under ``protos/``.
"""
PY
