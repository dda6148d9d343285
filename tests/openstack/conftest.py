"""A real OpenStack (Keystone, Glance, Placement, Nova with the fake virt driver) for the tests.

Started once per session by servers/openstack/stack.py from Debian 12's Zed libraries
(install them with servers/openstack/install.sh). If the stack cannot start, the tests
fail with the reason; they never skip. NOT REAL: Neutron, a stub that answers every list
with an empty one (servers boot without NICs); see servers/openstack/neutron_stub.py.

Set WM_OPENSTACK_DIR to the folder of a stack already started with
`python3 servers/openstack/stack.py start --dir DIR` to reuse it (it is left running).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = ROOT / "servers" / "openstack" / "stack.py"
INSTALL = ROOT / "servers" / "openstack" / "install.sh"
#: Read before the autouse fixture replaces the environment.
REUSE = os.environ.get("WM_OPENSTACK_DIR")


def stack_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wm_openstack_stack", STACK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class OpenStack:
    """The running stack: its state (stack.json) and an admin's view of Nova over HTTP."""

    stack: Any  # servers/openstack/stack.py's Stack
    state: dict[str, Any]

    @property
    def auth_url(self) -> str:
        return str(self.state["auth_url"])

    @property
    def compute_url(self) -> str:
        return str(self.state["compute_url"])

    def user(self, project: str) -> dict[str, str]:
        found: dict[str, str] = self.state["users"][project]
        return found

    def admin_token(self) -> str:
        token: str = self.stack.admin_token()
        return token

    # -- the witness: plain HTTP to Nova with an admin token --------------------------

    def nova(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.admin_token(), "Accept": "application/json"}
        return httpx.request(method, self.compute_url + path, headers=headers, timeout=30, **kwargs)

    def server(self, server_id: str) -> dict[str, Any] | None:
        """Nova's own record of a server (any project), or None when it is gone."""
        reply = self.nova("GET", f"/servers/{server_id}")
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()["server"]
        return found

    def actions(self, server_id: str) -> list[str]:
        """The actions Nova recorded for a server (create, stop, start, reboot, ...)."""
        reply = self.nova("GET", f"/servers/{server_id}/os-instance-actions")
        reply.raise_for_status()
        return [str(a["action"]) for a in reply.json()["instanceActions"]]

    def settled(self, server_id: str, vm_state: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until Nova says the server is in `vm_state` with no task in flight."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.server(server_id)
            assert server is not None, f"server {server_id} disappeared"
            if (
                server["OS-EXT-STS:vm_state"] == vm_state
                and server["OS-EXT-STS:task_state"] is None
            ):
                return server
            if time.monotonic() > deadline:
                raise AssertionError(f"server {server_id} never {vm_state}: {server}")
            time.sleep(0.3)

    def delete_all_servers(self, timeout: float = 60) -> None:
        """Delete every server of every project and wait until Nova forgets them (quota)."""
        reply = self.nova("GET", "/servers", params={"all_tenants": "1"})
        reply.raise_for_status()
        ids = [s["id"] for s in reply.json()["servers"]]
        for ident in ids:
            self.nova("DELETE", f"/servers/{ident}")
        deadline = time.monotonic() + timeout
        while ids and time.monotonic() < deadline:
            ids = [i for i in ids if self.server(i) is not None]
            time.sleep(0.3)
        assert not ids, f"servers not deleted within {timeout} s: {ids}"


@pytest.fixture(scope="session")
def openstack() -> Iterator[OpenStack]:
    module = stack_module()
    if REUSE:
        yield OpenStack(module.Stack.attach(Path(REUSE)), module.Stack.attach(Path(REUSE)).state)
        return
    if not Path("/usr/lib/python3/dist-packages/nova/virt/fake.py").exists():
        pytest.fail(
            f"Debian's OpenStack libraries are not installed: run {INSTALL} (root or sudo)",
            pytrace=False,
        )
    # A short path: MariaDB's socket path must stay under 108 characters.
    root = Path(tempfile.mkdtemp(prefix="wm-openstack-"))
    stack = module.Stack(root)
    try:
        state = stack.start()
    except module.StackError as exc:
        pytest.fail(f"the test OpenStack did not start (logs in {root}/log):\n{exc}", pytrace=False)
    try:
        yield OpenStack(stack, state)
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def cloud(openstack: OpenStack) -> OpenStack:
    """The session's OpenStack with Heat added (once) and registered in its catalog."""
    openstack.state.update(openstack.stack.start_heat())
    return openstack


@dataclass
class AppCredential:
    id: str
    secret: str


def keystone_token(stack: OpenStack, project: str) -> tuple[str, str]:
    """(token, user id) for the project's user, scoped to the project."""
    user = stack.user(project)
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user["user"],
                        "domain": {"name": "Default"},
                        "password": user["password"],
                    }
                },
            },
            "scope": {"project": {"id": user["project_id"]}},
        }
    }
    reply = httpx.post(f"{stack.auth_url}/v3/auth/tokens", json=body, timeout=30)
    reply.raise_for_status()
    return reply.headers["X-Subject-Token"], str(reply.json()["token"]["user"]["id"])


@pytest.fixture
def appcred(openstack: OpenStack) -> Iterator[AppCredential]:
    """An application credential of alpha's user, made through Keystone's own API."""
    token, user_id = keystone_token(openstack, "alpha")
    url = f"{openstack.auth_url}/v3/users/{user_id}/application_credentials"
    body = {"application_credential": {"name": f"wm-test-{secrets.token_hex(4)}"}}
    reply = httpx.post(url, json=body, headers={"X-Auth-Token": token}, timeout=30)
    assert reply.status_code == 201, reply.text
    made = reply.json()["application_credential"]
    yield AppCredential(id=str(made["id"]), secret=str(made["secret"]))
    httpx.delete(f"{url}/{made['id']}", headers={"X-Auth-Token": token}, timeout=30)
