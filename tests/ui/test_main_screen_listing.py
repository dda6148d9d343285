"""The main screen against the real moto demo cloud, driven by keys at 80x24: every
account listed, a failed one in the strip, the cache at the next start, refresh, and
the store's warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DEV_KEY, Cloud
from tests.processes import free_port
from tests.ui.conftest import Live, cached_app, ec2_account, live_portal, running, settle
from tests.ui.on_screen import DEMO_COUNT, SIZE, by_name, main_of, strip_text
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.user.config import Config


async def test_lists_every_instance_of_every_account(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        assert table.total_count == DEMO_COUNT
        assert {i.account for i in table.shown} == {"dev", "dev-eu", "prod"}
        assert [i.name for i in table.shown][:3] == ["api", "batch", "eu-cache"]  # sorted by name
        assert by_name(table, "batch").state is InstanceState.STOPPED
        assert all(s.phase == "ok" for s in live.portal.statuses())
        assert strip_text(app).count("ok") == 3
        assert "12 instances" in str(app.screen.sub_title)


async def test_failed_account_in_the_strip_while_others_list(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_UI_TEST_SECRET", "x")
    portal = live_portal(demo_config, tmp_path, ec2_account("gone", free_port()))
    app = WMApp(portal, portal.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert portal.status("gone").phase == "failed"
        text = strip_text(app)
        assert "gone" in text
        assert "failed: cannot reach 127.0.0.1" in text  # nothing cached: nothing shown
        assert "Traceback" not in text
        assert main_of(app).table.total_count == DEMO_COUNT


async def test_next_start_shows_the_cache_and_keeps_rows_of_failed_accounts(
    live: Live, tmp_path: Path
) -> None:
    """Run once against the cloud; then start again with the cloud unreachable. A row of
    a failed account is dimmed, and its `$/h` is unknown: nobody saw it running now."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        api = by_name(table, "api")
        assert api.state is InstanceState.RUNNING
        price = table.cell(api.key, "price").plain
        assert price.replace(".", "").isdigit(), price  # listed now: its cost now
    port = free_port()
    unreachable = tuple(
        a.model_copy(update={"endpoint": a.endpoint.model_copy(update={"port": port})})
        for a in live.config.accounts
        if a.endpoint is not None
    )
    config = live.config.model_copy(update={"accounts": unreachable})
    again = live_portal(config.model_copy(update={"accounts": ()}), tmp_path, *unreachable)
    assert {u.status.phase for u in again.load_cache()} == {"stale"}  # the CLI may do this
    app = WMApp(again, again.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert {s.phase for s in again.statuses()} == {"failed"}
        assert main_of(app).table.total_count == DEMO_COUNT
        text = strip_text(app)
        assert text.count(": cannot reach 127.0.0.1") == 3
        assert "failed (5 shown, " in text
        table = main_of(app).table
        shown = table.cell(api.key, "price")
        assert shown.plain == "?"  # last seen running, cost now unknown, not 0.010
        assert [str(span.style) for span in shown.spans] == ["dim"]  # as the whole row


async def test_refresh_key_shows_changes_made_elsewhere(live: Live, cloud: Cloud) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        api = by_name(table, "api")
        assert api.state is InstanceState.RUNNING
        cloud.ec2(key=DEV_KEY).stop_instances(InstanceIds=[api.id])  # another tool stops it
        await pilot.press("R")
        await settle(pilot)
        fresh = table.instance(api.key)
        assert fresh is not None
        assert fresh.state is InstanceState.STOPPED


async def test_store_warnings_are_shown_once(cached_portal: Portal) -> None:
    cached_portal.store_warnings.append("local store: disk I/O error")
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        await pilot.press("R")
        await settle(pilot)
    assert len(notes.find("disk I/O error")) == 1


async def test_sorting_by_price_puts_a_failed_accounts_rows_with_the_unknown(
    live: Live, tmp_path: Path
) -> None:
    """Start again with prod unreachable: its rows read `$/h ?` (nobody saw them running
    now), and sorting by `$/h` places them with the unknown, after every price seen now,
    not among them by the price they were last seen at."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # every account cached, prod's m5.large rows priced
    prod = next(a for a in live.config.accounts if a.name == "prod")
    assert prod.endpoint is not None
    gone = prod.model_copy(
        update={"endpoint": prod.endpoint.model_copy(update={"port": free_port()})}
    )
    others = tuple(a for a in live.config.accounts if a.name != "prod")
    again = live_portal(live.config.model_copy(update={"accounts": others}), tmp_path, gone)
    app = WMApp(again, again.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.status("prod").phase == "failed"
        screen = main_of(app)
        table = screen.table
        await pilot.press(*["o"] * 3)
        assert str(screen.sub_title).endswith("$/h ▲")
        cells = [(i.name, table.cell(i.key, "price").plain) for i in table.shown]
        priced = [n for n, cell in cells if cell.replace(".", "").isdigit()]
        assert len(priced) == 5, cells  # dev's and dev-eu's running rows, listed now
        assert [n for n, _ in cells[:5]] == priced, cells  # then the unknown and the blank
        assert ("prod-web-1", "?") in cells[5:]
