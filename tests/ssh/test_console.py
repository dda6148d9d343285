"""Console output through the portal and `wm console`, against moto's GetConsoleOutput;
a provider with none says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import Cloud
from tests.ssh.conftest import Wm
from winged_monkey.backend import Capability
from winged_monkey.cli.main import ExitCode
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import Instance
from winged_monkey.user.config import AccountConfig, Credentials

MOTO_FIRST_LINE = "Linux version 2.6.16-xenU (builder@patchbat.amazonsa)"


def listed(portal: Portal) -> None:
    async def run() -> None:
        async for _ in portal.refresh(native_events=False):
            pass

    asyncio.run(run())


def test_ec2_console_output_read_only_accounts_included(cloud: Cloud) -> None:
    ident = cloud.launch(cloud.ec2(), "web-1")
    portal = cloud.portal(cloud.account("audit", read_only=True))
    try:
        listed(portal)
        assert Capability.CONSOLE in portal.capabilities("audit")
        instance = portal.instance(f"audit/{ident}")
        assert instance is not None
        text = asyncio.run(portal.console_output(instance))
        assert text.startswith(MOTO_FIRST_LINE)
        assert "Kernel command line: root=/dev/sda1 ro 4" in text
        assert [c.action for c in cloud.server.calls if "Console" in (c.action or "")] == [
            "GetConsoleOutput"
        ]
    finally:
        asyncio.run(portal.close())


def test_a_provider_without_console_output_says_so(cloud: Cloud) -> None:
    dummy = AccountConfig(
        name="lab",
        provider="dummy",
        driver={"creds": 0},  # the dummy driver's one required argument
        credentials=Credentials(key="0", keyring=False),
    )
    portal = cloud.portal(dummy)
    try:
        instance = Instance(
            account="lab", id="1", name="dummy-1", state="running", raw_state="0", provider="dummy"
        )
        with pytest.raises(ActionNotAllowed, match="no console output through dummy"):
            asyncio.run(portal.console_output(instance))
        assert Capability.CONSOLE not in portal.capabilities("lab")  # so the UI offers no L
    finally:
        asyncio.run(portal.close())


def test_wm_console_prints_the_console(cloud: Cloud, tmp_path: Path) -> None:
    ident = cloud.launch(cloud.ec2(), "web-1")
    wm = Wm(tmp_path / "wm.toml", cloud)
    wm.write_config()
    done = wm.wm("console", f"dev/{ident}")
    assert done.returncode == ExitCode.OK, done.stderr
    assert done.stdout.startswith(MOTO_FIRST_LINE)
    assert done.stdout.endswith("Enabling fast FPU save and restore... done.\n")
