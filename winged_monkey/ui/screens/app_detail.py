"""One app (a Heat stack, a deployment): members, outputs, parameters and latest events.

The details come from the portal in a worker and arrive as a message; while the app
is in progress (creating, suspending, ...) they are read again every few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError
from winged_monkey.models import AppDetail, AppResource, Instance, InstanceState
from winged_monkey.terminal.render import APP_GLYPH, natural, printable, printable_lines, size_text
from winged_monkey.ui import format as fmt
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.vi_keys import ViScroll, taken_keys
from winged_monkey.user.binding_ids import BindingId

MASK = "•••••• (hidden)"
#: How many of the app's latest events are shown.
EVENTS = 50


def _text(text: str, style: str = "") -> Text:
    """What the app holds (its template's names and outputs, its parameters, Heat's
    reasons) as text with its lines: a control character (an output's coloured log, a
    CSI) is shown as `?`, never sent to the terminal, as in the table."""
    return Text(printable_lines(text), style=style)


def _status(status: str) -> Text:
    style = "bold red" if "FAILED" in status else "yellow" if "IN_PROGRESS" in status else "green"
    return _text(status, style)


def _grid(*headers: str) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1), expand=True, show_edge=False)
    for header in headers:
        table.add_column(header, style="", header_style="bold", overflow="fold")
    return table


def _dim(text: str) -> Text:
    return _text(text or "—", "dim")


def resources_table(
    detail: AppDetail, elsewhere: Mapping[str, Instance] | None = None
) -> RenderableType:
    """Members, nested ones under their parent's path (web/0/server); a member another
    account lists as an instance (`elsewhere`, by physical id) names that account's row
    under its id."""
    if not detail.resources:
        return _dim("no resources")
    table = _grid("resource", "type", "status", "physical id")

    def path(r: AppResource) -> str:
        return f"{r.parent}/{r.name}" if r.parent else r.name

    members = sorted(
        detail.resources, key=lambda r: tuple(natural(part) for part in path(r).split("/"))
    )
    for r in members:
        name = path(r)
        status = _status(r.status)
        if r.reason and r.reason != "state changed":
            status.append_text(_text(f"\n{r.reason}", "dim"))
        physical = _text(r.physical_id or "—", "" if r.physical_id else "dim")
        linked = (elsewhere or {}).get(r.physical_id or "")
        if linked is not None:
            physical.append(f"\n→ {linked.account}: {printable(linked.name)} ", style="cyan")
            physical.append_text(fmt.state_text(linked.state))
        # Names and types are the template's and the cloud's: text, never markup.
        table.add_row(_text(name), _text(r.type), status, physical)
    return table


def _value(value: Any) -> str:
    # JSON as written, its text unescaped (café, not caf\u00e9); _text cleans what it holds.
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def outputs_table(detail: AppDetail) -> RenderableType:
    if not detail.outputs:
        return _dim("no outputs")
    table = _grid("output", "value")
    for o in detail.outputs:
        value = _text(o.error, "bold red") if o.error else _text(_value(o.value))
        if o.description:
            value.append_text(_text(f"\n{o.description}", "dim"))
        table.add_row(_text(o.key), value)
    return table


def parameters_table(detail: AppDetail) -> RenderableType:
    if not detail.parameters:
        return _dim("no parameters")
    table = _grid("parameter", "value")
    for p in detail.parameters:
        table.add_row(_text(p.name), _dim(MASK) if p.hidden else _text(p.value or ""))
    return table


def events_table(detail: AppDetail) -> RenderableType:
    if not detail.events:
        return _dim("no events")
    table = _grid("time", "status", "detail")
    for e in detail.events:
        table.add_row(
            e.at.astimezone().strftime("%m-%d %H:%M:%S"),
            _status(e.new_state or e.kind),
            _text(e.detail or ""),
        )
    return table


def summary(app: Instance, now: datetime) -> Text:
    text = Text.assemble(fmt.state_text(app.state), "  ", (printable(app.raw_state), "dim"))
    text.append(f"  · {size_text(app)} · {app.account} · age {fmt.age_since(app.created_at, now)}")
    description = str(app.extra.get("description") or "").strip()  # its template's
    if description:
        text.append_text(_text(f"\n{description}"))
    tags = app.extra.get("tags")
    if isinstance(tags, list) and tags:
        text.append_text(_text("\ntags: " + ", ".join(str(t) for t in tags), "dim"))
    reason = str(app.extra.get("stack_status_reason") or "")
    if reason:
        style = "bold red" if app.raw_state.endswith("FAILED") else "dim"
        text.append_text(_text(f"\n{reason}", style))
    rolled_back = str(app.extra.get("rolled_back") or "")  # what Heat's ROLLBACK undid
    if rolled_back:
        style = "bold red" if app.state is InstanceState.ERROR else "yellow"
        text.append_text(_text(f"\n{rolled_back}", style))
    return text


class AppScreen(Screen[None]):
    """Opened with enter on an app row; escape closes, R reads it again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "close", id=BindingId.APP_CLOSE, tooltip="Back to the table"),
        Binding("R", "reload", "reload", id=BindingId.APP_RELOAD, tooltip="Read the app again"),
    ]

    class Loaded(Message):
        """The app's details arrived."""

        def __init__(self, detail: AppDetail) -> None:
            super().__init__()
            self.detail = detail

    def __init__(self, portal: Portal, app: Instance, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.portal = portal
        self.app_row = app
        self._clock = clock
        self.detail: AppDetail | None = None
        self.error: str | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(
                (f"{APP_GLYPH} ", "bold cyan"),
                (printable(self.app_row.name), "bold"),
                f"  {printable(self.app_row.key)}",
            ),
            id="details-title",
        )
        with ViScroll(id="details-body", taken=taken_keys(self.portal.config.keys, self.BINDINGS)):
            yield Static(summary(self.app_row, self._clock()), id="app-summary")
            for section in ("resources", "outputs", "parameters", "events"):
                yield Static(Text(section.capitalize(), style="bold underline"), classes="heading")
                yield Static(_dim("loading…"), id=f"app-{section}")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(ViScroll).focus()
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self._load()

    @work(group="app-detail", exclusive=True, exit_on_error=False, description="app details")
    async def _load(self) -> None:
        self.post_message(self.Loaded(await self.portal.app_detail(self.app_row, EVENTS)))

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        self.detail, self.error = message.detail, None
        # The app as read with its details, else as last listed: an app deleted outside
        # wm read as running (its last row) beside its DELETE_COMPLETE events.
        fresh = message.detail.app or self.portal.instance(self.app_row.key)
        if fresh is not None:
            self.app_row = fresh
        self.query_one("#app-summary", Static).update(summary(self.app_row, self._clock()))
        elsewhere = self.portal.members_elsewhere(self.app_row, message.detail)
        self.query_one("#app-resources", Static).update(resources_table(message.detail, elsewhere))
        self.query_one("#app-outputs", Static).update(outputs_table(message.detail))
        self.query_one("#app-parameters", Static).update(parameters_table(message.detail))
        self.query_one("#app-events", Static).update(events_table(message.detail))
        self._follow()

    def _follow(self) -> None:
        """While the app is in progress, read it again at the portal's busy pace."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.app_row.state.transitional:
            interval = self.portal.config.busy_refresh_interval
            self._timer = self.set_timer(interval, self._load, name="app-follow")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "app-detail" or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = (
            error.message if isinstance(error, WMError) else f"{type(error).__name__}: {error}"
        )
        self.error = message
        for section in ("resources", "outputs", "parameters", "events"):
            self.query_one(f"#app-{section}", Static).update(
                Text(message if self.detail is None else "", style="bold red")
            )
        title = f"{self.app_row.name}: details"
        self.notify(message, title=title, severity="error", timeout=10, markup=False)
        event.stop()
