"""Update a running app: its template's parameter form (types, constraints, from the
cloud's own validation: Portal.update_form) filled with the values it runs with; what is
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
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from winged_monkey.backend import Capability
from winged_monkey.catalog import TemplateForm
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError, describe
from winged_monkey.models import Instance
from winged_monkey.ui.toasts import Bulk
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.param_form import ParamForm
from winged_monkey.user.binding_ids import BindingId

#: What a hidden parameter's field says: it starts empty, and empty keeps it.
KEPT = "kept as it is unless you type a new one"


def current_form(form: TemplateForm) -> TemplateForm:
    """The update form as the screen shows it: a hidden parameter (no current value) may
    be left empty, which keeps the value the cloud holds."""
    parameters = tuple(
        p.model_copy(
            update={
                "default": "",
                "description": f"{p.description} ({KEPT})" if p.description else KEPT,
            }
        )
        if p.hidden
        else p
        for p in form.parameters
    )
    return form.model_copy(update={"parameters": parameters})


class AppUpdateScreen(Screen[dict[str, str] | None]):
    """The app's form; enter on the last field dismisses with the changed values only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", "cancel", id=BindingId.UPDATE_CLOSE, tooltip="Close; nothing changes"
        ),
    ]

    class FormRead(Message):
        """The app's update form with its current values (or why it could not be read)."""

        def __init__(self, form: TemplateForm | None, error: str = "") -> None:
            super().__init__()
            self.form = form
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
            form = await self.portal.update_form(self.target)
        except WMError as exc:
            self.post_message(self.FormRead(None, exc.message))
            return
        self.post_message(self.FormRead(form))

    @on(FormRead)
    async def _on_form(self, message: FormRead) -> None:
        hint = self.query_one("#update-hint", Static)
        if message.form is None:
            hint.update(Text(f"No parameters: {message.error}", style="bold red"))
            return
        widget = ParamForm(current_form(message.form), default_word="now", id="update-form")
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
        if form.check():  # the marks say why, as the cloud's constraints state it
            self.query_one("#update-error", Static).update(
                Text("Fix the marked parameters.", style="bold red")
            )
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
            self.post_message(self.FormRead(None, describe(event.worker.error or Exception())))
            event.stop()


def cannot_update(portal: Portal, app: Instance | None) -> str | None:
    """Why the cursor row `app` cannot be updated (not an app, a read-only account, a
    backend with no app updates), or None when it can."""
    if app is None or app.kind != "app":
        return "Only an app has parameters to update"
    if portal.account_config(app.account).read_only:
        return f"account {app.account} is read-only"
    if Capability.APPS not in portal.capabilities(app.account):
        kind = portal.account_config(app.account).backend
        return f"{kind} accounts have no app updates ({app.account})"
    return None


def open_update(screen: Screen[Any], portal: Portal, app: Instance | None) -> None:
    """The update form of the app under the cursor (a note when it cannot be updated);
    once submitted, the update runs in `screen`'s worker and its progress reaches the
    instances view as an action's does."""
    why = cannot_update(portal, app)
    if why is not None:
        screen.notify(why, title="Cannot update", timeout=3, markup=False)
        return
    assert app is not None  # no row: cannot_update said so

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
