"""Console output from the real Nova (its fake virt driver keeps a fixed console log),
through libcloud's `os-getConsoleOutput` action; a read-only account reads it too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    FAKE_CONSOLE,
    account,
    boot,
    close,
    listed,
    make_portal,
    passwords,
)
from winged_monkey.backend import Capability
from winged_monkey.errors import BackendError

pytestmark = pytest.mark.timeout(420)  # the stack's start counts when this runs first


def test_novas_console_log(openstack: OpenStack, tmp_path: Path) -> None:
    boot(openstack, "alpha", "booted")
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha", read_only=True))
    try:
        server = listed(portal, "os-alpha")["booted"]
        assert Capability.CONSOLE in portal.capabilities("os-alpha")
        assert asyncio.run(portal.console_output(server)) == FAKE_CONSOLE
    finally:
        close(portal)


def test_the_console_of_a_server_placed_on_no_host_says_why_there_is_none(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "nowhere", flavor="m1.nohost").id)
    witness = openstack.settled(ident, "error")
    assert witness["fault"]["message"].startswith("No valid host was found")
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["nowhere"]
        with pytest.raises(BackendError) as raised:
            asyncio.run(portal.console_output(server))
    finally:
        close(portal)
    # Before: 'openstack refused: 409 Conflict Instance <id> is not ready'.
    assert str(raised.value) == (
        "os-alpha: nowhere has no console log to read: Nova says it is not ready "
        "(error: No valid host was found.)"
    )
