"""Help built from the bindings themselves (active ones first), never a hand-kept list:
wm's keys only, grouped as a user looks for them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from winged_monkey.ui.screens.instance_keys import ACTION_KEYS, ROW_READS
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.vi_keys import ViScroll, taken_keys
from winged_monkey.user.binding_ids import BindingId

MOVE = "Move"
#: The actions of the keys that move (a table's cursor, a scroll, vi's), with no id.
MOVING = ("cursor_", "scroll_", "page_", "vi(", "submit")
#: The palette's binding is Textual's (no id), kept: it lists every key too.
PALETTE = "palette"

#: Why a key is off, said before its tooltip, by its binding's id; a key not named here
#: is listed dim without a reason.
OFF_BECAUSE: dict[str, str] = {
    BindingId.CLEAR_MARKS: "nothing marked",
    BindingId.CLEAR_FILTER: "no filter",
    BindingId.FILTER: "typing in the filter",
    **dict.fromkeys(
        (
            BindingId.DETAILS,
            BindingId.MARK,
            BindingId.TIMELINE,
            BindingId.EVENTS_TIMELINE,
            BindingId.EVENTS_TARGET,
            *ROW_READS,
        ),
        "no row here",
    ),
    **dict.fromkeys((*ACTION_KEYS, BindingId.UPDATE_APP), "not for this row or account"),
    # The launch wizard's: ↓ and ↑ move in its ranked accounts on that step only.
    **dict.fromkeys((BindingId.WIZARD_DOWN, BindingId.WIZARD_UP), "on the account step"),
}


#: Help's groups, in the order a user looks for them: what the view alone does, what a
#: row's keys do to it, what reads it, finding, moving, going elsewhere, and the rest.
THIS_VIEW = "This view"
GROUPS: dict[str, tuple[str, ...]] = {
    THIS_VIEW: (),  # a view's own keys: their ids name it (`events.window`)
    "Act on the marked rows (or the cursor row)": (
        *ACTION_KEYS,
        BindingId.MARK,
        BindingId.CLEAR_MARKS,
        BindingId.UPDATE_APP,
    ),
    "Look closer": (
        BindingId.DETAILS,
        BindingId.TIMELINE,
        BindingId.SSH,
        BindingId.COPY_SSH,
        BindingId.COPY_FIELD,
        BindingId.CONSOLE,
    ),
    "Find and sort": (
        BindingId.FILTER,
        BindingId.CLEAR_FILTER,
        BindingId.SORT,
        BindingId.REVERSE_SORT,
    ),
    MOVE: (),  # the tables' and scrolls' own keys (arrows, pages, vi's): they have no id
    "Go to": (BindingId.VIEWS, BindingId.ACCOUNTS, BindingId.REFRESH, PALETTE),
    "Anywhere": (
        BindingId.HELP,
        BindingId.HELP_ANYWHERE,
        BindingId.QUIT,
        BindingId.SUSPEND_PROCESS,
        BindingId.DISMISS_NOTES,
    ),
}


def name_of(binding: Binding) -> str:
    """`binding`'s name in GROUPS: its id, PALETTE, or "" (a move's)."""
    return PALETTE if binding.action.endswith("command_palette") else binding.id or ""


def group_of(binding: Binding) -> str:
    """The help group `binding` is listed under."""
    name = name_of(binding)
    if not name:  # a widget's move (↑, j, pgdn, the filter's ↓ to the rows), or a view's own
        return MOVE if binding.action.startswith(MOVING) else THIS_VIEW
    for group, names in GROUPS.items():
        if name in names:
            return group
    return THIS_VIEW


#: Textual's own moves a widget keeps where wm writes none (the event table's arrows), in
#: wm's words; its other keys (tab's Focus Next, ctrl+q's Quit, ctrl+c's Copy selected
#: text, ctrl+pageup's Page Left) mean nothing to a user of wm, whose keys do that.
TEXTUAL_MOVES: dict[str, str] = {
    "cursor_up": "up",
    "scroll_up": "up",
    "cursor_down": "down",
    "scroll_down": "down",
    "page_up": "page up",
    "page_down": "page down",
    "scroll_home": "first line",
    "scroll_end": "last line",
}


def as_wm_key(node: DOMNode, binding: Binding) -> Binding | None:
    """`binding` if wm declared it (on `node`'s class or one of its wm bases) or it is the
    palette's; one of Textual's widgets' moves (TEXTUAL_MOVES) in wm's words; else None."""
    if binding.id is not None or name_of(binding) == PALETTE:
        return binding
    for cls in type(node).__mro__:
        if cls.__module__.startswith("winged_monkey."):
            for declared in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                if (declared.key, declared.action) == (binding.key, binding.action):
                    return binding
    words = TEXTUAL_MOVES.get(binding.action)
    if words is None or isinstance(node, (App, Screen)):
        return None
    return replace(binding, description=words, tooltip="")


@dataclass
class _Row:
    """One row of help: the keys that do it, what it does, its note, whether it is on."""

    keys: list[str]
    does: str
    note: str
    enabled: bool
    name: str  # its first binding's name in GROUPS, for the group's order


def help_table(bindings: Iterable[ActiveBinding], key_display: Callable[[Binding], str]) -> Group:
    """wm's keys that have a description, grouped (GROUPS), each group under its name: key,
    what it does, and its tooltip; keys that do the same (↓ and j) on one row."""
    # Once per binding (by its id: `?` and f1 both open help), though a screen and its
    # app may hold it twice.
    seen: set[tuple[str, str]] = set()
    groups: dict[str, dict[tuple[str, str, bool], _Row]] = {g: {} for g in GROUPS}
    for node, declared, enabled, tooltip in bindings:
        if (
            not declared.description
            or (declared.id or declared.action, declared.description) in seen
        ):
            continue
        binding = as_wm_key(node, declared)
        if binding is None:
            continue
        seen.add((binding.id or binding.action, binding.description))
        note = tooltip or binding.tooltip
        if not enabled and binding.id in OFF_BECAUSE:
            note = f"({OFF_BECAUSE[binding.id]}) {note}"
        group = group_of(binding)
        # A move is one row whoever declared its keys (Textual's ↑, wm's k); another key
        # joins a row that does and says the same.
        same = (binding.description, "" if group == MOVE else note, bool(enabled))
        row = groups[group].setdefault(
            same, _Row([], binding.description, note, bool(enabled), name_of(binding))
        )
        row.keys.append(key_display(binding))
        row.note = row.note or note
    rows = [row for listed in groups.values() for row in listed.values()]
    # One width per column across the groups, so their columns line up.
    key_width = max((cell_len(" ".join(row.keys)) for row in rows), default=1)
    does_width = max((cell_len(row.does) for row in rows), default=1)
    tables = []
    for group, listed in groups.items():
        if not listed:
            continue
        # The group's own order (start before stop, on or off); a view's own keys and the
        # moves as their views list them.
        order = {name: n for n, name in enumerate(GROUPS[group])}
        table = Table(
            box=None,
            padding=(0, 1),
            expand=True,
            show_edge=False,
            show_header=False,
            title=Text(f" {group}", style="bold"),
            title_justify="left",
        )
        table.add_column("key", style="bold", no_wrap=True, width=key_width)
        table.add_column("does", no_wrap=True, width=does_width)
        table.add_column("", ratio=1, style="dim")
        for row in sorted(listed.values(), key=lambda row: order.get(row.name, len(order))):
            style = "" if row.enabled else "dim"
            table.add_row(
                Text(" ".join(row.keys), style=style), Text(row.does, style=style), Text(row.note)
            )
        tables.append(table)
    return Group(*tables)


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from; escape, q, ? or f1 closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,f1,q",
            "close",
            "close",
            id=BindingId.HELP_CLOSE,
            tooltip="Close help",
        ),
    ]

    def __init__(self, bindings: Iterable[ActiveBinding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        with ViScroll(id="help-dialog", taken=taken_keys(None, self.BINDINGS)) as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc closes"
            yield Static(help_table(self.bindings, self.app.get_key_display))
        yield Footer(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
