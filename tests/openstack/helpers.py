"""Helpers shared by the OpenStack tests: the project's accounts and libcloud drivers, a
server booted straight through libcloud, a portal over the real stack, the autouse
`passwords` fixture (import it where it applies) that deletes every server after a test,
and for Heat on the stack: a template with a Nova server, Heat password accounts, the
server of a stack, and the admin's side of Keystone.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from libcloud.compute.base import Node, NodeDriver
from libcloud.compute.providers import get_driver

from tests.openstack.conftest import OpenStack
from winged_monkey.actions import Action
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus, Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials
from winged_monkey_heat import HeatBackend


def driver_settings(stack: OpenStack, project: str) -> dict[str, Any]:
    return {
        "ex_force_auth_url": stack.auth_url,
        "ex_force_auth_version": "3.x_password",
        "ex_tenant_name": project,
        "ex_domain_name": "Default",
        "ex_force_service_region": "RegionOne",
    }


def account(stack: OpenStack, name: str, project: str, **settings: Any) -> AccountConfig:
    return AccountConfig(
        name=name,
        provider="openstack",
        driver=driver_settings(stack, project),
        credentials=Credentials(
            key=stack.user(project)["user"],
            keyring=False,
            secret_env=f"WM_TEST_{project.upper()}_PASSWORD",
        ),
        timeout=20,
        **settings,
    )


def libcloud_driver(stack: OpenStack, project: str) -> NodeDriver:
    """The test's own libcloud driver for a project (not the portal's)."""
    user = stack.user(project)
    cls = get_driver("openstack")
    driver: NodeDriver = cls(user["user"], user["password"], **driver_settings(stack, project))
    return driver


def boot(stack: OpenStack, project: str, name: str, flavor: str = "m1.tiny") -> Node:
    """Create a server as the project's user, straight through libcloud, and wait for it."""
    driver = libcloud_driver(stack, project)
    size = next(s for s in driver.list_sizes() if s.name == flavor)
    image = driver.get_image(stack.state["image_id"])
    node: Node = driver.create_node(name=name, size=size, image=image)
    if flavor != "m1.nohost":
        stack.settled(str(node.id), "active")
    return node


@pytest.fixture(autouse=True)
def passwords(openstack: OpenStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for project in ("alpha", "beta"):
        monkeypatch.setenv(
            f"WM_TEST_{project.upper()}_PASSWORD", openstack.user(project)["password"]
        )
    yield
    openstack.delete_all_servers()  # the quota is 10 servers and 20 cores per project


def make_portal(tmp_path: Path, *accounts: AccountConfig) -> Portal:
    config = Config(accounts=accounts, action_poll_interval=0.2, action_timeout=90)
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


def refresh(portal: Portal) -> dict[str, AccountStatus]:
    async def run() -> dict[str, AccountStatus]:
        return {update.status.name: update.status async for update in portal.refresh()}

    return asyncio.run(run())


def listed(portal: Portal, account_name: str) -> dict[str, Instance]:
    statuses = refresh(portal)
    assert statuses[account_name].phase != "failed", statuses[account_name].error
    return {i.name: i for i in portal.instances() if i.account == account_name}


def act(portal: Portal, action: Action, instance: Instance) -> tuple[str, str, list[Instance]]:
    async def run() -> tuple[str, str, list[Instance]]:
        phase, message, seen = "", "", []
        async for update in portal.run_action(action, instance):
            phase, message = update.phase, update.message
            seen.append(update.instance)
        return phase, message, seen

    return asyncio.run(run())


def close(portal: Portal) -> None:
    asyncio.run(portal.close())


#: nova/virt/fake.py's FakeDriver.get_console_output.
FAKE_CONSOLE = "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"

SERVER = """
heat_template_version: 2018-08-31
description: one server, no network (the test cloud has no Neutron)
parameters:
  flavor:
    type: string
    default: m1.tiny
resources:
  vm:
    type: OS::Nova::Server
    properties:
      image: cirros-fake
      flavor: {get_param: flavor}
      networks: [{allocate_network: none}]
      user_data_format: RAW
outputs:
  server_id:
    value: {get_resource: vm}
"""


class Keystone:
    """The admin's side of Keystone, for users the tests may break without harming others."""

    def __init__(self, cloud: OpenStack) -> None:
        self.cloud = cloud
        self.url = cloud.auth_url + "/v3"

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.cloud.admin_token(), **kwargs.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def id_of(self, kind: str, name: str) -> str:
        reply = self.call("GET", f"/{kind}s", params={"name": name})
        reply.raise_for_status()
        return str(reply.json()[f"{kind}s"][0]["id"])

    def new_user(self, project: str) -> tuple[str, str, str]:
        """A fresh member of `project`: (name, id, password)."""
        name, password = f"wm-{secrets.token_hex(4)}", secrets.token_hex(10)
        body = {"user": {"name": name, "password": password, "domain_id": "default"}}
        reply = self.call("POST", "/users", json=body)
        reply.raise_for_status()
        user = str(reply.json()["user"]["id"])
        project_id, member = self.id_of("project", project), self.id_of("role", "member")
        self.call("PUT", f"/projects/{project_id}/users/{user}/roles/{member}").raise_for_status()
        return name, user, password

    def project_seeing_only(self, service_type: str) -> str:
        """A new project whose catalog lists only `service_type` (Keystone's endpoint
        filter: a project with endpoint associations sees only those endpoints)."""
        name = f"wm-{secrets.token_hex(4)}"
        reply = self.call(
            "POST", "/projects", json={"project": {"name": name, "domain_id": "default"}}
        )
        reply.raise_for_status()
        project = str(reply.json()["project"]["id"])
        services = self.call("GET", "/services").json()["services"]
        wanted = {s["id"] for s in services if s["type"] == service_type}
        for endpoint in self.call("GET", "/endpoints").json()["endpoints"]:
            if endpoint["service_id"] in wanted:
                path = f"/OS-EP-FILTER/projects/{project}/endpoints/{endpoint['id']}"
                assert self.call("PUT", path).status_code == 204
        return name

    def as_user(self, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def revoke(self, token: str) -> None:
        reply = self.call("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})
        assert reply.status_code == 204, reply.text


def pw_env(account: str) -> str:
    return f"WM_{account.upper().replace('-', '_')}_PW"


def password_account(
    cloud: OpenStack, name: str, user: str, project: str, **extra: Any
) -> AccountConfig:
    settings: dict[str, Any] = {
        "auth_url": cloud.auth_url,
        "project_name": project,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    settings.update(extra)
    return AccountConfig(
        name=name,
        backend="heat",
        region="RegionOne",
        credentials=Credentials(key=user, keyring=False, secret_env=pw_env(name)),
        timeout=30,
        **settings,
    )


async def server_of(backend: HeatBackend, stack_id: str, nested_depth: int = 0) -> str:
    deadline = time.monotonic() + 120
    while True:
        row = await backend.get_instance(stack_id)
        assert row is not None
        if row.raw_state == "CREATE_COMPLETE":
            break
        assert row.raw_state == "CREATE_IN_PROGRESS", row.extra.get("fault")
        assert time.monotonic() < deadline, f"stack still {row.raw_state}"
        await asyncio.sleep(0.3)
    found = await backend.resources(stack_id, nested_depth)
    (vm,) = [r for r in found if r.type == "OS::Nova::Server"]
    assert vm.physical_id
    return vm.physical_id
