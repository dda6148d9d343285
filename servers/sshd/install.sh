#!/usr/bin/env bash
# Debian's OpenSSH server and client for the ssh tests: the tests run sshd themselves on
# loopback with their own config and keys (the package's own service is not used); tmux
# is the real terminal the TUI's ssh key is tested in, and gpg with pinentry-curses the
# `pass show` a secret_command runs under the TUI (tests/test_credential_commands_tui.py).
# Idempotent; quiet when present.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
missing_debs openssh-server openssh-client tmux gpg gpg-agent pinentry-curses
[ ${#MISSING[@]} -eq 0 ] && exit 0
as_root servers/sshd/install.sh
echo "installing ${MISSING[*]} (Debian packages for the ssh and terminal tests)"
apt_install "${MISSING[@]}"
