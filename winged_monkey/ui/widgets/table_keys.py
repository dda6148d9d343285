"""The instance table's keys: the cursor (arrows, pages, Home/End, vi's j/k/g/G unless
the user's keymap gives one to another binding), sideways scrolling, details, unmarking.
InstanceTable lists them as its BINDINGS; help and the footer read them from there."""

from __future__ import annotations

from textual.binding import Binding

from winged_monkey.ui.widgets.vi_keys import vi_bindings
from winged_monkey.user.binding_ids import BindingId

KEYS: tuple[Binding, ...] = (
    Binding(
        "enter",
        "screen.details",
        "info",
        id=BindingId.DETAILS,
        tooltip="Show every field of the instance under the cursor",
    ),
    Binding("up", "cursor_up", "up", show=False, tooltip="The row above"),
    Binding("down", "cursor_down", "down", show=False, tooltip="The row below"),
    Binding("pageup", "page_up", "page up", show=False, tooltip="A screen of rows up"),
    Binding("pagedown", "page_down", "page down", show=False, tooltip="A screen of rows down"),
    Binding("home,ctrl+home", "scroll_top", "first row", show=False, tooltip="The first row"),
    Binding("end,ctrl+end", "scroll_bottom", "last row", show=False, tooltip="The last row"),
    # vi's keys, unless the user's keymap gives one to another binding.
    *vi_bindings("row"),
    # Only when the columns do not fit even once the low-value ones are dropped.
    Binding("right", "cursor_right", "scroll right", show=False, tooltip="Scroll sideways"),
    Binding("left", "cursor_left", "scroll left", show=False, tooltip="Scroll sideways"),
    Binding(
        "u",
        "clear_marks",
        "unmark all",
        id=BindingId.CLEAR_MARKS,
        show=False,
        tooltip="Clear every mark",
    ),
)
