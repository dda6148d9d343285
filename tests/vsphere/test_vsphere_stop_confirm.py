"""The stop confirmation at 80x24 on a real vcsim: a VM without VMware Tools is powered off,
not shut down (its details say `stop_method power off`), and the dialog said only "Stop 1
instance in 1 account?". It says so in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.ui.conftest import fixed_clock, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, shows, text_of
from tests.vsphere.accounts import account, make_portal
from tests.vsphere.vcsim import Vcsim
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen


async def test_the_stop_of_a_vm_without_tools_says_it_is_a_hard_power_off(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = make_portal(tmp_path, account(sim, monkeypatch))
    app = WMApp(portal, portal.config, clock=fixed_clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = main_of(app).table
            await wait_for(pilot, lambda: bool(table.shown), "the VMs")
            vm = by_name(table, "DC0_H0_VM0")
            assert vm.extra["stop_method"] == "power off (no VMware Tools)"
            table.select(vm.key)
            await pilot.press("x")
            await wait_for(pilot, lambda: shows(app, ConfirmScreen), "the confirmation")
            said = text_of(app.screen)
            assert "Stop 1 instance in 1 account?" in said
            assert "A hard power-off (no VMware Tools): the guest is not shut down." in (said)
            line = app.screen.query_one("#confirm-hard-stop", Static)
            assert line.size.height == 1  # one line in the 80-column dialog
            await pilot.press("n")
    finally:
        await portal.close()
        portal.store.close()
