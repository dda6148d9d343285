"""The Heat backend and the portal against a real standalone OpenStack Heat.

Heat's own API, read through plain httpx, is the independent witness where a
state is claimed. Each test works in its own Heat projects, so tests never see
each other's stacks and need no cleanup beyond the session's server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.heat.conftest import (
    FAILING,
    SLOW,
    SMALL,
    Projects,
    heat_account,
    make_portal,
    refresh,
    rows,
)
from tests.heat.heatserver import HeatServer
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.errors import ConfigError, InvalidRequest, NotFoundError, UnreachableError
from winged_monkey.models import InstanceState
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend
from winged_monkey_heat.client import ConflictError, TemplateError
from winged_monkey_heat.stacks import PAGE

FORM = """
heat_template_version: 2018-08-31
description: a launch form's worth of parameters
parameter_groups:
  - label: sizing
    parameters: [count]
parameters:
  count:
    type: number
    label: Web servers
    description: how many
    default: 2
    constraints:
      - range: {min: 1, max: 5}
        description: one to five
  flavor:
    type: string
    default: m1.small
    constraints:
      - allowed_values: [m1.small, m1.large]
  name_prefix:
    type: string
    constraints:
      - length: {min: 3, max: 12}
      - allowed_pattern: "[a-z]+"
  db_password:
    type: string
    hidden: true
  tags:
    type: comma_delimited_list
    default: "a,b"
resources:
  nothing:
    type: OS::Heat::None
"""


# -- listing ------------------------------------------------------------------


async def test_stacks_are_app_rows_and_projects_are_isolated(heat: Projects) -> None:
    web = heat.create("shop", "web", size=3)
    db = heat.create("shop", "db")
    other = heat.create("lab", "sandbox", size=1)
    for name, stack in (("shop", web), ("shop", db), ("lab", other)):
        assert heat.wait(name, stack) == "CREATE_COMPLETE"

    portal = heat.portal("shop", "lab")
    updates = await refresh(portal)

    shop, lab = rows(updates["shop"]), rows(updates["lab"])
    assert set(shop) == {"web", "db"}
    assert set(lab) == {"sandbox"}
    row = shop["web"]
    assert row.id == web
    assert row.state is InstanceState.RUNNING
    assert row.raw_state == "CREATE_COMPLETE"
    assert row.provider == "heat"
    assert row.created_at is not None
    assert row.extra["kind"] == "app"
    assert row.extra["stack_status"] == "CREATE_COMPLETE"
    assert row.extra["members"] == 2  # secret + group
    assert lab["sandbox"].id == other
    # The other project's URL with this project's header is refused by Heat itself.
    assert heat.spy(url_of="lab", header_of="shop").status_code == 403
    assert await portal.check("shop") == (
        f"Heat at 127.0.0.1:{heat.server.port}, project {heat.project('shop')}: reachable, 2 stacks"
    )


@pytest.mark.parametrize("cap", [None, 2, 3])
async def test_every_stack_is_listed_when_heat_caps_its_pages(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], cap: int | None
) -> None:
    """A Heat may answer fewer stacks than the page asked for (Rackspace's caps a page at
    100, a next link on each full one): the rest are still listed, not taken for gone.
    The proxy lowers the limit each request asks; the real Heat pages and links."""
    made = {heat.create("pages", f"s{n}") for n in range(5)}
    proxy = fault_proxy(heat.server.port)
    if cap is not None:
        proxy.fault = Fault(
            "rewrite", find=f"limit={PAGE}".encode(), instead=f"limit={cap}".encode()
        )
    account = heat_account("pages", f"http://127.0.0.1:{proxy.port}/v1", heat.project("pages"))
    backend = HeatBackend(account, Secrets(account="pages"))
    heat.backends.append(backend)
    assert {i.id for i in await backend.list_instances()} == made
    # Each page, and one more only where the last was full (Heat's next link): 5 stacks at
    # 2 a page are 3 requests, at 3 a page 2, uncapped 1.
    pages = [line for line in proxy.request_lines if "/stacks?" in line]
    assert len(pages) == {None: 1, 2: 3, 3: 2}[cap], pages


async def test_capabilities_offer_no_reboot(heat: Projects) -> None:
    backend = heat.backend("caps")
    assert Capability.REBOOT not in backend.capabilities
    assert {Capability.START, Capability.STOP, Capability.DESTROY} <= backend.capabilities
    read_only = heat.backend("ro", read_only=True)
    # Forms and previews change nothing; an update is refused as read-only all the same.
    assert read_only.capabilities == {
        Capability.LIST,
        Capability.STACKS,
        Capability.EVENTS,
        Capability.APPS,
    }


async def test_an_action_heat_has_not_is_refused_in_words_without_a_provider(
    heat: Projects,
) -> None:
    """Heat names no provider: its refusal reads 'heat cannot reboot', never 'heat/None'."""
    stack = heat.create("words", "words-app")
    portal = heat.portal("words")
    await refresh(portal)
    app = next(i for i in portal.instances() if i.id == stack)
    assert portal.refusal(Action.REBOOT, app) == "heat cannot reboot"
    await portal.close()


async def test_a_poweroff_says_an_apps_stop_is_its_suspend(heat: Projects) -> None:
    """A Heat app has no power-off: it said only 'heat cannot poweroff'."""
    stack = heat.create("hard", "hard-app")
    portal = heat.portal("hard")
    await refresh(portal)
    app = next(i for i in portal.instances() if i.id == stack)
    assert portal.refusal(Action.POWEROFF, app) == (
        "a Heat app has no power-off: wm stop suspends it (Heat's stack suspend); its "
        "servers power off through their own cloud's account"
    )
    await portal.close()


# -- actions through the portal ---------------------------------------------------


async def test_suspend_resume_delete_followed_to_completion(heat: Projects) -> None:
    stack = heat.create("ops", "app")
    heat.wait("ops", stack)
    portal = heat.portal("ops")
    await refresh(portal)
    key = f"ops/{stack}"

    for action, state, heat_status in (
        (Action.STOP, InstanceState.SUSPENDED, "SUSPEND_COMPLETE"),
        (Action.START, InstanceState.RUNNING, "RESUME_COMPLETE"),
        (Action.DESTROY, InstanceState.TERMINATED, "DELETE_COMPLETE"),
    ):
        row = portal.instance(key)
        assert row is not None
        updates = [u async for u in portal.run_action(action, row)]
        final = updates[-1]
        assert final.phase == "done", final.message
        assert final.instance.state is state
        assert final.instance.raw_state == heat_status
        assert heat.status("ops", stack) == heat_status
    assert portal.refusal(Action.REBOOT, final.instance) is not None


async def test_failed_create_shows_heat_reason(heat: Projects) -> None:
    stack = heat.create("qa", "broken", FAILING)
    assert heat.wait("qa", stack) == "CREATE_FAILED"
    row = rows((await refresh(heat.portal("qa")))["qa"])["broken"]
    assert row.state is InstanceState.ERROR
    assert row.raw_state == "CREATE_FAILED"
    assert "Test Resource failed" in row.extra["fault"]
    assert "Traceback" not in row.extra["fault"]


async def test_stack_in_progress_is_pending_then_running(heat: Projects) -> None:
    stack = heat.create("slow", "slowpoke", SLOW, wait=3)
    portal = heat.portal("slow")
    row = rows((await refresh(portal))["slow"])["slowpoke"]
    assert row.state is InstanceState.PENDING
    assert row.raw_state == "CREATE_IN_PROGRESS"
    assert heat.status("slow", stack) == "CREATE_IN_PROGRESS"
    assert heat.wait("slow", stack) == "CREATE_COMPLETE"
    row = rows((await refresh(portal))["slow"])["slowpoke"]
    assert row.state is InstanceState.RUNNING


# -- errors, each while another account keeps working ---------------------------------


async def test_name_conflict_missing_stack_and_bad_template(heat: Projects) -> None:
    heat.wait("err", heat.create("err", "taken"))
    backend = heat.backend("err")

    with pytest.raises(InvalidRequest) as conflict:  # the user's name, refused: exit 3
        await backend.create_stack(SMALL, "taken")
    assert conflict.value.message == "The Stack (taken) already exists."

    with pytest.raises(NotFoundError) as missing:
        await backend.stack_events("no-such-stack")
    assert "could not be found" in missing.value.message
    assert await backend.get_instance("00000000-0000-0000-0000-000000000000") is None

    with pytest.raises(TemplateError) as bad:
        await backend.create_stack(
            "heat_template_version: 2018-08-31\nresources: {x: {type: No::Such}}", "x"
        )
    assert "No::Such" in bad.value.message
    with pytest.raises(TemplateError) as unparsable:
        await backend.validate("resources: [")
    assert "Traceback" not in unparsable.value.message

    # Through the portal: a stack deleted behind its back is a clear failure of the action,
    # and the other account (another Heat project) lists on as before.
    heat.wait("other", heat.create("other", "fine"))
    portal = heat.portal("err", "other")
    await refresh(portal)
    (row,) = portal.find("taken")
    heat.witness("err", "DELETE", f"/stacks/taken/{row.id}")
    heat.wait("err", row.id)
    stale = row.model_copy(update={"id": "11111111-1111-1111-1111-111111111111"})
    final = [u async for u in portal.run_action(Action.STOP, stale)][-1]
    assert final.phase == "failed"
    assert final.message == "The Stack (taken) could not be found."
    updates = await refresh(portal)
    assert set(rows(updates["other"])) == {"fine"}
    assert set(rows(updates["err"])) == set()


async def test_action_heat_refuses_is_explained(heat: Projects) -> None:
    stack = heat.create("refuse", "app", SLOW, wait=3)
    portal = heat.portal("refuse")
    await refresh(portal)
    row = portal.instance(f"refuse/{stack}")
    assert row is not None
    assert row.state is InstanceState.PENDING
    # Heat refuses a suspend while the create runs: the action fails with Heat's reason.
    final = [u async for u in portal.run_action(Action.STOP, row)][-1]
    assert final.phase == "failed"
    assert final.message == "Stack app already has an action (CREATE) in progress."
    backend = heat.backend("refuse")
    with pytest.raises(ConflictError):
        await backend.act(Action.STOP, row)
    assert heat.wait("refuse", stack) == "CREATE_COMPLETE"
    # Once running, the portal itself refuses a start before asking Heat.
    row = rows((await refresh(portal))["refuse"])["app"]
    assert portal.refusal(Action.START, row) == "app is already running"


async def test_heat_down_is_unreachable_while_other_accounts_list(
    heat: Projects, heat_python: Path, tmp_path: Path
) -> None:
    heat.wait("alive", heat.create("alive", "ok"))
    closed = free_port()
    down = heat_account("down", f"http://127.0.0.1:{closed}/v1", "p")
    portal, store = make_portal(tmp_path / "p", down, heat.account("alive"))
    heat.stores.append(store)

    updates = await refresh(portal)
    assert updates["down"].status.phase == "failed"
    assert updates["down"].status.error == (
        f"cannot connect to Heat at 127.0.0.1:{closed} (connection refused)"
    )
    assert set(rows(updates["alive"])) == {"ok"}

    # A Heat that was up and was stopped reads the same way.
    with HeatServer(heat_python, tmp_path / "second") as second:
        backend = HeatBackend(heat_account("gone", second.url, "p"), Secrets(account="gone"))
        heat.backends.append(backend)
        assert await backend.list_instances() == []
    with pytest.raises(UnreachableError) as unreachable:
        await backend.list_instances()
    assert f"127.0.0.1:{second.port}" in unreachable.value.message


# -- detail, events, validate, launch ------------------------------------------------------


async def test_launch_then_events_resources_outputs(heat: Projects) -> None:
    backend = heat.backend("apps")
    launched = await backend.create_stack(SMALL, "shop", {"size": 3})
    assert launched.name == "shop"
    deadline = time.monotonic() + 60
    while (row := await backend.get_instance(launched.id)) and row.state.transitional:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert row is not None
    assert row.state is InstanceState.RUNNING
    assert row.extra["members"] == 2

    resources = {r.name: r for r in await backend.resources(launched.id)}
    assert resources["group"].type == "OS::Heat::ResourceGroup"
    assert resources["group"].status == "CREATE_COMPLETE"
    assert resources["group"].nested_stack_id
    nested = await backend.resources(launched.id, nested_depth=1)
    assert len([r for r in nested if r.parent == "group"]) == 3

    (output,) = await backend.outputs(launched.id)
    assert output.key == "password"
    assert isinstance(output.value, str)
    assert len(output.value) == 32

    events = await backend.stack_events(launched.id)
    assert events[-1].resource_name == "shop"
    assert events[-1].status == "CREATE_COMPLETE"
    assert [e.at for e in events] == sorted(e.at for e in events if e.at)
    keys = {e.key("apps") for e in events}
    assert len(keys) == len(events)
    # Paging with marker: the page after the second event is the rest, nothing re-fetched.
    first = await backend.stack_events(launched.id, limit=2)
    rest = await backend.stack_events(launched.id, marker=first[-1].id)
    assert [e.id for e in first + rest] == [e.id for e in events]
    assert await backend.stack_events(launched.id, marker=events[-1].id) == []


async def test_validate_returns_the_parameter_form(heat: Projects) -> None:
    backend = heat.backend("forms")
    result = await backend.validate(FORM)
    assert result.description == "a launch form's worth of parameters"
    assert [p.name for p in result.parameters] == [
        "count",
        "flavor",
        "name_prefix",
        "db_password",
        "tags",
    ]
    count = result.parameter("count")
    assert (count.type, count.label, count.description) == ("Number", "Web servers", "how many")
    assert (count.default, count.min_value, count.max_value) == (2, 1.0, 5.0)
    assert count.constraint_description == "one to five"
    flavor = result.parameter("flavor")
    assert flavor.allowed_values == ("m1.small", "m1.large")
    prefix = result.parameter("name_prefix")
    assert (prefix.has_default, prefix.min_length, prefix.max_length) == (False, 3, 12)
    assert prefix.allowed_pattern == "[a-z]+"
    assert result.parameter("db_password").hidden
    assert result.parameter("tags").type == "CommaDelimitedList"
    assert result.parameter_groups[0].parameters == ("count",)

    with pytest.raises(TemplateError) as bad:
        await backend.validate(FORM.replace("OS::Heat::None", "OS::Nope"))
    assert bad.value.message == "The Resource Type (OS::Nope) could not be found."


def test_settings_errors_name_the_keys() -> None:
    with pytest.raises(ConfigError) as missing:
        HeatBackend(heat_account("x", "ftp://nowhere", "p"), Secrets(account="x"))
    assert "endpoint_url" in missing.value.message
