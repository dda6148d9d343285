"""Every field of one instance, the provider's raw state and its extra dict, scrollable."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from winged_monkey.models import AccountStatus, Instance, InstanceState
from winged_monkey.terminal.render import price_text, printable, printable_lines
from winged_monkey.ui import format as fmt
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.vi_keys import ViScroll, taken_keys
from winged_monkey.user.binding_ids import BindingId

#: Wide enough for a cloud's ids (subnet-0123456789abcdef0) and an IPv4 address whole.
VALUE_WIDTH = 24


def _value(value: Any) -> Text:
    """A value as the user reads it: plain lines for a list of words, JSON for records
    (never a Python repr such as `{'device_name': ...}`)."""
    if value is None or value == () or value == {} or value == []:
        return Text("—", style="dim")
    if isinstance(value, tuple | list) and all(isinstance(v, str | int | float) for v in value):
        return Text("\n".join(printable(str(v)) for v in value))
    if isinstance(value, datetime):  # in the user's zone, as the events view's times
        return Text(fmt.exact_time(value))
    if isinstance(value, dict | tuple | list):  # JSON writes a control character as \uXXXX
        return Text(json.dumps(value, indent=2, sort_keys=True, default=str))
    # A name, folder or host as the cloud has it: its control characters never reach the
    # terminal (vSphere and libvirt names may hold a CSI), as in the table.
    return Text(printable_lines(str(value)))


def _price(instance: Instance) -> Text:
    """The hourly price, and why there is none where there is not (the table's `?` alone
    read as a fault)."""
    price = Text(price_text(instance.price_hourly))
    if instance.price_hourly is None and instance.state is not InstanceState.TERMINATED:
        price.append(
            "  no price known for this size (a private cloud's account sets one with price_hourly)",
            style="yellow",
        )
    return price


def unseen(instance: Instance, status: AccountStatus | None) -> str | None:
    """Why the row's state was not observed now, or None when its account listed it now:
    the account failed its last poll, or has not been listed yet (the cached start)."""
    why = status.unseen(instance) if status is not None else None
    if why == "failed":
        return "its account failed its last poll"
    if why == "not listed":
        return "its account is not listed yet"
    return None  # seen now, or an aggregator's row, which says its own why


def detail_table(
    instance: Instance, now: datetime, width: int, status: AccountStatus | None = None
) -> Table:
    """The fields as a grid of labels and values, for the `width` it is drawn at: the
    labels keep room for VALUE_WIDTH cells of value, wrapping first (in half a tmux window
    the longest label, `extra.block_device_mapping`, left 8 cells, and an id or an address
    folded there read as a shorter one)."""
    table = Table.grid(padding=(0, 2))
    labels = max(8, width - 2 - VALUE_WIDTH)
    table.add_column(style="bold", max_width=labels, overflow="fold")
    table.add_column(overflow="fold")
    state = fmt.state_text(instance.state)
    if instance.stale is not None:  # as last seen: say so where the state is read
        state.append(f"  as last seen: {instance.stale}", style="yellow")
    elif (why := unseen(instance, status)) is not None:
        listed = status.fetched_at if status is not None else None
        ago = f" {fmt.age_since(listed, now)} ago" if listed else " (when unknown)"
        state.append(f"  as last seen{ago}: {why}", style="yellow")
    rows: list[tuple[str, Text]] = [
        ("state", state),
        ("provider state", _value(instance.raw_state)),
        ("name", _value(instance.name)),
        ("id", _value(instance.id)),
        ("account", _value(instance.account)),
        ("where", _value(instance.where)),
        ("size", _value(instance.size)),
        ("image", _value(instance.image)),
        ("$/hour", _price(instance)),
        ("public IPs", _value(instance.public_ips)),
        ("private IPs", _value(instance.private_ips)),
        ("created", _value(instance.created_at)),
        ("age", Text(fmt.age_since(instance.created_at, now))),
    ]
    for label, value in rows:
        table.add_row(label, value)
    for key in sorted(instance.extra):
        # The provider's times (attach_time) in the user's zone, as `created` above.
        extra = fmt.local_times(instance.extra[key])
        table.add_row(Text(f"extra.{key}", style="bold dim"), _value(extra))
    return table


class DetailsScreen(Screen[None]):
    """Opened with enter on a row; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "close", "close", id=BindingId.DETAILS_CLOSE, tooltip="Back to the table"
        ),
    ]

    def __init__(
        self,
        instance: Instance,
        clock: Callable[[], datetime],
        keymap: Mapping[str, str] | None = None,
        status: AccountStatus | None = None,
    ) -> None:
        super().__init__()
        self.instance = instance
        #: Its account's status when opened: whether the row's state was observed now.
        self.status = status
        self._clock = clock
        self._taken = taken_keys(keymap, self.BINDINGS)

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble((printable(self.instance.name), "bold"), f"  {self.instance.key}"),
            id="details-title",
        )
        with ViScroll(id="details-body", taken=self._taken):
            yield Static(
                fmt.AtWidth(partial(detail_table, self.instance, self._clock(), status=self.status))
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ViScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
