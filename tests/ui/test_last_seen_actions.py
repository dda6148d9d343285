"""An action on a row kept as last seen (its account failed its last poll), at 80x24 on the
cached fleet, whose accounts cannot be reached: nobody saw the row's state now, so that
state refuses nothing. The action is sent, and the account's failure is what is said."""

from __future__ import annotations

from tests.ui.conftest import cached_app, running, settle, wait_for
from tests.ui.on_screen import by_name, main_of, text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.confirm import ConfirmScreen


async def test_a_stop_on_a_row_last_seen_stopped_is_sent_and_its_failure_said(
    cached_portal: Portal,
) -> None:
    """api was stopped 2h ago; dev fails its polls. `x` said 'api is already stopped', a
    state nobody saw now: it asks, naming the state as last seen, and sends the stop."""
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        assert cached_portal.status("dev").phase == "failed"
        table = main_of(app).table
        api = by_name(table, "api", "dev")
        table.select(api.key)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert "api  dev  i-01000000000000002  last seen stopped" in text_of(app.screen)
        assert not notes.find("Cannot stop")
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes.find("Stop api")), "the stop's outcome")
        await settle(pilot)
        (outcome,) = notes.find("Stop api")
        assert outcome.title == "Stop api (failed)", outcome
        assert outcome.message.startswith("cannot reach 127.0.0.1:9"), outcome.message
        assert "(dev failed its last poll too: api's state now is unknown" in outcome.message
        assert table.index.rows[api.key].stale  # still dimmed: its state is as last seen
