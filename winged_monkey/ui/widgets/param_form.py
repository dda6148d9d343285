"""A template's parameters as a form: one field per parameter, built from a TemplateForm.

Types, defaults and constraints are shown next to each field and checked before the
launch; hidden parameters are typed into a password field; descriptions are the help.
The cloud's own validation errors (Heat's) are shown on the form by `show_errors`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from winged_monkey.catalog import ParameterConstraint, TemplateForm, TemplateParameter

_TRUE_FALSE = {"true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"}


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def constraint_text(constraint: ParameterConstraint) -> str:
    """`one of a, b`, `8..64 long`, `1..10`, `matches ^[a-z]+$`."""
    if constraint.description:
        return constraint.description
    if constraint.kind == "allowed_values":
        return "one of " + ", ".join(constraint.values)
    if constraint.kind in ("range", "length"):
        low, high = _bound(constraint.min), _bound(constraint.max)
        span = f"{low}..{high}" if low and high else f"≥ {low}" if low else f"≤ {high}"
        return f"{span} characters" if constraint.kind == "length" else span
    if constraint.kind == "allowed_pattern":
        return f"matches {constraint.pattern}"
    return f"{constraint.kind} {' '.join(constraint.values)}".strip()


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _violates(constraint: ParameterConstraint, value: str, param: TemplateParameter) -> bool:
    kind = constraint.kind
    if kind == "allowed_values":
        if param.type == "comma_delimited_list":
            return any(v.strip() not in constraint.values for v in value.split(","))
        return value not in constraint.values
    if kind == "range":
        number = _number(value)
        return number is not None and (
            (constraint.min is not None and number < constraint.min)
            or (constraint.max is not None and number > constraint.max)
        )
    if kind == "length":
        size = len(value.split(",")) if param.type == "comma_delimited_list" else len(value)
        return (constraint.min is not None and size < constraint.min) or (
            constraint.max is not None and size > constraint.max
        )
    if kind == "allowed_pattern" and constraint.pattern:
        try:
            return re.fullmatch(constraint.pattern, value) is None
        except re.error:  # a pattern Python cannot read: leave it to the cloud
            return False
    return False  # custom constraints are checked by the cloud itself


def check_value(param: TemplateParameter, value: str) -> str | None:
    """Why `value` will not do for `param` (type, then each constraint); None if it may."""
    if value == "":
        return None if param.default is not None else "required"
    if param.type == "number" and _number(value) is None:
        return "a number"
    if param.type == "boolean" and value.lower() not in _TRUE_FALSE:
        return "true or false"
    if param.type == "json":
        try:
            json.loads(value)
        except ValueError:
            return "valid JSON"
    for constraint in param.constraints:
        if _violates(constraint, value, param):
            return constraint_text(constraint)
    return None


def label_text(param: TemplateParameter, default_word: str = "default") -> Text:
    text = Text.assemble((param.label or param.name, "bold"), (f"  {param.type}", "cyan"))
    if param.hidden:
        text.append("  hidden", style="yellow")
    if param.default is not None and not param.hidden:
        text.append(f"  {default_word} {param.default or '(empty)'}", style="dim")
    for constraint in param.constraints:
        text.append(f"  · {constraint_text(constraint)}", style="dim")
    return text


class ParamForm(VerticalScroll):
    """The fields of a TemplateForm; `values()` reads them, `check()` marks the bad ones."""

    DEFAULT_CSS = """
    ParamForm { height: 1fr; }
    ParamForm .param-label { margin-top: 1; }
    ParamForm .param-help { color: $text-muted; }
    ParamForm .param-error { color: $error; }
    ParamForm #param-general { color: $error; text-style: bold; }
    """

    def __init__(
        self,
        form: TemplateForm,
        values: Mapping[str, str] | None = None,
        *,
        default_word: str = "default",
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.form = form
        self._start = dict(values or {})
        #: How the label names a parameter's default ("now" on an update: its value).
        self.default_word = default_word

    def compose(self) -> ComposeResult:
        yield Static("", id="param-general")
        if self.form.description:
            yield Static(Text(self.form.description, style="italic"))
        if not self.form.parameters:
            yield Static(Text("This template asks for no parameters.", style="dim"))
        for n, param in enumerate(self.form.parameters):
            yield Static(label_text(param, self.default_word), classes="param-label")
            yield Input(
                value=self._start.get(param.name, param.default or ""),
                placeholder=param.description or param.name,
                password=param.hidden,
                compact=True,
                id=f"param-{n}",
            )
            if param.description:
                yield Static(Text(param.description), classes="param-help")
            yield Static("", classes="param-error", id=f"param-error-{n}")

    @property
    def inputs(self) -> list[Input]:
        return [self.query_one(f"#param-{n}", Input) for n in range(len(self.form.parameters))]

    def values(self) -> dict[str, str]:
        return {
            p.name: field.value for p, field in zip(self.form.parameters, self.inputs, strict=True)
        }

    def to_send(self) -> dict[str, str]:
        """The values to pass to the launch: what was typed, defaults left to the cloud."""
        return {
            p.name: field.value
            for p, field in zip(self.form.parameters, self.inputs, strict=True)
            if field.value != "" and field.value != p.default
        }

    def check(self) -> dict[str, str]:
        """Mark every field whose value will not do; returns name -> why."""
        found = {}
        for param, field in zip(self.form.parameters, self.inputs, strict=True):
            why = check_value(param, field.value)
            if why is not None:
                found[param.name] = why
        self.show_errors(found)
        return found

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        """Per-field reasons, and one for the whole form (the cloud's own answer)."""
        for n, param in enumerate(self.form.parameters):
            why = errors.get(param.name)
            # Text, not markup: a pattern like [A-Z]+ or a cloud's message shows as it is.
            self.query_one(f"#param-error-{n}", Static).update(Text(f"✗ {why}" if why else ""))
        self.query_one("#param-general", Static).update(Text(general))
        bad = [n for n, p in enumerate(self.form.parameters) if p.name in errors]
        if bad:
            self.inputs[bad[0]].focus()

    def show_cloud_error(self, message: str) -> None:
        """The cloud's rejection: on each parameter it names, and in full at the top."""
        named = {
            p.name: "rejected by the cloud (see above)"
            for p in self.form.parameters
            if re.search(rf"\b{re.escape(p.name)}\b", message)
        }
        self.show_errors(named, message)
