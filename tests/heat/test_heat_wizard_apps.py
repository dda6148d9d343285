"""The launch wizard's environments and preview, and the update key on an app row, at
80x24, keyboard only, against the real standalone Heat (issue 15's TUI part)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.heat.conftest import Projects
from tests.heat.test_heat_launch_wizard import step, submit_form
from tests.heat.test_heat_ui import main_of, text_of, wait_for
from tests.ui.conftest import finish_workers
from tests.ui.on_screen import shows
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.app_update import AppUpdateScreen
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.widgets.param_form import ParamForm

SIZE = (80, 24)

#: Names and values with brackets: the cloud's words must show as text, not markup.
GREET = """
heat_template_version: 2018-08-31
description: a greeting and a tag
parameters:
  greeting:
    type: string
    default: plain
  size:
    type: number
    default: 1
    constraints:
      - range: {min: 1, max: 5}
resources:
  said:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: greeting}
  tag[x]:
    type: OS::Heat::None
outputs:
  greeting:
    value: {get_attr: [said, output]}
"""
OWN_ENV = """
parameter_defaults:
  greeting: from [the] env
"""
LOUD_ENV = """
parameter_defaults:
  greeting: LOUD
"""


def outputs(heat: Projects, project: str, stack: str) -> dict[str, Any]:
    reply = heat.witness(project, "GET", f"/stacks/{stack}")
    assert reply.status_code == 200, reply.text
    return {o["output_key"]: o["output_value"] for o in reply.json()["stack"]["outputs"]}


def noted(app: WMApp) -> list[tuple[str, str]]:
    """What the app notifies from now on, (title, message), as the user reads it."""
    seen: list[tuple[str, str]] = []
    notify = app.notify

    def recording(message: str, *, title: str = "", **kwargs: Any) -> None:
        seen.append((title, message))
        notify(message, title=title, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return seen


async def open_wizard(pilot: Pilot[Any]) -> LaunchWizard:
    app = pilot.app
    await pilot.press("colon", *"catalog", "enter")
    await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
    catalog = app.screen
    assert isinstance(catalog, CatalogScreen)
    await wait_for(pilot, lambda: bool(catalog.rows) and not catalog.pending, "the catalog")
    await pilot.press("l")
    await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
    wizard = app.screen
    assert isinstance(wizard, LaunchWizard)
    await pilot.pause()
    return wizard


async def test_wizard_environments_and_preview_change_the_launch(
    heat: Projects, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "greet.yaml").write_text(GREET, encoding="utf-8")
    (folder / "greet_env.yaml").write_text(OWN_ENV, encoding="utf-8")
    (folder / "loud_env.yaml").write_text(LOUD_ENV, encoding="utf-8")
    portal = heat.portal("envs", templates=str(folder))
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await finish_workers(app)
        wizard = await open_wizard(pilot)
        await pilot.press("enter")  # the one Heat account
        await wait_for(pilot, lambda: step(wizard) == "environments", "the environments step")
        assert wizard.steps == ["account", "environments", "params", "name", "summary"]
        # The one named after the template is picked to start with; the other is offered.
        assert [Path(p).name for p in wizard.choices.environments or []] == ["greet_env.yaml"]
        assert "merged in this order: greet_env.yaml" in text_of(wizard)
        await pilot.press("down", "space")  # loud_env.yaml, after it: it wins
        assert "merged in this order: greet_env.yaml, loud_env.yaml" in text_of(wizard)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(wizard.query(ParamForm)), "Heat's form", within=30)
        await pilot.pause()
        assert wizard.query_one(ParamForm).values()["greeting"] == "LOUD"  # what it launches
        await submit_form(pilot, wizard.query_one(ParamForm))
        assert step(wizard) == "name"
        await pilot.press("home", "ctrl+k", *"greet-1", "enter")
        assert step(wizard) == "summary"
        await wait_for(pilot, lambda: "would create" in text_of(wizard), "Heat's preview")
        summary = text_of(wizard)
        assert "environments  greet_env.yaml, loud_env.yaml" in summary
        assert "The cloud would create 2 resources:" in summary
        lines = [line.split() for line in summary.splitlines()]
        assert ["said", "OS::Heat::TestResource"] in lines
        assert ["tag[x]", "OS::Heat::None"] in lines  # a bracketed name, as it is
        assert not heat.witness("envs", "GET", "/stacks").json()["stacks"]  # nothing created

        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the wizard closes")
        await wait_for(
            pilot,
            lambda: (
                [i.state for i in portal.instances() if i.name == "greet-1"]
                == [InstanceState.RUNNING]
            ),
            "the app running",
            within=60,
        )
        await finish_workers(app)
    assert outputs(heat, "envs", "greet-1")["greeting"] == "LOUD"  # the later environment


async def test_picking_an_environment_changes_the_forms_defaults(
    heat: Projects, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "greet.yaml").write_text(GREET, encoding="utf-8")
    (folder / "greet_env.yaml").write_text(OWN_ENV, encoding="utf-8")
    (folder / "loud_env.yaml").write_text(LOUD_ENV, encoding="utf-8")
    portal = heat.portal("picks", templates=str(folder))
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await finish_workers(app)
        wizard = await open_wizard(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: step(wizard) == "environments", "the environments step")

        async def the_form() -> ParamForm:
            await pilot.press("enter")
            await wait_for(pilot, lambda: bool(wizard.query(ParamForm)), "Heat's form", within=30)
            await pilot.pause()
            return wizard.query_one(ParamForm)

        form = await the_form()  # greet_env.yaml alone, picked to start with
        assert form.values()["greeting"] == "from [the] env"
        assert "greeting  string  default from [the] env" in text_of(wizard)
        await pilot.press("escape")
        await wait_for(pilot, lambda: step(wizard) == "environments", "back to the files")
        await pilot.press("down", "space")  # loud_env.yaml too, after it: it wins
        form = await the_form()
        assert form.values()["greeting"] == "LOUD"
        assert "greeting  string  default LOUD" in text_of(wizard)
        await finish_workers(app)


async def test_update_key_prefills_the_form_and_follows_the_update(heat: Projects) -> None:
    created = heat.create("upd", "greet", GREET, greeting="hello [there]", size=2)
    assert heat.wait("upd", created) == "CREATE_COMPLETE"
    portal = heat.portal("upd")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        notes = noted(app)
        main = main_of(app)
        await wait_for(pilot, lambda: main.table.total_count == 1, "the app row")
        main.table.focus()
        await pilot.press("p")
        await wait_for(pilot, lambda: shows(app, AppUpdateScreen), "the form")
        screen = app.screen
        await wait_for(pilot, lambda: bool(screen.query(ParamForm)), "the current values")
        await pilot.pause()
        form = screen.query_one(ParamForm)
        values = form.values()
        assert (values["greeting"], values["size"]) == ("hello [there]", "2")
        assert "greeting  string  now hello [there]" in text_of(screen)
        assert "size  number  now 2  · 1..5" in text_of(screen)  # Heat's own constraint

        field = form.inputs[[p.name for p in form.form.parameters].index("size")]
        field.value = "9"  # out of range: refused on the form, nothing is sent
        form.inputs[0].focus()
        for _ in form.inputs:
            await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert "✗ 1..5" in text_of(screen)
        assert heat.status("upd", created) == "CREATE_COMPLETE"
        field.value = "3"
        form.inputs[0].focus()
        for _ in form.inputs:
            await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is main, "back on the main screen")
        await wait_for(
            pilot,
            lambda: heat.status("upd", created) == "UPDATE_COMPLETE",
            "UPDATE_COMPLETE",
            within=60,
        )

        def row_state() -> str:
            row = main.table.cursor_instance
            return row.raw_state if row is not None else ""

        # Followed like any action: the row and a toast when the cloud says it is done.
        await wait_for(pilot, lambda: row_state() == "UPDATE_COMPLETE", "the row updated")
        await wait_for(
            pilot,
            lambda: ("Update greet", "greet updated (UPDATE_COMPLETE)") in notes,
            "the update's toast",
        )
        await finish_workers(app)
    shown = heat.witness("upd", "GET", f"/stacks/greet/{created}").json()["stack"]
    assert shown["parameters"]["size"] == "3"
    assert shown["parameters"]["greeting"] == "hello [there]"  # kept


async def test_update_key_on_an_instance_says_why_not(heat: Projects) -> None:
    portal = heat.portal("none")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        notes = noted(app)
        await finish_workers(app)
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, AppUpdateScreen)
        assert ("Cannot update", "Only an app has parameters to update") in notes
