"""The launch wizard: small steps from an item to a confirmed launch.

item (chosen in the catalog) -> account (ranked by price for a size class and by quota
left, with the reason) -> size -> location -> key pair / network -> name and count ->
summary with the estimated cost -> launch. A template asks for the environment files
beside it and its parameters (the cloud's form) instead of a size, and its summary says
what the cloud's preview would create. `enter` picks in a step's list or field and goes on
(on the summary: launches), `escape` goes back one step. A launch the quota cannot take is
stopped on the summary, before any call, with the numbers.
The steps live in launch_frame.py (going between them), launch_instance.py and
launch_template.py; what they decide in launch_plan.py.

The launch runs in an app-level worker (it outlives the wizard): its progress goes to the
instances view (rows, and a notification when each instance runs or fails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchRequest
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import AnswerLostError, WMError, describe
from winged_monkey.ui.screens.launch_instance import InstanceSteps
from winged_monkey.ui.screens.launch_plan import MAX_COUNT, AccountOption, Choices, LaunchPlan, slug
from winged_monkey.ui.screens.launch_template import TemplateSteps, preview_text
from winged_monkey.ui.toasts import Bulk
from winged_monkey.ui.widgets.catalog_text import hourly, monthly
from winged_monkey.user.binding_ids import BindingId


class LaunchWizard(TemplateSteps, InstanceSteps):
    """Opened with `l` on a catalog item; closes when the launch is accepted, with the
    account launched on (its quota changed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "back",
            "back",
            id=BindingId.WIZARD_BACK,
            tooltip="Back one step (first: close)",
        ),
        # The other steps' lists and fields take enter themselves (a pick, the next field).
        Binding(
            "enter",
            "launch",
            "launch",
            id=BindingId.WIZARD_NEXT,
            tooltip="On the summary: launch what it shows",
        ),
        # In the size class field, up and down move through the ranked accounts below it.
        Binding("down", "move(1)", "next account", id=BindingId.WIZARD_DOWN, show=False),
        Binding("up", "move(-1)", "previous account", id=BindingId.WIZARD_UP, show=False),
    ]

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

    class Lost(Message):
        """No whole answer came: the cloud may have created it (the engine records it as
        unknown, and the next listing shows it)."""

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
        plan = LaunchPlan(
            item=item,
            offers=dict(offers),
            catalogs=dict(catalogs),
            refused={
                a: "the account is read-only" for a in offers if portal.account_config(a).read_only
            },
            choices=Choices(name=slug(item.name.rsplit("/", 1)[-1])),
        )
        if plan.pooled:  # no account step: the aggregator offering it places it
            plan.choices.account = next(iter(plan.offers), None)
        super().__init__(portal, clock, item, plan)

    def account_options(self) -> list[AccountOption]:
        """The accounts offering the item, best first, each with why it ranks there."""
        return self.plan.account_options()

    # -- keys ------------------------------------------------------------------

    def action_launch(self) -> None:
        """enter on the summary (the other steps' lists and fields take it first)."""
        self._confirm()

    async def action_next(self) -> None:
        """enter in the environments' list: the files picked, on to the form."""
        if self.step == "environments":
            await self._advance()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":  # only the summary launches; elsewhere enter is not shown
            return self.step == "summary" and not self.launching
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
        if not option.launchable:
            head.stylize("dim")
        reason = Text(option.reason, style="bold red" if option.blocked else "dim")
        # Indented as a whole: a long reason wraps under itself, not under the account.
        return Option(Group(head, Padding(reason, (0, 0, 0, 2))), id=option.account)

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
            self.choices.environments = None
            self.plan.environments.pop(account, None)
        self.choices.account = account
        if self.plan.template:
            await self._read_environments(account)
        self.choices.size = option.size
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

    @on(Input.Changed)
    def _on_typed(self, event: Input.Changed) -> None:
        """What is typed is kept as it is typed, not only on enter: escape back a step and
        on again shows it, as the other steps keep their picks."""
        field = event.input
        if field.id == "wizard-name":
            self.choices.name = field.value
        elif field.id == "wizard-count" and field.value.isdigit():
            self.choices.count = int(field.value)  # checked (1 to MAX_COUNT) on enter
        elif field.id is not None and field.id.startswith("param-"):
            form = self._form()
            if form is not None:
                self.choices.typed = form.values()

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
        shown: list[Static] = [Static(self.plan.summary())]
        if self.plan.template:  # what Heat's preview says it would create, once it answers
            self.plan.preview = None
            shown.append(Static(preview_text(None), id="wizard-preview"))
            self._read_preview()
        await self.body.mount(VerticalScroll(*shown, id="wizard-summary"))
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
            environments = self.choices.environments if self.plan.template else None
            async for update in self.portal.launch(account, request, environments=environments):
                if isinstance(main, MainScreen):
                    main.post_message(MainScreen.ActionProgress(update, batch))
                if not accepted:
                    accepted = True
                    self.post_message(self.Accepted(update, request.count))
        except AnswerLostError as exc:  # not refused: nothing is known to be created or not
            if accepted:
                self.app.notify(
                    exc.message, title=f"Launch {request.name}", severity="warning", markup=False
                )
            else:
                self.post_message(self.Lost(exc.message))
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

    @on(Lost)
    def _on_lost(self, message: Lost) -> None:
        self.launching = False
        self.refresh_bindings()
        self.app.notify(
            message.message, title="Launch: no answer", severity="warning", timeout=15, markup=False
        )
        self.hint(
            "No answer: it may exist. Look in the instances view (escape) before launching again."
        )
        self.error(message.message)

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
