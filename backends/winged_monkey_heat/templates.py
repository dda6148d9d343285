"""Templates for a Heat account (HOT, and CloudFormation format through Heat): the files
of its templates folder with the environment beside each, and Heat's own validation
answer turned into the core's launch form (winged_monkey.catalog)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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


#: An environment file read to tell it from other YAML is at most this long.
ENVIRONMENT_MAX_BYTES = 1_000_000


def environments_beside(template: Path) -> list[Path]:
    """The environment files in `template`'s folder: the one that goes with it first
    (`companion`), then the others by name. An environment is YAML whose sections are
    all an environment's (a template, or any other YAML, is not one)."""
    from winged_monkey_heat.files import parse_environment

    def is_environment(path: Path) -> bool:
        if path.suffix.lower() not in (".yaml", ".yml", ".json") or path == template:
            return False
        try:
            if not path.is_file() or path.stat().st_size > ENVIRONMENT_MAX_BYTES:
                return False
            return bool(parse_environment(path.read_bytes()))
        except (OSError, ValueError):
            return False

    own = companion(template)
    others = [p for p in sorted(template.parent.iterdir()) if p != own and is_environment(p)]
    return [own, *others] if own else others


#: Heat's HEAT-E99001: the template is fine, this cloud lacks a service it uses.
_NO_SERVICE = re.compile(r"Service (\S+) is not available for resource type (\S+?),? ")


def rejected(message: str) -> tuple[str, tuple[str, ...]]:
    """A catalog item's description and needs when Heat refuses the template: a service
    this cloud lacks (Nova, Neutron...) is told apart from a template that is wrong."""
    missing = _NO_SERVICE.search(message)
    if missing:
        service, resource_type = missing.groups()
        return (
            f"this cloud has no {service} for {resource_type}",
            (f"a cloud with {service}",),
        )
    return f"not valid: {message}", ("a fixed template",)


def needs(validation: TemplateValidation) -> tuple[str, ...]:
    """The parameters a launch must be given (those without a default), in words."""
    required = [p.name for p in validation.parameters if not p.has_default]
    return (f"parameters: {', '.join(required)}",) if required else ()


def form(
    account: str,
    template: str,
    validation: TemplateValidation,
    source: Mapping[str, Any] | str | None = None,
) -> catalog.TemplateForm:
    """The launch form, in Heat's parameter order or its parameter groups' order; with
    the template itself (`source`), each constraint keeps its own description."""
    own = descriptions(source)
    order = [name for g in validation.parameter_groups for name in g.parameters]
    by_name = {p.name: p for p in validation.parameters}
    names = [n for n in order if n in by_name]
    names += [p.name for p in validation.parameters if p.name not in names]
    return catalog.TemplateForm(
        account=account,
        template=template,
        description=validation.description,
        parameters=tuple(field(by_name[name], own.get(name)) for name in names),
    )


def field(p: TemplateParameter, own: Mapping[str, str] | None = None) -> catalog.TemplateParameter:
    kind = _TYPES.get(p.type, p.type.lower())
    default = None
    if p.has_default:
        default = _list(p.default) if kind == "comma_delimited_list" else _text(p.default)
    return catalog.TemplateParameter(
        name=p.name,
        type=kind,
        label=p.label if p.label != p.name else "",
        description=p.description,
        default=default,
        hidden=p.hidden,
        constraints=constraints(p, own),
    )


#: A HOT constraint's key -> the form's constraint kind.
_KINDS = {
    "allowed_values": "allowed_values",
    "range": "range",
    "length": "length",
    "allowed_pattern": "allowed_pattern",
    "custom_constraint": "custom",
}


def descriptions(source: Mapping[str, Any] | str | None) -> dict[str, dict[str, str]]:
    """parameter -> constraint kind -> its own description, read from a HOT template
    (Heat's validation joins a parameter's descriptions into one text)."""
    from winged_monkey_heat.files import parse_template

    if isinstance(source, str):
        try:
            source = parse_template(source)
        except ValueError:
            return {}
    found: dict[str, dict[str, str]] = {}
    params = (source or {}).get("parameters")
    for name, spec in (params if isinstance(params, Mapping) else {}).items():
        rules = spec.get("constraints") if isinstance(spec, Mapping) else None
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, Mapping) or not isinstance(rule.get("description"), str):
                continue
            for key, kind in _KINDS.items():
                if key in rule:
                    found.setdefault(str(name), {})[kind] = rule["description"]
    return found


def constraints(
    p: TemplateParameter, own: Mapping[str, str] | None = None
) -> tuple[catalog.ParameterConstraint, ...]:
    """Heat's validate answer flattens a parameter's constraints into keys and joins their
    descriptions into one text. Each constraint gets its own description from the
    template (`own`: kind -> text); failing that, the joined text goes on the first."""
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
    if own:
        found = [c.model_copy(update={"description": own.get(c.kind, "")}) for c in found]
    elif found and p.constraint_description:
        found[0] = found[0].model_copy(update={"description": p.constraint_description})
    return tuple(found)


def _list(value: Any) -> str:
    """A list default as a user types it: 4,5,6 (Heat answers a list or its text)."""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return json.dumps(value)
