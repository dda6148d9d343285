"""Snapshots at 80x24 of the Catalog view and of each launch wizard step (fixed data,
fixed clock).

The catalogs are fixed in memory: the portal below answers the catalog calls from a dict
(its accounts point at a closed port), so prices, quotas and ids are the same on every
run. Behaviour against the real moto server is in test_catalog.py and
test_launch_wizard.py. Regenerate with `--snapshot-update` only after looking at the report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
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
from tests.ui.test_launch_wizard import FORM
from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, Quota, Size
from winged_monkey.engine.catalogs import CatalogUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.widgets.param_form import ParamForm
from winged_monkey.user.config import Config

SnapCompare = Callable[..., bool]
SIZE = (80, 24)
NEEDS = ("a size", "a key pair to log in (optional)")


def _item(account: str, ident: str, name: str, description: str) -> CatalogItem:
    return CatalogItem(
        account=account,
        kind="image",
        id=ident,
        name=name,
        description=description,
        provider="ec2",
        needs=NEEDS,
        arch="x86_64",
    )


def _sizes(factor: float) -> tuple[Size, ...]:
    """A few EC2 types; the price of one is unknown (shown as ?)."""
    table = (
        ("t3.micro", "x86_64", 2, 1024, 0.0104),
        ("t3.small", "x86_64", 2, 2048, 0.0208),
        ("t4g.large", "arm64", 2, 8192, 0.0672),
        ("t3.large", "x86_64", 2, 8192, 0.0832),
        ("m5.xlarge", "x86_64", 4, 16384, 0.192),
        ("x9.mystery", None, 8, 32768, None),
    )
    return tuple(
        Size(
            id=ident,
            name=ident,
            arch=arch,
            vcpus=cpus,
            ram_mb=ram,
            disk_gb=None,
            price_hourly=None if price is None else round(price * factor, 4),
        )
        for ident, arch, cpus, ram, price in table
    )


def _catalog(
    account: str, region: str, factor: float, used: int, limit: int, *items: CatalogItem
) -> AccountCatalog:
    return AccountCatalog(
        account=account,
        provider="ec2",
        region=region,
        items=items,
        searchable=True,  # EC2's public AMIs
        sizes=_sizes(factor),
        locations=tuple(Choice(id=f"{region}{z}", name=f"{region}{z}") for z in "abc"),
        key_pairs=(Choice(id="laptop", name="laptop"), Choice(id="ci", name="ci")),
        networks=(
            Choice(id="subnet-0a1b2c3d", name="web (10.0.1.0/24, us-east-1a)"),
            Choice(id="subnet-4e5f6a7b", name="data (10.0.2.0/24, us-east-1b)"),
        ),
        quotas=(
            Quota(resource="instances", limit=limit, used=used),
            Quota(resource="vcpus", limit=None, used=used * 2),
        ),
    )


UBUNTU = ("ami-0a1b2c3d4e5f60718", "ubuntu-24.04-server", "Canonical, Ubuntu, 24.04 LTS, amd64")
GOLDEN = ("ami-0f1e2d3c4b5a69788", "golden-web", "our web image: nginx and the app")
CATALOGS = {
    "dev": _catalog("dev", "us-east-1", 1.0, 3, 20, _item("dev", *UBUNTU), _item("dev", *GOLDEN)),
    "lab": _catalog("lab", "eu-west-1", 1.1, 4, 5, _item("lab", *UBUNTU)),
    "prod": _catalog("prod", "us-east-1", 1.0, 5, 20, _item("prod", *UBUNTU)),
}


class FixedCatalogs(Portal):
    """A portal whose catalog calls answer from `CATALOGS` (for snapshots only)."""

    def catalog_accounts(self) -> list[str]:
        return list(CATALOGS)

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        return CATALOGS.get(account)

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        return CATALOGS[account]

    def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        async def each() -> AsyncIterator[CatalogUpdate]:
            for name in names if names is not None else list(CATALOGS):
                yield CatalogUpdate(name, CATALOGS[name])

        return each()


@pytest.fixture
def fixed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WMApp:
    monkeypatch.setenv(SECRET_ENV, "not-a-secret")
    accounts = tuple(
        ec2_account(name, CLOSED_PORT, region=catalog.region, read_only=name == "prod")
        for name, catalog in CATALOGS.items()
    )
    config = Config(refresh_interval=SLOW, busy_refresh_interval=SLOW, accounts=accounts)
    portal = FixedCatalogs(
        config, Store.open(tmp_path / "fixed.sqlite3"), clock=fixed_clock, user="tester"
    )
    return WMApp(portal, config, clock=fixed_clock, title_suffix="demo")


async def _catalog_view(pilot: Pilot[Any]) -> CatalogScreen:
    await finish_workers(pilot.app)
    await pilot.press("colon", *"catalog", "enter")
    await wait_for(pilot, lambda: shows(pilot.app, CatalogScreen), "the catalog")
    screen = pilot.app.screen
    assert isinstance(screen, CatalogScreen)
    await wait_for(pilot, lambda: len(screen.rows) == 4, "the fixed catalogs")
    await pilot.pause()
    return screen


async def _wizard(pilot: Pilot[Any]) -> LaunchWizard:
    screen = await _catalog_view(pilot)
    screen.table.move_cursor(row=1)  # ubuntu on dev (golden-web sorts first)
    await pilot.press("l")
    await wait_for(pilot, lambda: shows(pilot.app, LaunchWizard), "the wizard")
    wizard = pilot.app.screen
    assert isinstance(wizard, LaunchWizard)
    await pilot.pause()
    return wizard


def _keys_to(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Open the wizard on ubuntu, type a size class, then press `keys`."""

    async def run(pilot: Pilot[Any]) -> None:
        await _wizard(pilot)
        await pilot.press(*"2cpu 4gb")
        await pilot.press(*keys)
        await pilot.pause()
        await finish_workers(pilot.app)
        await pilot.pause()

    return run


STEPS = {
    "account": (),
    "size": ("enter",),
    "location": ("enter", "enter"),
    "access": ("enter", "enter", "down", "enter"),
    "name": ("enter", "enter", "down", "enter", "down", "enter", "down", "enter"),
    "summary": (
        *("enter", "enter", "down", "enter", "down", "enter", "down", "enter"),
        *("home", "ctrl+k", *"web-3", "enter", "backspace", "2", "enter"),
    ),
    # lab has one instance left: three are stopped before any call, with the numbers.
    "quota": (
        *("down", "enter", "enter", "enter", "enter", "enter"),
        *("home", "ctrl+k", *"lab-box", "enter", "backspace", "3", "enter"),
    ),
}


async def _catalog_run(pilot: Pilot[Any]) -> None:
    await _catalog_view(pilot)


@pytest.mark.snapshot
def test_catalog_view(snap_compare: SnapCompare, fixed_app: WMApp) -> None:
    assert snap_compare(fixed_app, terminal_size=SIZE, run_before=_catalog_run)


@pytest.mark.snapshot
@pytest.mark.parametrize("step", list(STEPS))
def test_wizard_step(snap_compare: SnapCompare, fixed_app: WMApp, step: str) -> None:
    assert snap_compare(fixed_app, terminal_size=SIZE, run_before=_keys_to(*STEPS[step]))


class FormApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ParamForm(FORM, id="form")


async def _bad_values(pilot: Pilot[Any]) -> None:
    form = pilot.app.query_one(ParamForm)
    _flavor, count, password = form.inputs
    count.value = "9"
    password.value = "short"
    form.check()
    await pilot.pause()


@pytest.mark.snapshot
def test_template_form_with_errors(snap_compare: SnapCompare) -> None:
    assert snap_compare(FormApp(), terminal_size=SIZE, run_before=_bad_values)
