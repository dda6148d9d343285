#!/usr/bin/env bash
# Debian's PostgreSQL server for the `wm serve` replica tests: the tests make a throwaway
# cluster of their own with initdb/pg_ctl as an unprivileged user on loopback (the
# package's own cluster and service are not used). Idempotent; quiet when present.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
missing_debs postgresql
[ ${#MISSING[@]} -eq 0 ] && exit 0
as_root servers/postgresql/install.sh
echo "installing ${MISSING[*]} (Debian packages for the PostgreSQL tests)"
# Keep the package scripts from starting the system cluster: the tests run their own.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    created_policy=1
fi
trap '[ -n "$created_policy" ] && "${SUDO[@]}" rm -f "$policy"' EXIT
apt_install "${MISSING[@]}"
