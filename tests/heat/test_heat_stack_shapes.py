"""Apps shaped like teams' own stacks, in the TUI's app detail against the real standalone
Heat: a group of nested templates, each holding its server two levels down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from tests.heat.conftest import Projects
from tests.heat.test_heat_ui import SIZE, main_of, text_of, wait_for
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.app_detail import AppScreen

#: One member of the web tier: its server and its port (a TestResource stands for the
#: server: the standalone Heat has no Nova).
MEMBER = """
heat_template_version: 2018-08-31
resources:
  server: {type: OS::Heat::TestResource, properties: {value: vm}}
  port: {type: OS::Heat::None}
"""

TIERS = """
heat_template_version: 2018-08-31
resources:
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def: {type: "file:///tiers/member.yaml"}
  db: {type: "file:///tiers/member.yaml"}
"""


async def test_a_group_of_nested_templates_shows_each_members_server(heat: Projects) -> None:
    """The detail read one level of nesting: web/0 and web/1 showed, the servers inside
    them (web/0/server) did not, so neither the detail nor `wm ssh` found them."""
    reply = heat.witness(
        "tiers",
        "POST",
        "/stacks",
        json={
            "stack_name": "shop",
            "template": TIERS,
            "files": {"file:///tiers/member.yaml": MEMBER},
        },
    )
    assert reply.status_code == 201, reply.text
    stack = str(reply.json()["stack"]["id"])
    assert heat.wait("tiers", stack) == "CREATE_COMPLETE"
    async with app_detail(heat, "tiers", stack) as (_, screen):
        text = text_of(screen)
    section = text[text.index("\nResources\n") : text.index("\nOutputs\n")]
    members = [line.split()[0] for line in section.splitlines() if "CREATE_COMPLETE" in line]
    # Each member under its owner's path, in the tree's order (Heat's own list: -n 5).
    assert members == [
        "db",
        "db/port",
        "db/server",
        "web",
        "web/0",
        "web/0/port",
        "web/0/server",
        "web/1",
        "web/1/port",
        "web/1/server",
    ], text


#: Outputs as a config-management run leaves them (its log in colour, a C1 CSI), and a
#: parameter value with the same: text the template's author and its user chose.
CONTROLS = """
heat_template_version: 2018-08-31
parameters:
  motd: {type: string, default: "hi\\u009b2J"}
resources:
  nothing: {type: OS::Heat::None}
outputs:
  deploy_stdout:
    description: "what the run said\\u001b]0;owned\\u0007"
    value: "ok: [web]\\n\\u001b[31mfailed: 0\\u001b[0m"
  facts:
    value: {os: "Debian \\u202egpj.exe", cores: 2}
"""


async def test_the_app_detail_shows_outputs_and_parameters_without_terminal_controls(
    heat: Projects,
) -> None:
    """The table cleans names; the app's detail sent an output's ESC sequences (a run's
    coloured log, a title-setting OSC), a parameter's CSI and a bidi override raw to the
    terminal."""
    stack = heat.create("ctl", "runner", CONTROLS)
    assert heat.wait("ctl", stack) == "CREATE_COMPLETE"
    async with app_detail(heat, "ctl", stack) as (_, screen):
        text = text_of(screen)
    for control in ("\x1b", "\x07", "\u009b", "\u202e"):
        assert control not in text, (control, text)
    assert "ok: [web]" in text  # the output's lines kept, each shown as it is
    assert "?[31mfailed: 0?[0m" in text
    assert "what the run said?]0;owned?" in text
    assert "hi?2J" in text
    assert '"Debian ?gpj.exe"' in text


async def test_an_app_deleted_outside_wm_reads_deleted_in_its_open_detail(
    heat: Projects,
) -> None:
    """Deleted with the openstack client while its detail was open: read again (R), the
    detail listed Heat's DELETE_COMPLETE events under '▶ running  CREATE_COMPLETE · app (2)',
    the row as last listed, a state nobody saw any more."""
    stack = heat.create("gone", "doomed")
    assert heat.wait("gone", stack) == "CREATE_COMPLETE"
    async with app_detail(heat, "gone", stack) as (pilot, screen):
        assert "▶ running  CREATE_COMPLETE" in text_of(screen)
        reply = heat.witness("gone", "DELETE", f"/stacks/doomed/{stack}")
        assert reply.status_code == 204, reply.text
        assert heat.wait("gone", stack) == "DELETE_COMPLETE"
        await pilot.press("R")
        await wait_for(pilot, lambda: "DELETE_COMPLETE" in summary_of(screen), "the deletion read")
        summary = summary_of(screen)
    assert "\n† terminated  DELETE_COMPLETE  · app (0) · gone · " in summary, summary
    assert "running" not in summary
    assert summary.endswith("Stack DELETE completed successfully")


def summary_of(screen: AppScreen) -> str:
    return text_of(screen).split("\nResources\n")[0]


@asynccontextmanager
async def app_detail(
    heat: Projects, project: str, stack: str
) -> AsyncIterator[tuple[Pilot[Any], AppScreen]]:
    """The TUI over `project`'s Heat, the detail of its one app `stack` open and read."""
    portal = heat.portal(project)
    app = WMApp(portal, portal.config, title_suffix="test")
    try:
        async with app.run_test(size=SIZE) as pilot:
            table = main_of(app).table
            await wait_for(pilot, lambda: table.total_count == 1, "the stack")
            table.select(f"{project}/{stack}")
            await pilot.press("enter")
            assert isinstance(app.screen, AppScreen)
            screen = app.screen
            await wait_for(pilot, lambda: screen.detail is not None, "the app's details")
            yield pilot, screen
    finally:
        await portal.close()
