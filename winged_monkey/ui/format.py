"""How values look on screen: state glyphs and colours, compact ages, prices, IPs.

Pure functions of their arguments (the clock's `now` is passed in), so views stay
deterministic under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from winged_monkey.models import Instance, InstanceState
from winged_monkey.terminal.render import (
    APP_GLYPH,
    CONTROLS,
    human_age,
    price_text,
    size_text,
    state_label,
)

S = InstanceState

#: Colour per state; the glyph and word (from `winged_monkey.terminal.render`) read without colour.
STATE_STYLE: dict[InstanceState, str] = {
    S.RUNNING: "green",
    S.STOPPED: "",
    S.PENDING: "yellow",
    S.STOPPING: "yellow",
    S.REBOOTING: "yellow",
    S.SUSPENDED: "cyan",
    S.ERROR: "bold red",
    S.TERMINATED: "dim",
    S.UNKNOWN: "",
}

STALE_STYLE = "dim"


def state_text(state: InstanceState) -> Text:
    return Text(state_label(state), style=STATE_STYLE[state])


def age_since(then: datetime | None, now: datetime) -> str:
    return human_age(then, now) if then is not None else ""


def exact_time(at: datetime) -> str:
    """A time to the second in the user's zone, with its offset, as `wm events` prints
    it (`2026-12-07 16:41:52-05:00`): the details' `created`, which read as UTC
    (`21:41:52+00:00`) beside the events view's and the timeline's local times. A time
    with no zone is the clouds' UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone().isoformat(" ", "seconds")


#: A provider's time in a string (EC2's `attach_time`, `launch_time`, ISO 8601): to the
#: second at least, so a date or a version (`2024-01-02`) is left as it is.
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def local_times(value: object) -> object:
    """`value` with every time in it, a datetime or a string a provider wrote as one,
    nested in lists and dicts too, as `exact_time` writes it: the details' extras read in
    the user's zone as `created` does, not in the provider's UTC."""
    if isinstance(value, datetime):
        return exact_time(value)
    if isinstance(value, str) and _ISO_TIME.fullmatch(value.strip()):
        try:
            return exact_time(datetime.fromisoformat(value.strip()))
        except ValueError:  # shaped as a time, not one (month 13): as the provider wrote it
            return value
    if isinstance(value, dict):
        return {key: local_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(local_times(item) for item in value)
    return value


#: The longest address a table cell shows whole (an IPv4 address always fits).
IP_CELL = 21


def first_ip(ips: tuple[str, ...]) -> str:
    """The first address, with a count of the others; a long IPv6 address as its first
    two groups and last two (2600:1f18:…:9c1e:42a7): whole, one IPv6-only instance made
    the column 39 cells wide and pushed age and size off an 80-column screen. The detail
    view shows it whole, and `Y` copies it."""
    if not ips:
        return ""
    first = ips[0]
    if len(first) > IP_CELL and ":" in first:
        groups = first.split(":")
        first = ":".join(groups[:2]) + ":…:" + ":".join(groups[-2:])
    return first if len(ips) == 1 else f"{first} +{len(ips) - 1}"


def one_line(text: str, width: int) -> str:
    """Collapse whitespace and cut to `width` cells with an ellipsis: a CJK character or an
    emoji takes two, so counting characters would make a wide name twice as wide."""
    flat = " ".join(text.split()).translate(CONTROLS)
    if cell_len(flat) <= width:
        return flat
    room, end = max(0, width - 1), 0
    for char in flat:
        room -= get_character_cell_size(char)
        if room < 0:
            break
        end += 1
    return flat[:end] + "…"


def name_cell(name: str, width: int) -> str:
    """A catalog item's name within `width`: when it does not fit and it is a path, its
    last part after `…/`, since a publisher's folders begin every one of its images' names
    (`ubuntu/images/hvm-ssd/u…` twice told two Ubuntu releases apart by nothing)."""
    flat = " ".join(name.split()).strip("/")
    if cell_len(flat) <= width or "/" not in flat:
        return one_line(name, width)
    return one_line("…/" + flat.rsplit("/", 1)[1], width)


def account_cell(instance: Instance, width: int) -> str:
    """The account column's text within `width`: `team/prod` for a row an aggregator holds;
    when that does not fit, the local account is cut first (`te…/prod`), since which of the
    team's accounts a row is on is what tells rows apart."""
    label = one_line(instance.account_label, width)
    source = instance.source_account
    if source is None or not label.endswith("…"):
        return label
    source = one_line(source, width - 2)
    local = one_line(instance.account, max(2, width - cell_len(source) - 1))
    return one_line(f"{local}/{source}", width)


def name_text(instance: Instance, width: int) -> Text:
    """The name, cut to `width`; an app's begins with a glyph so it reads without colour."""
    if instance.kind != "app":
        return Text(one_line(instance.name, width))
    return Text.assemble((f"{APP_GLYPH} ", "bold cyan"), one_line(instance.name, width - 2))


#: Glyph and style per account phase in the strip.
PHASE_LOOK: dict[str, tuple[str, str]] = {
    "loading": ("⟳", "yellow"),
    "ok": ("●", "green"),
    "stale": ("◌", "dim"),
    "failed": ("✗", "bold red"),
}


def instance_search_text(instance: Instance) -> str:
    """What the filter matches anywhere in (lowercase): what the table shows."""
    fields = (
        str(instance.state),
        instance.name,
        instance.account_label,
        instance.where,
        size_text(instance, unknown=""),
        price_text(instance.price_hourly),
        *instance.public_ips,
        *instance.private_ips,
    )
    return " ".join(fields).lower()


@dataclass(frozen=True)
class AtWidth:
    """A renderable built for the width it is drawn at (a Static's content that fits a
    narrow pane as well as a wide one): `build(width)` once per render."""

    build: Callable[[int], RenderableType]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(options.max_width)
