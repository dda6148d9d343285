"""The launch wizard on a HOT template at 80x24, keyboard only, against the real Heat.

The form comes from Heat's POST /validate (types, defaults, constraints, hidden); a value
the constraints refuse is marked on the form before any call; Heat's own rejection is
shown on the form; an accepted launch is followed until the app is complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.heat.conftest import Projects
from tests.heat.test_heat_ui import text_of, wait_for
from tests.ui.conftest import finish_workers
from tests.ui.on_screen import shows
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.widgets.param_form import ParamForm

SIZE = (80, 24)
SECRET = "hunter2-long-enough"

SHOP = """
heat_template_version: 2018-08-31
description: a web tier and its database password
parameters:
  db_password:
    type: string
    hidden: true
    description: the database's admin password
    constraints:
      - length: {min: 8, max: 64}
  web_count:
    type: number
    default: 2
    description: how many web servers
    constraints:
      - range: {min: 1, max: 4}
resources:
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: web_count}
      resource_def: {type: OS::Heat::None}
"""


def step(wizard: LaunchWizard) -> str:
    return wizard.step


async def open_form(pilot: Pilot[Any]) -> tuple[LaunchWizard, ParamForm]:
    app = pilot.app
    await pilot.press("colon", *"catalog", "enter")
    await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
    catalog = app.screen
    assert isinstance(catalog, CatalogScreen)
    await wait_for(pilot, lambda: bool(catalog.rows) and not catalog.pending, "the catalog")
    (row,) = catalog.rows
    assert row.item is not None
    assert row.item.name == "shop"
    assert row.item.description == "a web tier and its database password"
    await pilot.press("l")
    await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
    wizard = app.screen
    assert isinstance(wizard, LaunchWizard)
    await pilot.pause()
    await pilot.press("enter")  # the one Heat account
    await wait_for(pilot, lambda: bool(wizard.query(ParamForm)), "Heat's form", within=30)
    await pilot.pause()
    return wizard, wizard.query_one(ParamForm)


def field(form: ParamForm, name: str) -> Input:
    names = [p.name for p in form.form.parameters]
    return form.inputs[names.index(name)]


async def submit_form(pilot: Pilot[Any], form: ParamForm) -> None:
    """enter on each field in turn, as a user goes down the form."""
    form.inputs[0].focus()
    for _ in form.inputs:
        await pilot.press("enter")


async def test_template_form_from_heat_checks_and_launches(heat: Projects, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "shop.yaml").write_text(SHOP, encoding="utf-8")
    portal = heat.portal("shop", templates=str(folder))
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await finish_workers(app)
        wizard, form = await open_form(pilot)
        password, count = field(form, "db_password"), field(form, "web_count")
        assert password.password  # hidden in Heat's answer: a masked field
        assert count.value == "2"  # Heat's default
        text = text_of(wizard)
        assert "db_password  string  hidden" in text
        assert "web_count  number  default 2" in text
        assert "how many web servers" in text

        # Too short for the length constraint: marked on the form, nothing sent.
        password.focus()
        await pilot.press(*"short")
        await submit_form(pilot, form)
        assert step(wizard) == "params"
        assert "✗ " in text_of(wizard)
        assert "short" not in text_of(wizard)

        password.value = SECRET
        await submit_form(pilot, form)
        assert step(wizard) == "name"
        # A name Heat refuses: its answer comes back on the form.
        await pilot.press("home", "ctrl+k", *"9 bad name", "enter")
        assert step(wizard) == "summary"
        summary = text_of(wizard)
        assert "db_password=••••••" in summary
        assert SECRET not in summary
        await pilot.press("enter")

        def general() -> str:
            found = wizard.query("#param-general")
            return str(found.first(Static).content) if found else ""

        await wait_for(pilot, lambda: bool(general()), "the refusal on the form")
        assert step(wizard) == "params"
        assert "9 bad name" in general()
        assert not heat.witness("shop", "GET", "/stacks").json()["stacks"]

        # A good name: accepted, the wizard closes, the app is followed until complete.
        await submit_form(pilot, wizard.query_one(ParamForm))
        await pilot.press("home", "ctrl+k", *"shop-1", "enter", "enter")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the wizard closes")
        await wait_for(
            pilot,
            lambda: (
                [i.state for i in portal.instances() if i.name == "shop-1"]
                == [InstanceState.RUNNING]
            ),
            "the app running",
            within=60,
        )
        await finish_workers(app)

    (stack,) = heat.witness("shop", "GET", "/stacks").json()["stacks"]
    assert stack["stack_name"] == "shop-1"
    assert stack["stack_status"] == "CREATE_COMPLETE"
    shown = heat.witness("shop", "GET", f"/stacks/shop-1/{stack['id']}").json()["stack"]
    assert shown["parameters"]["web_count"] == "2"
    assert shown["parameters"]["db_password"] == "******"  # Heat keeps it hidden too


async def test_values_typed_in_the_form_survive_escape_back_and_on_again(
    heat: Projects, tmp_path: Path
) -> None:
    """Typed, not yet entered: escape to the account and enter again shows them."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "shop.yaml").write_text(SHOP, encoding="utf-8")
    portal = heat.portal("shop", templates=str(folder))
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await finish_workers(app)
        wizard, form = await open_form(pilot)
        field(form, "db_password").focus()
        await pilot.press(*SECRET, "tab", "backspace", "3")
        assert field(form, "web_count").value == "3"
        await pilot.press("escape")
        assert step(wizard) != "params"
        while step(wizard) != "params":
            await pilot.press("enter")
        await wait_for(pilot, lambda: bool(wizard.query(ParamForm)), "the form again")
        form = wizard.query_one(ParamForm)
        assert field(form, "db_password").value == SECRET
        assert field(form, "web_count").value == "3"
