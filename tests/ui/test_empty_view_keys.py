"""A key that reads the row under the cursor (enter, space, t, e, y, Y, L), pressed where no
row is shown (the apps view with no app, a filter that matches nothing), says so in a short
note, as the action keys do; before, it did nothing and said nothing (80x24)."""

from __future__ import annotations

from tests.ui.conftest import cached_app, running, wait_for
from tests.ui.on_screen import main_of
from winged_monkey.engine.portal import Portal

ROW_KEYS = ("enter", "space", "t", "e", "y", "Y", "L")


async def test_row_keys_on_an_empty_filter_say_there_is_no_row(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        screen = main_of(app)
        await pilot.press("slash", *"nothing-is-named-so", "enter")
        await wait_for(pilot, lambda: screen.table.shown_count == 0, "an empty list")
        for key in ROW_KEYS:
            before = len(notes.shown)
            await pilot.press(key)
            await pilot.pause()
            said = notes.shown[before:]
            assert said, f"{key!r} said nothing"
            assert "No instance here" in said[-1].message, (key, said[-1].message)
            assert "nothing-is-named-so" in said[-1].message  # why: the filter
            assert app.screen is screen  # nothing opened


async def test_row_keys_in_an_apps_view_without_apps_say_there_is_none(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        await pilot.press("colon", *"apps", "enter")
        screen = main_of(app)
        await wait_for(pilot, lambda: screen.table.kind == "app", "the apps view")
        await pilot.press("t")
        await pilot.pause()
        (said,) = notes.find("Cannot")
        assert "No app here" in said.message


async def test_an_action_key_in_an_apps_view_without_apps_says_there_is_no_app(
    cached_portal: Portal,
) -> None:
    # `x` there said "No instance here to stop", of a view that lists apps.
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        await pilot.press("colon", *"apps", "enter")
        screen = main_of(app)
        await wait_for(pilot, lambda: screen.table.kind == "app", "the apps view")
        await pilot.press("x")
        await pilot.pause()
        (said,) = notes.find("Cannot stop")
        assert said.message == "No app here to stop"
