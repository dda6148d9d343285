"""The wizard's steps for a template: the environment files beside it (zero or more, in
the order picked), its parameters as the cloud's form, and what the cloud's preview says
the launch would create (shown on the summary, before the user confirms)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from winged_monkey.catalog import Previewed, TemplateForm
from winged_monkey.errors import WMError, describe
from winged_monkey.ui.screens.launch_frame import WizardFrame
from winged_monkey.ui.widgets.param_form import ParamForm

#: The preview's resources listed on the summary; more are counted, not listed.
PREVIEW_LINES = 40


class EnvironmentList(SelectionList[str]):
    """The environment files beside a template: space picks or drops one, enter goes on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.next", "next", show=False),
    ]


def preview_text(found: list[Previewed] | str | None) -> Text:
    """The preview's resources, `name  type` (a nested one as `stack/name`), as text: the
    names come from the template and the cloud, never read as markup."""
    if found is None:
        return Text("Asking the cloud what it would create…", style="dim")
    if isinstance(found, str):
        return Text(f"No preview: {found}", style="bold red")
    text = Text.assemble((f"The cloud would create {len(found)} resources:", "bold"))
    names = [f"{r.nested_in}/{r.name}" if r.nested_in else r.name for r in found]
    width = min(max((len(n) for n in names), default=0), 36)
    for name, resource in list(zip(names, found, strict=True))[:PREVIEW_LINES]:
        text.append(f"\n  {name:<{width}}  ")
        text.append(resource.type, style="cyan")
    if len(found) > PREVIEW_LINES:
        text.append(f"\n  … and {len(found) - PREVIEW_LINES} more", style="dim")
    return text


class TemplateSteps(WizardFrame):
    """Environments, parameters and the preview: the steps of a template's launch."""

    form_error: str = ""

    class FormRead(Message):
        """The template's parameter form arrived (or why it could not be read)."""

        def __init__(
            self, form: TemplateForm | None, error: str = "", envs: list[str] | None = None
        ) -> None:
            super().__init__()
            self.form = form
            self.error = error
            #: The environments it was read with (a form for others is stale).
            self.envs = envs

    class PreviewRead(Message):
        """What the cloud's preview says the launch would create, or why it could not."""

        def __init__(self, found: list[Previewed] | str) -> None:
            super().__init__()
            self.found = found

    # -- environments ------------------------------------------------------------------

    async def _read_environments(self, account: str) -> None:
        """The environment files beside the account's copy of the template (a local
        folder: read in a thread), the one named after it picked to start with."""
        if account in self.plan.environments:
            return
        found = await self.portal.environments(account, self.plan.offers[account].id)
        self.plan.environments[account] = found
        self.choices.environments = [e.path for e in found if e.default] if found else None
        self._environments_changed(account)

    async def _show_environments(self) -> None:
        account = self.choices.account
        assert account is not None
        picked = self.choices.environments or []
        files = self.plan.environments.get(account, [])
        options = EnvironmentList(
            *[Selection(Text(e.name), e.path, e.path in picked) for e in files],
            compact=True,
            id="wizard-environments",
        )
        await self.body.mount_all([options, Static(id="wizard-env-order")])
        self._show_order()
        self.hint(
            Text.assemble(
                ("space", "bold"),
                " picks or drops, in order (later ones win) · ",
                ("enter", "bold"),
                " next",
            )
        )
        options.focus()

    def _show_order(self) -> None:
        picked = [p.rsplit("/", 1)[-1] for p in self.choices.environments or []]
        line = "merged in this order: " + ", ".join(picked) if picked else "no environment"
        self.query_one("#wizard-env-order", Static).update(Text(line, style="dim"))

    @on(SelectionList.SelectedChanged, "#wizard-environments")
    def _on_environments(self, event: SelectionList.SelectedChanged[str]) -> None:
        selected = event.selection_list.selected
        kept = [p for p in self.choices.environments or [] if p in selected]
        self.choices.environments = kept + [p for p in selected if p not in kept]
        self._show_order()
        if self.choices.account is not None:
            self._environments_changed(self.choices.account)

    def _environments_changed(self, account: str) -> None:
        """The form read with other environments is dropped (their parameter_defaults
        are its defaults); a value left at an old default follows the new one."""
        old = self.plan.forms.pop(account, None)
        if old is not None:
            defaults = {p.name: p.default for p in old.parameters}
            typed = self.choices.typed
            self.choices.typed = {k: v for k, v in typed.items() if v != defaults.get(k)}

    # -- template parameters -----------------------------------------------------------

    async def _show_params(self) -> None:
        account = self.choices.account
        assert account is not None
        form = self.plan.forms.get(account)
        if form is None:
            await self.body.mount(
                Static(Text(f"Reading the template's parameters from {account}…", style="dim"))
            )
            self.hint("The form comes from the cloud's own validation of the template.")
            self._read_form(account, self.plan.offers[account].id, self.choices.environments)
            return
        widget = ParamForm(form, self.choices.typed, id="wizard-form")
        await self.body.mount(widget)
        self.hint("Types, defaults and limits as the cloud states them; enter: next field.")
        if widget.inputs:
            widget.inputs[0].focus()
        else:
            widget.focus()
        if self.form_error:
            widget.show_cloud_error(self.form_error)

    @work(group="wizard-form", exclusive=True, exit_on_error=False, description="template form")
    async def _read_form(self, account: str, template: str, envs: list[str] | None) -> None:
        """Heat's form with the environments picked, as the launch will send them."""
        try:
            form = await self.portal.template_form(account, template, envs)
        except WMError as exc:
            self.post_message(self.FormRead(None, exc.message))
            return
        self.post_message(self.FormRead(form, envs=envs))

    @on(FormRead)
    async def _on_form(self, message: FormRead) -> None:
        if message.form is None:
            await self.body.remove_children()
            await self.body.mount(
                Static(Text(f"No form: {message.error}", style="bold red"), id="wizard-noform")
            )
            return
        if message.envs != self.choices.environments:
            return  # read before the environments changed: another read follows
        self.plan.forms[message.form.account] = message.form
        if self.step == "params":
            await self.show_step("params")

    def _form(self) -> ParamForm | None:
        found = self.query(ParamForm)
        return found.first() if found else None

    async def _form_submitted(self, field: Input) -> None:
        form = self._form()
        assert form is not None
        inputs = form.inputs
        self.choices.typed = form.values()
        index = inputs.index(field)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        if form.check():
            self.error("Fix the marked parameters.")
            return
        self.choices.parameters = form.to_send()
        self.form_error = ""
        await self._advance()

    # -- preview ------------------------------------------------------------------------

    @work(group="wizard-preview", exclusive=True, exit_on_error=False, description="preview")
    async def _read_preview(self) -> None:
        account, c = self.choices.account, self.choices
        assert account is not None
        try:
            found = await self.portal.preview_app(
                account, self.plan.offers[account].id, c.name, c.parameters, c.environments
            )
        except WMError as exc:
            self.post_message(self.PreviewRead(exc.message))
            return
        self.post_message(self.PreviewRead(found))

    @on(PreviewRead)
    def _on_preview(self, message: PreviewRead) -> None:
        self.plan.preview = message.found
        shown = self.query("#wizard-preview")
        if shown:
            shown.first(Static).update(preview_text(message.found))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A plugin's bug while reading the form or the preview: said, not a traceback."""
        if event.state is not WorkerState.ERROR:
            return
        text = describe(event.worker.error or Exception("no reason"))
        if event.worker.group == "wizard-form":
            self.post_message(self.FormRead(None, text))
            event.stop()
        elif event.worker.group == "wizard-preview":
            self.post_message(self.PreviewRead(text))
            event.stop()
