"""`wm console` and `wm ssh` on a Heat app go to its server, as the Nova account lists it:
the stack's OS::Nova::Server resource is that account's row (Heat on the full OpenStack)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (
    FAKE_CONSOLE,
    SERVER,
    driver_settings,
    password_account,
    pw_env,
    server_of,
)
from winged_monkey.actions import Action
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend

pytestmark = pytest.mark.timeout(480)


def _config(stack: OpenStack, user: str) -> str:
    q = json.dumps  # TOML's basic strings read JSON's
    driver = ", ".join(f"{k} = {q(v)}" for k, v in driver_settings(stack, "alpha").items())
    return (
        f'[[accounts]]\nname = "os-app"\nbackend = "heat"\nregion = "RegionOne"\ntimeout = 30\n'
        f'auth_url = {q(stack.auth_url)}\nproject_name = "alpha"\n'
        'user_domain_name = "Default"\nproject_domain_name = "Default"\n'
        f'credentials = {{ key = {q(user)}, keyring = false, secret_env = "{pw_env("os-app")}" }}\n'
        f'[[accounts]]\nname = "os-nova"\nprovider = "openstack"\ntimeout = 30\n'
        f"driver = {{ {driver} }}\n"
        f'credentials = {{ key = {q(user)}, keyring = false, secret_env = "WM_ALPHA_PW" }}\n'
    )


async def test_console_and_ssh_of_an_app_reach_its_server(
    cloud: OpenStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = cloud.user("alpha")
    monkeypatch.setenv(pw_env("os-app"), alice["password"])
    monkeypatch.setenv("WM_ALPHA_PW", alice["password"])
    config = tmp_path / "wm.toml"
    config.write_text(_config(cloud, alice["user"]))
    account = password_account(cloud, "os-app", alice["user"], "alpha")
    secret = Secrets(account="os-app", key=alice["user"], secret=alice["password"])
    launcher = HeatBackend(account, secret)
    stack_id = await launcher.launch_app(SERVER, "login-tier", {})
    try:
        server_id = await server_of(launcher, stack_id)
        cloud.settled(server_id, "active")
        runner = CliRunner()

        def wm(*args: str) -> Result:  # in a thread: the command runs its own event loop
            return runner.invoke(main, ["--config", str(config), *args])

        shown = await asyncio.to_thread(wm, "console", "login-tier")
        assert shown.exit_code == ExitCode.OK, shown.output
        assert shown.output == FAKE_CONSOLE + "\n"
        # The test cloud has no Neutron: the server has no address, and wm says which one.
        ssh = await asyncio.to_thread(wm, "ssh", "--print", "login-tier")
        assert ssh.exit_code == ExitCode.NOT_FOUND  # refused in its state, as actions are
        assert f"(os-nova/{server_id}) has no address yet" in ssh.output
    finally:
        row = await launcher.get_instance(stack_id)
        if row is not None:
            await launcher.act(Action.DESTROY, row)
        await launcher.close()


#: A web tier as teams write one: a ResourceGroup of a nested template holding the server,
#: two levels below the app (the group, then its member's stack).
MEMBER = SERVER.replace("one server, no network", "the one server of a member, no network")
TIER = """
heat_template_version: 2018-08-31
resources:
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: 1
      resource_def: {type: member.yaml}
"""


async def test_console_of_an_app_reaches_the_server_of_its_groups_member(
    cloud: OpenStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's members were read one level down (web/0, the member's stack), so `wm
    console web-tier` said no configured account lists its servers."""
    alice = cloud.user("alpha")
    monkeypatch.setenv(pw_env("os-app"), alice["password"])
    monkeypatch.setenv("WM_ALPHA_PW", alice["password"])
    config = tmp_path / "wm.toml"
    config.write_text(_config(cloud, alice["user"]))
    (tmp_path / "member.yaml").write_text(MEMBER)
    (tmp_path / "tier.yaml").write_text(TIER)
    account = password_account(cloud, "os-app", alice["user"], "alpha")
    secret = Secrets(account="os-app", key=alice["user"], secret=alice["password"])
    launcher = HeatBackend(account, secret)
    stack_id = await launcher.launch_app(str(tmp_path / "tier.yaml"), "web-tier", {})
    try:
        server_id = await server_of(launcher, stack_id, nested_depth=5)
        cloud.settled(server_id, "active")
        shown = await asyncio.to_thread(
            CliRunner().invoke, main, ["--config", str(config), "console", "web-tier"]
        )
        assert shown.exit_code == ExitCode.OK, shown.output
        assert shown.output == FAKE_CONSOLE + "\n"
    finally:
        row = await launcher.get_instance(stack_id)
        if row is not None:
            await launcher.act(Action.DESTROY, row)
        await launcher.close()
