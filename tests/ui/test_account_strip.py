"""The account strip and the accounts view at 80x24: every account that is not ok is on
screen (failures first), and each message can be read whole one key away.

Accounts fail for real: their endpoint is a loopback port nothing listens on, so the
backend gets a real "connection refused" (or refuses a real bad setting).
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from tests.processes import free_port
from tests.ui.conftest import FIXED_NOW, SECRET_ENV, ec2_account, settle, wait_for
from tests.ui.on_screen import footer_keys, shows
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.accounts import AccountsScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.account_strip import MAX_LINES, AccountStrip, strip_lines
from winged_monkey.user.config import AccountConfig, Config

SIZE = (80, 24)
REMEDY = "is the endpoint right?)"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-a-secret")


def unreachable(name: str, **extra: Any) -> AccountConfig:
    """An account whose endpoint refuses connections (its own port: its own message)."""
    return ec2_account(name, free_port(), **extra)


def portal_of(demo_config: Config, tmp_path: Path, accounts: list[AccountConfig]) -> Portal:
    config = demo_config.model_copy(update={"accounts": tuple(accounts)})
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


def strip_of(app: WMApp) -> list[str]:
    return str(app.screen.query_one(AccountStrip).render()).splitlines()


def shown_text(static: Static) -> str:
    """What `static` shows, rendered at its own width (so wrapping is as on screen)."""
    console = Console(width=static.content_region.width, file=io.StringIO())
    console.print(static.content)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def flat(text: str) -> str:
    return " ".join(text.split())


async def open_accounts(pilot: Pilot[Any]) -> AccountsScreen:
    await pilot.press("a")
    await wait_for(pilot, lambda: shows(pilot.app, AccountsScreen), "accounts view")
    screen = pilot.app.screen
    assert isinstance(screen, AccountsScreen)
    await pilot.pause()
    return screen


async def test_six_accounts_three_failing_all_failures_on_top(
    demo_config: Config, tmp_path: Path
) -> None:
    dev, dev_eu, prod = demo_config.accounts
    accounts = [dev, unreachable("lab-a"), dev_eu, unreachable("lab-b"), prod, unreachable("lab-c")]
    app = WMApp(portal_of(demo_config, tmp_path, accounts), title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = strip_of(app)
        assert [line.split()[1] for line in lines[:3]] == ["lab-a", "lab-b", "lab-c"]
        assert all("failed: cannot reach 127.0.0.1" in line for line in lines[:3])
        assert lines[3].startswith("● 3 ok · 12 instances: dev, dev-eu, prod")
        assert len(lines) == MAX_LINES
        # The table keeps the screen: header, strip, footer, and the rest is rows.
        strip = app.screen.query_one(AccountStrip)
        assert strip.outer_size.height == MAX_LINES
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.table.outer_size.height >= SIZE[1] - MAX_LINES - 2


async def test_ten_accounts_seven_failing_more_and_every_message_whole(
    demo_config: Config, tmp_path: Path
) -> None:
    failing = [unreachable(f"lab-{n}") for n in range(7)]
    accounts = [*failing[:4], *demo_config.accounts, *failing[4:]]
    portal = portal_of(demo_config, tmp_path, accounts)
    app = WMApp(portal, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = strip_of(app)
        assert len(lines) == MAX_LINES
        assert [line.split()[1] for line in lines[:3]] == ["lab-0", "lab-1", "lab-2"]
        assert lines[3].startswith("+4 more: 4 failed (a: all accounts) · ● 3 ok")
        # At 80 columns the remedy is cut off the strip, which says where to read it.
        assert all(REMEDY not in line and line.endswith("(a: all)") for line in lines[:3])

        screen = await open_accounts(pilot)
        body = screen.query_one("#accounts-body", Static)
        text = flat(shown_text(body))
        assert screen.sub_title == "10 accounts: 7 failed, 3 ok"
        for account in failing:
            error = portal.status(account.name).error
            assert error is not None
            assert error.endswith(REMEDY)
            # Never listed: how many it holds is unknown, not 0.
            assert flat(f"{account.name} libcloud ec2 failed never ? {error}") in text
        assert [name in text for name in ("dev", "dev-eu", "prod")] == [True] * 3
        # Longer than the screen: it scrolls, and the last account can be reached.
        scroll = screen.query_one("#accounts-list")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y, "the end")
        await pilot.press("escape")
        await wait_for(pilot, lambda: shows(app, MainScreen), "the main screen")


async def test_a_message_with_brackets_shows_literally(demo_config: Config, tmp_path: Path) -> None:
    """A real refusal quoting the config: `[red]` in it is text, not markup."""
    odd = unreachable("odd", region="[red]moon-1[/red]")
    portal = portal_of(demo_config, tmp_path, [odd])
    app = WMApp(portal, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        error = portal.status("odd").error
        assert error is not None
        assert "region '[red]moon-1[/red]' is not an EC2 region" in error
        assert strip_of(app)[0].startswith("✗ odd    failed: region '[red]moon-1[/red]' is")
        screen = await open_accounts(pilot)
        body = screen.query_one("#accounts-body", Static)
        assert "region '[red]moon-1[/red]' is not an EC2 region" in flat(shown_text(body))


async def test_accounts_is_a_view_and_a_key_in_help(demo_config: Config, tmp_path: Path) -> None:
    portal = portal_of(demo_config, tmp_path, [*demo_config.accounts, unreachable("lab")])
    app = WMApp(portal, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        listed = {b.binding.action: b.binding.key for b in help_screen.bindings}
        assert listed.get("accounts") == "a"
        await pilot.press("escape")
        await pilot.press("colon", *"acc", "enter")
        await wait_for(pilot, lambda: app.view == "accounts", "the accounts view")
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await pilot.pause()
        assert screen.sub_title == "4 accounts: 1 failed, 3 ok"
        wanted = {"back", "help", "quit"}
        await wait_for(pilot, lambda: wanted <= set(footer_keys(screen)), "the view's keys")
        keys = footer_keys(screen)
        assert all(keys[name].region.right <= SIZE[0] for name in ("help", "quit"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.view == "instances", "the instances view")


def status(name: str, phase: str, *, refreshing: bool = False) -> AccountStatus:
    return AccountStatus.model_validate(
        {
            "name": name,
            "phase": phase,
            "refreshing": refreshing,
            "fetched_at": FIXED_NOW - timedelta(minutes=3),
            "count": 2,
            "error": "refused" if phase == "failed" else None,
        }
    )


def test_failures_then_stale_then_loading_and_a_poll_moves_nothing() -> None:
    """The order follows each account's last result; a poll under way changes no place."""
    statuses = [
        status("a", "ok", refreshing=True),
        status("b", "loading"),
        status("c", "stale", refreshing=True),
        status("d", "failed", refreshing=True),
        status("e", "ok"),
    ]
    lines = [str(line) for line in strip_lines(statuses, FIXED_NOW, 78, key="a")]
    assert [line.split()[1] for line in lines[:3]] == ["d", "c", "b"]
    assert lines[3] == "● 2 ok · 4 instances: a, e"


async def test_a_name_too_long_for_its_column_is_whole_in_the_accounts_view(
    demo_config: Config, tmp_path: Path
) -> None:
    """The strip and the view's column cut a long name (`billing-prod-eu…`): two accounts
    that start alike could not be told apart, even in the view `a` opens to read them whole."""
    long_failing = "billing-prod-eu-west-1-nightly"
    long_ok = demo_config.accounts[0].model_copy(update={"name": "billing-prod-eu-west-1-batch"})
    accounts = [unreachable(long_failing), long_ok, *demo_config.accounts[1:]]
    app = WMApp(portal_of(demo_config, tmp_path, accounts), title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_accounts(pilot)
        text = flat(shown_text(screen.query_one("#accounts-body", Static)))
        assert long_failing in text
        assert "billing-prod-eu-west-1-batch" in text
        assert REMEDY in text  # the failure's message is still there, whole
