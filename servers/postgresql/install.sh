#!/usr/bin/env bash
# Debian's PostgreSQL server for the `wm serve` replica tests: the tests make a throwaway
# cluster of their own with initdb/pg_ctl as an unprivileged user on loopback (the
# package's own cluster and service are not used). Idempotent; quiet when present.
set -euo pipefail
packages=(postgresql)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "servers/postgresql/install.sh: need root to install ${missing[*]} (apt-get)" >&2; exit 1
fi
echo "installing ${missing[*]} (Debian packages for the PostgreSQL tests)"
export DEBIAN_FRONTEND=noninteractive
# Keep the package scripts from starting the system cluster: the tests run their own.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    created_policy=1
fi
trap '[ -n "$created_policy" ] && "${SUDO[@]}" rm -f "$policy"' EXIT
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
