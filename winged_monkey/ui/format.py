"""How values look on screen: state glyphs and colours, compact ages, prices, IPs.

Pure functions of their arguments (the clock's `now` is passed in), so views stay
deterministic under test.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from winged_monkey.models import AccountStatus, Instance, InstanceState
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


def first_ip(ips: tuple[str, ...]) -> str:
    """The first address, with a count of the others."""
    if not ips:
        return ""
    return ips[0] if len(ips) == 1 else f"{ips[0]} +{len(ips) - 1}"


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


def account_line(
    status: AccountStatus, now: datetime, width: int, name_width: int, read_only: bool = False
) -> Text:
    """One strip line: `● aws-dev    ok 12s · 5 instances`, `✗ lab  failed: reason…`."""
    glyph, style = PHASE_LOOK["loading" if status.refreshing else status.phase]
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{glyph} ", style=style)
    line.append(one_line(status.name, name_width).ljust(name_width), style="bold")
    line.append(" ro " if read_only else "    ", style="dim")
    age = age_since(status.fetched_at, now)
    if status.phase == "ok":
        detail = f"ok {age} · {_count(status.count)}"
    elif status.phase == "stale":
        detail = f"stale: cached {age} ago · {_count(status.count)}" if age else "stale (cached)"
    elif status.phase == "loading":
        detail = "loading…" + (f" (shown: cached {age} ago)" if age else "")
    else:
        kept = f" ({status.count} shown, {age} old)" if age and status.count else ""
        detail = f"failed{kept}: {status.error or 'unknown reason'}"
    room = max(0, width - len(line))
    line.append(one_line(detail, room), style=style if status.phase != "ok" else "")
    return line


def _count(n: int) -> str:
    return f"{n} instance{'s' if n != 1 else ''}"


def instance_search_text(instance: Instance) -> str:
    """Everything the filter matches on (lowercase): what the table shows."""
    fields = (
        str(instance.state),
        instance.name,
        instance.account,
        instance.where,
        size_text(instance, unknown=""),
        price_text(instance.price_hourly),
        *instance.public_ips,
        *instance.private_ips,
        instance.id,
    )
    return " ".join(fields).lower()
