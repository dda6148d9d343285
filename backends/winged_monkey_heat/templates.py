"""Templates for a Heat account (HOT, and CloudFormation format through Heat): the files
of its templates folder with the environment beside each, and Heat's own validation
answer turned into the core's launch form (winged_monkey.catalog)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from winged_monkey import catalog
from winged_monkey_heat.models import TemplateParameter, TemplateValidation

#: File names a templates folder is searched for (HOT is YAML; JSON is YAML too).
SUFFIXES = (".yaml", ".yml", ".hot", ".template", ".json")
#: A template says so near its top; other YAML in the folder (environments) is skipped.
MARKERS = ("heat_template_version", "AWSTemplateFormatVersion", "HeatTemplateFormatVersion")
#: The environment that goes with NAME.yaml, first found wins: the names the Heat
#: template collections use beside a template (openstack/heat-templates: NAME_env.yaml).
COMPANIONS = ("{}_env.yaml", "{}.env.yaml", "{}-env.yaml", "{}_env.yml", "{}.env.yml")

_TYPES = {
    "String": "string",
    "Number": "number",
    "Boolean": "boolean",
    "Json": "json",
    "CommaDelimitedList": "comma_delimited_list",
}


def template_files(folder: Path) -> list[Path]:
    """The templates directly in `folder` and one level below, sorted by path."""
    found = []
    for path in sorted([*folder.glob("*"), *folder.glob("*/*")]):
        if path.suffix.lower() in SUFFIXES and path.is_file() and _is_hot(path):
            found.append(path)
    return found


def _is_hot(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return False
    return any(marker in head for marker in MARKERS)


def companion(template: Path) -> Path | None:
    """The environment file beside `template` that goes with it (COMPANIONS), if any."""
    for pattern in COMPANIONS:
        found = template.with_name(pattern.format(template.stem))
        if found.is_file():
            return found
    return None


def needs(validation: TemplateValidation) -> tuple[str, ...]:
    """The parameters a launch must be given (those without a default), in words."""
    required = [p.name for p in validation.parameters if not p.has_default]
    return (f"parameters: {', '.join(required)}",) if required else ()


def form(account: str, template: str, validation: TemplateValidation) -> catalog.TemplateForm:
    """The launch form, in Heat's parameter order or its parameter groups' order."""
    order = [name for g in validation.parameter_groups for name in g.parameters]
    by_name = {p.name: p for p in validation.parameters}
    names = [n for n in order if n in by_name]
    names += [p.name for p in validation.parameters if p.name not in names]
    return catalog.TemplateForm(
        account=account,
        template=template,
        description=validation.description,
        parameters=tuple(field(by_name[name]) for name in names),
    )


def field(p: TemplateParameter) -> catalog.TemplateParameter:
    return catalog.TemplateParameter(
        name=p.name,
        type=_TYPES.get(p.type, p.type.lower()),
        label=p.label if p.label != p.name else "",
        description=p.description,
        default=_text(p.default) if p.has_default else None,
        hidden=p.hidden,
        constraints=constraints(p),
    )


def constraints(p: TemplateParameter) -> tuple[catalog.ParameterConstraint, ...]:
    """Heat's validate answer flattens a parameter's constraints into keys and joins their
    descriptions into one text: it goes on the first constraint, where a form shows it."""
    found: list[catalog.ParameterConstraint] = []
    C = catalog.ParameterConstraint
    if p.allowed_values is not None:
        found.append(C(kind="allowed_values", values=tuple(_text(v) for v in p.allowed_values)))
    if p.min_value is not None or p.max_value is not None:
        found.append(C(kind="range", min=p.min_value, max=p.max_value))
    if p.min_length is not None or p.max_length is not None:
        found.append(C(kind="length", min=p.min_length, max=p.max_length))
    if p.allowed_pattern:
        found.append(C(kind="allowed_pattern", pattern=p.allowed_pattern))
    if p.custom_constraint:
        found.append(C(kind="custom", values=(p.custom_constraint,)))
    if found and p.constraint_description:
        found[0] = found[0].model_copy(update={"description": p.constraint_description})
    return tuple(found)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return json.dumps(value)
