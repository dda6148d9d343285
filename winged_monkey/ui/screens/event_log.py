"""A view over the event log: loads a query in a thread, then follows what is recorded next.

The store is only touched from thread workers; results come back as messages. The
next poll of `events_after` is scheduled when the previous one finished, and only
while the view is on screen (a hidden view catches up when it is shown again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from winged_monkey.engine.portal import Portal
from winged_monkey.engine.recorder import History
from winged_monkey.errors import WMError
from winged_monkey.models import Event

Query = Callable[[History], list[Event]]

POLL_S = 1.0
FAILED_POLL_S = 10.0
LOAD_LIMIT = 5000
POLL_LIMIT = 1000
_GROUPS = ("event-load", "event-poll")


class EventLogScreen(Screen[None]):
    """Subclasses say what to load (`store_query`) and show it (`show_loaded`, `show_new`)."""

    class Loaded(Message):
        """The view's query answered; `seq` is where following starts."""

        def __init__(self, generation: int, seq: int, events: list[Event]) -> None:
            super().__init__()
            self.generation = generation
            self.seq = seq
            self.events = events

    class Arrived(Message):
        """Events recorded since the last look (possibly none), oldest first."""

        def __init__(self, generation: int, seq: int, events: list[Event], more: bool) -> None:
            super().__init__()
            self.generation = generation
            self.seq = seq
            self.events = events
            self.more = more

    def __init__(self, portal: Portal, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.portal = portal
        self.clock = clock
        self.loaded = False
        self.load_error: str | None = None
        self._generation = 0
        self._seq = 0
        self._poll_timer: Timer | None = None
        self._poll_due = False
        self._warned: set[str] = set()

    # -- for subclasses --------------------------------------------------------

    def store_query(self) -> Query:
        """What to load, as a function of the store run in a thread (capture values now)."""
        raise NotImplementedError

    def show_loaded(self, events: list[Event]) -> None:
        raise NotImplementedError

    def show_new(self, events: list[Event]) -> None:
        raise NotImplementedError

    # -- loading ---------------------------------------------------------------

    def reload(self) -> None:
        """Run the query again (a filter that needs the store changed); stops following."""
        self._generation += 1
        self._stop_polling()
        self._load(self._generation, self.store_query())

    @work(
        thread=True,
        exclusive=True,
        group="event-load",
        exit_on_error=False,
        description="loading events",
    )
    def _load(self, generation: int, query: Query) -> None:
        store = self.portal.history
        seq = store.last_seq()  # before the query: what lands in between is seen twice, not lost
        events = query(store)
        self.post_message(self.Loaded(generation, seq, events))

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return
        self._seq = message.seq
        self.loaded = True
        self.load_error = None
        self.show_loaded(message.events)
        self._schedule_poll(POLL_S)

    # -- following -------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="event-poll",
        exit_on_error=False,
        description="following events",
    )
    def _poll(self, generation: int, seq: int) -> None:
        rows = self.portal.history.events_after(seq, limit=POLL_LIMIT)
        last = rows[-1][0] if rows else seq
        events = [event for _, event in rows]
        self.post_message(self.Arrived(generation, last, events, len(rows) == POLL_LIMIT))

    @on(Arrived)
    def _on_arrived(self, message: Arrived) -> None:
        if message.generation != self._generation:
            return
        self._seq = message.seq
        if message.events:
            self.show_new(message.events)
        self._schedule_poll(0.0 if message.more else POLL_S)

    def _schedule_poll(self, delay: float) -> None:
        self._stop_polling()
        self._poll_timer = self.set_timer(delay, self._on_poll_timer, name="event-poll")

    def _stop_polling(self) -> None:
        self._poll_due = False
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def _on_poll_timer(self) -> None:
        self._poll_timer = None
        if self.is_current:
            self._poll(self._generation, self._seq)
        else:  # another view is on screen: catch up when this one is shown again
            self._poll_due = True

    def on_screen_resume(self) -> None:
        if self._poll_due:
            self._poll_due = False
            self._poll(self._generation, self._seq)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in _GROUPS or event.state is not WorkerState.ERROR:
            return
        error = worker.error
        text = error.message if isinstance(error, WMError) else f"{type(error).__name__}: {error}"
        if text not in self._warned:
            self._warned.add(text)
            self.notify(text, title="Event log", severity="error", timeout=15, markup=False)
        if worker.group == "event-load":
            self.load_error = text
            self.show_loaded([])
            self._stop_polling()
            self._poll_timer = self.set_timer(FAILED_POLL_S, self.reload, name="event-reload")
        else:
            self._schedule_poll(FAILED_POLL_S)
