"""Plain-text rendering shared by the CLI and the TUI: ages, prices, state glyphs, tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from winged_monkey.models import Instance, InstanceState

S = InstanceState

#: A glyph per state so the table reads without colour.
STATE_GLYPHS: dict[InstanceState, str] = {
    S.RUNNING: "▶",
    S.STOPPED: "■",
    S.PENDING: "↑",
    S.STOPPING: "↓",
    S.REBOOTING: "↻",
    S.SUSPENDED: "‖",
    S.TERMINATED: "†",
    S.ERROR: "✗",
    S.UNKNOWN: "?",
}

HEADER = ("STATE", "NAME", "ACCOUNT", "WHERE", "SIZE", "$/H", "AGE", "PUBLIC IP", "PRIVATE IP")


def state_label(state: InstanceState) -> str:
    return f"{STATE_GLYPHS[state]} {state}"


def human_age(since: datetime | None, now: datetime) -> str:
    """Compact age: 45s, 12m, 5h, 3d, 8w; '?' when unknown."""
    if since is None:
        return "?"
    seconds = max(0, int((now - since).total_seconds()))
    for size, unit in ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def price_text(price: float | None) -> str:
    """Unknown is '?', never 0."""
    if price is None:
        return "?"
    return f"{price:.3f}" if price < 10 else f"{price:.2f}"


#: Marks an n-tier app in the name column of the TUI.
APP_GLYPH = "◆"


def size_text(instance: Instance, unknown: str = "?") -> str:
    """The size; for an app, "app" and its member count ("app (3)")."""
    if instance.kind == "app":
        return "app" if instance.members is None else f"app ({instance.members})"
    return instance.size or unknown


def instance_row(instance: Instance, now: datetime) -> tuple[str, ...]:
    return (
        state_label(instance.state),
        instance.name,
        instance.account,
        instance.where,
        size_text(instance),
        price_text(instance.price_hourly),
        human_age(instance.created_at, now),
        ", ".join(instance.public_ips) or "-",
        ", ".join(instance.private_ips) or "-",
    )


def instance_rows(instances: Iterable[Instance], now: datetime) -> list[tuple[str, ...]]:
    return [HEADER, *(instance_row(i, now) for i in instances)]


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
