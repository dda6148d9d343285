"""A key whose action does not apply to the row says why in a short note (80x24, moto)."""

from __future__ import annotations

from tests.ui.conftest import Live, running
from tests.ui.on_screen import by_name, main_of
from winged_monkey.ui.app import WMApp


async def test_keys_that_do_nothing_on_the_row_say_why(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        live.server.clear_calls()
        table = main_of(app).table
        table.select(by_name(table, "batch", "dev").key)  # stopped
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        (stop,) = notes.find("Cannot stop")
        assert stop.message == "batch is already stopped"
        assert stop.severity == "warning"

        table.select(by_name(table, "api", "dev").key)  # a running EC2 instance
        await pilot.pause()
        for key, title, why in (
            ("c", "Cannot check", "cannot check"),
            ("B", "Cannot reset", "cannot reset"),
            ("z", "Cannot suspend", "cannot suspend"),
        ):
            await pilot.press(key)
            await pilot.pause()
            found = notes.find(title)
            assert found, (key, [n.title for n in notes.shown])
            assert why in found[-1].message
        assert isinstance(app.screen, type(main_of(app)))  # nothing was asked
        assert not live.server.calls  # nothing was sent


async def test_a_remapped_action_key_explains_too(live: Live) -> None:
    config = live.config.model_copy(update={"keys": {"stop": "K"}})
    app = WMApp(live.portal, config)
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        table.select(by_name(table, "batch", "dev").key)
        await pilot.pause()
        await pilot.press("K")
        await pilot.pause()
        assert notes.find("Cannot stop")
