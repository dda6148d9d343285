"""The instance table's rows: a sorted, filtered index kept outside the widget.

Updates only record what changed; `commit` applies them with one sort and one filter
pass, however many accounts answered since the last frame. Re-placing a few rows into a
sorted list is a merge (Python's sort finds the sorted run), not a full re-sort, and
every row's sort key and search text are computed once, when the row changes.
Counts (shown, total, marked) are kept as rows change, so reading them costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from rich.cells import cell_len

from winged_monkey.models import Instance, InstanceKind, InstanceState
from winged_monkey.terminal.render import APP_GLYPH, id_starts, natural, price_text, size_text
from winged_monkey.ui import format as fmt

#: (key, label, fixed width or None to fit) in display order: what matters most fits in 80.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("mark", "", 1),
    ("state", "state", 12),
    ("name", "name", None),
    ("account", "account", None),
    ("public_ip", "public IP", None),
    ("price", "$/h", 6),
    ("age", "age", 4),
    ("where", "where", None),
    ("size", "size", None),
    ("private_ip", "private IP", None),
)
NAME_WIDTH = 24
ACCOUNT_WIDTH = 14
#: The columns sized to fit their widest cell, in COLUMNS order.
FITTED = tuple(key for key, _, width in COLUMNS if width is None)

_STATE_ORDER = {state: n for n, state in enumerate(InstanceState)}
_LAST = float("inf")


def _created(i: Instance) -> float:
    return -i.created_at.timestamp() if i.created_at else _LAST


def _address(ips: tuple[str, ...]) -> tuple[bool, int, Any]:
    """10.0.0.9 before 10.0.0.10 (IPv4 as one number: sorting 10k rows by address stays
    cheap), IPv4 before other addresses, rows without an address last."""
    if not ips:
        return (True, 0, 0)
    parts = ips[0].split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        a, b, c, d = (int(p) for p in parts)
        return (False, 0, ((a << 24 | b << 16 | c << 8 | d), len(ips)))
    return (False, 1, (natural(ips[0]), len(ips)))


#: States that cost nothing per hour: their `$/h` is blank and sorts with the unpriced.
NO_HOURLY_COST = frozenset({InstanceState.STOPPED, InstanceState.TERMINATED})


def hourly_cost(i: Instance) -> float | None:
    """What the row costs per hour now: None when unknown or when it costs nothing."""
    return None if i.state in NO_HOURLY_COST else i.price_hourly


def hourly_cell(row: Row) -> str:
    """The `$/h` cell: blank for a row that costs nothing now, `?` when unknown: no price,
    or a row its account did not list now (failed, cached, or kept as last seen by its
    source), whose state, and so its cost, now nobody saw (a terminated one stays so).
    Dimmed with the row."""
    i = row.instance
    if row.stale and i.state is not InstanceState.TERMINATED:
        return "?"
    return "" if i.state in NO_HOURLY_COST else price_text(i.price_hourly)


def _price(i: Instance) -> float:
    cost = hourly_cost(i)
    return _LAST if cost is None else cost


def _row_price(row: Row) -> float:
    """A dimmed row's cost now is unknown (its cell reads `?`): it sorts as unknown, not by
    the price of the state it was last seen in."""
    return _LAST if row.stale else _price(row.instance)


#: Sort keys by column, in the columns' on-screen order: `o` cycles through them so.
SORTS: dict[str, Callable[[Instance], Any]] = {
    "state": lambda i: _STATE_ORDER[i.state],
    "name": lambda i: natural(i.name),
    "account": lambda i: i.account_label,
    "public_ip": lambda i: _address(i.public_ips),
    "price": _price,
    "age": _created,
    "where": lambda i: _known(i.where),
    "size": lambda i: _known(size_text(i, unknown="")),
    "private_ip": lambda i: _address(i.private_ips),
}
SORT_LABELS = {key: label for key, label, _ in COLUMNS}


def fitted_texts(i: Instance) -> tuple[str, ...]:
    """The plain text of the FITTED cells (what their width is measured on)."""
    name = fmt.one_line(i.name, NAME_WIDTH)
    if i.kind == "app":
        name = f"{APP_GLYPH} {fmt.one_line(i.name, NAME_WIDTH - 2)}"
    return (
        name,
        fmt.account_cell(i, ACCOUNT_WIDTH),
        fmt.first_ip(i.public_ips),
        i.where,
        size_text(i, unknown=""),
        fmt.first_ip(i.private_ips),
    )


@dataclass(eq=False, slots=True)
class Row:
    """One instance as the table holds it; `version` changes whenever its look may."""

    instance: Instance
    stale: bool
    marked: bool = False
    version: int = 0
    search: str = ""
    ids: str = ""  # id_starts: the id, matched from its start
    kind: InstanceKind = "instance"
    name_key: tuple[Any, ...] = ()
    order: Any = None
    widths: tuple[int, ...] = ()
    shown: bool = True
    alive: bool = True

    @property
    def key(self) -> str:
        return self.instance.key


@dataclass
class RowIndex:
    """Every row by key, in display order once committed."""

    rows: dict[str, Row] = field(default_factory=dict)
    sort_column: str = "name"
    sort_reverse: bool = False
    kind: InstanceKind | None = None
    terms: list[str] = field(default_factory=list)
    #: Sorts done (full or merge): one per commit at most, never one per account.
    sorts: int = 0
    #: Changes whenever the shown rows or their order may have changed.
    generation: int = 0
    _accounts: dict[str, dict[str, Row]] = field(default_factory=dict)  # by instance id
    _account_widths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    _widths: tuple[int, ...] | None = None
    _order: list[Row] = field(default_factory=list)
    #: Every row by name: a sort by any other column is a stable sort of this by the
    #: column alone (ties stay in name order), far cheaper than comparing tuples.
    _by_name: list[Row] = field(default_factory=list)
    _renamed: dict[Row, None] = field(default_factory=dict)
    _shown: list[Row] | None = None
    _unplaced: dict[Row, None] = field(default_factory=dict)
    _removed: bool = False
    _resort: bool = False
    _shown_count: int = 0
    _kind_count: int = 0
    _marked: dict[str, Row] = field(default_factory=dict)
    _marks: int = 0  # changes of marks, for the cache of the marked rows in order
    _marked_cache: tuple[tuple[int, int], list[Row]] = ((-1, -1), [])

    # -- counts (no commit needed) -------------------------------------------------------

    @property
    def shown_count(self) -> int:
        return self._shown_count

    @property
    def total_count(self) -> int:
        """Rows of the kind shown, filtered or not."""
        return len(self.rows) if self.kind is None else self._kind_count

    @property
    def marked(self) -> list[Row]:
        return list(self._marked.values())

    def marked_in_order(self) -> list[Row]:
        """The marked rows in display order (filtered out ones too, where they sort)."""
        if not self._marked:
            return []
        self.commit()
        # Read on every key's check: walk the rows again only when the order or marks moved.
        key = (self.generation, self._marks)
        if self._marked_cache[0] != key:
            self._marked_cache = (key, [r for r in self._order if r.marked])
        return list(self._marked_cache[1])

    @property
    def moved(self) -> bool:
        """Whether a change since the last commit may have added, removed, moved, shown or
        hidden a row; else rows changed in place (a state, an address), each on its line."""
        return bool(
            self._resort or self._unplaced or self._removed or self._renamed or self._shown is None
        )

    def widths(self) -> tuple[int, ...]:
        """The widest cell of each FITTED column over every row (filtered or not)."""
        if self._widths is None:
            found = [0] * len(FITTED)
            for widths in self._account_widths.values():
                found = [max(a, b) for a, b in zip(found, widths, strict=True)]
            self._widths = tuple(found)
        return self._widths

    # -- changes -------------------------------------------------------------------------

    def replace_account(self, account: str, instances: Iterable[Instance], stale: bool) -> bool:
        """One account's rows are now `instances`; True when anything changed.

        A poll mostly repeats the last one: an unchanged row costs a comparison."""
        mine = self._accounts.setdefault(account, {})
        fresh = {i.id: i for i in instances}
        changed = False
        for gone in [r for i, r in mine.items() if i not in fresh]:
            changed |= self.drop(gone.key) is not None
        for instance_id, instance in fresh.items():
            row = mine.get(instance_id)
            if row is None or row.stale != stale or not _same(row.instance, instance):
                changed |= self._put(instance, stale)
        if changed:
            columns = zip(*(r.widths for r in mine.values()), strict=True)
            widths = tuple(map(max, columns)) or (0,) * len(FITTED)
            if self._account_widths.get(account) != widths:
                self._account_widths[account] = widths
                self._widths = None
        return changed

    def restyle_account(self, account: str, stale: bool) -> bool:
        changed = False
        for row in self._accounts.get(account, {}).values():
            dim = stale or row.instance.stale is not None
            if row.stale != dim:
                row.stale = dim
                row.version += 1
                changed = True
                if not self._resort:  # its sort key may read the dimming (`$/h`)
                    before, row.order = row.order, self._key(SORTS[self.sort_column], row)
                    if row.order != before:
                        self._unplaced[row] = None
        return changed

    def put(self, instance: Instance, stale: bool = False) -> bool:
        changed = self._put(instance, stale)
        row = self.rows[instance.key]
        widths = self._account_widths.get(instance.account, row.widths)
        grown = tuple(max(a, b) for a, b in zip(widths, row.widths, strict=True))
        if grown != self._account_widths.get(instance.account):
            self._account_widths[instance.account] = grown
            self._widths = None
        return changed

    def drop(self, key: str) -> Row | None:
        row = self.rows.pop(key, None)
        if row is None:
            return None
        row.alive = False
        del self._accounts[row.instance.account][row.instance.id]
        if self._marked.pop(key, None) is not None:
            self._marks += 1
        self._count(row, -1)
        self._removed = True
        self._unplaced.pop(row, None)
        self._renamed.pop(row, None)
        return row

    def mark(self, row: Row, on: bool) -> None:
        self._marks += 1
        row.marked = on
        row.version += 1
        if on:
            self._marked[row.key] = row
        else:
            self._marked.pop(row.key, None)

    def set_filter(self, text: str) -> None:
        terms = text.lower().split()
        if terms != self.terms:
            # A row hidden by `web` stays hidden by `web-1`: only shown rows are tested.
            # (`ab` to `0ab` is not narrower: an id starting 0ab does not start with ab.)
            narrower = all(any(new.startswith(old) for new in terms) for old in self.terms)
            self.terms = terms
            self._rematch(narrower)

    def set_kind(self, kind: InstanceKind | None) -> None:
        if kind != self.kind:
            self.kind = kind
            self._rematch()

    def set_sort(self, column: str, reverse: bool) -> None:
        if (column, reverse) == (self.sort_column, self.sort_reverse):
            return
        if column != self.sort_column:
            self._resort = True
        self.sort_column, self.sort_reverse = column, reverse
        self._shown = None
        if not self._resort:  # the same keys the other way: a reversal, not a sort
            self._order = _turned(self._order)

    # -- reading in order ----------------------------------------------------------------

    def commit(self) -> list[Row]:
        """The shown rows in display order, after one sort for every change since the last."""
        if self._resort:
            self._by_name = self._merged(self._by_name, self._renamed, _NAME)
            self._renamed = {}
            self._resort = False
            self._unplaced.clear()
            self._removed = False
            by = SORTS[self.sort_column]
            for row in self._by_name:
                row.order = self._key(by, row)
            order = list(self._by_name)
            if self.sort_column != "name":
                order.sort(key=_first)
            if self.sort_reverse:
                order = _turned(order)
            self._order = order
            self.sorts += 1
            self._shown = None
        elif self._unplaced or self._removed:
            unplaced = self._unplaced
            order = [r for r in self._order if r.alive and r not in unplaced]
            if unplaced:
                order.extend(unplaced)
                order.sort(key=_ORDER)
                if self.sort_reverse:
                    order = _turned(order)
                self.sorts += 1
            self._order = order
            self._by_name = self._merged(self._by_name, self._renamed, _NAME)
            self._unplaced, self._renamed = {}, {}
            self._removed = False
            self._shown = None
        if self._shown is None:
            self.generation += 1
            filtering = self.terms or self.kind is not None
            self._shown = [r for r in self._order if r.shown] if filtering else self._order
        return self._shown

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _key(by: Callable[[Instance], Any], row: Row) -> tuple[Any, ...]:
        """(the column's value, name, key): ties in name order, every key unique."""
        if by is _BY_NAME:
            return row.name_key
        value = _row_price(row) if by is _BY_PRICE else by(row.instance)
        return (value, row.name_key)

    def _merged(self, rows: list[Row], moved: dict[Row, None], key: Any) -> list[Row]:
        """`rows` without the dropped ones, with `moved` (re)placed: one merge."""
        if not moved and not self._removed:
            return rows
        merged = [r for r in rows if r.alive and r not in moved]
        if moved:
            merged.extend(r for r in moved if r.alive)
            merged.sort(key=key)
        return merged

    def _put(self, instance: Instance, stale: bool) -> bool:
        stale = stale or instance.stale is not None  # its source failed: as last seen
        row = self.rows.get(instance.key)
        if row is None:
            row = Row(instance, stale)
            self.rows[instance.key] = row
            self._accounts.setdefault(instance.account, {})[instance.id] = row
            self._describe(row)
            row.shown = self._matches(row)
            self._count(row, +1)
            self._unplaced[row] = None
            self._renamed[row] = None
            return True
        if row.stale == stale and row.instance == instance:
            return False
        was_shown = row.shown
        self._count(row, -1)
        before, named = row.order, row.name_key
        row.instance, row.stale = instance, stale
        row.version += 1
        self._describe(row)
        row.shown = self._matches(row)
        self._count(row, +1)
        if row.name_key != named:
            self._renamed[row] = None
        if row.order != before:
            self._unplaced[row] = None
        elif row.shown != was_shown:
            self._shown = None
        return True

    def _describe(self, row: Row) -> None:
        """What the index needs of a row, computed once per change of the row."""
        i = row.instance
        row.search = fmt.instance_search_text(i)
        row.ids = id_starts(i.id)
        row.kind = i.kind
        row.name_key = (natural(i.name), i.key)
        row.order = None if self._resort else self._key(SORTS[self.sort_column], row)
        row.widths = tuple(cell_len(text) for text in fitted_texts(i))

    def _matches(self, row: Row) -> bool:
        if self.kind is not None and row.kind != self.kind:
            return False
        return all(_hit(row, term, f"\n{term}") for term in self.terms)

    def _count(self, row: Row, sign: int) -> None:
        if self.kind is None or row.kind == self.kind:
            self._kind_count += sign
        if row.shown:
            self._shown_count += sign

    def _rematch(self, narrower: bool = False) -> None:
        """Every row's `shown` again (only the shown ones when the filter narrowed)."""
        kind, needles = self.kind, [(t, f"\n{t}") for t in self.terms]
        shown = kinds = 0
        for row in self.rows.values():
            if narrower and not row.shown:
                kinds += kind is None or row.kind == kind
                continue
            ok = kind is None or row.kind == kind
            kinds += ok
            if ok:
                for term, start in needles:  # _hit, inline: 50,000 rows a keystroke
                    if term not in row.search and start not in row.ids:
                        ok = False
                        break
            row.shown = ok
            shown += ok
        self._shown_count, self._kind_count = shown, kinds
        self._shown = None


def _hit(row: Row, term: str, start: str) -> bool:
    """Whether a word of the filter (`term`; `start`: a newline and the word) matches the
    row: anywhere in what the table shows, or the start of its id."""
    return term in row.search or start in row.ids


def _same(before: Instance, now: Instance) -> bool:
    return before is now or before == now


_ORDER = attrgetter("order")
_NAME = attrgetter("name_key")
_BY_NAME = SORTS["name"]
_BY_PRICE = SORTS["price"]


def _first(row: Row) -> Any:
    return row.order[0]


def _known(text: str) -> tuple[bool, str]:
    """A text column's sort key: blank (unknown) after every value."""
    return (not text, text)


def _missing(row: Row) -> bool:
    """Whether the row's sort value is unknown: no price, age or address, a blank cell."""
    value = row.order[0]  # (the column's value, name, key); by name, (name, key)
    return value == _LAST or (type(value) is tuple and bool(value) and value[0] is True)


def _turned(order: list[Row]) -> list[Row]:
    """`order` the other way round, its unknown values still last (they sort last): a
    sort by price, most expensive first, led with every `?`."""
    known = len(order)
    while known and _missing(order[known - 1]):
        known -= 1
    return order[known - 1 :: -1] + order[known:] if known else order[:]
