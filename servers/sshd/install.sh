#!/usr/bin/env bash
# Debian's OpenSSH server and client for the ssh tests: the tests run sshd themselves on
# loopback with their own config and keys (the package's own service is not used); tmux
# is the real terminal the TUI's ssh key is tested in.
# Idempotent; quiet when present.
set -euo pipefail
packages=(openssh-server openssh-client tmux)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "servers/sshd/install.sh: need root to install ${missing[*]} (apt-get)" >&2; exit 1
fi
echo "installing ${missing[*]} (Debian packages for the ssh tests)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
