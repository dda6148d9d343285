"""Every account's full status: backend, phase, age of its data, count, and its whole error.

The strip on the main screen shortens messages to one line; here they are wrapped, never
cut. Provider text goes in as `rich.text.Text`, so `[brackets]` in it are never markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus
from winged_monkey.ui import format as fmt
from winged_monkey.ui.widgets.account_strip import PHASE_RANK, by_urgency, strip_age
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.header import Header
from winged_monkey.ui.widgets.vi_keys import ViScroll, taken_keys
from winged_monkey.user.binding_ids import BindingId

#: Column widths of the heading and each account's line.
NAME, BACKEND, PHASE, AGE = 16, 19, 12, 10


def summary(statuses: Iterable[AccountStatus]) -> str:
    """`6 accounts: 3 failed, 1 stale, 2 ok` (worst first)."""
    phases: Counter[str] = Counter(s.phase for s in statuses)
    total = sum(phases.values())
    parts = ", ".join(f"{phases[p]} {p}" for p in PHASE_RANK if phases[p])
    return f"{total} account{'' if total == 1 else 's'}: {parts}" if total else "no accounts"


def account_block(
    status: AccountStatus, backend: str, now: datetime, read_only: bool
) -> RenderableType:
    """The account's line, then its error (or what it shows) wrapped under it."""
    glyph, style = fmt.PHASE_LOOK["loading" if status.refreshing else status.phase]
    phase = status.phase + (" ⟳" if status.refreshing else "")
    age = strip_age(status.fetched_at, now) or "never"  # to the minute, as the strip's
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{glyph} ", style=style)
    line.append(fmt.one_line(status.name, NAME).ljust(NAME), style="bold")
    line.append(" ro " if read_only else "    ", style="dim")
    line.append(fmt.one_line(backend, BACKEND).ljust(BACKEND + 1))
    line.append(phase.ljust(PHASE), style=style if status.phase != "ok" else "green")
    line.append(age.ljust(AGE))
    # Never listed and no rows kept: how many it holds, nobody saw (not 0).
    line.append("?" if status.fetched_at is None and not status.count else str(status.count))
    if status.stale:  # rows its source could not list now: enter on one says why
        line.append(f" ({status.stale} as last seen)", style="yellow")
    below: list[RenderableType] = []
    whole = fmt.one_line(status.name, len(status.name) * 2)  # (a wide character: two cells)
    if fmt.one_line(status.name, NAME) != whole:  # cut in its column: whole here
        below.append(Text(whole, style="bold", overflow="fold"))
    if status.phase == "failed":
        # Whole, wrapped, long words folded: the remedy at the end of a message must show.
        below.append(Text(status.error or "unknown reason", style="red", overflow="fold"))
    elif status.unlisted:
        below.append(
            Text("\n".join(f"not listed: {u.line}" for u in status.unlisted), style="yellow")
        )
    if not below:
        return line
    return Group(line, Padding(Group(*below), (0, 0, 0, 4)))


def accounts_renderable(
    statuses: Iterable[AccountStatus],
    backends: Callable[[str], str],
    now: datetime,
    read_only: Collection[str] = (),
) -> RenderableType:
    heading = Text(
        "  "
        + "account".ljust(NAME + 4)
        + "backend".ljust(BACKEND + 1)
        + "phase".ljust(PHASE)
        + "data age".ljust(AGE)
        + "instances",
        style="bold dim",
        no_wrap=True,
        overflow="ellipsis",
    )
    blocks = [
        account_block(s, backends(s.name), now, s.name in read_only) for s in by_urgency(statuses)
    ]
    if not blocks:
        return Text("No accounts configured: add [[accounts]] to the config.", style="dim")
    return Group(heading, *blocks)


class AccountsScreen(Screen[None]):
    """Every account, failures first, kept current from the portal; escape goes back."""

    # Focused as it composes, not later from on_mount: keys typed ahead of the view
    # (`:events⏎` then more) reach it.
    AUTO_FOCUS = "#accounts-list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", "back", id=BindingId.ACCOUNTS_CLOSE, tooltip="Back to the instances"
        ),
        Binding(
            "R", "app.refresh_inventory", "refresh", id=BindingId.REFRESH, tooltip="Poll accounts"
        ),
    ]

    def __init__(self, portal: Portal, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.portal = portal
        self.clock = clock
        self._shown: object = None  # what the body was last drawn from

    def compose(self) -> ComposeResult:
        yield Header()
        with ViScroll(id="accounts-list", taken=taken_keys(self.portal.config.keys, self.BINDINGS)):
            yield Static(id="accounts-body")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.show()
        # The portal's statuses are in memory: reading them each second costs no IO, and
        # the ages and phases follow the polls the instances view runs.
        self.set_interval(1.0, self.show)

    def _backend(self, name: str) -> str:
        config = self.portal.account_config(name)
        return " ".join(part for part in (config.backend, config.provider) if part)

    def show(self) -> None:
        if not self.is_current:
            return
        statuses = self.portal.statuses()
        read_only = {a.name for a in self.portal.config.accounts if a.read_only}
        now = self.clock()
        # Drawn again only when what it shows changed: each second's redraw repainted
        # every line, some 300 bytes each over a slow link, to say the same.
        shown = (tuple((s, strip_age(s.fetched_at, now)) for s in statuses), read_only)
        if shown == self._shown:
            return
        self._shown = shown
        self.sub_title = summary(statuses)
        body = self.query_one("#accounts-body", Static)
        body.update(accounts_renderable(statuses, self._backend, now, read_only))

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)
        else:  # the `:accounts` view is a mode of its own: back to the instances
            self.app.switch_mode("instances")
