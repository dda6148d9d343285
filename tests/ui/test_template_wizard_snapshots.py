"""Snapshots at 80x24 of a template's launch: the environments step, the summary with
what the cloud's preview would create, and an app's update form (fixed data).

The portal below answers from memory (its account points at a closed port), so names
are the same on every run. Behaviour against the real Heat is in
tests/heat/test_heat_wizard_apps.py. Regenerate only after looking at the report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import (
    CLOSED_PORT,
    SECRET_ENV,
    SLOW,
    ec2_account,
    finish_workers,
    fixed_clock,
    wait_for,
)
from tests.ui.on_screen import shows
from winged_monkey.catalog import (
    AccountCatalog,
    CatalogItem,
    EnvironmentFile,
    ParameterConstraint,
    Previewed,
    TemplateForm,
    TemplateParameter,
)
from winged_monkey.engine.catalogs import CatalogUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.app_update import AppUpdateScreen
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.widgets.param_form import ParamForm
from winged_monkey.user.config import Config

SnapCompare = Callable[..., bool]
SIZE = (80, 24)
FOLDER = "/srv/templates"
ITEM = CatalogItem(
    account="lab",
    kind="template",
    id=f"{FOLDER}/web.yaml",
    name="web",
    description="a web tier [with] its database",
    provider="heat",
)
CATALOG = AccountCatalog(account="lab", provider="heat", region="RegionOne", items=(ITEM,))
FORM = TemplateForm(
    account="lab",
    template=ITEM.id,
    parameters=(
        TemplateParameter(name="greeting", default="hello [world]"),
        TemplateParameter(name="size", type="number", default="2"),
        TemplateParameter(name="db_password", hidden=True, default=""),
    ),
)
ENVIRONMENTS = [
    EnvironmentFile(path=f"{FOLDER}/web_env.yaml", default=True),
    EnvironmentFile(path=f"{FOLDER}/big_env.yaml"),
    EnvironmentFile(path=f"{FOLDER}/[staging]_env.yaml"),
]
PREVIEW = [
    Previewed(name="said", type="OS::Heat::TestResource"),
    Previewed(name="members", type="OS::Heat::ResourceGroup"),
    Previewed(name="secret", type="OS::Heat::RandomString", nested_in="members-0", depth=1),
    Previewed(name="tag[x]", type="OS::Heat::None", nested_in="db", depth=1),
]
APP = Instance(
    account="lab",
    id="5c1e0c7e-0000-4000-8000-000000000001",
    name="web-1",
    state=InstanceState.RUNNING,
    raw_state="CREATE_COMPLETE",
    provider="heat",
    extra={"kind": "app"},
)
#: The app's update form as the backend gives it: current values as defaults, hidden empty.
UPDATE_FORM = TemplateForm(
    account="lab",
    template=APP.name,
    parameters=(
        TemplateParameter(name="db_password", hidden=True),
        TemplateParameter(name="greeting", default="hello [world]"),
        TemplateParameter(
            name="size",
            type="number",
            default="2",
            constraints=(ParameterConstraint(kind="range", min=1, max=5),),
        ),
    ),
)


class FixedTemplates(Portal):
    """A portal whose catalog, form, environments, preview and app answer from memory."""

    def catalog_accounts(self) -> list[str]:
        return ["lab"]

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        return CATALOG

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        return CATALOG

    def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        async def each() -> AsyncIterator[CatalogUpdate]:
            yield CatalogUpdate("lab", CATALOG)

        return each()

    async def template_form(
        self, account: str, template: str, environments: Sequence[str] | None = None
    ) -> TemplateForm:
        return FORM

    async def environments(self, account: str, template: str) -> list[EnvironmentFile]:
        return ENVIRONMENTS

    async def preview_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[Previewed]:
        return PREVIEW

    async def update_form(self, app: Instance) -> TemplateForm:
        return UPDATE_FORM


@pytest.fixture
def fixed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WMApp:
    monkeypatch.setenv(SECRET_ENV, "not-a-secret")
    accounts = (ec2_account("lab", CLOSED_PORT),)
    config = Config(refresh_interval=SLOW, busy_refresh_interval=SLOW, accounts=accounts)
    portal = FixedTemplates(
        config, Store.open(tmp_path / "fixed.sqlite3"), clock=fixed_clock, user="tester"
    )
    return WMApp(portal, config, clock=fixed_clock, title_suffix="demo")


def _to(step: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await finish_workers(app)
        await pilot.press("colon", *"catalog", "enter")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
        catalog = app.screen
        assert isinstance(catalog, CatalogScreen)
        await wait_for(pilot, lambda: bool(catalog.rows), "the fixed catalog")
        await pilot.pause()
        await pilot.press("l")
        await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
        wizard = app.screen
        assert isinstance(wizard, LaunchWizard)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: wizard.step == "environments", "the environments")
        await pilot.press("down", "down", "space")
        if step == "summary":
            await pilot.press("enter")
            await wait_for(pilot, lambda: bool(wizard.query(ParamForm)), "the form")
            await pilot.pause()
            await pilot.press("enter", "enter", *"long-enough", "enter")
            await pilot.press("home", "ctrl+k", *"web-1", "enter")
            await wait_for(pilot, lambda: wizard.plan.preview is not None, "the preview")
        await pilot.pause()

    return run


async def _update_form(pilot: Pilot[Any]) -> None:
    await finish_workers(pilot.app)
    portal = pilot.app.screen.portal  # type: ignore[attr-defined]
    await pilot.app.push_screen(AppUpdateScreen(portal, APP))
    await wait_for(pilot, lambda: bool(pilot.app.screen.query(ParamForm)), "the form")
    await pilot.pause()
    await pilot.press("end")  # a key restarts the cursor's blink: shown, on every run
    await pilot.pause()


@pytest.mark.snapshot
@pytest.mark.parametrize("step", ["environments", "summary"])
def test_template_wizard_step(snap_compare: SnapCompare, fixed_app: WMApp, step: str) -> None:
    assert snap_compare(fixed_app, terminal_size=SIZE, run_before=_to(step))


@pytest.mark.snapshot
def test_app_update_form(snap_compare: SnapCompare, fixed_app: WMApp) -> None:
    assert snap_compare(fixed_app, terminal_size=SIZE, run_before=_update_form)
