"""Typed answers of the Heat backend's own methods (beyond the portal's Instance rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def parse_time(value: Any) -> datetime | None:
    """Heat's timestamps ('2026-11-25T15:52:28Z' or without the Z) as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class StackEvent(_Frozen):
    """One Heat event of a stack or one of its resources."""

    id: str
    stack_id: str
    at: datetime | None
    resource_name: str
    physical_resource_id: str | None = None
    status: str = Field(description="ACTION_STATUS of the resource, e.g. CREATE_FAILED.")
    reason: str = ""

    def key(self, account: str) -> str:
        """Stable across re-fetches: the same Heat event always has the same key."""
        return f"heat:{account}:{self.stack_id}:{self.id}"


class StackResource(_Frozen):
    """One resource of a stack (nested stacks' resources carry `parent`)."""

    name: str
    type: str
    status: str
    reason: str = ""
    physical_id: str | None = None
    updated_at: datetime | None = None
    parent: str | None = Field(
        None, description="Path of the nested stack's owning resource (web/0: group web's 0)."
    )
    nested_stack_id: str | None = None
    nesting: bool = Field(
        False,
        description="Its type owns a nested stack by the app's environment (My::Thing mapped "
        "to thing.yaml), which its name alone does not say (refusals.stackless).",
    )


class StackOutput(_Frozen):
    key: str
    value: Any = None
    description: str = ""
    error: str | None = Field(None, description="Why Heat could not compute the value.")


class TemplateParameter(_Frozen):
    """One template parameter as Heat's POST /validate describes it."""

    name: str
    type: str = Field(description="Heat's type: String, Number, CommaDelimitedList, Json, Boolean.")
    label: str = ""
    description: str = ""
    default: Any = None
    has_default: bool = False
    hidden: bool = Field(False, description="NoEcho: mask it on the form and in logs.")
    allowed_values: tuple[Any, ...] | None = None
    allowed_pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    custom_constraint: str | None = None
    constraint_description: str = ""


class ParameterGroup(_Frozen):
    label: str = ""
    description: str = ""
    parameters: tuple[str, ...] = ()


class TemplateValidation(_Frozen):
    """Heat's own reading of a template: what a launch form needs."""

    description: str = ""
    parameters: tuple[TemplateParameter, ...] = ()
    parameter_groups: tuple[ParameterGroup, ...] = ()

    def parameter(self, name: str) -> TemplateParameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)


class LaunchedStack(_Frozen):
    """What Heat answers to a create: the stack exists, its creation runs on."""

    id: str
    name: str
