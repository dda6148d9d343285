"""A backend's words name `wm` commands ("its guest did not shut down; wm poweroff web
powers it off", Nova's "may recover it: wm reset stuck"): on the instances view each one
gets the key that does the same there, as the user's keymap sets it. The words once named
the TUI's key on the command line too ("(B)"); since they name the command alone, the TUI
said nothing of its own key."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import Live, live_portal, running, wait_for
from tests.ui.on_screen import main_of
from winged_monkey.actions import Action
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.keyed_words import with_keys

POWEROFF = "api still running after 600 s: its guest did not shut down; wm poweroff api powers "
RESET = "stuck is in error; its hard reboot, a reset, may recover it: wm reset stuck"


def test_each_action_command_gets_its_key_and_nothing_else_does() -> None:
    keys = {Action.RESET: "B", Action.POWEROFF: "X"}
    assert with_keys(RESET, keys) == f"{RESET} (key B)"
    assert with_keys(f"{POWEROFF}it off", keys).endswith(
        "did not shut down; wm poweroff api (key X) powers it off"
    )
    # Not an action's command, or an action with no key: as said.
    for said in ("fix it with `wm app update quiet`", "wm ls dev", "wm stop web"):
        assert with_keys(said, keys) == said
    # Quoted in backticks, the key goes after the command, outside them.
    assert with_keys("`wm reset web`.", keys) == "`wm reset web` (key B)."


async def test_the_instances_view_says_the_keymaps_key(live: Live, tmp_path: Path) -> None:
    """The user's keymap moved poweroff to P: that key is the one said."""
    portal = live_portal(live.config.model_copy(update={"keys": {"poweroff": "P"}}), tmp_path)
    app = WMApp(portal, portal.config, title_suffix="test")
    async with running(app) as (pilot, notes):
        main_of(app).notify(f"{POWEROFF}it off", title="Stop api (timeout)", markup=False)
        await wait_for(pilot, lambda: bool(notes.find("Stop api")), "the note")
        (note,) = notes.find("Stop api")
        assert "wm poweroff api (key P) powers it off" in note.message, note.message
