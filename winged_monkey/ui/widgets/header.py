"""Textual's Header, whose title says what fits its width in shorter words rather than
running into an ellipsis.

Textual's Header leaves its title the width less 18 cells (its icon's 8, its clock's 10):
42 at 60 columns, where the instances view's title ended `… · 12 instances · nam…`. The
views write their sub-title as parts in order of value, ` · ` between them (the counts
first, the sort last: the column's header marks it too). Where the whole title does not
fit, the last part goes first; then the app's name is its command's (`wm`); then the
parts from the end, down to the first. Header's `format_title` is Textual's hook for
this; a resize formats the title again.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual import events
from textual.content import Content
from textual.widgets import Header as TextualHeader
from textual.widgets import Static

__all__ = ["SHORT_TITLE", "TITLE", "Header"]

TITLE = "Winged Monkey"
SHORT_TITLE = "wm"
#: Between the parts of a view's sub-title.
PART = " · "


def shorter(title: str, sub_title: str) -> Iterator[tuple[str, str]]:
    """The title and sub-title, whole first, then shorter, in the order a narrow header
    gives them up (the module's docstring)."""
    parts = sub_title.split(PART)
    short = SHORT_TITLE + title.removeprefix(TITLE) if title.startswith(TITLE) else title
    whole = len(parts)
    tried: set[tuple[str, str]] = set()
    for name, kept in [
        (title, whole),
        (title, whole - 1),
        *((short, k) for k in range(whole, 0, -1)),
    ]:
        pair = (name, PART.join(parts[: max(kept, 1)]))
        if pair not in tried:
            tried.add(pair)
            yield pair


class Header(TextualHeader):
    """Textual's Header, its title in as many words as fit."""

    def format_title(self) -> Content:
        room = self.title_room()
        tried = Content("")
        for title, sub_title in shorter(self.screen_title, self.screen_sub_title):
            tried = self.app.format_title(title, sub_title)
            if not room or tried.cell_length <= room:
                break  # not laid out yet (the resize that lays it out formats it again)
        return tried

    def title_room(self) -> int:
        """The cells the title has: the header's width less its icon's and clock's."""
        docked = sum(
            int(child.styles.width.value)
            for child in self.children
            if child.styles.dock != "none"
            and child.styles.width is not None
            and child.styles.width.is_cells
        )
        return max(0, self.size.width - docked)

    def on_resize(self, event: events.Resize) -> None:
        for title in self.query("HeaderTitle").results(Static):  # Textual's, by type name
            title.update(self.format_title())
