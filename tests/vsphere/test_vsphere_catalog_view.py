"""`:catalog` at 80x24 with a vSphere account that has no template (a real vcsim) and a
Heat account with no `templates`: every configured account is accounted for, and the
vSphere one is told to mark a VM as a template, not to search public images it has none of.
(The catalog read "1 of 1 accounts" with two configured, the Heat one left out unsaid, and
the vSphere row read `no images; / searches`, whose search found "0 public images".)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import Input

from tests.heat.conftest import heat_account
from tests.ui.conftest import CLOSED_PORT, fixed_clock, wait_for
from tests.ui.on_screen import SIZE, Notes, shows, text_of
from tests.vsphere.accounts import account, make_portal, write_config
from tests.vsphere.vcsim import Vcsim
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.catalog import CatalogScreen

MAKE_ONE = "mark a powered-off VM as a template"


async def test_every_account_is_accounted_for_and_vsphere_says_how_to_get_a_template(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = heat_account("stacks", f"http://127.0.0.1:{CLOSED_PORT}/v1")  # no `templates`
    portal = make_portal(tmp_path, account(sim, monkeypatch), stacks)
    notes = Notes()
    app = WMApp(portal, portal.config, clock=fixed_clock)
    try:
        async with app.run_test(size=SIZE, message_hook=notes) as pilot:
            await pilot.press("colon", *"catalog", "enter")
            await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
            screen = app.screen
            assert isinstance(screen, CatalogScreen)

            def settled() -> bool:
                return not screen.pending and {r.account for r in screen.rows} == {
                    "lab",
                    "stacks",
                }

            await wait_for(pilot, settled, "both accounts' rows", seen=lambda: screen.rows)
            assert "1 of 2 accounts" in str(screen.sub_title), screen.sub_title
            lab, heat = screen.rows
            assert (lab.account, heat.account) == ("lab", "stacks")
            assert MAKE_ONE in lab.note
            assert "/ search" not in lab.note
            assert heat.note.startswith("no catalog")
            assert "templates" in heat.note

            await pilot.press("home", "l")  # the vSphere row: what to do, in its terms
            await wait_for(pilot, lambda: bool(notes.find("Nothing to launch on lab")), "l")
            assert MAKE_ONE in notes.find("Nothing to launch on lab")[-1].message
            await pilot.press("slash")  # no public images there: said, no search field
            await wait_for(pilot, lambda: bool(notes.find("Cannot search")), "/ refused")
            said = notes.find("Cannot search")[-1].message
            assert "lab has no public images to search" in said
            assert MAKE_ONE in said
            assert not screen.query_one("#catalog-search", Input).display

            await pilot.press("end")  # the Heat account: why it has none, in full below
            await pilot.pause()
            assert "add `templates" in " ".join(text_of(screen).split())
    finally:
        await portal.close()
        portal.store.close()


def test_wm_catalog_names_the_accounts_with_no_catalog(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm catalog` with no account named: the Heat account with no `templates` is told
    what to add, as `wm catalog --account stacks` tells it; vSphere how to get a template."""
    write_config(sim, tmp_path, monkeypatch)
    with (tmp_path / "config.toml").open("a", encoding="utf-8") as config:
        config.write(
            '[[accounts]]\nname = "stacks"\nbackend = "heat"\n'
            f'endpoint_url = "http://127.0.0.1:{CLOSED_PORT}/v1"\nproject = "stacks"\n'
            "credentials = { keyring = false }\n"
        )
    result = CliRunner().invoke(main, ["catalog"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "wm: stacks: no catalog: a Heat account's catalog is the templates" in result.stderr
    assert "add `templates" in result.stderr
    assert f"no images or templates ({MAKE_ONE} in vSphere" in result.stdout
    assert "--search" not in result.stdout  # vSphere has no public images
