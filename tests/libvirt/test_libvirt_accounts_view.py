"""The accounts view (`a`) at 80x24 with a libvirt account, against a real libvirtd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.libvirt.daemon import Libvirtd
from tests.libvirt.test_libvirt import account
from tests.ui.conftest import settle, wait_for
from tests.ui.on_screen import shows, text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.accounts import AccountsScreen
from winged_monkey.user.config import Config


async def test_the_accounts_view_names_a_libvirt_account_s_backend_whole(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """Its backend read `libcloud libv…` at 80 columns, with twelve columns free."""
    portal = Portal(Config(accounts=(account(daemon),)), Store.open(tmp_path / "wm.sqlite3"))
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: shows(app, AccountsScreen), "the accounts view")
        await pilot.pause()
        (line,) = [line for line in text_of(app.screen).splitlines() if " lab " in line]
        assert "libcloud libvirt" in line, line
        assert len(line.rstrip()) <= 80, line
    await portal.close()
