"""A real OpenSSH server (Debian's openssh-server) run by the tests on loopback, as whoever
runs them, with its own host key and one authorised test key: servers/sshd/install.sh."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from typing import Self

from tests.processes import ServerProcess, free_port, spawn, wait_listening

SSHD = Path("/usr/sbin/sshd")


def keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase at `path` (and `path`.pub)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


class SshServer(ServerProcess):
    """`sshd -D -e -f CONFIG` on 127.0.0.1 at a free port, logging in `log` (DEBUG1: the
    forwardings a jump host makes are named there)."""

    def __init__(self, root: Path, authorized_key: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host_key = keygen(root / "host_key")
        self.log = root / "sshd.log"
        self.user = getpass.getuser()
        (root / "authorized_keys").write_text(authorized_key.read_text())
        self.config = root / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\nPidFile none\nUsePAM no\n"
            # The tests' temporary folders are not the 0700 ~/.ssh sshd insists on.
            "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nLogLevel DEBUG1\n"
        )

    def known_host(self, key: Path | None = None) -> str:
        """A known_hosts line for this server (with `key`'s public half: another server's)."""
        public = (key or self.host_key).with_suffix(".pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n"

    def logins(self) -> int:
        """How many logins the server has accepted so far (its readiness probe is none)."""
        return self.log.read_text(errors="replace").count("Accepted publickey")

    def start(self) -> Self:
        if not SSHD.exists():
            raise RuntimeError("no /usr/sbin/sshd: run servers/sshd/install.sh")
        if os.geteuid() == 0:
            # sshd run by root wants its privilege-separation folder (systemd makes it at boot).
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self._process = spawn([str(SSHD), "-D", "-e", "-f", str(self.config)], self.log)
        wait_listening(self._process, self.port, self.log, "sshd", timeout=20)
        return self
