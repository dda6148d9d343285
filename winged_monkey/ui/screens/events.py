"""The Events view (`:events`): the log newest first, live, with filters and the activity plot.

The time window is a store query; account, kind, state, target and text filter the
loaded window in memory, so cycling them answers at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.widgets import Input, Static

from winged_monkey.engine.portal import Portal
from winged_monkey.engine.recorder import History
from winged_monkey.models import Event
from winged_monkey.terminal.history import (
    WINDOW_LABELS,
    WINDOWS,
    folded,
    not_listed_since,
    search_text,
    states_of,
)
from winged_monkey.terminal.render import id_starts
from winged_monkey.ui.bindings import filter_keys, footer_order, refresh_key, timeline_key
from winged_monkey.ui.screens.event_log import LOAD_LIMIT, EventLogScreen, Query
from winged_monkey.ui.screens.time_range import TimeRange, TimeRangeScreen
from winged_monkey.ui.screens.timeline import TimelineScreen
from winged_monkey.ui.widgets.activity_plot import ActivityPlot, PlotData
from winged_monkey.ui.widgets.event_table import EventTable, owner_label
from winged_monkey.ui.widgets.filter_input import FilterInput
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.header import Header
from winged_monkey.ui.widgets.vi_keys import taken_keys
from winged_monkey.user.binding_ids import BindingId

SHOW_LIMIT = 2000  # rows in the table; the plot still counts every loaded event
DEFAULT_WINDOW = "day"
EMPTY_WINDOW = timedelta(days=1)  # what "all" spans when there is nothing yet


@dataclass(frozen=True)
class Filters:
    """What the view shows of the loaded window."""

    account: str | None = None
    kind: str | None = None
    state: str | None = None
    target: tuple[str, str, str] | None = None  # account, id, label
    text: str = ""

    def matches(self, event: Event) -> bool:
        if self.account is not None and event.account != self.account:
            return False
        if self.kind is not None and event.kind != self.kind:
            return False
        if self.state is not None and self.state not in (event.old_state, event.new_state):
            return False
        if self.target is not None and (event.account, event.target) != self.target[:2]:
            return False
        if self.text:
            haystack, starts = search_text(event), id_starts(event.target)
            return all(t in haystack or f"\n{t}" in starts for t in self.text.lower().split())
        return True

    def in_scope(self, event: Event) -> bool:
        """What the running-per-account chart uses: account and target only (it needs
        every state event of a target, whatever its kind)."""
        if self.account is not None and event.account != self.account:
            return False
        return self.target is None or (event.account, event.target) == self.target[:2]

    @property
    def active(self) -> bool:
        return self != Filters()


def _cycle(options: list[str | None], current: str | None) -> str | None:
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


class EventsScreen(EventLogScreen):
    """Newest first; new events appear on top while the view is open."""

    #: Under 16 lines (a tmux window split one above the other) the plot's 7 left the log
    #: one line: the screen is `-short` and wm.tcss hides the plot there (`p` shows it).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (16, "-tall")]

    # Focused as it composes, not later from on_mount: keys typed ahead of the view
    # (`:events⏎` then more) reach it.
    AUTO_FOCUS = "#events"

    BINDINGS: ClassVar[list[BindingType]] = [
        *filter_keys("Filter events by words in any column", "Clear filters"),
        # The bar above the table shows these four with their keys: not in the footer too.
        Binding(
            "w",
            "window",
            "window",
            id=BindingId.EVENTS_WINDOW,
            tooltip="Next time window: hour/day/week/all",
            show=False,
        ),
        Binding(
            "W",
            "time_range",
            "range",
            id=BindingId.EVENTS_RANGE,
            tooltip="Choose a time range (since, until)",
            show=False,
        ),
        Binding(
            "a",
            "account",
            "account",
            id=BindingId.EVENTS_ACCOUNT,
            tooltip="Next account (or all)",
            show=False,
        ),
        Binding(
            "k",
            "kind",
            "kind",
            id=BindingId.EVENTS_KIND,
            tooltip="Next kind of event (or all)",
            show=False,
        ),
        Binding(
            "s",
            "state",
            "state",
            id=BindingId.EVENTS_STATE,
            tooltip="Next state (or any)",
            show=False,
        ),
        Binding(
            "i",
            "target",
            "this target",
            id=BindingId.EVENTS_TARGET,
            tooltip="Only the events of the target under the cursor (again: all)",
        ),
        timeline_key("Timeline of the target under the cursor (as enter)"),
        Binding(
            "p", "plot", "plot", id=BindingId.EVENTS_PLOT, tooltip="Show or hide the activity plot"
        ),
        Binding(
            "f",
            "fold",
            "parts",
            id=BindingId.EVENTS_FOLD,
            tooltip="One row per change (an action with its outcome), or every part",
            show=False,  # the bar names it when a row holds several parts
        ),
        refresh_key(show=True),
    ]

    def __init__(self, portal: Portal, clock: Callable[[], datetime]) -> None:
        super().__init__(portal, clock)
        self.window = DEFAULT_WINDOW
        #: A fixed range chosen with `W`; it replaces the sliding window until `w`.
        self.range: TimeRange | None = None
        self.filters = Filters()
        #: Every part of a change on its own row (`f`), not one row per change.
        self.unfolded = False
        self._folds = False  # whether the last view folded any parts
        self._events: dict[str, Event] = {}
        self._order: dict[str, int] = {}
        self._next = 0
        self._truncated = False
        self._since: datetime | None = None
        self._keys: dict[str, str] = {}

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="events-bar")
        yield FilterInput(placeholder="filter: words in any column", compact=True, id="filter")
        yield EventTable(id="events", taken=taken_keys(self.portal.config.keys, self.BINDINGS))
        yield ActivityPlot(id="plot")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> EventTable:
        return self.query_one(EventTable)

    @property
    def plot(self) -> ActivityPlot:
        return self.query_one(ActivityPlot)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    @property
    def loaded_events(self) -> list[Event]:
        """The window, newest first (every filter aside)."""
        return sorted(self._events.values(), key=lambda e: (e.at, self._order[e.key]), reverse=True)

    def on_mount(self) -> None:
        self.sub_title = "events"
        self.filter_input.display = False
        self._update_bar()
        self.reload()

    # -- data ------------------------------------------------------------------

    def store_query(self) -> Query:
        if self.range is not None:
            since, until = self.range
            self._since = None  # a fixed range does not slide

            def in_range(store: History) -> list[Event]:
                return store.events(since=since, until=until, limit=LOAD_LIMIT)

            return in_range
        span = WINDOWS[self.window]
        start = self.clock() - span if span is not None else None
        self._since = start

        def run(store: History) -> list[Event]:
            return store.events(since=start, limit=LOAD_LIMIT)

        return run

    def show_loaded(self, events: list[Event]) -> None:
        self._events, self._order, self._next = {}, {}, 0
        self._truncated = len(events) >= LOAD_LIMIT
        self._add(reversed(events))
        self._show()

    def show_new(self, events: list[Event]) -> None:
        if self.range is not None:
            since, until = self.range
            events = [e for e in events if since <= e.at < until]  # as the store: until excluded
        self._add(events)
        if self._since is not None:  # the window slides with the clock
            span = WINDOWS[self.window]
            assert span is not None
            self._since = self.clock() - span
            for key in [k for k, e in self._events.items() if e.at < self._since]:
                del self._events[key]
        self._show()

    def _add(self, oldest_first: Iterable[Event]) -> None:
        for event in oldest_first:
            if event.key not in self._events:
                self._events[event.key] = event
                self._order[event.key] = self._next
                self._next += 1

    def _show(self) -> None:
        everything = self.loaded_events
        rows = everything if self.unfolded else folded(everything)
        self._folds = len(rows) != len(everything)
        shown = [e for e in rows if self.filters.matches(e)]
        self.table.show(shown[:SHOW_LIMIT])
        self._update_bar(len(shown), len(rows))
        self._update_plot(everything, shown)
        self.refresh_bindings()

    def _update_plot(self, everything: list[Event], shown: list[Event]) -> None:
        now = self.clock()
        span = WINDOWS[self.window]
        if self.range is not None:
            start, now = self.range
        elif span is not None:
            start = now - span
        elif everything:
            start = min(e.at for e in everything)
        else:
            start = now - EMPTY_WINDOW
        f = self.filters
        accounts = [f.account] if f.account else self._accounts()
        instances = [
            i
            for i in self.portal.instances()
            if (f.account is None or i.account == f.account)
            and (f.target is None or (i.account, i.id) == f.target[:2])
        ]
        unlisted = {
            (i.account, i.id): gone[0]
            for i in instances
            if (gone := not_listed_since(i, self.portal.status(i.account))) is not None
        }
        self.plot.show(
            PlotData(
                start=start,
                end=now,
                events=shown,
                instances=instances,
                accounts=accounts,
                scope=[e for e in everything if f.in_scope(e)],
                unlisted=unlisted,
                silent={} if f.target else self._silent(accounts),
            )
        )

    def _silent(self, accounts: list[str]) -> dict[str, datetime | None]:
        """The accounts not listed now (failing, or not answered yet), with when they last
        were: what they ran since, nobody saw."""
        statuses = {a: self.portal.status(a) for a in accounts if a in self.portal.account_names}
        return {a: s.fetched_at for a, s in statuses.items() if s.phase != "ok"}

    def _accounts(self) -> list[str]:
        names = dict.fromkeys(self.portal.account_names)
        names.update(dict.fromkeys(sorted({e.account for e in self._events.values()})))
        return list(names)

    def _update_bar(self, shown: int = 0, total: int = 0) -> None:
        # Remembered: while the text filter has focus, its keys shadow the screen's.
        self._keys.update(
            (active.binding.id, self.app.get_key_display(active.binding))
            for active in self.active_bindings.values()
            if active.binding.id and active.binding.id.startswith("events.")
        )
        keys = self._keys
        f = self.filters
        parts: list[tuple[str, str, bool]] = [
            ("events.window", self._window_label(), True),
            ("events.account", f.account or "all accounts", f.account is not None),
            ("events.kind", f.kind or "all kinds", f.kind is not None),
            ("events.state", f.state or "any state", f.state is not None),
        ]
        if f.target is not None:  # first of the filters: it changes the most
            parts.insert(0, ("events.target", f"only {f.target[2]}", True))
        # The count first: a narrow bar cuts the filters' labels, never how many are shown.
        bar = Text(no_wrap=True, overflow="ellipsis")
        if not self.loaded:
            bar.append("loading…", style="dim")
        elif self.load_error:
            bar.append(f"history unavailable: {self.load_error}", style="bold red")
        else:
            count = f"{shown} of {total} events" if shown != total else f"{total} events"
            if self._truncated:
                count += f" (newest {LOAD_LIMIT})"
            bar.append(count, style="bold" if shown != total else "dim")
        bar.append("  ")
        # The filters that are on, then the words typed, then the defaults: a narrow bar
        # cuts "all kinds", never a filter that hides rows.
        on = [(binding_id, label, True) for binding_id, label, on_ in parts if on_]
        if f.text:
            on.append(("", f"“{f.text}”", True))
        off = [part for part in parts if not part[2]]
        for binding_id, label, on_ in on + off:
            key = keys.get(binding_id)
            if key:
                bar.append(f"{key} ", style="dim")
            bar.append(label, style="bold" if on_ else "")
            bar.append("  ")
        if self._folds or self.unfolded:
            key = keys.get("events.fold")
            if key:
                bar.append(f"{key} ", style="dim")
            # Short: the default filters and this fit 80 columns whole (a count up to 9,999).
            bar.append("every part" if self.unfolded else "by change")
        bar.rstrip()
        self.query_one("#events-bar", Static).update(bar)

    # -- keys ------------------------------------------------------------------

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with filter, help and quit first and refresh last: a filtered
        view's footer would otherwise cut `q quit` at 80 columns."""
        return footer_order(super().active_bindings, lambda key: int(key == "refresh"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":  # a `/` typed into the filter is part of it
            return self.focused is not self.filter_input
        if action == "clear_filter":
            return self.filters.active or self.filter_input.display
        if action in ("timeline", "target"):
            if action == "target" and self.filters.target is not None:
                return True
            return None if self.table.cursor_event is None else True
        return True

    def _set_filters(self, **changes: Any) -> None:
        self.filters = replace(self.filters, **changes)
        self._show()

    def _window_label(self) -> str:
        if self.range is None:
            return WINDOW_LABELS[self.window]
        since, until = (t.astimezone().strftime("%m-%d %H:%M") for t in self.range)
        return f"{since} → {until}"

    def action_time_range(self) -> None:
        self.app.push_screen(TimeRangeScreen(self.clock), self._set_range)

    def _set_range(self, chosen: TimeRange | None) -> None:
        if chosen is not None:
            self.range = chosen
            self.loaded = False
            self._update_bar()
            self.reload()

    def action_window(self) -> None:
        names = list(WINDOWS)
        if self.range is not None:  # back to sliding windows, where the user left them
            self.range = None
        else:
            self.window = names[(names.index(self.window) + 1) % len(names)]
        self.loaded = False
        self._update_bar()
        self.reload()

    def action_account(self) -> None:
        self._set_filters(account=_cycle([None, *self._accounts()], self.filters.account))

    def action_kind(self) -> None:
        kinds = sorted({e.kind for e in self._events.values()})
        self._set_filters(kind=_cycle([None, *kinds], self.filters.kind))

    def action_state(self) -> None:
        states = states_of(self._events.values())
        self._set_filters(state=_cycle([None, *states], self.filters.state))

    def action_target(self) -> None:
        if self.filters.target is not None:
            self._set_filters(target=None)
            return
        event = self.table.cursor_event
        if event is not None:
            self._set_filters(target=(event.account, event.target, owner_label(event)))

    def action_timeline(self) -> None:
        event = self.table.cursor_event
        if event is not None:
            self.app.push_screen(
                TimelineScreen(
                    self.portal, self.clock, event.account, event.target, owner_label(event)
                )
            )

    def action_plot(self) -> None:
        self.plot.display = not self.plot.display

    def action_fold(self) -> None:
        self.unfolded = not self.unfolded
        self._show()

    def action_filter(self) -> None:
        self.filter_input.display = True
        self.set_focus(self.filter_input)
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.filter_input.display = False
        self.filters = Filters()
        self.set_focus(self.table)
        self._show()

    @on(Input.Changed, "#filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        self._set_filters(text=event.value)

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.filter_input.display = False
        self.set_focus(self.table)
        self.refresh_bindings()

    @on(EventTable.RowHighlighted)
    def _on_row_highlighted(self) -> None:
        self.refresh_bindings()
