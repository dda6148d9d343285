"""Console output through the portal and `wm console`, against moto's GetConsoleOutput;
a provider with none says so."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest

from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from tests.ssh.conftest import WM, Wm
from tests.terminal import shown_on_a_terminal
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


#: A boot log as a guest may write it: systemd's colours, then what a hostile or broken
#: guest can put there: an OSC 52 clipboard write, a C1 CSI (U+009B: "clear the screen" to
#: many terminals), a right-to-left override.
GUEST_LOG = (
    "[\x1b[0;32m  OK  \x1b[0m] Reached target Multi-User System.\r\n"
    "\x1b]52;c;cm0gLXJmIH4K\x07clipboard\r\n"
    "\x9b2Jcleared \u202eevil\r\n"
)


def test_wm_console_on_a_terminal_passes_no_escape_of_the_guest(
    cloud: Cloud, tmp_path: Path
) -> None:
    """EC2 hands back what the guest wrote to its serial port: `wm console` prints its
    text without the escapes, on a terminal and into a pipe (a pager's); the C1 CSI, the
    OSC 52 and the bidi override used to go through. moto's console is fixed text, so the
    proxy answers GetConsoleOutput with such a log."""
    ident = cloud.launch(cloud.ec2(), "web-1")
    output = base64.b64encode(GUEST_LOG.encode()).decode()
    reply = (
        '<GetConsoleOutputResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>1</requestId><instanceId>{ident}</instanceId>"
        f"<timestamp>2026-12-07T00:00:00Z</timestamp><output>{output}</output>"
        "</GetConsoleOutputResponse>"
    ).encode()
    with FaultProxy(("127.0.0.1", cloud.server.port)) as proxy:
        proxy.fault = Fault(
            "status",
            status=200,
            headers={"Content-Type": "text/xml"},
            body=reply,
            match=b"GetConsoleOutput",
        )
        wm = Wm(tmp_path / "wm.toml", cloud)
        wm.write_config()
        config = wm.config.read_text().replace(
            f"port = {cloud.server.port}", f"port = {proxy.port}"
        )
        wm.config.write_text(config)
        env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret"}
        shown = shown_on_a_terminal(
            [str(WM), "--config", str(wm.config), "console", f"dev/{ident}"], env
        )
        piped = wm.wm("console", f"dev/{ident}")
    assert "Reached target Multi-User System." in shown
    for escape in ("\x9b", "\u202e", "\x1b]52", "\x1b[0;32m"):
        assert escape not in shown, repr(shown)
    assert "2Jcleared evil" in shown  # the text stays; only the controls are gone
    assert piped.returncode == ExitCode.OK, piped.stderr
    assert piped.stdout == (
        "[  OK  ] Reached target Multi-User System.\n52;c;cm0gLXJmIH4Kclipboard\n2Jcleared evil\n"
    )
