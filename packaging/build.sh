#!/usr/bin/env bash
# Build the one-folder application (dist/nnsim/nnsim) with PyInstaller from a clean virtual
# environment in build/venv-pyinstaller, so nothing installed by hand leaks into the bundle.
#
#   bash packaging/build.sh          # then: dist/nnsim/nnsim
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
VENV=build/venv-pyinstaller
if [ ! -x "$VENV/bin/python" ]; then
    echo "nnsim build: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet . "pyinstaller>=6.22,<7" pyinstaller-hooks-contrib
"$VENV/bin/pyinstaller" --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/nnsim.spec
echo "nnsim build: dist/nnsim/nnsim ($(du -sh dist/nnsim | cut -f1))" >&2
