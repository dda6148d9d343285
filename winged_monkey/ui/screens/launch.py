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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, Literal

from rich.table import Table
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

from winged_monkey.catalog import (
    AccountCatalog,
    CatalogItem,
    Choice,
    LaunchRequest,
    Size,
    TemplateForm,
)
from winged_monkey.errors import WMError
from winged_monkey.portal import ActionUpdate, Portal
from winged_monkey.ranking import SizeSpec, demand, fits, parse_spec, rank, shortfall
from winged_monkey.ui.widgets.catalog_text import (
    by_price,
    hourly,
    monthly,
    quota_after,
    quota_cell,
    ram,
    size_cells,
)
from winged_monkey.ui.widgets.param_form import ParamForm

Step = Literal["account", "size", "location", "access", "params", "name", "summary"]
STEP_TITLES: dict[Step, str] = {
    "account": "account",
    "size": "size",
    "location": "location",
    "access": "key pair and network",
    "params": "parameters",
    "name": "name and count",
    "summary": "summary",
}
#: The id the wizard gives the item in each account's copy of its catalog, for `rank`.
_ITEM = {"id": "(the item in the wizard)"}
NONE_ID = ""  # the option id of "(none)" / "(provider default)"
MAX_COUNT = 100


def offers_of(
    item: CatalogItem, items_by_account: Mapping[str, Sequence[CatalogItem]]
) -> dict[str, CatalogItem]:
    """The accounts offering `item` (same kind, and the same name or id) with their copy."""
    found: dict[str, CatalogItem] = {}
    for account, items in items_by_account.items():
        for candidate in items:
            if candidate.kind == item.kind and (
                candidate.name == item.name or candidate.id == item.id
            ):
                found[account] = candidate
                break
    return found


def slug(text: str, width: int = 24) -> str:
    """A name for the new instance from the item's: lower case, dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(cleaned) > width:  # at a word's end, not in its middle
        cut = cleaned[: width + 1]
        cleaned = cut.rsplit("-", 1)[0] if "-" in cut else cleaned[:width]
    return cleaned or "instance"


@dataclass(frozen=True)
class AccountOption:
    """One account on the account step: where it ranks and why."""

    account: str
    size: Size | None
    blocked: str | None
    reason: str
    launchable: bool


@dataclass
class Choices:
    """What the wizard has been told so far."""

    spec: str = ""
    account: str | None = None
    size: Size | None = None
    location: Choice | None = None
    key_pair: Choice | None = None
    network: Choice | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    #: Every parameter value as typed (the form again after `escape`), hidden ones too.
    typed: dict[str, str] = field(default_factory=dict)
    name: str = ""
    count: int = 1


def _spec(text: str) -> SizeSpec:
    return parse_spec(text) if text.strip() else SizeSpec()


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
        self.offers = dict(offers)
        self.catalogs = dict(catalogs)
        self.choices = Choices(name=slug(item.name.rsplit("/", 1)[-1]))
        self.step: Step = "account"
        self.forms: dict[str, TemplateForm] = {}
        self.form_error: str = ""
        self.launching = False

    @property
    def refused(self) -> dict[str, str]:
        """Accounts that offer the item but may not launch: read-only ones."""
        return {
            a: "the account is read-only"
            for a in self.offers
            if self.portal.account_config(a).read_only
        }

    @property
    def template(self) -> bool:
        return self.item.kind == "template"

    # -- steps -------------------------------------------------------------------

    @property
    def catalog(self) -> AccountCatalog | None:
        account = self.choices.account
        return self.catalogs.get(account) if account is not None else None

    @property
    def steps(self) -> list[Step]:
        if self.template:
            return ["account", "params", "name", "summary"]
        found: list[Step] = ["account", "size"]
        catalog = self.catalog
        if catalog is None or catalog.locations:
            found.append("location")
        if catalog is None or catalog.key_pairs or catalog.networks:
            found.append("access")
        return [*found, "name", "summary"]

    def compose(self) -> ComposeResult:
        yield Static(id="wizard-title")
        yield Static(id="wizard-hint")
        yield Vertical(id="wizard-body")
        yield Static(id="wizard-error")
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        await self.show_step("account")

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

    def account_options(self) -> list[AccountOption]:
        """The accounts offering the item, best first, each with the reason it ranks there."""
        catalogs = [self.catalogs[a] for a in self.offers if a in self.catalogs]
        if self.template:
            found = []
            for catalog in catalogs:
                blocked = self.refused.get(catalog.account) or shortfall(catalog.quotas, None, 1)
                stacks = [q for q in catalog.quotas if str(q.resource) == "stacks"]
                room = f"stacks {quota_cell(stacks[0])} used" if stacks else "quota unknown"
                reason = f"cannot launch: {blocked}" if blocked else f"{catalog.provider}; {room}"
                found.append(AccountOption(catalog.account, None, blocked, reason, blocked is None))
            return sorted(found, key=lambda o: (not o.launchable, o.account))
        # Each account under its own copy of the item (its id differs by region), so
        # `rank` fits sizes to that image (its CPU architecture) as everywhere else.
        offered = [
            c.model_copy(update={"items": (self.offers[c.account].model_copy(update=_ITEM),)})
            for c in catalogs
        ]
        ranked = rank(
            offered,
            self.size_spec(),
            item=_ITEM["id"],
            count=self.choices.count,
            refused=self.refused,
        )
        return [AccountOption(r.account, r.size, r.blocked, r.reason, r.launchable) for r in ranked]

    def size_spec(self, account: str | None = None) -> SizeSpec:
        """The size class typed (any size when empty or unreadable); for an account, with
        the CPU architecture of its image unless one was typed."""
        try:
            spec = _spec(self.choices.spec)
        except WMError:
            spec = SizeSpec()
        offer = self.offers.get(account) if account is not None else None
        if offer is not None and offer.arch and spec.arch is None:
            spec = replace(spec, arch=offer.arch)
        return spec

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
        if not self.template:
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
            if not self.template
            else "Accounts that offer this template."
        )
        focus = self.query_one("#wizard-spec" if not self.template else "#wizard-accounts")
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
        catalog = self.catalog
        assert catalog is not None
        spec = self.size_spec(catalog.account)
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
        catalog = self.catalog
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
                Option(c.name if c.name == c.id else f"{c.name}  ({c.id})", id=c.id)
                for c in choices
            ],
            id=ident,
            compact=True,
        )
        ids = [NONE_ID, *[c.id for c in choices]]
        options.highlighted = ids.index(current.id) if current and current.id in ids else 0
        return options

    async def _show_location(self) -> None:
        catalog = self.catalog
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
        self.choices.location = self._chosen(self.catalog.locations if self.catalog else (), event)
        await self._advance()

    @staticmethod
    def _chosen(choices: Sequence[Choice], event: OptionList.OptionSelected) -> Choice | None:
        return next((c for c in choices if c.id == event.option.id), None)

    async def _show_access(self) -> None:
        catalog = self.catalog
        assert catalog is not None
        widgets: list[Any] = []
        if catalog.key_pairs:
            widgets.append(Static(Text("Key pair (for ssh)", style="bold")))
            widgets.append(
                self._choice_list(
                    "wizard-keys", catalog.key_pairs, "(no key pair)", self.choices.key_pair
                )
            )
        if catalog.networks:
            widgets.append(Static(Text("Network", style="bold")))
            widgets.append(
                self._choice_list(
                    "wizard-networks", catalog.networks, "(the default)", self.choices.network
                )
            )
        if not widgets:
            widgets.append(Static(Text("No key pairs or networks on this account.", style="dim")))
        await self.body.mount_all(widgets)
        self.hint("enter picks; the next list follows.")
        lists = self.body.query(OptionList)
        if lists:
            lists.first().focus()

    @on(OptionList.OptionSelected, "#wizard-keys")
    async def _on_key_pair(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.key_pair = self._chosen(self.catalog.key_pairs if self.catalog else (), event)
        networks = self.query("#wizard-networks")
        if networks:
            networks.first().focus()
        else:
            await self._advance()

    @on(OptionList.OptionSelected, "#wizard-networks")
    async def _on_network(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choices.network = self._chosen(self.catalog.networks if self.catalog else (), event)
        await self._advance()

    # -- template parameters -----------------------------------------------------------

    async def _show_params(self) -> None:
        account = self.choices.account
        assert account is not None
        form = self.forms.get(account)
        if form is None:
            await self.body.mount(
                Static(Text(f"Reading the template's parameters from {account}…", style="dim"))
            )
            self.hint("The form comes from the cloud's own validation of the template.")
            self._read_form(account, self.offers[account].id)
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
            backend = await self.portal.backend(account)
            form = await self.portal.within(account, backend.template_form(template))
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
        self.forms[message.form.account] = message.form
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
        plural = "instances" if not self.template else "apps"
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
                    disabled=self.template,
                ),
            ]
        )
        self.hint("enter on the name goes to the count; enter on the count goes on.")
        self.query_one("#wizard-name", Input).focus()

    async def _name_submitted(self, field: Input) -> None:
        name = self.query_one("#wizard-name", Input).value.strip()
        self.choices.name = name
        if field.id == "wizard-name" and not self.template:
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

    @property
    def blocked(self) -> str | None:
        """The quota problem with this launch, from the catalog on hand (before any call)."""
        catalog = self.catalog
        if catalog is None:
            return None
        size = None if self.template else self.choices.size
        return shortfall(catalog.quotas, size, self.choices.count)

    def summary(self) -> Table:
        c, catalog = self.choices, self.catalog
        assert catalog is not None
        table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=False, expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        table.add_row(
            "item", f"{self.offers[catalog.account].name}  ({self.offers[catalog.account].id})"
        )
        where = catalog.region or catalog.provider
        table.add_row("account", f"{catalog.account}  {catalog.provider} · {where}")
        if not self.template:
            size = c.size
            if size is not None:
                _, vcpus, _, disk, _ = size_cells(size)
                shape = f"{size.name}  {vcpus} vCPU · {ram(size.ram_mb)} RAM · disk {disk}"
            else:
                shape = "(the provider's default)"
            table.add_row("size", shape)
            table.add_row("location", c.location.name if c.location else "(default)")
            table.add_row("key pair", c.key_pair.name if c.key_pair else "(none)")
            table.add_row("network", c.network.name if c.network else "(default)")
        else:
            form = self.forms.get(catalog.account)
            hidden = {p.name for p in form.parameters if p.hidden} if form else set()
            shown = ", ".join(
                f"{k}={'••••••' if k in hidden else v}" for k, v in sorted(c.parameters.items())
            )
            table.add_row("parameters", shown or "(defaults)")
        table.add_row("name", c.name + (f"  x {c.count}" if c.count > 1 else ""))
        price = c.size.price_hourly if c.size is not None and not self.template else None
        cost = Text(f"{hourly(price, c.count)}  ≈ {monthly(price, c.count)}", style="bold")
        if price is None:
            cost = Text("unknown: the provider publishes no price for it", style="yellow")
        table.add_row("cost", cost)
        size = None if self.template else c.size
        table.add_row("quota", quota_after(catalog.quotas, demand(size, c.count)))
        return table

    async def _show_summary(self) -> None:
        await self.body.mount(VerticalScroll(Static(self.summary()), id="wizard-summary"))
        blocked = self.blocked
        if blocked:
            self.error(f"Stopped before any call: {blocked}. Launch fewer or ask for more.")
            self.hint("The quota on hand cannot take this launch; escape to change it.")
        else:
            self.hint(Text.assemble(("enter", "bold"), " launches · ", ("escape", "bold"), " back"))
        self.body.query_one(VerticalScroll).focus()

    def request(self) -> LaunchRequest:
        c = self.choices
        assert c.account is not None
        return LaunchRequest(
            item=self.offers[c.account].id,
            kind=self.item.kind,
            name=c.name,
            size=c.size.id if c.size is not None and not self.template else None,
            location=c.location.id if c.location else None,
            key_pair=c.key_pair.id if c.key_pair else None,
            network=c.network.id if c.network else None,
            count=c.count,
            parameters=c.parameters,
        )

    def _confirm(self) -> None:
        blocked = self.blocked
        if blocked:
            self.error(f"Stopped before any call: {blocked}. Launch fewer or ask for more.")
            self.notify(blocked, title="Over quota", severity="error")
            return
        account, request = self.choices.account, self.request()
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
        try:
            async for update in self.portal.launch(account, request):
                if isinstance(main, MainScreen):
                    main.post_message(MainScreen.ActionProgress(update))
                if not accepted:
                    accepted = True
                    self.post_message(self.Accepted(update, request.count))
        except WMError as exc:
            if accepted:
                self.app.notify(exc.message, title=f"Launch {request.name}", severity="error")
            else:
                self.post_message(self.Refused(exc.message))
        except Exception as exc:  # a plugin bug: said, not a traceback on screen
            text = f"unexpected {type(exc).__name__}: {exc}"
            if accepted:
                self.app.notify(text, title=f"Launch {request.name}", severity="error")
            else:
                self.post_message(self.Refused(text))

    @on(Accepted)
    def _on_accepted(self, message: Accepted) -> None:
        what = f"{message.count} x {self.choices.name}" if message.count > 1 else self.choices.name
        self.app.notify(
            f"{what} on {self.choices.account}: following it in the instances view (:instances)",
            title="Launch accepted",
        )
        self.dismiss(self.choices.account)

    @on(Refused)
    async def _on_refused(self, message: Refused) -> None:
        self.launching = False
        self.refresh_bindings()
        self.app.notify(message.message, title="Launch refused", severity="error", timeout=15)
        if self.template:  # the cloud's validation: back on the form, next to the field
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
