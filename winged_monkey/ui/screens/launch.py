"""The launch wizard: small steps from an item to a confirmed launch.

item (chosen in the catalog) -> account (ranked by price for a size class and by quota
left, with the reason) -> size -> location -> key pair / network -> name and count ->
summary with the estimated cost -> launch. A template asks for its parameters (the
cloud's form) instead of a size. `enter` goes on, `escape` goes back one step. A launch
the quota cannot take is stopped on the summary, before any call, with the numbers.

The launch runs in an app-level worker (it outlives the wizard): its progress goes to the
instances view (rows, and a notification when each instance runs or fails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, LaunchRequest, TemplateForm
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.engine.ranking import fits
from winged_monkey.errors import WMError, describe
from winged_monkey.ui.screens.launch_plan import (
    MAX_COUNT,
    STEP_TITLES,
    AccountOption,
    Choices,
    LaunchPlan,
    Step,
    slug,
)
from winged_monkey.ui.toasts import Bulk
from winged_monkey.ui.widgets.catalog_text import by_price, hourly, monthly, size_cells
from winged_monkey.ui.widgets.param_form import ParamForm

NONE_ID = ""  # the option id of "(none)" / "(provider default)"


class LaunchWizard(Screen[str | None]):
    """Opened with `l` on a catalog item; closes when the launch is accepted, with the
    account launched on (its quota changed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back", id="wizard.back", tooltip="Back one step (first: close)"),
        Binding(
            "enter", "next", "next", id="wizard.next", tooltip="Next step; on the summary: launch"
        ),
        # In the size class field, up and down move through the ranked accounts below it.
        Binding("down", "move(1)", "next account", id="wizard.down", show=False),
        Binding("up", "move(-1)", "previous account", id="wizard.up", show=False),
    ]

    class FormRead(Message):
        """The template's parameter form arrived (or why it could not be read)."""

        def __init__(self, form: TemplateForm | None, error: str = "") -> None:
            super().__init__()
            self.form = form
            self.error = error

    class Accepted(Message):
        """The cloud accepted the launch; the worker goes on following it."""

        def __init__(self, update: ActionUpdate, count: int) -> None:
            super().__init__()
            self.update = update
            self.count = count

    class Refused(Message):
        """The launch was refused before anything was created, with the reason."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self,
        portal: Portal,
        clock: Callable[[], datetime],
        item: CatalogItem,
        offers: Mapping[str, CatalogItem],
        catalogs: Mapping[str, AccountCatalog],
    ) -> None:
        super().__init__()
        self.portal = portal
        self.clock = clock
        self.item = item
        self.plan = LaunchPlan(
            item=item,
            offers=dict(offers),
            catalogs=dict(catalogs),
            refused={
                a: "the account is read-only" for a in offers if portal.account_config(a).read_only
            },
            choices=Choices(name=slug(item.name.rsplit("/", 1)[-1])),
        )
        if self.plan.pooled:  # no account step: the aggregator offering it places it
            self.choices.account = next(iter(self.plan.offers), None)
        self.step: Step = self.steps[0]
        self.form_error: str = ""
        self.launching = False

    @property
    def choices(self) -> Choices:
        return self.plan.choices

    @property
    def catalogs(self) -> dict[str, AccountCatalog]:
        return self.plan.catalogs

    @property
    def steps(self) -> list[Step]:
        return self.plan.steps

    def account_options(self) -> list[AccountOption]:
        """The accounts offering the item, best first, each with why it ranks there."""
        return self.plan.account_options()

    # -- steps -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="wizard-title")
        yield Static(id="wizard-hint")
        yield Vertical(id="wizard-body")
        yield Static(id="wizard-error")
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        await self.show_step(self.steps[0])

    @property
    def body(self) -> Vertical:
        return self.query_one("#wizard-body", Vertical)

    def _title(self) -> None:
        steps = self.steps
        number = steps.index(self.step) + 1
        title = Text.assemble(
            ("Launch ", "bold"),
            (self.item.name, "bold"),
            (f"  {self.item.kind}", "cyan"),
        )
        step = Text(f"  step {number}/{len(steps)}: {STEP_TITLES[self.step]}")
        room = max(10, self.app.size.width - 2 - len(step))
        title.truncate(room, overflow="ellipsis")
        title.append_text(step)
        self.query_one("#wizard-title", Static).update(title)

    def hint(self, text: str | Text) -> None:
        line = Text(text) if isinstance(text, str) else text
        line.no_wrap, line.overflow = True, "ellipsis"
        self.query_one("#wizard-hint", Static).update(line)

    def error(self, text: str) -> None:
        self.query_one("#wizard-error", Static).update(Text(text, style="bold red"))

    async def show_step(self, step: Step) -> None:
        self.step = step
        self.error("")
        await self.body.remove_children()
        self._title()
        await getattr(self, f"_show_{step}")()
        self.refresh_bindings()

    async def _advance(self) -> None:
        steps = self.steps
        await self.show_step(steps[steps.index(self.step) + 1])

    async def action_back(self) -> None:
        if self.launching:
            return
        steps = self.steps
        index = steps.index(self.step)
        if index == 0:
            self.dismiss(None)
        else:
            await self.show_step(steps[index - 1])

    async def action_next(self) -> None:
        """enter where no list or field takes it: the summary's launch, mostly."""
        if self.step == "summary":
            self._confirm()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next", "back"):
            return not self.launching
        if action == "move":
            return self.step == "account" and not self.launching
        return True

    def action_move(self, step: int) -> None:
        options = self.query_one("#wizard-accounts", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = (current + step) % options.option_count

    # -- account -------------------------------------------------------------------

    def _account_option(self, option: AccountOption) -> Option:
        catalog = self.catalogs[option.account]
        head = Text.assemble((option.account.ljust(12), "bold cyan"))
        head.append(f" {(catalog.region or catalog.provider)[:12]:<12}")
        if option.size is not None:
            price = option.size.price_hourly
            head.append(f" {option.size.name[:14]:<14} {hourly(price):>11} {monthly(price):>12}")
        reason = Text(f"\n  {option.reason}", style="bold red" if option.blocked else "dim")
        label = head + reason
        if not option.launchable:
            label.stylize("dim", 0, len(head))
        return Option(label, id=option.account)

    async def _show_account(self) -> None:
        widgets: list[Any] = []
        if not self.plan.template:
            widgets.append(
                Input(
                    value=self.choices.spec,
                    placeholder="size class: 2cpu 4gb, t3.large (empty: any size)",
                    compact=True,
                    id="wizard-spec",
                )
            )
        widgets.append(OptionList(id="wizard-accounts", compact=True))
        await self.body.mount_all(widgets)
        self._fill_accounts()
        self.hint(
            "Type a size class (2cpu 4gb, t3.large): cheapest first, then most quota left."
            if not self.plan.template
            else "Accounts that offer this template."
        )
        focus = self.query_one("#wizard-spec" if not self.plan.template else "#wizard-accounts")
        focus.focus()

    def _fill_accounts(self) -> None:
        options = self.query_one("#wizard-accounts", OptionList)
        options.clear_options()
        ranked = self.account_options()
        options.add_options([self._account_option(o) for o in ranked])
        if not ranked:
            self.error("No account with a catalog offers this item.")
            return
        ids = [o.account for o in ranked]
        options.highlighted = ids.index(self.choices.account) if self.choices.account in ids else 0

    @on(Input.Changed, "#wizard-spec")
    def _on_spec(self, event: Input.Changed) -> None:
        self.choices.spec = event.value
        self._fill_accounts()

    @on(Input.Submitted, "#wizard-spec")
    async def _on_spec_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#wizard-accounts", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            await self._choose_account(str(option.id))

    @on(OptionList.OptionSelected, "#wizard-accounts")
    async def _on_account(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        await self._choose_account(str(event.option.id))

    async def _choose_account(self, account: str) -> None:
        (option,) = [o for o in self.account_options() if o.account == account]
        if not option.launchable:
            self.error(f"{account}: {option.blocked or option.reason}")
            return
        if account != self.choices.account:  # what was chosen for another account is not valid
            self.choices.location = self.choices.key_pair = self.choices.network = None
        self.choices.account = account
        self.choices.size = option.size
        await self._advance()

    # -- size ----------------------------------------------------------------------

    async def _show_size(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        spec = self.plan.size_spec(catalog.account)
        options = OptionList(id="wizard-sizes", compact=True)
        header = Text(
            f"{'size':<15}{'cpu':<7}{'vCPU':>5}{'RAM':>8}{'disk':>8}{'per hour':>12}"
            f"{'per month':>13}",
            style="bold",
        )
        await self.body.mount_all([Static(header, classes="wizard-header"), options])
        sizes = by_price(catalog.sizes)
        for size in sizes:
            name, vcpus, memory, disk, price = size_cells(size)
            line = Text(
                f"{name[:14]:<15}{(size.arch or '?')[:6]:<7}{vcpus:>5}{memory:>8}{disk:>8}"
                f"{price:>12}{monthly(size.price_hourly):>13}"
            )
            if not fits(size, spec):
                line.stylize("dim")
            options.add_option(Option(line, id=size.id))
        ids = [s.id for s in sizes]
        chosen = self.choices.size
        if chosen is not None and chosen.id in ids:
            options.highlighted = ids.index(chosen.id)
        self.hint(f"Sizes on {catalog.account}; dim: not {spec}. ? = price unknown.")
        options.focus()

    @on(OptionList.OptionSelected, "#wizard-sizes")
    async def _on_size(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        catalog = self.plan.catalog
        assert catalog is not None
        self.choices.size = next(s for s in catalog.sizes if s.id == event.option.id)
        await self._advance()

    # -- location, key pair and network ---------------------------------------------

    def _choice_list(
        self, ident: str, choices: Sequence[Choice], none: str, current: Choice | None
    ) -> OptionList:
        options = OptionList(
            Option(Text(none, style="dim"), id=NONE_ID),
            *[
                # The id once: a name that holds it already (a subnet's) is shown alone.
                Option(c.name if c.id in c.name else f"{c.name}  ({c.id})", id=c.id)
                for c in choices
            ],
            id=ident,
            compact=True,
        )
        ids = [NONE_ID, *[c.id for c in choices]]
        options.highlighted = ids.index(current.id) if current and current.id in ids else 0
        return options

    async def _show_location(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        options = self._choice_list(
            "wizard-locations", catalog.locations, "(the provider's default)", self.choices.location
        )
        await self.body.mount(options)
        self.hint(f"Where on {catalog.account} ({catalog.region or catalog.provider}).")
        options.focus()

    @on(OptionList.OptionSelected, "#wizard-locations")
    async def _on_location(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.location = self._chosen(
            self.plan.catalog.locations if self.plan.catalog else (), event
        )
        await self._advance()

    @staticmethod
    def _chosen(choices: Sequence[Choice], event: OptionList.OptionSelected) -> Choice | None:
        return next((c for c in choices if c.id == event.option.id), None)

    async def _show_access(self) -> None:
        catalog = self.plan.catalog
        assert catalog is not None
        widgets: list[Any] = []
        widgets.append(Static(Text("Key pair (for ssh)", style="bold")))
        if catalog.key_pairs:
            widgets.append(
                self._choice_list(
                    "wizard-keys", catalog.key_pairs, "(no key pair)", self.choices.key_pair
                )
            )
        else:  # said, not skipped: without one, ssh with a key will not get in
            widgets.append(
                Static(
                    Text(
                        f"none on {catalog.account}: the instances get no ssh key. "
                        "Create a key pair in the cloud first if you will log in.",
                        style="yellow",
                    ),
                    id="wizard-no-keys",
                )
            )
        networks = self._networks()
        if networks:
            widgets.append(Static(Text("Network", style="bold")))
            widgets.append(
                self._choice_list(
                    "wizard-networks", networks, "(the default)", self.choices.network
                )
            )
        await self.body.mount_all(widgets)
        self.hint("enter picks; the next list follows.")
        lists = self.body.query(OptionList)
        if lists:
            lists.first().focus()

    def _networks(self) -> list[Choice]:
        """The account's networks, only those of the chosen zone once one was chosen."""
        catalog, where = self.plan.catalog, self.choices.location
        found = list(catalog.networks) if catalog else []
        if where is None:
            return found
        return [n for n in found if n.zone is None or n.zone in (where.id, where.name)]

    @on(OptionList.OptionSelected, "#wizard-keys")
    async def _on_key_pair(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.key_pair = self._chosen(
            self.plan.catalog.key_pairs if self.plan.catalog else (), event
        )
        networks = self.query("#wizard-networks")
        if networks:
            networks.first().focus()
        else:
            await self._advance()

    @on(OptionList.OptionSelected, "#wizard-networks")
    async def _on_network(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.network = self._chosen(self._networks(), event)
        await self._advance()

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
            self._read_form(account, self.plan.offers[account].id)
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
    async def _read_form(self, account: str, template: str) -> None:
        try:
            form = await self.portal.template_form(account, template)
        except WMError as exc:
            self.post_message(self.FormRead(None, exc.message))
            return
        self.post_message(self.FormRead(form))

    @on(FormRead)
    async def _on_form(self, message: FormRead) -> None:
        if message.form is None:
            await self.body.remove_children()
            await self.body.mount(
                Static(Text(f"No form: {message.error}", style="bold red"), id="wizard-noform")
            )
            return
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

    # -- name and count --------------------------------------------------------------

    async def _show_name(self) -> None:
        plural = "instances" if not self.plan.template else "apps"
        await self.body.mount_all(
            [
                Static(Text("Name", style="bold")),
                Input(value=self.choices.name, compact=True, id="wizard-name"),
                Static(Text(f"How many {plural} (1-{MAX_COUNT})", style="bold")),
                Input(
                    value=str(self.choices.count),
                    restrict=r"[0-9]*",
                    compact=True,
                    id="wizard-count",
                    disabled=self.plan.template,
                ),
            ]
        )
        self.hint("enter: the count, then on. Several are named NAME-1, NAME-2, …")
        self.query_one("#wizard-name", Input).focus()

    async def _name_submitted(self, field: Input) -> None:
        name = self.query_one("#wizard-name", Input).value.strip()
        self.choices.name = name
        if field.id == "wizard-name" and not self.plan.template:
            self.query_one("#wizard-count", Input).focus()
            return
        count_text = self.query_one("#wizard-count", Input).value.strip()
        if not name:
            self.error("Give it a name.")
            self.query_one("#wizard-name", Input).focus()
            return
        if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_COUNT:
            self.error(f"The count is a number from 1 to {MAX_COUNT}.")
            return
        self.choices.count = int(count_text)
        await self._advance()

    @on(Input.Submitted)
    async def _on_submitted(self, event: Input.Submitted) -> None:
        field = event.input
        if field.id in ("wizard-name", "wizard-count"):
            event.stop()
            await self._name_submitted(field)
        elif field.id is not None and field.id.startswith("param-"):
            event.stop()
            await self._form_submitted(field)

    # -- summary and launch ---------------------------------------------------------

    async def _show_summary(self) -> None:
        await self.body.mount(VerticalScroll(Static(self.plan.summary()), id="wizard-summary"))
        blocked = self.plan.blocked
        if blocked:
            self.error(f"Stopped before any call: {blocked}. Launch fewer or ask for more.")
            self.hint("The quota on hand cannot take this launch; escape to change it.")
        else:
            self.hint(Text.assemble(("enter", "bold"), " launches · ", ("escape", "bold"), " back"))
        self.body.query_one(VerticalScroll).focus()

    def _confirm(self) -> None:
        blocked = self.plan.blocked
        if blocked:
            self.error(f"Stopped before any call: {blocked}. Launch fewer or ask for more.")
            self.notify(blocked, title="Over quota", severity="error")
            return
        account, request = self.choices.account, self.plan.request()
        assert account is not None
        self.launching = True
        self.refresh_bindings()
        self.hint(Text(f"Launching on {account}…", style="bold"))
        self.app.run_worker(
            self._launch(account, request),
            group="launch",
            exit_on_error=False,
            description=f"launch {request.name}",
        )

    async def _launch(self, account: str, request: LaunchRequest) -> None:
        """Runs on the app (outlives this screen): the launch, then following it."""
        from winged_monkey.ui.screens.main import MainScreen  # the view that shows the rows

        main = getattr(self.app, "main_screen", None)
        accepted = False
        batch = Bulk("launch", what=request.name)  # one toast when the last one runs
        try:
            async for update in self.portal.launch(account, request):
                if isinstance(main, MainScreen):
                    main.post_message(MainScreen.ActionProgress(update, batch))
                if not accepted:
                    accepted = True
                    self.post_message(self.Accepted(update, request.count))
        except WMError as exc:
            if accepted:
                self.app.notify(
                    exc.message, title=f"Launch {request.name}", severity="error", markup=False
                )
            else:
                self.post_message(self.Refused(exc.message))
        except Exception as exc:  # a plugin bug: said, not a traceback on screen
            text = describe(exc)
            if accepted:
                self.app.notify(
                    text, title=f"Launch {request.name}", severity="error", markup=False
                )
            else:
                self.post_message(self.Refused(text))

    @on(Accepted)
    def _on_accepted(self, message: Accepted) -> None:
        what = f"{message.count} x {self.choices.name}" if message.count > 1 else self.choices.name
        self.app.notify(
            f"{what} on {self.choices.account}: following it in the instances view (:instances)",
            title="Launch accepted",
            markup=False,
        )
        if self.is_active:  # else the user went to another view; going back closes it
            self.dismiss(self.choices.account)

    @on(Refused)
    async def _on_refused(self, message: Refused) -> None:
        self.launching = False
        self.refresh_bindings()
        self.app.notify(
            message.message, title="Launch refused", severity="error", timeout=15, markup=False
        )
        if self.plan.template:  # the cloud's validation: back on the form, next to the field
            self.form_error = message.message
            await self.show_step("params")
            self.error(message.message)
        else:
            self.hint("Refused: nothing was created. escape to change the choices.")
            self.error(message.message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "wizard-form" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.post_message(self.FormRead(None, f"{type(error).__name__}: {error}"))
            event.stop()
