"""Screenshots over the demo cloud: `.venv/bin/python scripts/screenshots.py`.

Starts the moto demo in a temporary directory, runs the app headless at each size,
waits until every account has answered and saves `screenshots/main-WxH.svg`. At 80x24
a last run does a few actions (so the log has something to show), polls again, and saves
the events view (`events-80x24.svg`) and web-2's timeline (`timeline-80x24.svg`). Then,
with the demo AMI offered by every account: the catalog (`catalog-80x24.svg`) and the
launch wizard's account step and summary (`launch-account-80x24.svg`,
`launch-summary-80x24.svg`), and web-1's boot console (`console-80x24.svg`). Last, an
app on the project's standalone test Heat (servers/heat/install.sh, cached; installed on
first use): its detail view (`app-detail-80x24.svg`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot

from winged_monkey.actions import Action
from winged_monkey.demo.seed import build_demo
from winged_monkey.demo.server import MotoServer, documentation_addresses
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.app_detail import AppScreen
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.console import ConsoleScreen
from winged_monkey.ui.screens.events import EventsScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.screens.timeline import TimelineScreen
from winged_monkey.user.config import AccountConfig, Config

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZES = ((80, 24), (120, 36))
EVENTS_SIZE = (80, 24)
DEADLINE_S = 60.0
#: (account, name, action) run before the events screenshots.
ACTIONS = (
    ("dev", "web-2", Action.STOP),
    ("dev", "batch", Action.START),
    ("dev", "api", Action.REBOOT),
    ("dev-eu", "eu-worker", Action.START),
)
TIMELINE_OF = ("dev", "web-2")
#: The size class typed on the wizard's account step (then enter takes every default).
CATALOG_SPEC = "2cpu 4gb"


async def _until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not condition():
        if loop.time() > deadline:
            raise SystemExit(f"{what}: still waiting after {DEADLINE_S:g} s")
        await pilot.pause(0.05)


async def _settled(pilot: Pilot[Any], portal: Portal) -> None:
    await _until(
        pilot,
        lambda: not any(s.phase in ("loading", "stale") or s.refreshing for s in portal.statuses()),
        "accounts loading",
    )
    # Every worker but the poller, which runs as long as the app (waiting on it never ends).
    others = [w for w in pilot.app.workers if w.group != "poller"]
    if others:  # (an empty list would mean every worker)
        await pilot.app.workers.wait_for_complete(others)
    await pilot.pause()


async def _some_history(pilot: Pilot[Any], app: WMApp, portal: Portal) -> None:
    """Run the actions as the UI would, then poll so the changes are also observed."""
    for account, name, action in ACTIONS:
        (instance,) = [i for i in portal.instances() if (i.account, i.name) == (account, name)]
        async for _update in portal.run_action(action, instance):
            pass
    app.action_refresh_inventory()
    await pilot.pause()
    await _settled(pilot, portal)


async def shoot(portal: Portal, size: tuple[int, int], out: Path, history: bool) -> list[Path]:
    """The main screen; with `history`, act on the cloud first and shoot the event views."""
    app = WMApp(portal, portal.config, title_suffix="demo")
    width, height = size
    saved: list[Path] = []

    def save(view: str) -> None:
        name = f"{view}-{width}x{height}.svg"
        app.save_screenshot(filename=name, path=str(out))
        saved.append(out / name)

    async with app.run_test(size=size) as pilot:
        await _settled(pilot, portal)
        if not history:
            save("main")
            return saved
        await _some_history(pilot, app, portal)
        await pilot.press("colon", *"events", "enter")
        await _until(pilot, lambda: isinstance(app.screen, EventsScreen), "the events view")
        events = app.screen
        assert isinstance(events, EventsScreen)
        await _until(pilot, lambda: events.loaded, "the event log")
        await pilot.pause()
        save("events")
        shown = events.table.shown
        row = next(n for n, e in enumerate(shown) if (e.account, e.target_name) == TIMELINE_OF)
        events.table.move_cursor(row=row)
        await pilot.press("enter")
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        await _until(pilot, lambda: timeline.loaded, "the timeline")
        await pilot.pause()
        save("timeline")
    return saved


async def shoot_catalog(portal: Portal, out: Path) -> list[Path]:
    """The catalog view, the wizard's account step and its summary, at 80x24."""
    app = WMApp(portal, portal.config, title_suffix="demo")
    saved: list[Path] = []

    def save(view: str) -> None:
        name = f"{view}-80x24.svg"
        app.save_screenshot(filename=name, path=str(out))
        saved.append(out / name)

    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot, portal)
        await pilot.press("colon", *"catalog", "enter")
        await _until(pilot, lambda: isinstance(app.screen, CatalogScreen), "the catalog view")
        catalog = app.screen
        assert isinstance(catalog, CatalogScreen)
        await _until(pilot, lambda: bool(catalog.rows) and not catalog.pending, "the catalogs")
        await pilot.pause()
        save("catalog")
        await pilot.press("l")
        await _until(pilot, lambda: isinstance(app.screen, LaunchWizard), "the launch wizard")
        await pilot.press(*CATALOG_SPEC)
        await pilot.pause()
        save("launch-account")
        wizard = app.screen
        assert isinstance(wizard, LaunchWizard)
        for _step in range(len(wizard.steps) + 2):  # a name and a count on one step
            if wizard.step == "summary":
                break
            await pilot.press("enter")
        await pilot.pause()
        save("launch-summary")
    return saved


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with (
        documentation_addresses(),
        MotoServer() as server,
        tempfile.TemporaryDirectory(prefix="wm-shots-") as tmp,
    ):
        server.seed(42)
        config = build_demo(server, Path(tmp))
        config = config.model_copy(update={"action_poll_interval": 0.2})
        # The main screens first, on the seeded fleet; the actions change it afterwards.
        runs = [(size, False) for size in SIZES] + [(EVENTS_SIZE, True)]
        for n, (size, history) in enumerate(runs):
            store = Store.open(Path(tmp) / f"store-{n}.sqlite3")
            try:
                saved = asyncio.run(shoot(Portal(config, store), size, OUT, history))
            finally:
                store.close()
            for path in saved:
                print(path)
        store = Store.open(Path(tmp) / "store-catalog.sqlite3")
        try:
            saved = asyncio.run(shoot_catalog(Portal(config, store), OUT))
        finally:
            store.close()
        for path in saved:
            print(path)
        store = Store.open(Path(tmp) / "store-console.sqlite3")
        try:
            print(asyncio.run(shoot_console(Portal(config, store), OUT)))
        finally:
            store.close()
    print(shoot_app_detail(OUT))
    return 0


async def shoot_console(portal: Portal, out: Path) -> Path:
    """`L` on web-1: its boot console (moto's GetConsoleOutput), at 80x24."""
    app = WMApp(portal, portal.config, title_suffix="demo")
    async with app.run_test(size=EVENTS_SIZE) as pilot:
        table = app.main_screen.table
        await _until(pilot, lambda: any(i.name == "web-1" for i in table.shown), "web-1")
        table.select(next(i for i in table.shown if i.name == "web-1").key)
        await pilot.press("L")
        screen = app.screen
        assert isinstance(screen, ConsoleScreen)
        await _until(pilot, lambda: screen.reads > 0, "the console")
        await pilot.pause()
        app.save_screenshot(filename="console-80x24.svg", path=str(out))
    return out / "console-80x24.svg"


#: A small n-tier app: a generated secret, a web group, a hidden parameter, an output.
SHOP = """
heat_template_version: 2018-08-31
description: a web tier behind a generated secret
parameters:
  db_password: {type: string, hidden: true}
  size: {type: number, default: 2}
resources:
  secret: {type: OS::Heat::RandomString}
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: size}
      resource_def: {type: OS::Heat::None}
outputs:
  url: {description: where the shop answers, value: "http://shop.example/"}
"""


def shoot_app_detail(out: Path) -> Path:
    """The detail of an app on the standalone test Heat, at 80x24."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.heat
    from tests.heat.heatserver import HeatServer, default_cache, install

    with tempfile.TemporaryDirectory(prefix="wm-shots-heat-") as tmp:
        root = Path(tmp)
        with HeatServer(install(default_cache()), root / "heat") as heat:
            headers = {"X-Auth-Project": "shop", "Content-Type": "application/json"}
            with httpx.Client(base_url=f"{heat.url}/shop", headers=headers, timeout=30) as api:
                body = {
                    "stack_name": "shop",
                    "template": SHOP,
                    "parameters": {"db_password": "not-shown", "size": 3},
                }
                api.post("/stacks", json=body).raise_for_status()
            account = AccountConfig.model_validate(
                {
                    "name": "apps",
                    "backend": "heat",
                    "endpoint_url": heat.url,
                    "project": "shop",
                    "credentials": {"keyring": False},
                }
            )
            store = Store.open(root / "store.sqlite3")
            try:
                config = Config(accounts=(account,), refresh_interval=1.0)
                portal = Portal(config, store)
                return asyncio.run(_shoot_app(portal, out))
            finally:
                store.close()


async def _shoot_app(portal: Portal, out: Path) -> Path:
    app = WMApp(portal, portal.config, title_suffix="demo")
    async with app.run_test(size=EVENTS_SIZE) as pilot:
        await _until(
            pilot,
            lambda: any(i.raw_state == "CREATE_COMPLETE" for i in portal.instances()),
            "the app to be created",
        )
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, AppScreen)
        await _until(pilot, lambda: screen.detail is not None, "the app's details")
        await pilot.pause()
        app.save_screenshot(filename="app-detail-80x24.svg", path=str(out))
    return out / "app-detail-80x24.svg"


if __name__ == "__main__":
    sys.exit(main())
