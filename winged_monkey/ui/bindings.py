"""The keys the instances and events views share, written once: filter, unfilter, timeline,
refresh. Each view lists them in its own BINDINGS (the help reads a screen's own list)."""

from __future__ import annotations

from textual.binding import Binding


def filter_keys(what: str, clear: str) -> list[Binding]:
    """`/` opens the view's filter (`what` it filters), escape clears it (`clear`)."""
    return [
        # Priority: handled before the keys typed right after it are routed, so none is lost.
        Binding("slash", "filter", "filter", id="filter", tooltip=what, priority=True),
        Binding("escape", "clear_filter", "unfilter", id="clear_filter", tooltip=clear),
    ]


def timeline_key(tooltip: str) -> Binding:
    """`t`: the timeline of the row's target (the footer is full at 80 columns: help and
    the palette list it)."""
    return Binding("t", "timeline", "timeline", id="timeline", tooltip=tooltip, show=False)


def refresh_key(*, show: bool) -> Binding:
    """`R`: poll every account now, from whichever view (the instances view polls)."""
    return Binding(
        "R",
        "app.refresh_inventory",
        "refresh",
        id="refresh",
        tooltip="Poll every account now",
        show=show,
    )
