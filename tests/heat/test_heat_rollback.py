"""A failed action Heat rolled back (`disable_rollback: false`), on the convergence engine
real clouds run: a create rolled back never ran, an update rolled back runs as before."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.heat.conftest import FAILING, Projects, refresh, rows
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.app_detail import summary

ONE = "heat_template_version: 2018-08-31\nresources:\n  keep: {type: OS::Heat::None}\n"
CAUSE = "Resource CREATE failed: ValueError: resources.broken: Test Resource failed"


def rolled_back(heat: Projects, name: str, stack: str, stack_id: str | None = None) -> str:
    """Create `stack` (or update it) with FAILING, rollback on; returns its id once rolled back."""
    body = {"template": FAILING, "disable_rollback": False}
    if stack_id is None:
        reply = heat.witness(name, "POST", "/stacks", json={"stack_name": stack, **body})
        assert reply.status_code == 201, reply.text
        stack_id = str(reply.json()["stack"]["id"])
    else:
        reply = heat.witness(name, "PUT", f"/stacks/{stack}/{stack_id}", json=body)
        assert reply.status_code == 202, reply.text
    # The convergence engine says UPDATE_FAILED (CREATE_FAILED) before its rollback begins.
    deadline = time.monotonic() + 60
    while (status := heat.wait(name, stack_id)) != "ROLLBACK_COMPLETE":
        assert status.endswith("_FAILED"), status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return stack_id


async def test_a_create_rolled_back_is_failed_and_an_update_rolled_back_runs(
    heat_convergence: Projects, tmp_path: Path
) -> None:
    """Before: both read `▶ running` (ROLLBACK_COMPLETE was taken as up), the create that
    never ran too, with 0 members and no word of why."""
    heat = heat_convergence
    rolled_back(heat, "roll", "never")
    kept = heat.create("roll", "kept", ONE)
    assert heat.wait("roll", kept) == "CREATE_COMPLETE"
    rolled_back(heat, "roll", "kept", kept)

    found = rows((await refresh(heat.portal("roll")))["roll"])
    never, old = found["never"], found["kept"]
    assert never.state is InstanceState.ERROR
    assert never.members == 0
    assert never.extra["fault"].startswith(f"create failed and was rolled back: {CAUSE}")
    assert old.state is InstanceState.RUNNING
    assert old.members == 1  # on its old template
    assert old.extra["rolled_back"].startswith(f"update failed and was rolled back: {CAUSE}")
    said = summary(old, datetime.now(UTC)).plain
    assert "ROLLBACK_COMPLETE" in said
    assert f"update failed and was rolled back: {CAUSE}" in said


SLOW_TO_DELETE = """
heat_template_version: 2018-08-31
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      action_wait_secs: {delete: 60}
  broken:
    type: OS::Heat::TestResource
    depends_on: slow
    properties: {fail: true}
"""


async def test_a_create_being_rolled_back_is_stopping(heat_convergence: Projects) -> None:
    """Before: `pending` while Heat deletes what the failed create made (as if it were
    coming up), with no word of why."""
    heat = heat_convergence
    body = {"stack_name": "undo", "template": SLOW_TO_DELETE, "disable_rollback": False}
    reply = heat.witness("undoing", "POST", "/stacks", json=body)
    assert reply.status_code == 201, reply.text
    stack = str(reply.json()["stack"]["id"])
    deadline = time.monotonic() + 60
    while (status := heat.status("undoing", stack)) != "ROLLBACK_IN_PROGRESS":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.1)
    (listed,) = await heat.backend("undoing").list_instances()  # within the slow delete
    assert (listed.state, listed.raw_state) == (InstanceState.STOPPING, "ROLLBACK_IN_PROGRESS")
    assert listed.extra["rolled_back"].startswith(
        "create failed and is being rolled back: Resource CREATE failed: "
    )
    said = summary(listed, datetime.now(UTC)).plain
    assert "ROLLBACK_IN_PROGRESS" in said
    assert "create failed and is being rolled back" in said


async def test_an_update_being_rolled_back_is_pending(heat_convergence: Projects) -> None:
    """An update that failed, rollback on: Heat puts the old template back (here it deletes
    what the update added, slowly). The app comes back up on it: pending, not stopping as
    a create's rollback is, its detail saying which update failed, and how."""
    heat = heat_convergence
    stack = heat.create("undoing", "redo", ONE)
    assert heat.wait("undoing", stack) == "CREATE_COMPLETE"
    body = {"template": SLOW_TO_DELETE, "disable_rollback": False}
    reply = heat.witness("undoing", "PUT", f"/stacks/redo/{stack}", json=body)
    assert reply.status_code == 202, reply.text
    deadline = time.monotonic() + 60
    while (status := heat.status("undoing", stack)) != "ROLLBACK_IN_PROGRESS":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.1)
    (listed,) = await heat.backend("undoing").list_instances()  # within the slow delete
    assert (listed.state, listed.raw_state) == (InstanceState.PENDING, "ROLLBACK_IN_PROGRESS")
    assert listed.extra["rolled_back"].startswith(
        "update failed and is being rolled back: Resource CREATE failed: "
    )
    said = summary(listed, datetime.now(UTC)).plain
    assert "ROLLBACK_IN_PROGRESS" in said
    assert "update failed and is being rolled back" in said
