"""An app as it runs now: its members, outputs, parameters and latest events (the detail
view), and the form that updates it, filled with its current values."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from winged_monkey.models import AppDetail, AppOutput, AppParameter, AppResource, Instance
from winged_monkey_heat.events import StackEvents, portal_event
from winged_monkey_heat.stacks import Stacks, stack_outputs


def hidden_parameters(template: Mapping[str, Any] | None) -> set[str]:
    """The parameters a template declares hidden (`hidden`, or `NoEcho`)."""
    declared = (template or {}).get("parameters") or {}
    return {
        name
        for name, spec in declared.items()
        if isinstance(spec, Mapping)
        and str(spec.get("hidden", spec.get("NoEcho", "false"))).lower() == "true"
    }


def current_values(stack: Mapping[str, Any], hidden: set[str]) -> dict[str, str | None]:
    """The app's parameters as it runs, by name (hidden ones without their value; Heat's
    own OS::stack_id and the like left out)."""
    values: Mapping[str, Any] = stack.get("parameters") or {}
    return {
        name: None if name in hidden else str(value)
        for name, value in sorted(values.items())
        if not name.startswith("OS::")
    }


async def app_detail(stacks: Stacks, events: StackEvents, app: Instance, count: int) -> AppDetail:
    """Resources (nested stacks to one level), outputs, parameters (hidden ones masked
    by name from the template, whatever Heat answers) and the latest events."""
    resources, stack, template, latest = await asyncio.gather(
        stacks.resources(app.id, nested_depth=1),
        stacks.show(app.id),
        stacks.part(app.id, "template"),
        events.latest(app.id, count),
    )
    hidden = hidden_parameters(template)
    now = datetime.now(UTC)
    return AppDetail(
        resources=tuple(
            AppResource(
                name=r.name,
                type=r.type,
                status=r.status,
                reason=r.reason,
                physical_id=r.physical_id,
                parent=r.parent,
            )
            for r in resources
        ),
        outputs=tuple(
            AppOutput(key=o.key, value=o.value, description=o.description, error=o.error)
            for o in stack_outputs(stack)
        ),
        parameters=tuple(
            AppParameter(name=name, value=value, hidden=name in hidden)
            for name, value in current_values(stack, hidden).items()
        ),
        events=tuple(portal_event(e, app.name, stacks.account, now) for e in latest),
    )
