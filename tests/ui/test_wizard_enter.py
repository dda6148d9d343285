"""What enter does in the launch wizard is what its hint and footer say, at 80x24: on the
lists and fields of the steps enter picks and goes on (those say so; the footer shows no
enter of the wizard's own), and on the summary enter launches, as the hint says
(`enter launches`) and the footer too (`⏎ launch`, not a `next` that is not there)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.conftest import finish_workers, wait_for
from tests.ui.on_screen import Notes, footer_keys, text_of
from tests.ui.test_catalog_snapshots import STEPS, _keys_to, fixed_app  # noqa: F401 (a fixture)
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.launch import LaunchWizard

SIZE = (80, 24)


def wizard_of(pilot: Pilot[Any]) -> LaunchWizard:
    wizard = pilot.app.screen
    assert isinstance(wizard, LaunchWizard), wizard
    return wizard


async def footer_shows(pilot: Pilot[Any], wizard: LaunchWizard, key: str) -> None:
    """The footer rebuilds a frame after the step changes: wait for `key` in it."""
    await wait_for(
        pilot,
        lambda: key in footer_keys(wizard),
        f"{key} in the footer",
        seen=lambda: sorted(footer_keys(wizard)),
    )


async def test_enter_on_the_summary_launches_as_its_hint_and_footer_say(
    fixed_app: WMApp,  # noqa: F811
) -> None:
    notes = Notes()
    async with fixed_app.run_test(size=SIZE, message_hook=notes) as pilot:
        await _keys_to(*STEPS["name"])(pilot)
        wizard = wizard_of(pilot)
        assert wizard.step == "name"
        assert "enter: the count, then on." in text_of(wizard)
        assert not {"launch", "next"} & set(footer_keys(wizard))  # the fields take enter

        await pilot.press("home", "ctrl+k", *"web-3", "enter", "backspace", "2", "enter")
        await wait_for(pilot, lambda: wizard.step == "summary", "the summary")
        assert "enter launches · escape back" in text_of(wizard)
        await footer_shows(pilot, wizard, "launch")
        assert str(footer_keys(wizard)["launch"].render()) == "⏎ launch"
        assert "next" not in footer_keys(wizard)

        await pilot.press("enter")  # it launches: on an account that answers nothing here
        await wait_for(
            pilot, lambda: bool(notes.find("Launch refused")), "the launch's refusal", within=30
        )
        assert "Refused: nothing was created" in text_of(wizard)


async def test_enter_on_a_summary_over_quota_tries_and_says_why_not(
    fixed_app: WMApp,  # noqa: F811
) -> None:
    notes = Notes()
    async with fixed_app.run_test(size=SIZE, message_hook=notes) as pilot:
        await _keys_to(*STEPS["quota"])(pilot)
        wizard = wizard_of(pilot)
        assert wizard.step == "summary"
        assert "escape to change it" in text_of(wizard)
        await footer_shows(pilot, wizard, "launch")
        assert "next" not in footer_keys(wizard)

        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(notes.find("Over quota")), "the quota's refusal")
        await finish_workers(pilot.app)
        assert wizard_of(pilot).step == "summary"
        assert "Stopped before any call" in text_of(wizard)
