"""A key the keymap gives a dialog's binding is said when it is one of the app's priority
keys (f1 help): those reach a dialog first, so the dialog's binding never ran, and the
check looked at no app key under a dialog."""

from __future__ import annotations

from tests.ui.conftest import fixed_clock, settle, wait_for
from tests.ui.on_screen import SIZE, Notes, by_name, main_of, shows
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.pick import PickScreen


async def test_a_dialogs_key_on_f1_is_said_to_clash(cached_portal: Portal) -> None:
    config = cached_portal.config.model_copy(update={"keys": {"pick.cancel": "f1"}})
    notes = Notes()
    app = WMApp(cached_portal, config, clock=fixed_clock, title_suffix="demo")
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)
        await pilot.press("Y")  # what to copy: a pick list
        await wait_for(pilot, lambda: shows(app, PickScreen), "the pick list")
        said = "[keys] pick.cancel = 'f1': f1 is also the key of help_anywhere on this view"
        await wait_for(
            pilot,
            lambda: bool(notes.find(said)),
            "the clash said",
            seen=lambda: [n.message for n in notes.shown],
        )
        await pilot.press("f1")  # help, as said: not the pick list's cancel
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the pick list")
