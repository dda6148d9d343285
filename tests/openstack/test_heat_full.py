"""The Heat backend against Heat on the full OpenStack: Keystone v3 auth, the service
catalog, and a stack with a real Nova server (fake virt driver).

Every service is the real one from Debian 12's Zed except Neutron: a stub answers every
list with an empty one, so the server is booted with `allocate_network: none`. Keystone's
and Nova's own records are the witnesses, read over plain HTTP with an admin token.
"""

from __future__ import annotations

import dataclasses
import io
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.heat.conftest import make_portal, refresh, rows
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import SERVER, Keystone, password_account, pw_env, server_of
from tests.openstack.helpers import account as nova_account
from winged_monkey.actions import Action
from winged_monkey.errors import AuthError, BackendError, ConfigError
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.app_detail import resources_table
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend

S = InstanceState
# The first test also waits for the stack (~90 s) and Heat (~25 s) to start.
pytestmark = pytest.mark.timeout(480)

NONE = """
heat_template_version: 2018-08-31
resources:
  nothing:
    type: OS::Heat::None
"""


@pytest.fixture
async def backends() -> AsyncIterator[list[HeatBackend]]:
    made: list[HeatBackend] = []
    yield made
    for backend in made:
        await backend.close()


def backend_for(
    made: list[HeatBackend], account: AccountConfig, password: str, key: str | None = None
) -> HeatBackend:
    secret = Secrets(account=account.name, key=key or account.credentials.key, secret=password)
    backend = HeatBackend(account, secret)
    made.append(backend)
    return backend


async def test_password_auth_finds_heat_in_the_catalog(
    cloud: OpenStack, backends: list[HeatBackend]
) -> None:
    alice = cloud.user("alpha")
    account = password_account(cloud, "os-heat-alpha", alice["user"], "alpha")
    backend = backend_for(backends, account, alice["password"])
    said = await backend.check()
    heat_port = cloud.state["ports"]["heat"]
    assert said.startswith(f"Heat at 127.0.0.1:{heat_port}, project alpha: reachable"), said
    assert await backend.list_instances() == [] or all(
        row.extra["project"] == "alpha" for row in await backend.list_instances()
    )


async def test_application_credential_reaches_its_project_only(
    cloud: OpenStack, backends: list[HeatBackend]
) -> None:
    bob = cloud.user("beta")
    ks = Keystone(cloud)
    token = cloud.stack.token(bob["user"], bob["password"], "beta")
    user_id = ks.id_of("user", bob["user"])
    made = ks.as_user(
        token,
        "POST",
        f"/users/{user_id}/application_credentials",
        json={
            "application_credential": {"name": f"wm-{secrets.token_hex(3)}", "unrestricted": True}
        },
    )
    assert made.status_code == 201, made.text
    credential = made.json()["application_credential"]
    account = AccountConfig(
        name="os-heat-appcred",
        backend="heat",
        credentials=Credentials(key=credential["id"], keyring=False),
        auth_url=cloud.auth_url,
        application_credential_id=credential["id"],
    )
    backend = backend_for(backends, account, credential["secret"])
    said = await backend.check()
    assert ", project beta: reachable" in said, said
    # bob's stack (made with his password) is listed through the credential; not for alice.
    bobs = backend_for(
        backends, password_account(cloud, "os-bob", bob["user"], "beta"), bob["password"]
    )
    launched = await bobs.launch_app(NONE, "ac-app", {})
    mine = {row.id: row for row in await backend.list_instances()}
    assert mine[launched].extra["project"] == "beta"
    alice = cloud.user("alpha")
    other = backend_for(
        backends,
        password_account(cloud, "os-heat-alpha2", alice["user"], "alpha"),
        alice["password"],
    )
    assert launched not in {row.id for row in await other.list_instances()}
    await backend.act(Action.DESTROY, mine[launched])
    # Keystone refuses trusts to an application credential's token, and Heat makes one per
    # stack: Heat answers 500; the message says what to do instead.
    with pytest.raises(BackendError) as no_trust:
        await backend.launch_app(NONE, "ac-app2", {})
    assert "cannot create stacks through an application credential" in no_trust.value.message

    wrong = backend_for(backends, account, "not-the-secret")
    with pytest.raises(AuthError) as refused:
        await wrong.list_instances()
    assert refused.value.account == "os-heat-appcred"
    assert f"refused application credential {credential['id']}" in refused.value.message
    assert credential["secret"] not in str(refused.value)


async def test_wrong_password_is_named_and_other_accounts_list(
    cloud: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = cloud.user("alpha")
    good = password_account(cloud, "good", alice["user"], "alpha")
    bad = password_account(cloud, "bad", alice["user"], "alpha")
    monkeypatch.setenv(pw_env("good"), alice["password"])
    monkeypatch.setenv(pw_env("bad"), "wrong-" + alice["password"])
    portal, store = make_portal(tmp_path, good, bad)
    try:
        updates = await refresh(portal)
    finally:
        store.close()
    assert updates["good"].status.error is None
    rows(updates["good"])
    error = updates["bad"].status.error
    assert error is not None
    assert f"Keystone (127.0.0.1:{cloud.state['ports']['keystone']})" in error
    assert f"refused user {alice['user']} (project alpha)" in error
    assert alice["password"] not in error


async def test_revoked_token_authenticates_once_more_then_fails_clearly(
    cloud: OpenStack, backends: list[HeatBackend]
) -> None:
    """A revoked token is what an expired one looks like to Heat (401): the backend gets a
    new token once and carries on. When Keystone then refuses the password (changed by an
    admin, which also revokes the user's tokens), the failure names Keystone and the user."""
    ks = Keystone(cloud)
    name, user_id, password = ks.new_user("alpha")
    backend = backend_for(backends, password_account(cloud, "os-heat-rev", name, "alpha"), password)
    await backend.list_instances()
    keystone = backend.client.keystone
    assert keystone is not None
    assert keystone.session is not None
    first = keystone.session.token
    ks.revoke(first)
    old = ks.as_user(first, "GET", "/auth/projects")
    assert old.status_code == 401  # revoked: what Heat's middleware sees too
    await backend.list_instances()
    assert keystone.session is not None
    assert keystone.session.token != first
    # A token about to expire (Keystone's expires_at) is renewed before it is sent.
    second = keystone.session
    assert second.expires_at is not None
    keystone.session = dataclasses.replace(second, expires_at=datetime.now(UTC))
    await backend.list_instances()
    assert keystone.session.token not in (first, second.token)

    changed = ks.call("PATCH", f"/users/{user_id}", json={"user": {"password": "new-" + password}})
    assert changed.status_code == 200, changed.text
    with pytest.raises(AuthError) as refused:
        await backend.list_instances()
    assert refused.value.account == "os-heat-rev"
    assert f"Keystone (127.0.0.1:{cloud.state['ports']['keystone']}) refused user {name}" in (
        refused.value.message
    )
    assert "check the password" in refused.value.message


async def test_a_catalog_without_heat_for_the_region_says_what_it_has(
    cloud: OpenStack, backends: list[HeatBackend]
) -> None:
    alice = cloud.user("alpha")
    account = password_account(cloud, "os-heat-r2", alice["user"], "alpha").model_copy(
        update={"region": "RegionTwo"}
    )
    backend = backend_for(backends, account, alice["password"])
    with pytest.raises(ConfigError) as missing:
        await backend.list_instances()
    assert missing.value.account == "os-heat-r2"
    message = missing.value.message
    assert "no orchestration (Heat) endpoint for interface public, region RegionTwo" in message
    assert "public in RegionOne" in message
    assert "Set interface/region" in message


async def test_a_catalog_without_heat_says_so_and_what_to_do(
    cloud: OpenStack, backends: list[HeatBackend]
) -> None:
    ks = Keystone(cloud)
    project = ks.project_seeing_only("compute")
    name, _, password = ks.new_user(project)
    account = password_account(cloud, "os-heat-none", name, project)
    backend = backend_for(backends, account, password)
    with pytest.raises(ConfigError) as missing:
        await backend.list_instances()
    assert missing.value.account == "os-heat-none"
    assert missing.value.message == (
        "Keystone's catalog has no orchestration (Heat) endpoint for interface public, "
        "region RegionOne; it lists only: compute. Heat may not be deployed on this cloud; "
        "ask its admins, or set endpoint_url to Heat's URL"
    )


async def test_a_stack_with_a_nova_server_suspends_resumes_and_is_deleted(
    cloud: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = cloud.user("alpha")
    account = password_account(cloud, "os-app", alice["user"], "alpha")
    monkeypatch.setenv(pw_env("os-app"), alice["password"])
    # The same project's servers straight through Nova: the stack's server is one of them.
    monkeypatch.setenv("WM_TEST_ALPHA_PASSWORD", alice["password"])
    portal, store = make_portal(tmp_path, account, nova_account(cloud, "os-nova", "alpha"))
    secret = Secrets(account="os-app", key=alice["user"], secret=alice["password"])
    launcher = HeatBackend(account, secret)
    stack_id = await launcher.launch_app(SERVER, "web-tier", {})
    deleted = False
    try:
        server_id = await server_of(launcher, stack_id)
        cloud.settled(server_id, "active")
        app = await _app(portal, "web-tier", S.RUNNING)
        assert app.extra["members"] == 1
        # The app's server resource names the Nova account's row for the same server.
        detail = await portal.app_detail(app)
        elsewhere = portal.members_elsewhere(app, detail)
        assert [(i.account, i.id) for i in elsewhere.values()] == [("os-nova", server_id)]
        shown = render_plain(resources_table(detail, elsewhere))
        assert f"→ os-nova: {elsewhere[server_id].name} ▶ running" in shown

        for action, state, vm_state, status in (
            (Action.STOP, S.SUSPENDED, "suspended", "SUSPENDED"),
            (Action.START, S.RUNNING, "active", "ACTIVE"),
        ):
            updates = [u async for u in portal.run_action(action, app)]
            assert updates[-1].phase == "done", updates[-1].message
            assert updates[-1].instance.state is state
            assert cloud.settled(server_id, vm_state)["status"] == status  # Nova's own word
            app = updates[-1].instance

        updates = [u async for u in portal.run_action(Action.DESTROY, app)]
        assert updates[-1].phase == "done", updates[-1].message
        deleted = True
        _gone(cloud, server_id)
    finally:
        if not deleted:  # leave no server behind for the other OpenStack tests
            row = await launcher.get_instance(stack_id)
            if row is not None:
                await launcher.act(Action.DESTROY, row)
        await launcher.close()
        store.close()


def render_plain(renderable: Any) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


async def _app(portal: Any, name: str, state: InstanceState) -> Any:
    updates = await refresh(portal)
    update = updates["os-app"]
    found = rows(update)[name]
    assert found.state is state, found
    return found


def _gone(cloud: OpenStack, server_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while cloud.server(server_id) is not None:
        assert time.monotonic() < deadline, f"server {server_id} still there"
        time.sleep(0.3)
