"""VMware's vCenter simulator (vcsim) on a free loopback port, with TLS the tests verify.

`servers/vcsim/install.sh` builds the binary from Debian's govmomi source and
makes a CA and a 2048-bit server certificate (vcsim's own 1024-bit key is
refused by OpenSSL 3); both are cached, and found here at import time (the
tests' isolation moves HOME later).
"""

from __future__ import annotations

import os
import secrets
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any, Self

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from tests.processes import ServerProcess, free_port, spawn, wait_listening

CACHE = Path(os.environ.get("WM_CACHE") or Path.home() / ".cache" / "winged-monkey") / "vcsim"
BINARY = Path(os.environ.get("WM_VCSIM") or CACHE / "bin" / "vcsim")
CERTS = CACHE / "certs"
CA = CERTS / "ca.pem"
OTHER_CA = CERTS / "other-ca.pem"  # a CA that did not sign vcsim's certificate
USER = "wm"


class Vcsim(ServerProcess):
    """`with Vcsim(tmp_path, vms=250) as sim:`; `-vm N` puts N VMs on the standalone host
    and N in the cluster, so the default 2 gives 4 VMs and 250 gives 500. vcsim builds its
    inventory before it listens: `start_timeout` grows with `vms` (about 11 s at 2,500 on a
    loaded 2-core machine)."""

    def __init__(
        self,
        workdir: Path,
        *,
        vms: int = 2,
        extra: tuple[str, ...] = (),
        start_timeout: float | None = None,
    ) -> None:
        self.workdir = workdir
        self.vms = vms
        self.extra = extra
        self.start_timeout = start_timeout if start_timeout is not None else 20.0 + vms / 25
        self.port = free_port()
        self.password = "pw-" + secrets.token_hex(8)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        missing = [
            p for p in (BINARY, CA, CERTS / "server.pem", CERTS / "server.key") if not p.exists()
        ]
        if missing:
            raise RuntimeError(
                f"vcsim is not installed ({missing[0]} is missing): run servers/vcsim/install.sh"
            )
        command = [
            str(BINARY),
            "-l",
            f"127.0.0.1:{self.port}",
            "-tlscert",
            str(CERTS / "server.pem"),
            "-tlskey",
            str(CERTS / "server.key"),
            "-username",
            USER,
            "-password",
            self.password,
            "-vm",
            str(self.vms),
            *self.extra,
        ]
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / f"vcsim-{self.port}.log"
        self._process = spawn(command, log_path)
        wait_listening(self._process, self.port, log_path, "vcsim", self.start_timeout)
        return self

    def account_toml(self, name: str, secret_env: str) -> str:
        """This simulator as a user's `[[accounts]]` entry: TLS verified with the test CA,
        the password read from the environment variable `secret_env`."""
        return (
            f'[[accounts]]\nname = "{name}"\nbackend = "vsphere"\n'
            f'endpoint = {{ host = "127.0.0.1", port = {self.port} }}\n'
            f'ca_bundle = "{CA}"\ntimeout = 60\n'
            f'credentials = {{ key = "{USER}", keyring = false, secret_env = "{secret_env}" }}\n'
        )

    def witness(self) -> Witness:
        """An independent pyvmomi session (not the backend's code) to check the server."""
        return Witness(self)


class Witness:
    """Reads and changes the simulator's VMs by name through plain pyvmomi."""

    def __init__(self, sim: Vcsim) -> None:
        context = ssl.create_default_context(cafile=str(CA))
        self.si: Any = SmartConnect(
            host="127.0.0.1", port=sim.port, user=USER, pwd=sim.password, sslContext=context
        )
        self.content: Any = self.si.RetrieveContent()

    def vms(self) -> dict[str, Any]:
        view = self.content.viewManager.CreateContainerView(
            self.content.rootFolder, [vim.VirtualMachine], True
        )
        try:
            return {vm.name: vm for vm in view.view}
        finally:
            view.DestroyView()

    def vm(self, name: str) -> Any:
        return self.vms()[name]

    def power(self, name: str) -> str:
        return str(self.vm(name).runtime.powerState)

    def run(self, task: Any) -> None:
        """Wait for a task the witness started."""
        deadline = time.monotonic() + 10
        while task.info.state not in ("success", "error"):
            if time.monotonic() > deadline:
                raise AssertionError("witness task did not finish")
            time.sleep(0.01)
        if task.info.state == "error":
            raise task.info.error

    def events(self, name: str) -> list[str]:
        """Type names of the events vCenter recorded for a VM, oldest first."""
        spec = vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=self.vm(name), recursion="self")
        )
        found = self.content.eventManager.QueryEvents(spec) or []
        return [type(event).__name__.rsplit(".", 1)[-1] for event in found]

    def close(self) -> None:
        Disconnect(self.si)
