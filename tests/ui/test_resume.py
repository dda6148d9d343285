"""Back from ctrl+z (`fg`): the whole screen is drawn again.

The terminal comes back blank and Textual sends only what changes, so the table and the
header stayed blank until a key was pressed. Pilot's headless driver writes nothing, so
this checks what is asked of the screen when the driver says the app resumed (Textual's
public app_resume_signal); the blank screen itself was seen in tmux."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import SIZE, main_of
from winged_monkey.engine.portal import Portal


async def test_resume_repaints_the_whole_screen(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        asked: list[dict[str, Any]] = []
        refresh = screen.refresh

        def recorded(*regions: Any, **how: Any) -> Any:
            if not regions:  # the whole screen, not a part of it
                asked.append(how)
            return refresh(*regions, **how)

        monkeypatch.setattr(screen, "refresh", recorded)
        app.app_resume_signal.publish(app)
        await wait_for(pilot, lambda: bool(asked), "a repaint of the screen", within=5)
        assert all(how.get("repaint", True) for how in asked)
        assert any(how.get("layout") for how in asked)
