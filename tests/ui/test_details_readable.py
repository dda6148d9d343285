"""Details (enter) read as JSON and words, never Python reprs (moto at 80x24)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from tests.ui.conftest import Live, cached_app, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, shows, text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.ui.screens.details import DetailsScreen, detail_table


async def test_details_show_network_interfaces_and_devices_as_json(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        api = by_name(table, "api")
        assert any(isinstance(v, list) and v and isinstance(v[0], dict) for v in api.extra.values())
        table.select(api.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        text = text_of(app.screen)
        assert "eni-" in text  # its network interface, by id
        assert '"id": "eni-' in text  # as JSON
        assert "<EC2" not in text
        assert "{'" not in text


async def test_details_of_a_failed_accounts_row_say_its_state_was_last_seen(
    cached_portal: Portal,
) -> None:
    """Every account of the cached start failed its poll: the table dims the rows, and the
    details said `state ▶ running` as if seen now."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: {s.phase for s in cached_portal.statuses()} == {"failed"},
            "every account failed",
        )
        await settle(pilot)
        table = main_of(app).table
        row = next(i for i in table.shown if i.state is InstanceState.RUNNING)
        table.select(row.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        text = " ".join(text_of(app.screen).split())
        assert "as last seen" in text, text
        assert "its account failed its last poll" in text, text


def test_details_say_why_a_price_is_unknown() -> None:
    """A size with no published price (libcloud lists some EC2 sizes at 0.0, which wm
    reads as unknown; a private cloud without price_hourly) read `$/hour ?` and nothing
    more, as if a fault."""
    unpriced = Instance(
        account="prod", id="i-1", name="db", state="running", raw_state="running", provider="ec2"
    )
    priced = unpriced.model_copy(update={"price_hourly": 0.25})

    def price_line(instance: Instance) -> str:
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(detail_table(instance, datetime.now(UTC), 80))
        text = console.export_text()
        return " ".join(text[text.index("$/hour") : text.index("public IPs")].split())

    assert price_line(unpriced).startswith("$/hour ? no price known for this size")
    assert price_line(priced) == "$/hour 0.250"


async def test_details_say_when_it_was_created_in_the_users_zone(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`created` read as UTC (`2025-06-01 09:12:00+00:00`) beside the events view's and
    the timeline's local times: it reads as `wm events` prints a time, local with its
    offset, to the second."""
    monkeypatch.setenv("TZ", "<-05>5")  # five hours behind UTC, all year
    time.tzset()
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        row = by_name(table, "web-1")
        assert row.created_at is not None
        table.select(row.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        text = text_of(app.screen)
        local = row.created_at - timedelta(hours=5)
        created = [line.split() for line in text.splitlines() if line.startswith("created")]
        assert created == [["created", f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}-05:00"]], text
        assert f"{row.created_at:%H:%M:%S}+00:00" not in text, text


async def test_details_show_the_providers_times_in_extras_in_the_users_zone(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EC2's `attach_time` (inside block_device_mapping) read `2026-…T03:50:13+00:00`, the
    provider's UTC, under `created` in local time: it reads as `created` does."""
    monkeypatch.setenv("TZ", "<-05>5")
    time.tzset()
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        api = by_name(table, "api")
        (device,) = api.extra["block_device_mapping"]
        raw = device["ebs"]["attach_time"]  # as moto, like EC2, gives it
        local = datetime.fromisoformat(raw).astimezone(UTC) - timedelta(hours=5)
        table.select(api.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        text = text_of(app.screen)
        assert f'"attach_time": "{local:%Y-%m-%d %H:%M:%S}-05:00"' in text, text
        assert raw not in text, text
    monkeypatch.delenv("TZ")
    time.tzset()
