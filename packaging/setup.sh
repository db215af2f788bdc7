#!/usr/bin/env bash
# Set up nnsim in a virtual environment (.venv in the repository root) and run it or its tests.
#
#   bash packaging/setup.sh run  [nnsim arguments...]   # install, then start the app
#   bash packaging/setup.sh test [pytest arguments...]  # install with the [test] extra, run pytest
#
# Works on a fresh Debian 12 (or Ubuntu) machine that has only Python 3.11+: installs
# python3-venv and the shared libraries Qt needs through apt-get when they are missing (as root,
# or through sudo). Re-running is fast: pip runs again only when pyproject.toml has changed.
#
# Environment: PYTHON  interpreter used to create .venv (default: python3).
set -euo pipefail

log() { printf 'nnsim setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: bash packaging/setup.sh run [nnsim args...] | test [pytest args...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
MODE=$1
shift
case "$MODE" in
    run | test) ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.nnsim-setup-stamp

# Debian packages Qt needs to run offscreen (tests) ...
QT_BASE_PKGS=(libegl1 libgl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0)
# ... and additionally on a real X display (xcb platform plugin).
QT_XCB_PKGS=(libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1
    libxcb-xfixes0 libxcb-xkb1 libxcb-glx0 libx11-xcb1)

# ---------------------------------------------------------------------------------------------
# Debian packages

have_dpkg() { command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; }

# Print the packages among "$@" that are not installed.
missing_pkgs() {
    local p
    for p in "$@"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
            echo "$p"
        fi
    done
}

# Run a command as root: directly when we are root, through sudo when it exists.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        return 1
    fi
}

# ensure_pkgs WHY PKG... : install the missing ones; on failure print the command and return 1.
ensure_pkgs() {
    local why=$1
    shift
    if ! have_dpkg; then
        log "not a Debian-based system: make sure the equivalents of these are installed ($why): $*"
        return 0
    fi
    local missing
    missing=$(missing_pkgs "$@")
    [ -n "$missing" ] || return 0
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    set -- $missing
    log "missing Debian packages ($why): $*"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        log "cannot install them: not root and no sudo. Please run as root:"
        log "    apt-get update && apt-get install -y --no-install-recommends $*"
        return 1
    fi
    log "installing them with apt-get"
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; then
        return 0
    fi
    log "could not install them. Please run as root:"
    log "    apt-get update && apt-get install -y --no-install-recommends $*"
    return 1
}

# ---------------------------------------------------------------------------------------------
# Virtual environment

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3.11 or newer (or set PYTHON=...)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "nnsim needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"

venv_ok() { [ -x "$VENV/bin/python" ] && [ -e "$VENV/bin/pip" ] && "$VENV/bin/python" -c '' 2>/dev/null; }

# A venv made for another checkout path has stale script shebangs: start it afresh.
if [ -f "$STAMP" ] && [ "$(sed -n 's/^root=//p' "$STAMP")" != "$ROOT" ]; then
    log "the repository has moved since .venv was made: recreating it"
    rm -rf "$VENV"
fi

if ! venv_ok; then
    log "creating virtual environment in $VENV"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        if have_dpkg && [ -n "$(missing_pkgs python3-venv)" ]; then
            ensure_pkgs "Python's venv module" python3-venv || die "cannot create a virtual environment without python3-venv"
        fi
        "$PYTHON" -m venv "$VENV" || {
            rm -rf "$VENV"
            die "'$PYTHON -m venv' failed; on Debian/Ubuntu install python3-venv (or python3.X-venv for your version)"
        }
    fi
fi

# ---------------------------------------------------------------------------------------------
# The project itself (pip runs only when pyproject.toml or the wanted extra changed)

if [ "$MODE" = test ]; then EXTRA="test"; else EXTRA="none"; fi
HASH=$(sha256sum pyproject.toml | cut -d' ' -f1)

stamp_ok() {
    [ -f "$STAMP" ] || return 1
    [ "$(sed -n 's/^pyproject=//p' "$STAMP")" = "$HASH" ] || return 1
    # An install with the [test] extra also serves 'run'.
    local have
    have=$(sed -n 's/^extra=//p' "$STAMP")
    [ "$EXTRA" = none ] || [ "$have" = "$EXTRA" ]
}

if stamp_ok; then
    log "nnsim already installed in $VENV (pyproject.toml unchanged)"
else
    if [ "$EXTRA" = test ]; then SPEC=".[test]"; else SPEC="."; fi
    log "installing nnsim and its dependencies into $VENV (pip install -e '$SPEC')"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -e "$SPEC"
    printf 'pyproject=%s\nextra=%s\nroot=%s\n' "$HASH" "$EXTRA" "$ROOT" >"$STAMP"
fi

# ---------------------------------------------------------------------------------------------
# System libraries for Qt

# Warn about shared libraries the Qt plug-ins and libraries cannot find (names the real culprit,
# which Qt's own error message sometimes does not).
check_qt_libs() {
    local qt="" d f missing=""
    for d in "$VENV"/lib/python3*/site-packages/PySide6/Qt; do
        [ -d "$d" ] && qt=$d
    done
    [ -n "$qt" ] && command -v ldd >/dev/null 2>&1 || return 0
    for f in "$@"; do
        [ -e "$qt/$f" ] || continue
        missing+=" $(ldd "$qt/$f" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ' || true)"
    done
    missing=$(printf '%s\n' "$missing" | tr ' ' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
    if [ -n "${missing// /}" ]; then
        log "warning: Qt cannot find these shared libraries: $missing(QT_DEBUG_PLUGINS=1 shows details)"
    fi
}

if [ "$MODE" = test ]; then
    ensure_pkgs "Qt offscreen" "${QT_BASE_PKGS[@]}" || log "continuing; Qt tests may fail"
    check_qt_libs plugins/platforms/libqoffscreen.so lib/libQt6Gui.so.6 lib/libQt6Widgets.so.6
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    log "running the tests: $VENV/bin/python -m pytest $*"
    exec "$VENV/bin/python" -m pytest "$@"
fi

ensure_pkgs "Qt on an X11 desktop" "${QT_BASE_PKGS[@]}" "${QT_XCB_PKGS[@]}" || log "continuing without them"
check_qt_libs plugins/platforms/libqxcb.so lib/libQt6Gui.so.6 lib/libQt6Widgets.so.6
log "starting nnsim"
exec "$VENV/bin/nnsim" "$@"
