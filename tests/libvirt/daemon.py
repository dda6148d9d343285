"""An unprivileged libvirtd on 127.0.0.1 whose `test` driver stands in for a hypervisor.

Run as root (CI), the daemon drops to `nobody`: a system libvirtd would load the
QEMU driver and want its users and /dev/kvm. As a session daemon it needs none
of that, and `test+tcp://127.0.0.1:PORT/default` reaches the test driver.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

CONFIG = """\
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "{port}"
auth_tcp = "none"
unix_sock_dir = "{run}"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Libvirtd:
    """Start with `with Libvirtd(workdir) as daemon:`; `daemon.uri` is the test driver's URI."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"test+tcp://127.0.0.1:{self.port}/default"

    def start(self, timeout: float = 20.0) -> Libvirtd:
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
        with (self.workdir / "libvirtd.log").open("wb") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = (self.workdir / "libvirtd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"libvirtd exited with {self._process.returncode}:\n{tail}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"libvirtd did not listen on 127.0.0.1:{self.port} in {timeout:g} s")

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None

    def __enter__(self) -> Libvirtd:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
