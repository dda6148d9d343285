"""An unprivileged libvirtd on 127.0.0.1 whose `test` driver stands in for a hypervisor.

Run as root (CI), the daemon drops to `nobody`: a system libvirtd would load the
QEMU driver and want its users and /dev/kvm. As a session daemon it needs none
of that, and `test+tcp://127.0.0.1:PORT/default` reaches the test driver.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Self

from tests.processes import ServerProcess, free_port, spawn, wait_listening

CONFIG = """\
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "{port}"
auth_tcp = "none"
unix_sock_dir = "{run}"
"""


class Libvirtd(ServerProcess):
    """Start with `with Libvirtd(workdir) as daemon:`; `daemon.uri` is the test driver's URI."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"test+tcp://127.0.0.1:{self.port}/default"

    @property
    def socket(self) -> Path:
        """The daemon's unix socket (what a remote libvirt client reaches through ssh)."""
        return self.workdir / "run" / "libvirt-sock"

    def start(self, timeout: float = 20.0) -> Self:
        binary = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
        if not Path(binary).exists():
            raise RuntimeError("libvirtd is not installed: run servers/libvirt/install.sh")
        run, home = self.workdir / "run", self.workdir / "home"
        for folder in (run, home):
            folder.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "libvirtd.conf"
        conf.write_text(CONFIG.format(port=self.port, run=run))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(run),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
        }
        command = [binary, "--listen", "-f", str(conf)]
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in (self.workdir, run, home, conf):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            os.chmod(run, 0o700)
            command = ["runuser", "-u", "nobody", "--", *command]
        log_path = self.workdir / "libvirtd.log"
        self._process = spawn(command, log_path, env)
        wait_listening(self._process, self.port, log_path, "libvirtd", timeout)
        return self
