"""Apps in the TUI at 80x24, keyboard only, against the real standalone Heat."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from tests.aggregator_client.conftest import aggregator_account
from tests.heat.conftest import FAILING, SLOW, Projects
from tests.heat.test_heat_aggregator import HEATS_WORDS, _sick, serving
from tests.heat.test_heat_cli import GROUP, _nested
from tests.ui.on_screen import Notes
from winged_monkey.actions import Action
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.app_detail import MASK, AppScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.user.config import Config

SIZE = (80, 24)
SECRET = "hunter2-not-for-screens"

SHOP = """
heat_template_version: 2018-08-31
description: a web tier and a generated secret
parameters:
  db_password:
    type: string
    hidden: true
  size:
    type: number
    default: 2
resources:
  secret:
    type: OS::Heat::RandomString
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: size}
      resource_def: {type: OS::Heat::None}
outputs:
  url:
    description: where the shop answers
    value: http://shop.example/
"""


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, within: float = 20.0
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def text_of(screen: Screen[Any]) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


def main_of(app: WMApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def test_app_rows_and_app_detail_at_80x24(heat: Projects) -> None:
    shop = heat.create("ui", "shop", SHOP, db_password=SECRET, size=3)
    broken = heat.create("ui", "broken", FAILING)
    assert heat.wait("ui", shop) == "CREATE_COMPLETE"
    assert heat.wait("ui", broken) == "CREATE_FAILED"
    portal = heat.portal("ui")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        table = main_of(app).table
        await wait_for(pilot, lambda: table.total_count == 2, "the two stacks")

        # Apps read as apps in the table: a glyph before the name, members as the size.
        key = f"ui/{shop}"
        assert table.cell(key, "name").plain == "◆ shop"
        assert table.cell(key, "size").plain == "app (2)"
        assert table.cell(key, "state").plain == "▶ running"

        table.select(key)
        await pilot.press("enter")
        assert isinstance(app.screen, AppScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.detail is not None, "the app's details")
        text = text_of(screen)
        assert "◆ shop" in text
        assert "CREATE_COMPLETE" in text
        # Resources, with the group's members one level down and their physical ids.
        assert "OS::Heat::ResourceGroup" in text
        assert "OS::Heat::RandomString" in text
        assert "web/0" in text
        assert "web/2" in text
        assert text.index("web/0") < text.index("web/1") < text.index("web/2")
        assert screen.detail is not None
        web = next(r for r in screen.detail.resources if r.name == "web")
        assert web.physical_id
        assert web.physical_id in text
        # Outputs with their description; parameters with the hidden one masked.
        assert "http://shop.example/" in text
        assert "where the shop answers" in text
        assert MASK in text
        assert SECRET not in text
        assert [(p.name, p.value) for p in screen.detail.parameters] == [
            ("db_password", None),
            ("size", "3"),
        ]
        # Events, newest first: the stack's completion on top.
        events = screen.detail.events
        assert events[0].detail == "Stack CREATE completed successfully"
        assert events[-1].detail == "Stack CREATE started"
        assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
        assert text.index("Stack CREATE completed") < text.index("Stack CREATE started")

        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        # A failed create: Heat's reason, not a traceback, on the app's screen.
        table.select(f"ui/{broken}")
        await pilot.press("enter")
        assert isinstance(app.screen, AppScreen)
        failed = app.screen
        await wait_for(pilot, lambda: failed.detail is not None, "the failed app's details")
        text = text_of(failed)
        assert "CREATE_FAILED" in text
        assert "Test Resource failed" in text
        assert "Traceback" not in text
        assert "no outputs" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
    await portal.close()


async def test_app_in_progress_is_followed_live(heat: Projects) -> None:
    slow = heat.create("live", "slowpoke", SLOW, wait=3)
    portal = heat.portal("live")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        table = main_of(app).table
        await wait_for(pilot, lambda: table.total_count == 1, "the stack")
        table.select(f"live/{slow}")
        await pilot.press("enter")
        assert isinstance(app.screen, AppScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.detail is not None, "the app's details")
        assert screen.detail is not None
        assert screen.detail.events[0].new_state == "CREATE_IN_PROGRESS"
        # No key pressed: the screen reads the app again until Heat says it is complete.
        await wait_for(
            pilot,
            lambda: (
                screen.detail is not None
                and screen.detail.events[0].detail == "Stack CREATE completed successfully"
            ),
            "the completion to appear",
            within=30,
        )
        assert "CREATE_COMPLETE" in text_of(screen)
        await pilot.press("escape")
    await portal.close()


async def test_app_detail_shows_the_description_and_tags(heat: Projects) -> None:
    """The template's description and the stack's tags were shown nowhere; what the
    template holds reaches the screen with its control characters as `?`."""
    template = (
        'heat_template_version: 2018-08-31\ndescription: "the shop\\e[2J front"\n'
        "resources:\n  thing: {type: OS::Heat::None}\n"
    )
    body = {"stack_name": "tagged", "template": template, "tags": "web,prod"}
    reply = heat.witness("desc", "POST", "/stacks", json=body)
    assert reply.status_code == 201, reply.text
    assert heat.wait("desc", reply.json()["stack"]["id"]) == "CREATE_COMPLETE"
    portal = heat.portal("desc")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        table = main_of(app).table
        await wait_for(pilot, lambda: table.total_count == 1, "the stack")
        await pilot.press("enter")
        assert isinstance(app.screen, AppScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.detail is not None, "the app's details")
        text = text_of(screen)
        assert "the shop?[2J front" in text
        assert "\x1b" not in text
        assert "tags: web, prod" in text
    await portal.close()


async def test_stop_is_not_offered_on_an_app_heat_would_not_suspend(heat: Projects) -> None:
    """A failed create leaves its resource CREATE_FAILED, which Heat's suspend refuses. The
    footer offered stop (`x`) on it: the portal's rules allow a stop of an app in error,
    and the refusal was found only once `x` was pressed, reading the resources. The
    listing reads them already (its member count): kept, they hide the key, and pressing
    it sends nothing."""
    broken = heat.create("hide", "broken", FAILING)
    fine = heat.create("hide", "fine", SHOP, db_password=SECRET)
    assert heat.wait("hide", broken) == "CREATE_FAILED"
    assert heat.wait("hide", fine) == "CREATE_COMPLETE"
    portal = heat.portal("hide")
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_of(app)
        table = screen.table
        await wait_for(pilot, lambda: table.total_count == 2, "the two stacks")

        def keys() -> set[str]:
            return {ab.binding.description for ab in app.screen.active_bindings.values()}

        table.select(f"hide/{fine}")
        await pilot.pause()
        assert "stop" in keys()
        table.select(f"hide/{broken}")
        await pilot.pause()
        assert "stop" not in keys()
        assert "destroy" in keys()
        row = table.cursor_instance
        assert row is not None
        assert portal.refusal(Action.STOP, row) == (
            "Heat would refuse to suspend broken: resource broken is CREATE_FAILED (Heat "
            "suspends a resource only once its last action completed, or its suspend "
            "failed); fix it with `wm app update broken`, or destroy it"
        )
        await pilot.press("x")  # pressed anyway: nothing is asked, nothing is sent
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
    await portal.close()
    assert heat.status("hide", broken) == "CREATE_FAILED"  # nothing sent


async def test_stop_is_not_offered_either_once_started_again_from_the_store(
    heat: Projects,
) -> None:
    """Started again, wm recalls each app's member count from its store and reads no
    resources of an app unchanged since: the failed app's stop was offered again. An app
    whose resources may hold one Heat refuses (a failed action's) is read once more."""
    broken = heat.create("again", "broken", FAILING)
    assert heat.wait("again", broken) == "CREATE_FAILED"
    first = heat.portal("again")
    assert [u async for u in first.refresh()]
    await first.close()
    portal = heat.portal("again")  # the same store: the rows recalled
    assert [u async for u in portal.refresh()]
    row = portal.instance(f"again/{broken}")
    assert row is not None
    assert row.members == 1
    said = portal.refusal(Action.STOP, row)
    assert said is not None
    assert said.startswith("Heat would refuse to suspend broken: resource broken is CREATE_FAILED")
    await portal.close()


async def test_a_stop_heat_would_refuse_below_the_top_level_is_said_as_the_key_says_one(
    heat: Projects,
) -> None:
    """Stop on two apps: `fine`, and `sick`, a member of whose group is marked unhealthy
    (its nested stack's resource CHECK_FAILED, which Heat's suspend refuses; its group
    and the app stay CREATE_COMPLETE, so the key is offered). The refusal read as the stop
    is sent was an error titled 'Not allowed', and the bulk stop's summary never came
    (one outcome of two). Now it is the note a refused key shows ('Cannot stop', the
    reason), then the summary of the stop that ran; nothing is sent to `sick`."""
    sick = heat.create("tui-sick", "sick", GROUP)
    fine = heat.create("tui-sick", "fine", GROUP)
    assert heat.wait("tui-sick", sick) == "CREATE_COMPLETE"
    assert heat.wait("tui-sick", fine) == "CREATE_COMPLETE"
    nested = _nested(heat, "tui-sick", f"/stacks/sick/{sick}")
    body = {"mark_unhealthy": True, "resource_status_reason": "test"}
    reply = heat.witness("tui-sick", "PATCH", f"{nested}/resources/0", json=body)
    assert reply.status_code == 200, reply.text
    portal = heat.portal("tui-sick")
    app = WMApp(portal, portal.config, title_suffix="test")
    notes = Notes()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        table = main_of(app).table
        await wait_for(pilot, lambda: table.total_count == 2, "the two stacks")
        for stack in (sick, fine):
            table.select(f"tui-sick/{stack}")
            await pilot.press("space")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.is_modal, "the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes.find("Stop fine")), "the stop's summary")
    await portal.close()
    (refused,) = notes.find("Cannot stop")
    assert refused.message == (
        "Heat would refuse to suspend sick: resource group/0 is CHECK_FAILED (Heat suspends "
        "a resource only once its last action completed, or its suspend failed); fix it "
        "with `wm app update sick`, or destroy it"
    )
    assert refused.severity == "warning"
    assert not [n for n in notes.shown if n.severity == "error"], notes.shown
    assert heat.status("tui-sick", sick) == "CREATE_COMPLETE"  # nothing sent
    assert heat.status("tui-sick", fine) == "SUSPEND_COMPLETE"


async def test_a_stop_the_server_refuses_as_sent_is_the_note_a_refused_key_shows(
    heat: Projects, moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop on two apps of an account that is a `wm serve` over Heat: `fine`, and `quiet`,
    whose group member is CHECK_FAILED. wm records its intent and sends the stop; the
    server reads what Heat's suspend would walk and refuses it (409). That refusal, come
    back as the action's outcome, was counted in the summary as a failure, an error ('Stop
    2 instances: 1 of 2 done', 'quiet failed: ...'); now it is the note a refused key shows
    ('Cannot stop', the server's words, a warning), the bulk stop's summary is of `fine`
    alone, and nothing is sent to `quiet`."""
    quiet = _sick(heat, "tui-hop")
    fine = heat.create("tui-hop", "fine", GROUP)
    assert heat.wait("tui-hop", fine) == "CREATE_COMPLETE"
    with serving(moto_server, heat, "tui-hop", tmp_path) as agg:
        token = agg.mint("opal", "operator", pool="delta")
        config = Config(
            refresh_interval=600.0,  # polls only when an action asks
            busy_refresh_interval=0.2,
            action_poll_interval=0.1,
            action_timeout=60,
            accounts=(aggregator_account("team", agg.url, token, monkeypatch),),
        )
        portal = Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")
        app = WMApp(portal, config, title_suffix="test")
        notes = Notes()
        async with app.run_test(size=SIZE, message_hook=notes) as pilot:
            table = main_of(app).table
            await wait_for(pilot, lambda: table.total_count == 2, "the two apps")
            for stack in (quiet, fine):
                table.select(f"team/apps/{stack}")
                await pilot.press("space")
            await pilot.press("x")
            await wait_for(pilot, lambda: app.screen.is_modal, "the confirmation")
            await pilot.press("y")

            def summed() -> list[Notification]:
                return [n for n in notes.shown if n.title.startswith("Stop ")]

            await wait_for(pilot, lambda: bool(summed()), "the stop's summary", 60)
        await portal.close()
    (summary,) = summed()
    assert (summary.title, summary.severity) == ("Stop fine", "information"), summary
    (refused,) = notes.find("Cannot stop")
    assert refused.message == f"the aggregator refused: {HEATS_WORDS}"
    assert refused.severity == "warning"
    assert not [n for n in notes.shown if n.severity == "error"], notes.shown
    assert heat.status("tui-hop", quiet) == "CREATE_COMPLETE"  # nothing sent
    assert heat.status("tui-hop", fine) == "SUSPEND_COMPLETE"
