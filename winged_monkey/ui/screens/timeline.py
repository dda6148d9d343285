"""One target's timeline: every event in order, and the time it spent in each state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from winged_monkey.engine.portal import Portal
from winged_monkey.engine.recorder import History
from winged_monkey.models import Event, InstanceState, part_detail
from winged_monkey.terminal import history, render
from winged_monkey.ui import format as fmt
from winged_monkey.ui.screens.event_log import LOAD_LIMIT, EventLogScreen, Query
from winged_monkey.ui.widgets.event_table import RowTable, outcome_text, time_text
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.header import Header
from winged_monkey.ui.widgets.vi_keys import taken_keys
from winged_monkey.user.binding_ids import BindingId

COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("time", "time", 11),
    ("kind", "kind", None),
    ("change", "old→new", None),
    ("for", "in state", None),
    ("outcome", "outcome", None),
    ("user", "user", None),
    ("detail", "detail", None),
)
BAR_WIDTH = 30
BAR_MIN = 4
STATE_WIDTH = 13
TICK_S = 5.0
STATE_ROWS = 4


#: The time since the target was last observed, in the state summary: not a state's.
NOT_SEEN = "not seen"


#: Time no state was seen is drawn apart from every state's, in this glyph.
UNSEEN_BAR = "?"


def _state_look(state: str) -> Text:
    if state in (NOT_SEEN, history.NOT_LISTED):
        return Text(f"? {state}", style="dim")
    try:
        return fmt.state_text(InstanceState(state))
    except ValueError:
        return Text(state)


#: Before the time of a state held since before the first event (its launch unknown).
AT_LEAST = "≥"


def state_summary(
    spans: list[history.StateSpan], now: datetime, width: int, seen: datetime | None = None
) -> RenderableType:
    """One line per state: a bar of its share of the timed history, the time and the share,
    for the `width` it is drawn at: the bar is shortened to leave the time and the share in
    sight (in half a tmux window its 30 cells cropped both). Given `seen`, when the target
    was last observed (its account is not listed now), the current state is timed until
    then and the time since is `? not seen`, no state's. A state held since before the
    first event (its launch time unknown) is timed `≥` from that event, and a line says so."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, min_width=STATE_WIDTH)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(no_wrap=True, justify="right")
    totals = history.time_in_states(spans, seen or now)
    if seen is not None and seen < now:
        totals.append((NOT_SEEN, (now - seen).total_seconds()))
        totals.sort(key=lambda item: (-item[1], item[0]))
    whole = sum(seconds for _, seconds in totals) or 1.0
    shown, rest = totals[:STATE_ROWS], totals[STATE_ROWS:]
    found_in = {span.state for span in spans if not span.began}

    def timed(state: str, seconds: float) -> str:
        return f"{AT_LEAST if state in found_in else ''}{history.duration_text(seconds)}"

    times = max(len(timed(state, seconds)) for state, seconds in totals)
    bar_width = max(BAR_MIN, min(BAR_WIDTH, width - STATE_WIDTH - times - 4 - 3))
    for state, seconds in shown:
        share = seconds / whole
        filled = round(share * bar_width)
        unseen = state in (NOT_SEEN, history.NOT_LISTED)
        bar = Text(
            UNSEEN_BAR * filled if unseen else "█" * filled, style="dim" if unseen else "cyan"
        )
        bar.append("░" * (bar_width - filled), style="dim")
        table.add_row(_state_look(state), bar, timed(state, seconds), f"{share:.0%}".rjust(4))
    if rest:
        others = sum(seconds for _, seconds in rest)
        table.add_row(
            Text(f"{len(rest)} more", style="dim"),
            Text(""),
            history.duration_text(others),
            f"{others / whole:.0%}".rjust(4),
        )
    if not found_in:
        return table
    said = f"{AT_LEAST} from the first event seen: when it began (its launch) is unknown"
    return Group(table, Text(said, style="dim", no_wrap=True, overflow="ellipsis"))


class TimelineScreen(EventLogScreen):
    """Oldest first; the cursor starts on the newest event. Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "back", id=BindingId.TIMELINE_CLOSE, tooltip="Back to the view"),
    ]

    def __init__(
        self,
        portal: Portal,
        clock: Callable[[], datetime],
        account: str,
        target: str,
        label: str = "",
    ) -> None:
        super().__init__(portal, clock)
        self.account = account
        self.target = target
        self.label = render.printable(label or target)  # a name, as the table shows it
        self._drawn: tuple[str, str] | None = None  # `_said()` when last drawn
        self.events: list[Event] = []
        self.spans: list[history.StateSpan] = []
        #: When the target was last observed, while its account does not list it now.
        self.seen: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="timeline-title")
        yield Static(id="timeline-states")
        taken = taken_keys(self.portal.config.keys, self.BINDINGS)
        yield RowTable(id="timeline", cursor_type="row", zebra_stripes=False, taken=taken)
        # The cursor row's detail, whole: the column is cut, and off an 80-column screen.
        yield Static(id="timeline-detail")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#timeline", DataTable)

    def on_mount(self) -> None:
        self.sub_title = f"timeline of {self.label}"
        for key, label, width in COLUMNS:
            self.table.add_column(label, key=key, width=width)
        self.table.focus()
        self._show()
        self.reload()
        self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        """The current state's time grows with the clock, not only with new events: drawn
        again when its words move (a state held for days: once a day, not every 5 s, each
        redraw some 8 KB over a slow link)."""
        if self.spans and self.spans[-1].end is None and self._said() != self._drawn:
            self._show()

    def _said(self) -> tuple[str, str]:
        """What the clock changes on screen: the title, and the current state's time."""
        now = self.clock()
        held = self.spans[-1].seconds(self.seen or now) if self.spans else 0.0
        return self._title(now).plain, history.duration_text(held)

    def store_query(self) -> Query:
        account, target = self.account, self.target

        def run(store: History) -> list[Event]:
            return store.events(account=account, target=target, limit=LOAD_LIMIT)

        return run

    def show_loaded(self, events: list[Event]) -> None:
        self.events = sorted(reversed(events), key=lambda e: e.at)
        self._show()

    def show_new(self, events: list[Event]) -> None:
        known = {e.key for e in self.events}
        mine = [
            e
            for e in events
            if (e.account, e.target) == (self.account, self.target) and e.key not in known
        ]
        if mine:
            self.events = sorted([*self.events, *mine], key=lambda e: e.at)
            self._show()

    def _show(self) -> None:
        now = self.clock()
        instance = self.portal.instance(f"{self.account}/{self.target}")
        # Its state before the first event is timed from its launch, when the cloud says.
        launched = instance.created_at if instance is not None else None
        self.spans = history.state_spans(self.events, launched)
        last_seen = self._last_seen()
        self.seen = None
        if last_seen is not None:  # the current state is timed until it was seen, no further
            current = self.spans[-1] if self.spans and self.spans[-1].end is None else None
            since = current.start if current is not None else None
            seen = last_seen[1] or since
            self.seen = max(seen, since) if seen and since else seen
        self.query_one("#timeline-title", Static).update(self._title(now))
        states = self.query_one("#timeline-states", Static)
        seen = self.seen
        if self.spans:
            states.update(fmt.AtWidth(partial(state_summary, self.spans, now, seen=seen)))
        elif not self.loaded:
            states.update(Text("loading…", style="dim"))
        else:
            states.update(Text("no state changes recorded yet", style="dim"))
        opened = {span.opened_by: span for span in self.spans}
        # A state last seen before a gap held at least until then: maybe longer.
        cut = {
            span.opened_by
            for span, after in zip(self.spans, self.spans[1:], strict=False)
            if after.state == history.NOT_LISTED
        }
        table = self.table
        at_end = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        row = table.cursor_row
        table.clear()
        if self.spans and self.spans[0].opened_by == history.LAUNCHED:
            self._add_launch(self.spans[0], now, seen)
        for event in self.events:
            gap = opened.get(f"{event.key}#{history.NOT_LISTED}")
            if gap is not None:  # the time before a change found late: no state seen
                self._add_gap(gap)
            span = opened.get(event.key)
            held = Text("") if span is None else self._held(span, now, seen, cut)
            table.add_row(
                Text(time_text(event.at), style="dim"),
                Text(event.kind),
                Text(history.change_text(event)),
                held,
                outcome_text(event.outcome),
                Text(event.user or "", style="dim"),
                Text(fmt.one_line(part_detail(event), 60), style="dim"),
                key=event.key,
            )
        if table.row_count:
            table.move_cursor(row=table.row_count - 1 if at_end else row, animate=False)
        self._show_detail()
        self._drawn = self._said()

    @staticmethod
    def _held(span: history.StateSpan, now: datetime, seen: datetime | None, cut: set[str]) -> Text:
        """The time in the state `span` opened, as its row says it: `+` while it holds,
        `≥` where it held longer than seen (before a gap, or since before the first event)."""
        at_least = AT_LEAST if span.opened_by in cut or not span.began else ""
        if span.end is None and seen is not None:  # then not seen: at least this long
            return Text(f"{AT_LEAST}{history.duration_text(span.seconds(seen))}", style="bold")
        if span.end is None:
            return Text(f"{at_least}{history.duration_text(span.seconds(now))}+", style="bold")
        return Text(f"{at_least}{history.duration_text(span.seconds(now))}")

    def _add_launch(self, span: history.StateSpan, now: datetime, seen: datetime | None) -> None:
        """A row for the launch (the cloud's creation time), where the state before the
        first event is timed from."""
        self.table.add_row(
            Text(time_text(span.start), style="dim"),
            Text("created", style="dim"),
            Text(""),
            self._held(span, now, seen, set()),
            Text(""),
            Text(""),
            Text("its launch time", style="dim"),  # the kind says it: created
            key=history.LAUNCHED,
        )

    def _add_gap(self, gap: history.StateSpan) -> None:
        """A row for the time a change found late went unseen: from when its target was
        last listed (in the state before) to when the change was found."""
        self.table.add_row(
            Text(time_text(gap.start), style="dim"),
            Text("?", style="dim"),
            Text("unknown", style="dim"),
            Text(f"? {history.duration_text(gap.seconds(gap.start))}", style="dim"),
            Text(""),
            Text(""),
            Text("not listed: its state is unknown until the change was found", style="dim"),
            key=gap.opened_by,
        )

    @on(DataTable.RowHighlighted, "#timeline")
    def _show_detail(self) -> None:
        """The provider's reason (a failure's, say) of the event under the cursor."""
        table = self.table
        event = None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            event = next((e for e in self.events if e.key == key), None)
        detail = self.query_one("#timeline-detail", Static)
        said = part_detail(event) if event is not None else ""
        detail.display = bool(said)
        if event is not None and said:
            line = Text.assemble((f"{time_text(event.at)} ", "dim"), outcome_text(event.outcome))
            line.append(f" {' '.join(said.split())}")
            detail.update(line)

    def _last_seen(self) -> tuple[str, datetime | None, str] | None:
        """While the target's account does not list it now (the account failed or is not
        listed yet, or its source keeps the row as last seen): the state last observed, when
        (None: unknown) and why not now. None while it is listed now, or not held at all."""
        instance = self.portal.instance(f"{self.account}/{self.target}")
        if instance is None:
            return None
        unlisted = history.not_listed_since(instance, self.portal.status(self.account))
        if unlisted is None:
            return None
        listed, why = unlisted
        last = self.spans[-1] if self.spans and self.spans[-1].end is None else None
        seen = history.seen_until(self.events, listed)
        if last is not None and seen is not None and seen != listed:
            return last.state, seen, why  # a newer event saw it: an action's outcome
        return str(instance.state), listed, why

    def _title(self, now: datetime) -> Text:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(self.label, style="bold")
        title.append(f"  {self.account}/{self.target}", style="dim")
        instance = self.portal.instance(f"{self.account}/{self.target}")
        last = self.spans[-1] if self.spans and self.spans[-1].end is None else None
        last_seen = self._last_seen()
        if last_seen is not None:  # never as now, nor timed up to now
            state, seen, why = last_seen
            title.append("  last seen ")
            title.append_text(_state_look(state))
            ago = f" {history.duration_text((now - seen).total_seconds())} ago" if seen else ""
            title.append(f"{ago} ({why}{'' if seen else '; when unknown'})")
            last = None
        elif instance is not None:
            title.append("  now ")
            title.append_text(fmt.state_text(instance.state))
            if last is not None and last.state != instance.state:
                last = None  # the log has not caught up with the inventory: no guess
        elif last is not None:
            title.append("  last seen ")
            title.append_text(_state_look(last.state))
        if last is not None:
            at_least = "" if last.began else AT_LEAST
            title.append(f" for {at_least}{history.duration_text(last.seconds(now))}")
        title.append(f"  · {len(self.events)} events", style="dim")
        return title

    def action_close(self) -> None:
        self.dismiss(None)
