"""The Catalog view (`:catalog`): what can be launched, on which accounts, at what price.

One row per item and account, grouped by item (the name is shown on the first row of its
group), so the accounts that can launch an item read down the group. Below the table,
the item under the cursor and its account: sizes with prices, locations, key pairs,
networks and quota. Catalogs come from the portal (cached there) in an async worker; a
failing account is a row with its reason and the others carry on.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker, WorkerState

from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem
from winged_monkey.engine.catalogs import SEARCH_SHOWN, CatalogUpdate, more_found
from winged_monkey.engine.portal import Portal
from winged_monkey.engine.ranking import SizeSpec, cheapest_fit
from winged_monkey.errors import describe
from winged_monkey.ui import format as fmt
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.screens.launch_plan import offers_of
from winged_monkey.ui.widgets.catalog_text import account_details, hourly, item_text
from winged_monkey.ui.widgets.event_table import RowTable
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.header import Header
from winged_monkey.ui.widgets.vi_keys import taken_keys
from winged_monkey.user.binding_ids import BindingId

#: Kinds as the 8-wide column shows them ("deployable" would be cut).
KIND_LABELS = {"image": "image", "template": "template", "deployable": "deploy"}

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("item", "item", 24),
    ("kind", "kind", 8),
    ("account", "account", 12),
    ("provider", "provider", 10),
    ("from", "from", 11),
)
SIZES_SHOWN = 8  # per account in the detail pane; the wizard lists them all
#: Dropped in this order while the columns are wider than the screen (half of an 80-column
#: tmux window): a column cut at the table's edge read as another value (`dev-eu` as `dev`).
#: The pane below names the item's kind and provider and prices every size.
DROPPED = ("provider", "kind", "from")
ITEM_MIN = 12
PADDING = 2  # DataTable's cell padding, both sides


@dataclass(frozen=True)
class Row:
    """A table row: an item on an account, or an account with no item (or no catalog)."""

    account: str
    item: CatalogItem | None = None
    note: str = ""
    error: bool = False
    #: The account has no catalog at all (the note says why): listed last.
    none: bool = False

    @property
    def key(self) -> str:
        if self.item is None:
            return f"{self.account}\t"
        return f"{self.account}\t{self.item.kind}\t{self.item.id}"


def group_key(item: CatalogItem) -> tuple[str, str]:
    return (item.name.lower(), item.kind)


class CatalogScreen(Screen[None]):
    """Items by name, each with the accounts that offer it; `l` or enter launches one."""

    # Focused as it composes, not later from on_mount: keys typed ahead of the view
    # (`:events⏎` then more) reach it.
    AUTO_FOCUS = "#catalog"
    #: Under 18 lines (80x11, a tmux window split one above the other) the 11-line pane
    #: below the table ran past the footer, its lower lines out of reach of its scrolling:
    #: the screen is `-short` and wm.tcss lets the pane take what the table leaves.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (18, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "l", "launch", "launch", id=BindingId.CATALOG_LAUNCH, tooltip="Launch the item (wizard)"
        ),
        Binding(
            "slash",
            "search",
            "search images",
            id=BindingId.CATALOG_SEARCH,
            tooltip="Search the provider's public images for the account under the cursor",
            priority=True,
        ),
        Binding(
            "escape",
            "close_search",
            "close search",
            id=BindingId.CATALOG_CLOSE_SEARCH,
            tooltip="Close the image search",
            show=False,
        ),
        Binding(
            "tab",
            "details",
            "details",
            id=BindingId.CATALOG_DETAILS,
            tooltip="Move between the items and the details below (to scroll them)",
            show=False,
        ),
        Binding(
            "R",
            "reload",
            "refresh",
            id=BindingId.REFRESH,
            tooltip="Read every catalog again (quota too)",
        ),
    ]

    class Arrived(Message):
        """One account's catalog (or why there is none)."""

        def __init__(self, update: CatalogUpdate) -> None:
            super().__init__()
            self.update = update

    class Found(Message):
        """A search of an account's public images answered."""

        def __init__(
            self, account: str, query: str, items: list[CatalogItem], more: bool = False
        ) -> None:
            super().__init__()
            self.account = account
            self.query = query
            self.items = items
            #: More matched than the items (SEARCH_SHOWN) shown.
            self.more = more

    def __init__(self, portal: Portal, clock: Callable[[], datetime]) -> None:
        super().__init__()
        #: The columns shown (COLUMNS' widths, the item's fitted to the screen).
        self.columns: dict[str, int] = {}
        self.portal = portal
        self.clock = clock
        self.catalogs: dict[str, AccountCatalog] = {}
        self.errors: dict[str, str] = {}
        #: Public images found by `/`, per account (kept until the view closes).
        self.found: dict[str, dict[str, CatalogItem]] = {}
        self.rows: list[Row] = []
        self.pending: set[str] = set()
        self._search_account = ""
        #: Accounts with no catalog and why (libvirt, a Heat account with no `templates`):
        #: each is a row, so every configured account is accounted for.
        self.without: dict[str, str] = {}
        #: The "from" price by account and what an item needs of a size (its CPU, its
        #: minimums): thousands of images share a few, and each asks of hundreds of sizes.
        self._from: dict[tuple[str, str | None, int | None, int | None], float | None] = {}

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(compact=True, id="catalog-search")
        # j, k, g and G move here as in every other list (unless the keymap takes one).
        taken = taken_keys(self.portal.config.keys, self.BINDINGS)
        yield RowTable(cursor_type="row", zebra_stripes=False, id="catalog", taken=taken)
        with VerticalScroll(id="catalog-detail"):
            yield Static(id="catalog-detail-text")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#catalog", DataTable)

    @property
    def search_input(self) -> Input:
        return self.query_one("#catalog-search", Input)

    def on_mount(self) -> None:
        self.search_input.display = False
        self._fit_columns()
        accounts = self.portal.catalog_accounts()
        for config in self.portal.config.accounts:
            if config.name not in accounts:
                self._without(config.name)
        missing = []
        for account in accounts:
            cached = self.portal.cached_catalog(account)
            if cached is not None:
                self.catalogs[account] = cached
            else:
                missing.append(account)
        self.pending = set(missing)
        self._show()
        if missing:
            self._load(missing, refresh=False)

    def fitted_columns(self, width: int) -> dict[str, int]:
        """COLUMNS that fit `width` (one cell kept for a scrollbar), each whole: the item's
        name is cut to its column with an ellipsis; the others go in DROPPED's order."""
        shown = {key: size for key, _, size in COLUMNS}
        room = width - 1

        def over() -> int:
            return sum(size + PADDING for size in shown.values()) - room

        for key in DROPPED:
            if over() <= 0:
                break
            del shown[key]
        shown["item"] = max(ITEM_MIN, shown["item"] - max(0, over()))
        return shown

    def _fit_columns(self) -> bool:
        """Lay the columns out for the screen's width; whether they changed."""
        columns = self.fitted_columns(self.app.size.width)
        if columns == self.columns:
            return False
        self.columns = columns
        table = self.table
        table.clear(columns=True)
        for key, label, _ in COLUMNS:
            if key in columns:
                table.add_column(label, key=key, width=columns[key])
        return True

    def on_resize(self) -> None:
        current = self.cursor_row  # (clearing the columns moves the cursor to the top)
        if self.is_mounted and self._fit_columns():
            self._show(current)

    # -- data ------------------------------------------------------------------

    @work(group="catalog", exclusive=True, exit_on_error=False, description="catalogs")
    async def _load(self, accounts: list[str], refresh: bool) -> None:
        async for update in self.portal.catalogs(accounts, refresh=refresh):
            self.post_message(self.Arrived(update))

    @on(Arrived)
    def _on_arrived(self, message: Arrived) -> None:
        update = message.update
        self.pending.discard(update.account)
        if update.catalog is not None:
            self.catalogs[update.account] = update.catalog
            self._from = {k: v for k, v in self._from.items() if k[0] != update.account}
            self.errors.pop(update.account, None)
        elif Capability.CATALOG not in self.portal.capabilities(update.account):
            self._without(update.account)  # built, its backend says it has none after all
        else:
            self.errors[update.account] = update.error or "no catalog"
        self._show()

    def _without(self, account: str) -> None:
        why = self.portal.no_catalog_known(account) or "its provider offers nothing to launch"
        self.without[account] = why

    def items_of(self, account: str) -> list[CatalogItem]:
        catalog = self.catalogs.get(account)
        own = list(catalog.items) if catalog is not None else []
        seen = {i.id for i in own}
        return own + [i for i in self.found.get(account, {}).values() if i.id not in seen]

    def build_rows(self) -> list[Row]:
        accounts = self.portal.catalog_accounts()
        rows: list[Row] = []
        empty: list[Row] = []
        for account in accounts:
            if account in self.without:
                continue
            if account in self.errors:
                empty.append(Row(account, note=self.errors[account], error=True))
            elif account in self.pending:
                empty.append(Row(account, note="loading…"))
            elif not (items := self.items_of(account)):
                empty.append(Row(account, note=self._empty_note(account)))
            else:
                rows.extend(Row(account, item) for item in items)
        order = {name: n for n, name in enumerate(accounts)}
        rows.sort(key=lambda r: (*group_key(r.item), order[r.account]) if r.item else ("", "", 0))
        # Last, one row each: an account with no catalog is said, not silently left out.
        none = [
            Row(config.name, note=f"no catalog: {self.without[config.name]}", none=True)
            for config in self.portal.config.accounts
            if config.name in self.without
        ]
        # First: below an account's thousands of images a failed or slow one was out of sight.
        return empty + rows + none

    def _empty_note(self, account: str) -> str:
        """An account whose catalog has no item: what to do, in its provider's terms."""
        catalog = self.catalogs.get(account)
        if catalog is not None and catalog.empty_hint:
            return f"no images: {catalog.empty_hint}"
        return "no images; / searches" if self.searchable(account) else "no images"

    def searchable(self, account: str) -> bool:
        """Whether `/` may search the account's public images (unknown until its catalog
        arrives: a failed or loading one may)."""
        if account in self.without:
            return False
        catalog = self.catalogs.get(account)
        return catalog is None or catalog.searchable

    def _show(self, current: Row | None = None) -> None:
        """Fill the table; the cursor stays on `current` (the row under it by default)."""
        table = self.table
        current = current or self.cursor_row
        self.rows = self.build_rows()
        table.clear()
        previous: tuple[str, str] | None = None
        for row in self.rows:
            table.add_row(*self._cells(row, previous), key=row.key)
            previous = group_key(row.item) if row.item else None
        if current is not None:
            with suppress(RowDoesNotExist):
                table.move_cursor(row=table.get_row_index(current.key))
        self._update_detail()
        self._update_subtitle()
        self.refresh_bindings()

    def _cells(self, row: Row, previous: tuple[str, str] | None) -> list[Text]:
        cells = dict(
            zip([key for key, _, _ in COLUMNS], self._all_cells(row, previous), strict=True)
        )
        return [cells[key] for key in cells if key in self.columns]

    def _all_cells(self, row: Row, previous: tuple[str, str] | None) -> list[Text]:
        catalog = self.catalogs.get(row.account)
        provider = catalog.provider if catalog else ""
        account = Text(fmt.one_line(row.account, 12), style="cyan")
        item_width = self.columns.get("item", 24)
        if row.item is None:
            style = "bold red" if row.error else "dim"
            return [
                Text(fmt.one_line(row.note, item_width), style=style),
                Text(""),
                account,
                Text(provider),
                Text(""),
            ]
        item = row.item
        same = previous == group_key(item)
        price = self._from_price(catalog, item) if catalog else None
        return [
            Text("" if same else fmt.name_cell(item.name, item_width), style="bold"),
            Text(
                "" if same else KIND_LABELS.get(item.kind, item.kind) + ("*" if item.public else "")
            ),
            account,
            Text(fmt.one_line(item.provider or provider, 10)),
            Text(hourly(price), style="dim" if price is None else ""),
        ]

    def _from_price(self, catalog: AccountCatalog, item: CatalogItem) -> float | None:
        """The price of the cheapest size the item runs on (its CPU, its min_ram and
        min_disk), as the wizard ranks."""
        key = (catalog.account, item.arch, item.min_ram_mb, item.min_disk_gb)
        if key not in self._from:
            size = cheapest_fit(catalog, SizeSpec(arch=item.arch), item)
            self._from[key] = size.price_hourly if size else None
        return self._from[key]

    @property
    def cursor_row(self) -> Row | None:
        table = self.table
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _update_detail(self) -> None:
        row = self.cursor_row
        text = self.query_one("#catalog-detail-text", Static)
        if row is None:
            text.update(Text("No account has a catalog.", style="dim"))
            return
        parts: list[Any] = []
        if row.item is not None:
            parts.append(item_text(row.item))
        elif row.error:
            parts.append(Text(f"{row.account}: {row.note}", style="bold red"))
        else:  # the whole note: the cell cuts it at the item's width
            parts.append(Text(f"{row.account}: {row.note}"))
        catalog = self.catalogs.get(row.account)
        if catalog is not None:
            parts.append(account_details(catalog, SIZES_SHOWN))
        text.update(Group(*parts))

    def _update_subtitle(self) -> None:
        items = len({group_key(r.item) for r in self.rows if r.item})
        # What went wrong first: the header cuts the end off at 80 columns.
        parts = [f"{len(self.errors)} failed"] if self.errors else []
        # Of every configured account: one with no catalog counts too (a row says why).
        accounts = len(self.portal.config.accounts)
        counted = f"{len(self.catalogs)} of {accounts} accounts"
        items_part = f"{items} item{'s' if items != 1 else ''}"
        if self.pending:  # one part, before the items: a narrow header drops the last first
            parts += [f"{counted}, {len(self.pending)} loading", items_part]
        else:
            parts += [items_part, counted]
        self.sub_title = "catalog · " + " · ".join(parts)

    @on(DataTable.RowHighlighted, "#catalog")
    def _on_highlighted(self) -> None:
        self._update_detail()
        self.refresh_bindings()

    # -- keys ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            row = self.cursor_row
            return None if row is None or row.item is None else True
        if action == "search":
            if self.focused is self.search_input:
                return False
            row = self.cursor_row
            return None if row is None or not self.searchable(row.account) else True
        if action == "close_search":
            return self.search_input.display
        return True

    def on_key(self, event: events.Key) -> None:
        """`l` on a row with nothing to launch (its binding is off) says why, as enter does;
        `/` where the account has no public images to search, too."""
        if self.focused is not self.table:
            return
        if self.check_action("launch", ()) is None and self._is_key(
            event, BindingId.CATALOG_LAUNCH, "l"
        ):
            self.action_launch()
        row = self.cursor_row
        if (
            row is not None
            and self.check_action("search", ()) is None
            and self._is_key(event, BindingId.CATALOG_SEARCH, "slash")
        ):
            catalog = self.catalogs.get(row.account)
            hint = f": {catalog.empty_hint}" if catalog is not None and catalog.empty_hint else ""
            said = (
                f"Nothing to search on {row.account}: {row.note}"
                if row.none
                else f"{row.account} has no public images to search{hint}"
            )
            self.notify(
                said,
                title="Cannot search",
                timeout=6,
                markup=False,
            )

    def _is_key(self, event: events.Key, binding: str, default: str) -> bool:
        keys = self.portal.config.keys.get(binding, default)
        return event.key in {key.strip() for key in keys.split(",")}

    def action_launch(self) -> None:
        row = self.cursor_row
        if row is None or row.item is None:
            if row is not None:  # an account with no item: its note says why
                why = f"its catalog failed: {row.note}" if row.error else row.note
                self.notify(
                    f"Nothing to launch on {row.account}: {why}",
                    title="Cannot launch",
                    severity="warning" if row.error else "information",
                    timeout=6,
                    markup=False,
                )
            return
        offers = offers_of(row.item, {a: self.items_of(a) for a in self.catalogs})
        self.app.push_screen(
            LaunchWizard(self.portal, self.clock, row.item, offers, dict(self.catalogs)),
            self._launched,
        )

    def _launched(self, account: str | None) -> None:
        if account is not None:  # its quota use changed: read it again
            self._load([account], refresh=True)

    @on(DataTable.RowSelected, "#catalog")
    def _on_selected(self) -> None:
        self.action_launch()

    def action_reload(self) -> None:
        accounts = self.portal.catalog_accounts()
        self.pending = set(accounts) - set(self.catalogs)
        self._show()
        self._load(accounts, refresh=True)

    def action_details(self) -> None:
        detail = self.query_one("#catalog-detail", VerticalScroll)
        self.set_focus(self.table if self.focused is detail else detail)

    # -- search ----------------------------------------------------------------

    def action_search(self) -> None:
        row = self.cursor_row
        if row is None:
            return
        field = self.search_input
        field.placeholder = f"search {row.account}'s public images (enter searches)"
        field.display = True
        self._search_account = row.account
        self.set_focus(field)
        self.refresh_bindings()

    def action_close_search(self) -> None:
        self.search_input.display = False
        self.set_focus(self.table)
        self.refresh_bindings()

    @on(Input.Submitted, "#catalog-search")
    def _on_search(self, event: Input.Submitted) -> None:
        event.stop()
        query = event.value.strip()
        if not query:
            self.action_close_search()
            return
        account = self._search_account
        self.notify(f"Searching {account}'s public images for “{query}”…", title="Search")
        self._search(account, query)

    @work(group="catalog-search", exclusive=True, exit_on_error=False, description="search")
    async def _search(self, account: str, query: str) -> None:
        items = await self.portal.search_images(account, query, SEARCH_SHOWN + 1)
        more = len(items) > SEARCH_SHOWN
        self.post_message(self.Found(account, query, items[:SEARCH_SHOWN], more))

    @on(Found)
    def _on_found(self, message: Found) -> None:
        kept = self.found.setdefault(message.account, {})
        for item in message.items:
            kept[item.id] = item.model_copy(update={"public": True}) if not item.public else item
        count = len(message.items)
        said = (
            f"{message.account}: {more_found(message.query)}"
            if message.more
            else f"{count} public image{'s' if count != 1 else ''} of {message.account} "
            f"match{'es' if count == 1 else ''} “{message.query}”"
            + ("" if count else "; try another word")
        )
        self.notify(
            said,
            title="Search",
            severity="information" if count else "warning",
            timeout=10 if message.more else 5,
            markup=False,
        )
        self.action_close_search()
        self._show()
        if message.items:
            first = f"{message.account}\t{message.items[0].kind}\t{message.items[0].id}"
            with suppress(RowDoesNotExist):
                self.table.move_cursor(row=self.table.get_row_index(first))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = describe(error) if error is not None else "failed"
        what = "Catalog"
        if event.worker.group == "catalog-search":  # the account searched, by name
            what, message = "Search", f"{self._search_account}: {message}"
        self.notify(message, title=what, severity="error", timeout=15, markup=False)
        if event.worker.group == "catalog":
            self.pending.clear()
            self._show()
        event.stop()
