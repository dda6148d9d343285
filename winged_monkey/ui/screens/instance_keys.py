"""The instances view's keys: the row's actions, marks, sort, reads and logins, in the
footer's order of value."""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding, BindingType

from winged_monkey.actions import Action
from winged_monkey.ui.bindings import filter_keys, refresh_key, timeline_key
from winged_monkey.ui.widgets.table_keys import KEYS as TABLE_KEYS
from winged_monkey.user.binding_ids import BindingId

ACTION_KEYS: dict[str, Action] = {a.value: a for a in Action}
SORT = Binding.Group("sort", compact=True)
#: Keys that only read the cursor row (ssh, copy, console): on while a row is under it.
ROW_READS = (BindingId.SSH, BindingId.COPY_SSH, BindingId.COPY_FIELD, BindingId.CONSOLE)
#: What the keys that need the cursor row would have done: said when no row is shown.
ROW_KEY_WORDS: dict[str, str] = {
    BindingId.DETAILS: "show",
    BindingId.MARK: "mark",
    BindingId.TIMELINE: "show a timeline of",
    BindingId.SSH: "ssh to",
    BindingId.COPY_SSH: "copy an ssh command of",
    BindingId.COPY_FIELD: "copy from",
    BindingId.CONSOLE: "show the console of",
}


def _action_binding(key: str, action: Action, tooltip: str, *, show: bool = True) -> Binding:
    return Binding(
        key, f"act('{action}')", str(action), id=BindingId(action), tooltip=tooltip, show=show
    )


INSTANCE_BINDINGS: list[BindingType] = [
    *filter_keys("Filter rows (any column)", "Clear filter"),
    # Hidden from the 80-column footer (help and the palette list them): `? help` must fit.
    Binding(
        "space",
        "mark",
        "mark",
        key_display="␣",
        id=BindingId.MARK,
        tooltip="Mark or unmark the row, then move down (u unmarks all)",
        show=False,
    ),
    _action_binding("s", Action.START, "Start the marked instances (or the cursor row)"),
    _action_binding("x", Action.STOP, "Stop the marked instances (asks first)"),
    _action_binding("b", Action.REBOOT, "Reboot the marked instances (or the cursor row)"),
    _action_binding("D", Action.DESTROY, "Destroy the marked instances (asks first)"),
    # The footer is full at 80 columns: help and the palette list these.
    _action_binding("z", Action.SUSPEND, "Suspend the marked instances", show=False),
    _action_binding(
        "B", Action.RESET, "Hard reboot (reset) the marked instances (asks first)", show=False
    ),
    _action_binding(
        "X",
        Action.POWEROFF,
        "Power off the marked instances without asking their guests (asks first)",
        show=False,
    ),
    _action_binding("c", Action.CHECK, "Check the marked apps' resources", show=False),
    Binding("o", "sort", "sort", id=BindingId.SORT, tooltip="Sort by the next column", group=SORT),
    Binding(
        "O",
        "reverse_sort",
        "reverse",
        id=BindingId.REVERSE_SORT,
        tooltip="Reverse sort",
        group=SORT,
    ),
    refresh_key(show=False),
    timeline_key("The instance's events in order, with time spent in each state"),
    Binding(
        "a",
        "accounts",
        "accounts",
        id=BindingId.ACCOUNTS,
        tooltip="Every account's status and its whole error message",
        show=False,  # the strip names this key wherever it cuts something off
    ),
    # Reads and logins: read-only accounts keep them. `x` is stop here, so ssh is `e`.
    Binding(
        "e",
        "ssh",
        "ssh",
        id=BindingId.SSH,
        tooltip="Log in with ssh (wm suspends, then returns)",
        show=False,
    ),
    Binding(
        "y",
        "copy_ssh",
        "copy ssh",
        id=BindingId.COPY_SSH,
        tooltip="Copy the ssh command",
        show=False,
    ),
    Binding(
        "Y",
        "copy_field",
        "copy…",
        id=BindingId.COPY_FIELD,
        tooltip="Copy the id, name or an address",
        show=False,
    ),
    Binding(
        "L",
        "console",
        "console",
        id=BindingId.CONSOLE,
        tooltip="The instance's boot console output",
        show=False,
    ),
    Binding(
        "p",
        "update_app",
        "update",
        id=BindingId.UPDATE_APP,
        tooltip="Update the app: its parameters, filled with the current values",
        show=False,
    ),
]


def row_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keys (as the user's keymap sets them) of the bindings that need the cursor row,
    to what they would have done (ROW_KEY_WORDS)."""
    keys: dict[str, str] = {}
    for binding in Binding.make_bindings([*TABLE_KEYS, *INSTANCE_BINDINGS]):
        if binding.id in ROW_KEY_WORDS:
            bound = keymap.get(binding.id, binding.key)
            keys.update((key.strip(), ROW_KEY_WORDS[binding.id]) for key in bound.split(","))
    return keys


def action_keys(keymap: Mapping[str, str]) -> dict[str, Action]:
    """The keys of the action bindings, as the user's keymap sets them."""
    keys: dict[str, Action] = {}
    for binding in Binding.make_bindings(INSTANCE_BINDINGS):
        if binding.id in ACTION_KEYS and binding.action.startswith("act("):
            bound = keymap.get(binding.id, binding.key)
            keys.update((key.strip(), ACTION_KEYS[binding.id]) for key in bound.split(","))
    return keys
