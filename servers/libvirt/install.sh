#!/usr/bin/env bash
# Debian packages for the libvirt tests: the daemon (its built-in test driver is the
# "cloud") and the headers libvirt-python builds against. Idempotent; quiet when present.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
missing_debs libvirt-daemon libvirt-dev pkg-config
[ ${#MISSING[@]} -eq 0 ] && exit 0
as_root servers/libvirt/install.sh
echo "installing ${MISSING[*]} (Debian packages for the libvirt tests)"
apt_install "${MISSING[@]}"
