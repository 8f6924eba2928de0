#!/usr/bin/env bash
# Set up everything runcore's tests need, idempotently, on Debian bookworm (as root):
#
#   * Debian packages: containerd (1.6.20, bookworm), runc, busybox-static, apparmor,
#     containernetworking-plugins, iproute2, python3-venv, docker-registry, skopeo,
#     apache2-utils (htpasswd) and openssl (the pull tests' registries);
#     the system containerd is never started (policy-rc.d during apt; systemctl
#     disable --now where systemd runs) - the tests start private daemons only;
#   * /opt/cni/bin -> links to Debian's CNI plugins in /usr/lib/cni (for --cni);
#   * a trixie apt source with a low pin (priority 100), used only to
#     `apt-get download containerd/trixie` and unpack it (no install) into
#     /opt/runcore/containerd-1.7.24 - the ctr/containerd 1.7 oracle;
#   * the repo's .venv: runcore and every plugin under plugins/ (editable), pytest,
#     tox, grpcio-tools, and the pinned lint tools (ruff, mypy, vulture: scripts/lint.sh).
#
# Environment:
#   RUNCORE_BOOTSTRAP_FORCE=1     redo apt-get update and the pip installs
#   RUNCORE_CONTAINERD17_DEB=F    use this .deb instead of downloading containerd/trixie
#   RUNCORE_SKIP_REGISTRY=1       do not install docker-registry
#   RUNCORE_CTD17_DIR=D           unpack containerd 1.7.24 here (default /opt/runcore/containerd-1.7.24;
#                                 the tests then need RUNCORE_CONTAINERD_17_BIN=D/usr/bin)
#   PYTHON=python3                interpreter used to create .venv
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTD17_DIR=${RUNCORE_CTD17_DIR:-/opt/runcore/containerd-1.7.24}
CTD17_VERSION=1.7.24
TRIXIE_SOURCE=/etc/apt/sources.list.d/trixie.sources
TRIXIE_PIN=/etc/apt/preferences.d/trixie-low
VENV="$REPO/.venv"
STAMP="$VENV/.runcore-bootstrap"
PYTHON=${PYTHON:-python3}
FORCE=${RUNCORE_BOOTSTRAP_FORCE:-0}

PACKAGES=(containerd runc busybox-static apparmor containernetworking-plugins iproute2
          python3 python3-venv ca-certificates debian-archive-keyring)
[ "${RUNCORE_SKIP_REGISTRY:-0}" = 1 ] || PACKAGES+=(docker-registry skopeo apache2-utils openssl)

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "bootstrap: FAILED (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

# Run a noisy command quietly; show its output only when it fails.
quiet() {
    local out
    out=$(mktemp)
    if ! "$@" >"$out" 2>&1; then
        printf 'bootstrap: command failed: %s\n' "$*" >&2
        tail -n 40 "$out" >&2
        rm -f "$out"
        return 1
    fi
    rm -f "$out"
}

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and writes /opt, /etc/apt)"
command -v apt-get >/dev/null || die "apt-get not found: this script is for Debian bookworm"
if [ -r /etc/os-release ]; then
    . /etc/os-release
    [ "${VERSION_CODENAME:-}" = bookworm ] || log "warning: written for Debian bookworm, this is ${PRETTY_NAME:-unknown}"
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -y -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# --------------------------------------------------------------------------- apt
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_ctd17=1
if [ -x "$CTD17_DIR/usr/bin/containerd" ] && "$CTD17_DIR/usr/bin/containerd" --version 2>/dev/null | grep -q " $CTD17_VERSION"; then
    need_ctd17=0
fi

need_trixie=0
if [ ! -f "$TRIXIE_SOURCE" ] && ! cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -Eq '^[[:space:]]*(Suites:.*[[:space:]]trixie([[:space:]]|$)|deb[[:space:]].*[[:space:]]trixie[[:space:]])'; then
    need_trixie=1
fi

updated=0
apt_update() {
    if [ "$updated" = 0 ]; then
        log "apt-get update"
        quiet "${APT[@]}" --error-on=any update
        updated=1
    fi
}

[ "$FORCE" = 1 ] && apt_update

if [ "${#missing[@]}" -gt 0 ]; then
    # Keep the system containerd (and docker-registry) from being started by the
    # install: invoke-rc.d honours policy-rc.d (exit 101 = action forbidden).
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
        log "creating $policy (deny service starts) for the duration of the install"
        printf '#!/bin/sh\n# runcore bootstrap: no service starts during apt\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    apt_update
    log "apt-get install ${missing[*]}"
    if ! quiet "${APT[@]}" install --no-install-recommends "${missing[@]}"; then
        [ "$created_policy" = 0 ] || rm -f "$policy"
        die "package installation failed"
    fi
    [ "$created_policy" = 0 ] || rm -f "$policy"
else
    log "packages already installed: ${PACKAGES[*]}"
fi

# Never let a system containerd run next to the tests' private daemons.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    for unit in containerd docker-registry; do
        if systemctl list-unit-files "$unit.service" >/dev/null 2>&1; then
            log "systemctl disable --now $unit"
            quiet systemctl disable --now "$unit.service" || log "warning: could not disable $unit"
        fi
    done
else
    log "no systemd running: nothing to disable (policy-rc.d kept services from starting)"
fi

# ctr/runcore `--cni` (go-cni defaults) look for plugins in /opt/cni/bin; Debian ships
# them in /usr/lib/cni. Link them (no network config is written to /etc/cni/net.d).
if [ -d /usr/lib/cni ]; then
    mkdir -p /opt/cni/bin
    for plugin in /usr/lib/cni/*; do
        [ -e "/opt/cni/bin/$(basename "$plugin")" ] || ln -s "$plugin" "/opt/cni/bin/$(basename "$plugin")"
    done
fi

# --------------------------------------------------------------------------- trixie source + pin
if [ "$need_trixie" = 1 ]; then
    # trixie's Release files are signed with the Debian 13 keys: take the newest keyring.
    apt_update
    log "apt-get install --only-upgrade debian-archive-keyring"
    quiet "${APT[@]}" install --only-upgrade debian-archive-keyring
    log "adding $TRIXIE_SOURCE"
    cat >"$TRIXIE_SOURCE" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    updated=0  # the new source needs an update before `apt-get download`
else
    log "trixie apt source present"
fi
if [ ! -f "$TRIXIE_PIN" ]; then
    log "adding $TRIXIE_PIN (Pin-Priority 100: trixie packages are never picked by default)"
    cat >"$TRIXIE_PIN" <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
else
    log "trixie pin present"
fi

# --------------------------------------------------------------------------- containerd 1.7.24
if [ "$need_ctd17" = 1 ]; then
    work=$(mktemp -d)
    if [ -n "${RUNCORE_CONTAINERD17_DEB:-}" ]; then
        deb=$RUNCORE_CONTAINERD17_DEB
        [ -f "$deb" ] || die "RUNCORE_CONTAINERD17_DEB=$deb does not exist"
    else
        apt_update
        log "apt-get download containerd/trixie"
        (cd "$work" && quiet apt-get -q download containerd/trixie)
        deb=$(ls "$work"/containerd_*.deb)
    fi
    log "unpacking $(basename "$deb") into $CTD17_DIR"
    rm -rf "$CTD17_DIR.new"
    mkdir -p "$CTD17_DIR.new"
    dpkg -x "$deb" "$CTD17_DIR.new"
    got=$("$CTD17_DIR.new/usr/bin/containerd" --version) || die "unpacked containerd does not run"
    case "$got" in
        *" $CTD17_VERSION"*) ;;
        *) rm -rf "$CTD17_DIR.new" "$work"
           die "expected containerd $CTD17_VERSION from trixie, got: $got (set RUNCORE_CONTAINERD17_DEB to a 1.7.24 .deb)" ;;
    esac
    for b in containerd ctr containerd-shim-runc-v2; do
        [ -x "$CTD17_DIR.new/usr/bin/$b" ] || die "$b missing in $(basename "$deb")"
    done
    rm -rf "$CTD17_DIR"
    mv "$CTD17_DIR.new" "$CTD17_DIR"
    rm -rf "$work"
fi
log "$("$CTD17_DIR/usr/bin/containerd" --version)"
"$CTD17_DIR/usr/bin/containerd" --version | grep -q " $CTD17_VERSION" || die "$CTD17_DIR/usr/bin/containerd is not $CTD17_VERSION"
log "$(/usr/bin/containerd --version)"
command -v runc >/dev/null || die "runc not in PATH"

# --------------------------------------------------------------------------- venv
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    quiet "$PYTHON" -m venv "$VENV"
fi

plugin_dirs=()
for d in "$REPO"/plugins/*/; do
    [ -f "$d/pyproject.toml" ] && plugin_dirs+=("${d%/}")
done

# Reinstall only when a pyproject.toml or the plugin set changed (or FORCE).
want=$( { echo "${plugin_dirs[*]}"; cat "$REPO/pyproject.toml"; for d in "${plugin_dirs[@]}"; do cat "$d/pyproject.toml"; done; } | sha256sum | cut -d' ' -f1)
have=$(cat "$STAMP" 2>/dev/null || true)
LINT_TOOLS=(ruff==0.17.6 mypy==2.4.1 vulture==2.16)  # keep in step with pyproject's `lint` extra
TEST_TOOLS=(pytest tox grpcio-tools==1.85.1 hypothesis PyYAML cryptography)
if [ "$FORCE" = 1 ] || [ "$want" != "$have" ] || ! "$VENV/bin/python" -c 'import runcore, pytest, tox, grpc_tools, hypothesis, yaml, cryptography, ruff, mypy, vulture' 2>/dev/null; then
    args=(-e "$REPO")
    for d in "${plugin_dirs[@]}"; do args+=(-e "$d"); done
    log "pip install ${args[*]#"$REPO/"} ${TEST_TOOLS[*]} ${LINT_TOOLS[*]}"
    quiet "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${args[@]}" "${TEST_TOOLS[@]}" "${LINT_TOOLS[@]}"
    echo "$want" >"$STAMP"
else
    log "venv up to date ($VENV)"
fi
"$VENV/bin/python" -c 'import runcore' || die "runcore does not import in $VENV"
log "done"
