"""An app as it runs now: its members, outputs, parameters and latest events (the detail
view), and the form that updates it, filled with its current values."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from winged_monkey.models import AppDetail, AppOutput, AppParameter, AppResource, Instance
from winged_monkey_heat.events import StackEvents, portal_event
from winged_monkey_heat.listing import Listing
from winged_monkey_heat.stacks import NESTED_DEPTH, Stacks, stack_outputs
from winged_monkey_heat.validation import validate

if TYPE_CHECKING:  # the catalog loads with the catalog's commands, not with every listing
    from winged_monkey.catalog import TemplateForm


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


async def app_detail(
    stacks: Stacks, events: StackEvents, listing: Listing, app: Instance, count: int
) -> AppDetail:
    """Resources (nested stacks' too, under their owner's path), outputs, parameters
    (hidden ones masked by name from the template, whatever Heat answers), the latest
    events, and the app's row as Heat's stack show says it now."""
    resources, stack, template, latest = await asyncio.gather(
        stacks.resources(app.id, nested_depth=NESTED_DEPTH),
        stacks.show(app.id),
        stacks.part(app.id, "template"),
        events.latest(app.id, count),
    )
    hidden = hidden_parameters(template)
    now = datetime.now(UTC)
    row = await listing.read_with(stack, [r for r in resources if not r.parent])
    return AppDetail(
        app=row,
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


async def update_form(stacks: Stacks, app: Instance) -> TemplateForm:
    """The form that updates `app`: Heat's validation of the template, files and
    environment the app runs with, each field filled with the app's current value. A
    hidden parameter has none (Heat shows it masked): left out of an update, it is kept."""
    from winged_monkey_heat import templates

    stack, template, files, environment = await asyncio.gather(
        stacks.show(app.id),
        stacks.part(app.id, "template"),
        stacks.part(app.id, "files"),
        stacks.part(app.id, "environment"),
    )
    # The environment's `parameters` are the values given (hidden ones masked, which a
    # constraint may refuse): the current values come from the stack instead.
    env = {k: v for k, v in (environment or {}).items() if k != "parameters"}
    body = {"template": template, "files": files or {}, "environment": env}
    form = templates.form(stacks.account, app.name, await validate(stacks.client, body), template)
    hidden = hidden_parameters(template) | {p.name for p in form.parameters if p.hidden}
    current = current_values(stack, hidden)

    def now(name: str, kind: str, default: str | None) -> str | None:
        if name in hidden:
            return None
        value = current.get(name, default)
        return value.lower() if kind == "boolean" and value else value  # Heat says True

    fields = tuple(
        p.model_copy(update={"default": now(p.name, p.type, p.default)}) for p in form.parameters
    )
    return form.model_copy(update={"parameters": fields})
