#!/usr/bin/env bash
# Debian packages for the libvirt tests: the daemon (its built-in test driver is the
# "cloud") and the headers libvirt-python builds against. Idempotent; quiet when present.
set -euo pipefail
packages=(libvirt-daemon libvirt-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "servers/libvirt/install.sh: need root to install ${missing[*]} (apt-get)" >&2; exit 1
fi
echo "installing ${missing[*]} (Debian packages for the libvirt tests)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
