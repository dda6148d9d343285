"""The keys the instances and events views share, written once: filter, unfilter, timeline,
refresh. Each view lists them in its own BINDINGS (the help reads a screen's own list).
Their ids, and every binding's, are user/binding_ids.py's; `keymap_clashes` finds the keys
the user's keymap gives two bindings of one view."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from textual.binding import ActiveBinding, Binding, BindingType

from winged_monkey.user.binding_ids import BindingId

#: The footer cuts what does not fit at its right end: these first, so `? help` and
#: `q quit` stay in sight at 80 columns whatever else a view offers.
FOOTER_FIRST = (
    BindingId.FILTER,
    BindingId.CLEAR_FILTER,
    BindingId.HELP,
    BindingId.HELP_ANYWHERE,  # shown where a field takes `?`
    BindingId.QUIT,
)


def footer_order(
    active: Mapping[str, ActiveBinding], then: Callable[[str | None], int] = lambda _id: 0
) -> dict[str, ActiveBinding]:
    """A screen's active bindings in the footer's order of value: FOOTER_FIRST, then the
    rest ranked by `then` (of a binding's id), in their own order within a rank."""

    def rank(item: tuple[str, ActiveBinding]) -> int:
        binding_id = item[1].binding.id
        if binding_id in FOOTER_FIRST:
            return FOOTER_FIRST.index(binding_id)
        return len(FOOTER_FIRST) + then(binding_id)

    return dict(sorted(active.items(), key=rank))


def filter_keys(what: str, clear: str) -> list[Binding]:
    """`/` opens the view's filter (`what` it filters), escape clears it (`clear`)."""
    return [
        # Priority: handled before the keys typed right after it are routed, so none is lost.
        Binding("slash", "filter", "filter", id=BindingId.FILTER, tooltip=what, priority=True),
        Binding("escape", "clear_filter", "unfilter", id=BindingId.CLEAR_FILTER, tooltip=clear),
    ]


def timeline_key(tooltip: str) -> Binding:
    """`t`: the timeline of the row's target (the footer is full at 80 columns: help and
    the palette list it)."""
    return Binding("t", "timeline", "timeline", id=BindingId.TIMELINE, tooltip=tooltip, show=False)


def dialog_help_key() -> Binding:
    """`f1 help` in a dialog's footer. The app's f1 (priority) opens help under a dialog,
    but Textual leaves the app's keys out of a dialog's footer, and `?` is typed into its
    field: this binding shows it. Its id is the app's, so a keymap that moves help moves
    this too."""
    return Binding(
        "f1",
        "app.help",
        "help",
        id=BindingId.HELP_ANYWHERE,
        tooltip="Show every key, even while typing in a field",
    )


def refresh_key(*, show: bool) -> Binding:
    """`R`: poll every account now, from whichever view (the instances view polls)."""
    return Binding(
        "R",
        "app.refresh_inventory",
        "refresh",
        id=BindingId.REFRESH,
        tooltip="Poll every account now",
        show=show,
    )


def keymap_clashes(keymap: Mapping[str, str], layers: Iterable[Iterable[BindingType]]) -> list[str]:
    """The keys the user's keymap gives a binding that another binding of the same view
    (`layers`: the screen's, its widgets', the app's; with an id or not, as the table's
    arrows) also holds: a key runs one binding, so the other is dead there, and Textual
    says nothing. One line per such key, naming the `[keys]` entries that did it."""
    holders: dict[str, dict[str, bool]] = {}  # key: holder: whether the keymap put it there
    for binding in Binding.make_bindings([b for layer in layers for b in layer]):
        if binding.id is not None:
            written = keymap.get(binding.id)
            for key in (written or binding.key).split(","):
                holders.setdefault(key.strip(), {})[binding.id] = written is not None
        elif not binding.action.startswith("vi("):  # vi's keys give way (vi_keys.py)
            # A widget's own key, which no keymap moves: the table's arrows, Home, End.
            holders.setdefault(binding.key, {})[_unnamed(binding)] = False
    lines = []
    for key, ids in holders.items():
        mapped = [i for i, by_keymap in ids.items() if by_keymap]
        others = [i for i, by_keymap in ids.items() if not by_keymap]
        if len(ids) < 2 or not mapped:
            continue
        entries = ", ".join(f"{i} = {keymap[i]!r}" for i in mapped)
        also = "also " if others else ""
        lines.append(
            f"[keys] {entries}: {key} is {also}the key of {' and '.join(others or mapped)} on "
            "this view, and a key runs only one binding: give each its own"
        )
    return lines


def _unnamed(binding: Binding) -> str:
    """How a binding with no id is named to the user: what it does (`the row above`)."""
    if binding.tooltip:  # wm's own: a sentence ("The row above")
        return binding.tooltip[:1].lower() + binding.tooltip[1:]
    return (binding.description or binding.action).lower()  # Textual's: "Focus Next"
