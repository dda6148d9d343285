"""vi's keys, written once for every view that moves: j and k a row (or a line) down and
up, g and G to the first and the last, as the arrows, Home and End do. The instance table,
the event, timeline and catalog tables, the wizard's and pick lists and the scrollable
screens (details, console, help) list them in their BINDINGS and take `ViKeys`, which runs
each widget's own moves (`vi_moves`). A vi key the user's keymap, or the view's own
binding, gives to something else is off there: theirs runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar, NamedTuple

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Log, OptionList

#: vi's key: what it does (help's words), and the tooltip's words, of a row or a line.
VI: dict[str, tuple[str, str]] = {
    "j": ("down", "The {unit} below"),
    "k": ("up", "The {unit} above"),
    "g": ("first {unit}", "The first {unit}"),
    "G": ("last {unit}", "The last {unit}"),
}


def vi_bindings(unit: str) -> list[Binding]:
    """j, k, g and G as bindings of the action `vi(key)`, moving by `unit` (row, line)."""
    return [
        Binding(
            key,
            f"vi('{key}')",
            words.format(unit=unit),
            show=False,
            tooltip=tip.format(unit=unit),
        )
        for key, (words, tip) in VI.items()
    ]


def taken_keys(
    keymap: Mapping[str, str] | None, bindings: Iterable[BindingType] = ()
) -> frozenset[str]:
    """The keys the user's keymap names, and those `bindings` (a view's own) hold as the
    keymap sets them: a vi key among them is not vi's there."""
    keymap = keymap or {}
    held = list(keymap.values())
    for binding in bindings:
        if isinstance(binding, Binding):
            held.append(keymap.get(binding.id, binding.key) if binding.id else binding.key)
    return frozenset(key.strip() for keys in held for key in keys.split(","))


def vi_enabled(taken: frozenset[str], action: str, parameters: tuple[object, ...]) -> bool:
    """For a check_action: False for a vi key that is taken, True for everything else."""
    return not (action == "vi" and bool(parameters) and parameters[0] in taken)


class ViMoves(NamedTuple):
    """A widget's own moves, which vi's keys run: j down, k up, g to the first, G to the last."""

    down: Callable[[], object]
    up: Callable[[], object]
    first: Callable[[], object]
    last: Callable[[], object]


class ViKeys:
    """vi's keys, once for every widget that moves: `taken` (a vi key the user's keymap or
    the view gives to something else: off here) and the action `vi(key)`, which runs the
    widget's own move (`vi_moves`). First among the bases; the widget lists
    `vi_bindings(unit)` in its BINDINGS (Textual reads BINDINGS only from its own classes)."""

    def __init__(self, *args: Any, taken: frozenset[str] = frozenset(), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.taken = taken

    def vi_moves(self) -> ViMoves:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return vi_enabled(self.taken, action, parameters)

    def action_vi(self, key: str) -> None:
        moves = self.vi_moves()
        {"j": moves.down, "k": moves.up, "g": moves.first, "G": moves.last}[key]()


class _ViScrolling(ViKeys):
    """A scrollable widget's moves: a line down or up, or to the top or the end."""

    def vi_moves(self) -> ViMoves:
        assert isinstance(self, Widget)
        return ViMoves(
            partial(self.scroll_down, animate=False),
            partial(self.scroll_up, animate=False),
            partial(self.scroll_home, animate=False),
            partial(self.scroll_end, animate=False),
        )


class ViScroll(_ViScrolling, VerticalScroll):
    """A VerticalScroll that also scrolls with j, k, g and G."""

    BINDINGS: ClassVar[list[BindingType]] = [*vi_bindings("line")]


class ViLog(_ViScrolling, Log):
    """A Log that also scrolls with j, k, g and G."""

    BINDINGS: ClassVar[list[BindingType]] = [*vi_bindings("line")]


class ViOptionList(ViKeys, OptionList):
    """An OptionList whose highlight also moves with j, k, g and G (the wizard's lists, a
    pick list), unless `taken`."""

    BINDINGS: ClassVar[list[BindingType]] = [*vi_bindings("row")]

    def vi_moves(self) -> ViMoves:
        return ViMoves(
            self.action_cursor_down, self.action_cursor_up, self.action_first, self.action_last
        )
