"""The instances view's footer rebuilds its keys whenever one turns on or off (the cursor
on a row in another state, an action starting); the keys it replaced are freed, so a day
of it costs no memory (scripts/soak_session.py found them kept, widgets and all)."""

from __future__ import annotations

import gc
import weakref

from tests.ui.conftest import Live, settle, wait_for
from tests.ui.on_screen import SIZE, footer_keys, main_of
from winged_monkey.models import InstanceState


async def test_the_keys_a_footer_rebuild_replaced_are_freed(live: Live) -> None:
    # Rows listed now: a cached row's state refuses no action (nobody saw it now), so
    # moving between cached rows leaves the footer as it is.
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        portal = live.portal

        def listed() -> bool:
            return all(portal.status(a).phase == "ok" for a in portal.account_names)

        await wait_for(pilot, listed, "every account listed")
        running = next(i for i in table.shown if i.state is InstanceState.RUNNING)
        stopped = next(i for i in table.shown if i.state is InstanceState.STOPPED)

        async def on(row_key: str, key: str) -> None:
            table.select(row_key)
            await wait_for(pilot, lambda: key in footer_keys(screen), f"the {key} key")

        await on(stopped.key, "start")
        shown = [weakref.ref(key) for key in screen.query("FooterKey")]
        for _ in range(20):  # along the table and back: each move rebuilds the footer
            await on(running.key, "stop")
            await on(stopped.key, "start")
        await settle(pilot)
        gc.collect()
        assert [ref for ref in shown if ref() is not None] == []
        alive = [o for o in gc.get_objects() if type(o).__name__ == "FooterKey"]
        assert len(alive) == len(screen.query("FooterKey"))
