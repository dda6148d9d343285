"""The activity plot: events per bin by kind, and instances running per account, side by side.

Hand-drawn text bars (eighth blocks) so it reads at 80x24, without colour, in tmux.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from winged_monkey.models import Event, Instance
from winged_monkey.terminal import history
from winged_monkey.ui import format as fmt

LABEL_WIDTH = 9
TOTAL_WIDTH = 4
GAP = 2
ROWS = 4  # kinds and accounts shown; the rest is summed or counted
#: A chart narrower than this has too few bars to read: below two of them side by side
#: (a 40-column pane, where the pair wrapped each total onto a line of its own), the
#: events by kind are drawn alone.
HALF_MIN = 20


@dataclass(frozen=True)
class PlotData:
    """What the plot draws over [start, end].

    `events` are counted by kind; `scope` (every event of the targets in view, whatever
    its kind) and `instances` (the inventory now) give the running instances; `unlisted`,
    the instances their account does not list now (failed, not listed yet, kept as last
    seen), with when they were last listed (None: unknown): not running after that, unknown.
    `silent`: the accounts not listed now, with when they last were (None: never).
    """

    start: datetime
    end: datetime
    events: Sequence[Event] = ()
    instances: Sequence[Instance] = ()
    accounts: Sequence[str] = ()
    scope: Sequence[Event] = ()
    unlisted: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    silent: Mapping[str, datetime | None] = field(default_factory=dict)


#: A bin in which no instance of the account was seen running and some were not seen at
#: all: not "none ran" (`·`).
UNSEEN = "?"


def _axis(bins: history.Bins, width: int) -> Text:
    """`-24h` under the first bin, `now` under the last."""
    left = f"-{history.duration_text(bins.size * bins.count).replace(' ', '')}"
    line = left.ljust(max(0, width - 3)) + "now"
    return Text(line[: max(width, 3)], style="dim")


def _chart(
    title: str,
    rows: list[tuple[str, list[int]]],
    totals: list[str],
    bins: history.Bins,
    width: int,
    empty: str,
    unseen: dict[str, list[int]] | None = None,
) -> list[Text]:
    """A titled block of labelled sparklines `width` cells wide; a bin with nothing to draw
    where `unseen` counts some is drawn UNSEEN."""
    bars = max(1, width - LABEL_WIDTH - TOTAL_WIDTH - 1)
    lines = [Text(fmt.one_line(title, width).ljust(width), style="bold")]
    if not rows:
        lines.append(Text(fmt.one_line(empty, width).ljust(width), style="dim"))
        return lines
    peak = max((max(values) for _, values in rows), default=0)
    cell = max(1, bars // bins.count)
    for (label, values), total in zip(rows, totals, strict=True):
        line = Text(no_wrap=True)
        line.append(fmt.one_line(label, LABEL_WIDTH - 1).ljust(LABEL_WIDTH), style="bold")
        sparks = history.spark(values, peak)
        unknown = (unseen or {}).get(label)
        if unknown:
            sparks = "".join(
                UNSEEN if c == "·" and n else c for c, n in zip(sparks, unknown, strict=True)
            )
        drawn = "".join(c * cell for c in sparks)
        line.append(drawn.ljust(bars), style="cyan")
        line.append(" " + total.rjust(TOTAL_WIDTH))
        line.highlight_regex(r"[·?]+", "dim")
        lines.append(line)
    axis = Text(" " * LABEL_WIDTH)
    axis.append_text(_axis(bins, min(bars, cell * bins.count)))
    lines.append(axis)
    return lines


def _peak(running: list[int], unseen: list[int] | None) -> str:
    """The most that ran at once; with some instances unseen, at least that (`?`: none
    was seen running)."""
    peak = max(running, default=0)
    if not any(unseen or ()):
        return str(peak)
    return f"≥{peak}" if peak else UNSEEN


class ActivityPlot(Widget):
    """Two small-multiple charts over the same bins (the first alone in a narrow pane);
    updated with `show(PlotData)`."""

    DEFAULT_CSS = """
    ActivityPlot {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data: PlotData | None = None

    def show(self, data: PlotData) -> None:
        self._data = data
        self.refresh(layout=True)

    @property
    def data(self) -> PlotData | None:
        return self._data

    def lines(self, width: int) -> list[Text]:
        """The plot as lines of text `width` cells wide (also what tests read)."""
        data = self._data
        if data is None:
            return [Text("loading…", style="dim")]
        alone = width < 2 * HALF_MIN + GAP  # half a tmux window: the events alone, whole
        half = width if alone else (width - GAP) // 2
        bars = max(1, half - LABEL_WIDTH - TOTAL_WIDTH - 1)
        bins = history.choose_bins(data.start, data.end, bars)
        unit = history.bin_label(bins.size)

        kinds = history.activity_by_kind(data.events, bins, ROWS)
        left = _chart(
            f"events per {unit} by kind · total",
            kinds,
            [str(sum(values)) for _, values in kinds],
            bins,
            half,
            "no events in this window",
        )
        if alone:
            return left
        args = (data.scope, data.instances, data.accounts, bins, data.unlisted)
        running = history.running_by_account(*args)
        unseen = history.unseen_by_account(*args, silent=data.silent)
        ranked = sorted(running.items(), key=lambda item: (-max(item[1], default=0), item[0]))
        shown = sorted(ranked[:ROWS]) if len(ranked) > ROWS else sorted(ranked)
        more = f" (+{len(ranked) - ROWS} more)" if len(ranked) > ROWS else ""
        said = f" · {UNSEEN} unknown" if any(any(v) for v in unseen.values()) else ""
        right = _chart(
            f"running per account{more} · peak{said}",
            shown,
            [_peak(values, unseen.get(name)) for name, values in shown],
            bins,
            width - half - GAP,
            "no accounts",
            unseen,
        )
        height = max(len(left), len(right))
        out: list[Text] = []
        for n in range(height):
            line = Text(no_wrap=True, overflow="crop")
            piece = left[n].copy() if n < len(left) else Text()
            piece.truncate(half, pad=True)
            line.append_text(piece)
            line.append(" " * GAP)
            if n < len(right):
                line.append_text(right[n])
            out.append(line)
        return out

    def render(self) -> Text:
        return Text("\n", no_wrap=True).join(self.lines(self.content_size.width))
