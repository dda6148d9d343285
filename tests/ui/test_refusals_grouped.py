"""Refused marked rows at 80x24, on the cached fleet (prod is read-only): a reason many rows
share is said once with their count, not once per row."""

from __future__ import annotations

from tests.ui.conftest import cached_app, running, settle
from tests.ui.on_screen import by_name, main_of
from winged_monkey.engine.portal import Portal


async def test_a_reason_shared_by_several_rows_is_said_once_with_the_count(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        prod = ("prod-web-1", "prod-web-2", "prod-db")
        for name, account in [*((n, "prod") for n in prod), ("api", "dev")]:
            table.select(by_name(table, name, account).key)
            await pilot.press("space")
        await pilot.press("c")  # check: none can
        await settle(pilot)
        said = notes.find("Cannot check")
        assert said
        assert said[0].message.splitlines() == [
            "• libcloud/ec2 cannot check",
            "• 3 rows: account prod is read-only",
        ]

        await pilot.press("u")  # unmark all (a refused action leaves the marks)
        for name in prod[:2]:
            table.select(by_name(table, name, "prod").key)
            await pilot.press("space")
        await pilot.press("D")  # one reason for every row: said alone, short
        await settle(pilot)
        said = notes.find("Cannot destroy")
        assert said
        assert said[0].message == "2 rows: account prod is read-only"
