#!/usr/bin/env bash
# One command that sets everything up and runs a real container with runcore:
#
#   1. scripts/bootstrap.sh (packages, containerd 1.7.24 in /opt/runcore, .venv)
#   2. a private containerd 1.7.24 (temporary root/state/socket under /tmp/rcdemo-*)
#   3. the busybox test image archive (runcore/testing/busybox_image.py)
#   4. runcore --address SOCK --namespace demo images import ARCHIVE
#   5. runcore --address SOCK --namespace demo run --rm IMAGE demo echo hello from runcore
#   6. stop containerd, kill its shims, unmount and delete everything (also on error/^C)
#
# Usage: sudo scripts/demo.sh [COMMAND ARGS...]   (default: echo hello from runcore)
# DEMO_IMPORT_WITH_CTR=1 imports the image with ctr 1.7.24 instead of runcore.
# DEMO_KEEP=1 keeps the temporary directory (logs) after the run.
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=/opt/runcore/containerd-1.7.24/usr/bin
NS=demo
IMAGE=docker.io/library/rcbox:latest
CMD=("$@")
[ "${#CMD[@]}" -gt 0 ] || CMD=(echo hello from runcore)

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (containerd needs it)"

say "bootstrap"
"$REPO/scripts/bootstrap.sh"

TMP=$(mktemp -d /tmp/rcdemo-XXXXXX)
SOCK=$TMP/c.sock
PID=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    say "cleanup"
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        echo "stopping containerd (pid $PID)" >&2
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    # containers left running (only after a failure): delete them through runc
    if [ -d "$TMP/state/io.containerd.runtime.v2.task" ]; then
        for d in "$TMP"/state/io.containerd.runtime.v2.task/*/*; do
            [ -d "$d" ] || continue
            ns=$(basename "$(dirname "$d")")
            runc --root "/run/containerd/runc/$ns" delete --force "$(basename "$d")" 2>/dev/null || true
        done
    fi
    # shims of this daemon (their command line names its socket)
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
        case "$cmd" in
            *containerd-shim*"$SOCK"*) echo "killing shim ${p#/proc/}" >&2; kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
        esac
    done
    rmdir "/run/containerd/runc/$NS" 2>/dev/null || true
    # every mount under the temporary directory, deepest first
    awk -v t="$TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "kept $TMP (containerd log: $TMP/containerd.log)" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a private containerd 1.7.24 on $SOCK"
cat >"$TMP/config.toml" <<EOF
version = 2
root = "$TMP/root"
state = "$TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$TMP/debug.sock"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$TMP/opt"
EOF
# The daemon's bin dir first in PATH: containerd looks its shim up in $PATH.
PATH="$BIN:$PATH" setsid "$BIN/containerd" --config "$TMP/config.toml" >"$TMP/containerd.log" 2>&1 </dev/null &
PID=$!
for _ in $(seq 300); do
    "$BIN/ctr" --address "$SOCK" version >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { tail -20 "$TMP/containerd.log" >&2; die "containerd exited"; }
    sleep 0.1
done
"$BIN/ctr" --address "$SOCK" version >/dev/null || { tail -20 "$TMP/containerd.log" >&2; die "containerd did not start"; }
echo "containerd $("$BIN/containerd" --version | awk '{print $3}') running, pid $PID" >&2

say "building the busybox test image archive"
"$REPO/.venv/bin/python" -m runcore.testing.busybox_image "$TMP/rcbox.tar" oci >&2

RUNCORE=("$REPO/.venv/bin/runcore" --address "$SOCK" --namespace "$NS")

if [ "${DEMO_IMPORT_WITH_CTR:-0}" = 1 ]; then
    say "ctr images import $TMP/rcbox.tar"
    "$BIN/ctr" --address "$SOCK" --namespace "$NS" images import "$TMP/rcbox.tar"
else
    say "runcore images import $TMP/rcbox.tar"
    "${RUNCORE[@]}" images import "$TMP/rcbox.tar"
fi

say "runcore run --rm $IMAGE demo ${CMD[*]}"
"${RUNCORE[@]}" run --rm "$IMAGE" demo "${CMD[@]}"
