"""Heat's own reading of a template (POST /validate): its description, parameters with
their types, defaults and constraints, and parameter groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from winged_monkey_heat.client import HeatClient
from winged_monkey_heat.models import ParameterGroup, TemplateParameter, TemplateValidation

if TYPE_CHECKING:
    from winged_monkey_heat.files import Bundle


async def validate(
    client: HeatClient,
    template: str | Bundle | Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
) -> TemplateValidation:
    """Heat's reading of a template: text, gathered with its files and environment (a
    Bundle), or a request body's template part (raises TemplateError with Heat's reason)."""
    from winged_monkey_heat.files import Bundle

    if isinstance(template, Bundle):
        body = template.body()
    elif isinstance(template, str):
        body = {"template": template}
    else:
        body = dict(template)
    if parameters:
        body["parameters"] = dict(parameters)
    data = await client.request("POST", "/validate", body=body) or {}
    params = data.get("Parameters") or {}
    return TemplateValidation(
        description=str(data.get("Description") or ""),
        parameters=tuple(parameter(name, spec) for name, spec in params.items()),
        parameter_groups=tuple(
            ParameterGroup(
                label=str(g.get("label") or ""),
                description=str(g.get("description") or ""),
                parameters=tuple(g.get("parameters") or ()),
            )
            for g in data.get("ParameterGroups") or []
        ),
    )


def parameter(name: str, spec: Mapping[str, Any]) -> TemplateParameter:
    """One parameter of Heat's validate answer (CloudFormation-style keys)."""

    def number(key: str) -> float | None:
        value = spec.get(key)
        return float(value) if isinstance(value, int | float) else None

    def length(key: str) -> int | None:
        value = spec.get(key)
        return int(value) if isinstance(value, int) else None

    allowed = spec.get("AllowedValues")
    hidden = str(spec.get("NoEcho", "false")).lower() == "true"
    # An environment's `parameters` (Heat's Value) is what a launch with it uses, so a form
    # starts there; a hidden one's comes back masked and is left out.
    given = "Value" in spec and not hidden
    return TemplateParameter(
        name=name,
        type=str(spec.get("Type") or "String"),
        label=str(spec.get("Label") or name),
        description=str(spec.get("Description") or ""),
        default=spec["Value"] if given else spec.get("Default"),
        has_default=given or "Default" in spec,
        hidden=hidden,
        allowed_values=tuple(allowed) if isinstance(allowed, list) else None,
        allowed_pattern=spec.get("AllowedPattern"),
        min_value=number("MinValue"),
        max_value=number("MaxValue"),
        min_length=length("MinLength"),
        max_length=length("MaxLength"),
        custom_constraint=spec.get("CustomConstraint"),
        constraint_description=str(spec.get("ConstraintDescription") or ""),
    )
