"""The TUI's note for a stop on a Nova server in rescue mode, at 80x24 against the real Nova.

Its words name the command that unrescues it, with the server's id: a uuid of 36
characters in a toast 36 cells wide at 80 columns. Followed by more words, the id took a
line of its own with its closing '),' cut onto the next one, and the sentence went on
under it; the command and its id come last now, the id whole on the note's last line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    boot,
    passwords,
)
from tests.ui.conftest import settle, wait_for
from tests.ui.on_screen import SIZE, Notes, by_name, main_of
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.user.config import Config

pytestmark = pytest.mark.timeout(420)


def _lines(toast: Widget) -> list[str]:
    """The toast's lines as drawn on the screen."""
    width, height = toast.outer_size
    drawn = toast.render_lines(Region(0, 0, width, height))
    return [strip.text.lstrip("▌").strip() for strip in drawn]  # its left border: ▌


async def test_a_stop_on_a_rescued_server_shows_the_unrescue_command_with_its_id_whole(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "repair").id)
    openstack.nova("POST", f"/servers/{ident}/action", json={"rescue": None}).raise_for_status()
    openstack.settled(ident, "rescued")
    config = Config(accounts=(account(openstack, "os-alpha", "alpha"),), refresh_interval=600)
    portal = Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")
    app = WMApp(portal, config, title_suffix="test")
    notes = Notes()
    try:
        # Textual's tests draw no toasts unless asked to (`notifications`).
        async with app.run_test(size=SIZE, message_hook=notes, notifications=True) as pilot:
            await settle(pilot)
            table = main_of(app).table
            table.select(by_name(table, "repair", "os-alpha").key)
            await pilot.press("x")
            await wait_for(pilot, lambda: bool(app.screen.query("Toast")), "the note")
            await pilot.pause()
            (toast,) = app.screen.query("Toast")
            shown = _lines(toast)
    finally:
        await portal.close()
    (note,) = notes.find("Cannot stop")
    assert note.message.endswith(f"openstack server unrescue {ident}"), note.message
    # The id ends the note, whole on its line. Before, its '),' was cut from it onto the
    # next line, and the sentence went on under it: '(openstack server unrescue', the id,
    # '), which boots it from its own disk', 'again'.
    assert [line for line in shown if line][-1] == ident, shown
    assert not any(line.startswith((")", ",", ";")) for line in shown), shown
