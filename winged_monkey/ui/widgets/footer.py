"""Textual's Footer, showing only the keys that fit whole, and without the keys it kept
after each rebuild.

Whole keys: Textual's Footer lays its keys out in one row and lets the last ones run off
its right edge, so at 60 columns the instances view ended `⏎ i`, a word cut mid-way. This
footer hides (display) each key from the first that would not fit whole, after each
rebuild and each resize: the screens list their keys in order of value (bindings.py's
`footer_order`), so the least useful go first, and `?` lists every one.

Nothing kept: Textual's Footer (8.2) binds every key it composes to its own `compact`
(`data_bind`), and Textual forgets a binding whose widget is gone only when the bound value
changes, which in wm it never does. The footer rebuilds its keys on each
`refresh_bindings` (a key of the view turning on or off: an action starting or ending, the
cursor on a row in another state), so a session kept every key it ever showed, widgets and
all: about 19 widgets per start through the TUI, memory and the UI's longest callback
growing all day (scripts/soak_session.py, 2,000 polls with a start every 10: 79 to 177 MB,
93 to 535 ms). This footer runs compact's watchers after each rebuild (setting it to
itself, Textual's public `mutate_reactive`), which is when Textual drops the bindings of
closed widgets.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets import Label

__all__ = ["Footer"]


class Footer(TextualFooter):
    """Textual's Footer, whose keys are whole or not shown, and whose rebuilds leave
    nothing behind."""

    async def recompose(self) -> None:
        # In one batch: the keys that do not fit are hidden before any is painted.
        async with self.batch():
            await super().recompose()
            self.fit_keys()
        # The replaced keys are closed now; the live ones are set to the value they hold.
        self.mutate_reactive(TextualFooter.compact)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_keys()

    def fit_keys(self) -> None:
        """Show the keys, in order, up to the last that fits whole in the footer's width;
        hide the rest. A key docked to a side (the palette's) stays, its room set aside."""
        width = self.size.width
        if not width or not self.is_attached:
            return  # not laid out yet (the resize that lays it out fits it), or closed
        shown = [child for child in self.children if child.styles.dock == "none"]
        for docked in self.children:
            if docked.styles.dock != "none":
                width -= self._width_of(docked, width) + docked.styles.margin.width
        # A group of keys and the label after it (`oO sort`) are one entry: both or none.
        entries: list[list[Widget]] = []
        for child in shown:
            if isinstance(child, Label) and entries and entries[-1][0].is_container:
                entries[-1].append(child)
            else:
                entries.append([child])
        right = 0
        margin_before = 0
        fits = True
        for entry in entries:
            for part in entry:
                margin = part.styles.margin
                left = right + max(margin_before, margin.left)
                right = left + self._width_of(part, width)
                margin_before = margin.right
            fits = fits and right <= width
            for part in entry:
                part.display = fits

    def _width_of(self, key: Widget, width: int) -> int:
        """The cells `key` takes, its padding and border included, margins not."""
        if key.styles.width is not None and key.styles.width.is_cells:
            return int(key.styles.width.value)
        size = Size(width, 1)
        return key.get_content_width(size, self.app.size) + key.styles.gutter.width
