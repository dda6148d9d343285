"""The account strip: one compact line per account (loading, ok and age, stale, failed and why)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from winged_monkey.models import AccountStatus
from winged_monkey.ui import format as fmt


class AccountStrip(Widget):
    """Shows the latest status of each account; ages follow the clock once a second."""

    DEFAULT_CSS = """
    AccountStrip {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        read_only: Collection[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._read_only = frozenset(read_only)
        self._statuses: dict[str, AccountStatus] = {}

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def set_statuses(self, statuses: Iterable[AccountStatus]) -> None:
        for status in statuses:
            self._statuses[status.name] = status
        self.refresh(layout=True)

    def update_status(self, status: AccountStatus) -> None:
        self.set_statuses([status])

    def status(self, name: str) -> AccountStatus | None:
        return self._statuses.get(name)

    def render(self) -> Text:
        if not self._statuses:
            return Text("no accounts configured: add [[accounts]] to the config", style="dim")
        now = self._clock()
        width = max(10, self.content_size.width)
        name_width = min(16, max(len(name) for name in self._statuses))
        lines = [
            fmt.account_line(status, now, width, name_width, status.name in self._read_only)
            for status in self._statuses.values()
        ]
        return Text("\n", no_wrap=True).join(lines)
