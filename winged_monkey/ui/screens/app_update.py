"""Update a running app: its parameter form filled with the values it runs with; what is
changed goes to the cloud as an update (Portal.update_app, as `wm app update`), followed
in the instances view like any other action.

A hidden parameter's value is never shown: its field starts empty and is kept unless
something is typed into it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from winged_monkey.catalog import TemplateForm, TemplateParameter
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError, describe
from winged_monkey.models import AppDetail, Instance
from winged_monkey.ui.toasts import Bulk
from winged_monkey.ui.widgets.param_form import ParamForm


def current_form(app: Instance, detail: AppDetail) -> tuple[TemplateForm, dict[str, str]]:
    """The app's parameters as a form whose defaults are their current values (hidden
    ones: empty, so an untouched field keeps the value the cloud holds)."""
    parameters = tuple(
        TemplateParameter(
            name=p.name,
            default="" if p.hidden else p.value,
            hidden=p.hidden,
            description="kept as it is unless you type a new one" if p.hidden else "",
        )
        for p in detail.parameters
    )
    form = TemplateForm(account=app.account, template=app.name, parameters=parameters)
    return form, {p.name: p.default or "" for p in parameters}


class AppUpdateScreen(Screen[dict[str, str] | None]):
    """The app's form; enter on the last field dismisses with the changed values only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "cancel", id="update.close", tooltip="Close; nothing changes"),
    ]

    class DetailRead(Message):
        """The app's current parameters (or why they could not be read)."""

        def __init__(self, detail: AppDetail | None, error: str = "") -> None:
            super().__init__()
            self.detail = detail
            self.error = error

    def __init__(self, portal: Portal, app: Instance) -> None:
        super().__init__()
        self.portal = portal
        self.target = app

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Update ", "bold"), (self.target.name, "bold"))
        title.append(f"  {self.target.account}", style="cyan")
        title.no_wrap, title.overflow = True, "ellipsis"
        yield Static(title, id="update-title")
        yield Static(
            Text("Reading the app's parameters…", style="dim", no_wrap=True), id="update-hint"
        )
        yield Vertical(id="update-body")
        yield Static(id="update-error")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._read()

    @work(group="update-form", exclusive=True, exit_on_error=False, description="app parameters")
    async def _read(self) -> None:
        try:
            detail = await self.portal.app_detail(self.target, events=1)
        except WMError as exc:
            self.post_message(self.DetailRead(None, exc.message))
            return
        self.post_message(self.DetailRead(detail))

    @on(DetailRead)
    async def _on_detail(self, message: DetailRead) -> None:
        hint = self.query_one("#update-hint", Static)
        if message.detail is None:
            hint.update(Text(f"No parameters: {message.error}", style="bold red"))
            return
        form, values = current_form(self.target, message.detail)
        widget = ParamForm(form, values, default_word="now", id="update-form")
        await self.query_one("#update-body", Vertical).mount(widget)
        hint.update(
            Text("Change what should change; enter: next field, on the last: update.", style="dim")
        )
        if widget.inputs:
            widget.inputs[0].focus()

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        form = self.query_one(ParamForm)
        inputs = form.inputs
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        changed = form.to_send()
        if not changed:
            self.query_one("#update-error", Static).update(
                Text("Nothing changed: change a value, or escape.", style="bold red")
            )
            return
        self.dismiss(changed)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "update-form" and event.state is WorkerState.ERROR:
            self.post_message(self.DetailRead(None, describe(event.worker.error or Exception())))
            event.stop()


def open_update(screen: Screen[Any], portal: Portal, app: Instance | None) -> None:
    """The update form of the app under the cursor (a note when it cannot be updated);
    once submitted, the update runs in `screen`'s worker and its progress reaches the
    instances view as an action's does."""
    if app is None or app.kind != "app":
        screen.notify("Only an app has parameters to update", title="Cannot update", timeout=3)
        return
    if portal.account_config(app.account).read_only:
        screen.notify(f"account {app.account} is read-only", title="Cannot update", timeout=3)
        return

    def submitted(changes: dict[str, str] | None) -> None:
        if changes:
            screen.run_worker(
                _follow(screen, portal, app, changes),
                group="actions",
                exit_on_error=False,
                description=f"update {app.name}",
            )

    screen.app.push_screen(AppUpdateScreen(portal, app), submitted)


async def _follow(
    screen: Screen[Any], portal: Portal, app: Instance, changes: dict[str, str]
) -> None:
    from winged_monkey.ui.screens.main import MainScreen  # the view that shows the rows

    batch = Bulk("update", 1, what=app.name)
    async for update in portal.update_app(app, changes):
        screen.post_message(MainScreen.ActionProgress(update, batch))
