"""The catalog's keys at 80x24, as in every other list: j, k, g and G move the cursor
(the details below follow it), and a launch key on a row with nothing to launch says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.on_screen import SIZE, Notes
from tests.ui.test_catalog import detail_text, open_catalog, shop_with_one_down
from winged_monkey.demo.server import MotoServer
from winged_monkey.user.config import Config


async def test_vi_keys_move_the_catalog_cursor(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = shop_with_one_down(moto, demo_config, tmp_path, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        accounts = [r.account for r in screen.rows]
        assert accounts == ["down", "dev", "dev-eu", "prod"]  # a failed account first

        def under_cursor() -> str:
            row = screen.cursor_row
            assert row is not None
            return row.account

        await pilot.press("g")
        assert under_cursor() == "down"
        assert "down:" in detail_text(screen)  # the failing account's reason, in full
        await pilot.press("j")
        assert under_cursor() == "dev"
        await pilot.press("j")
        assert under_cursor() == "dev-eu"
        assert "dev-eu  ec2 · eu-west-1" in detail_text(screen)
        await pilot.press("G")
        assert under_cursor() == "prod"
        await pilot.press("k")
        assert under_cursor() == "dev-eu"


async def test_launch_on_a_row_with_nothing_to_launch_says_why(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = Notes()
    app = shop_with_one_down(moto, demo_config, tmp_path, monkeypatch)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await open_catalog(pilot)
        await pilot.press("home")  # the failing account's row (first): no item
        assert screen.cursor_row is not None
        assert screen.cursor_row.account == "down"
        for key in ("l", "enter"):
            before = len(notes.shown)
            await pilot.press(key)
            await pilot.pause()
            said = notes.shown[before:]
            assert said, f"{key!r} said nothing"
            assert "Nothing to launch on down" in said[-1].message
            assert "cannot reach" in said[-1].message  # the catalog's failure, its cause
            assert app.screen is screen  # no wizard
