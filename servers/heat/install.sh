#!/usr/bin/env bash
# Install a standalone OpenStack Heat (PyPI openstack-heat, pinned by constraints.txt) into
# its own venv, kept in a cache dir and reused between runs. Idempotent: when the venv
# already matches the pins it returns at once. Prints the venv's python as the last line.
#
#   servers/heat/install.sh            # WM_CACHE, WM_HEAT_VENV and PYTHON are honoured
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${WM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/winged-monkey}
VENV=${WM_HEAT_VENV:-$CACHE/heat-venv}
PY=${PYTHON:-python3}
HEAT_VERSION=27.0.1
# The venv is rebuilt whenever the pins or this script change.
WANT="heat $HEAT_VERSION $(cat "$HERE/constraints.txt" "$0" | sha256sum | cut -c1-16)"

ready() { [ -f "$VENV/.wm-installed" ] && [ "$(cat "$VENV/.wm-installed")" = "$WANT" ] \
    && [ -x "$VENV/bin/python" ]; }

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9  # two test runs at once install once
if ready; then
    echo "$VENV/bin/python"
    exit 0
fi

started=$(date +%s)
echo "installing openstack-heat $HEAT_VERSION into $VENV (first run: about 1-3 minutes)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --constraint "$HERE/constraints.txt" "openstack-heat==$HEAT_VERSION" >&2; then
    rm -rf "$VENV"
    echo "error: could not install openstack-heat $HEAT_VERSION from the package index" \
        "(no network or no PyPI mirror?); the Heat tests need it" >&2
    exit 1
fi
"$VENV/bin/python" -c "import heat.engine.service, heat.api.openstack.v1" >&2
echo "$WANT" >"$VENV/.wm-installed"
echo "installed in $(($(date +%s) - started)) s" >&2
echo "$VENV/bin/python"
