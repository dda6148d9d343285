"""Helpers shared by the OpenStack tests: the project's accounts and libcloud drivers, a
server booted straight through libcloud, a portal over the real stack, and the autouse
`passwords` fixture (import it where it applies) that deletes every server after a test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libcloud.compute.base import Node, NodeDriver
from libcloud.compute.providers import get_driver

from tests.openstack.conftest import OpenStack
from winged_monkey.actions import Action
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus, Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials


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
