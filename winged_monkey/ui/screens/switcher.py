"""`:` jumps to a view: type a few letters (or move with the arrows), enter goes there."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from winged_monkey.ui.bindings import dialog_help_key
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.user.binding_ids import BindingId

#: The views `:` offers: name and what it shows.
VIEWS: tuple[tuple[str, str], ...] = (
    ("instances", "every instance and app of every account"),
    ("apps", "only n-tier apps (Heat stacks, deployments)"),  # 60 columns: one line each
    ("catalog", "what can I launch, where, at what price"),
    ("events", "what happened: the log, its plot, timelines"),
    ("accounts", "each account's status and its whole error"),
)


def matching(typed: str, views: Sequence[tuple[str, str]] = VIEWS) -> list[str]:
    """Views whose name starts with what was typed, then those that contain it."""
    word = typed.strip().lstrip(":").lower()
    names = [name for name, _ in views]
    return [n for n in names if n.startswith(word)] + [
        n for n in names if word in n and not n.startswith(word)
    ]


class ViewSwitcher(ModalScreen[str | None]):
    """Returns the chosen view's name, or None on escape."""

    #: Under 16 lines (40x11, a tmux window split both ways) the dialog, 2 lines down and
    #: 14 high, ran off the bottom, its keys (`enter go · esc stay`) with it: the screen
    #: is `-short` and wm.tcss draws it from the top with a shorter list (it scrolls).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (16, "-tall")]
    DEFAULT_CSS = """
    #views-none { color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "cancel", id=BindingId.VIEWS_CANCEL, tooltip="Stay in this view"
        ),
        Binding(
            "down", "move(1)", "next", id=BindingId.VIEWS_NEXT, tooltip="Next view", show=False
        ),
        Binding(
            "up",
            "move(-1)",
            "previous",
            id=BindingId.VIEWS_PREVIOUS,
            tooltip="Previous view",
            show=False,
        ),
        Binding(
            "tab", "complete", "complete", id=BindingId.VIEWS_COMPLETE, tooltip="Complete the name"
        ),
        dialog_help_key(),  # `?` is typed into the view's name
    ]

    def __init__(
        self, current: str | None = None, on_choice: Callable[[], object] | None = None
    ) -> None:
        """`on_choice`: called as a view is chosen, before the dialog closes (the app holds
        the keys typed after it until that view is shown)."""
        super().__init__()
        self.current = current
        self._on_choice = on_choice

    def _choose(self, view: str) -> None:
        if self._on_choice is not None:
            self._on_choice()
        self.dismiss(view)

    def compose(self) -> ComposeResult:
        with Vertical(id="views-dialog") as dialog:
            dialog.border_title = "Go to view"
            here = "● here · " if self.current in dict(VIEWS) else ""
            dialog.border_subtitle = f"{here}enter go · esc stay"
            yield Input(placeholder="view name", compact=True, id="views-input")
            yield OptionList(*self._options(""), id="views-list", compact=True)
            # Said in the dialog: a notification waits until the dialog closes.
            yield Static(id="views-none")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#views-none", Static).display = False
        self.query_one(Input).focus()
        names = matching("")
        if self.current in names:
            self.query_one(OptionList).highlighted = names.index(self.current)

    def _options(self, typed: str) -> list[Option]:
        about = dict(VIEWS)
        options = []
        for name in matching(typed):
            # The view you are in is marked before its name: a marker after the text
            # wrapped onto a line of its own in a narrow dialog.
            here = name == self.current
            label = Text.assemble(
                ("● " if here else "  ", "bold"),
                (name.ljust(10), "bold"),
                (about[name], "dim"),
                no_wrap=True,
                overflow="ellipsis",
            )
            options.append(Option(label, id=name))
        return options

    @property
    def chosen(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    @on(Input.Changed, "#views-input")
    def _on_typed(self, event: Input.Changed) -> None:
        self.query_one("#views-none", Static).display = False
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#views-input")
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chosen = self.chosen
        if chosen is not None:
            self._choose(chosen)
            return
        none = self.query_one("#views-none", Static)
        views = ", ".join(name for name, _ in VIEWS)
        none.update(Text(f"No view called “{event.value.strip()}”; the views: {views}"))
        none.display = True

    @on(OptionList.OptionSelected)
    def _on_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._choose(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = (current + step) % options.option_count

    def action_complete(self) -> None:
        chosen = self.chosen
        if chosen is not None:
            field = self.query_one(Input)
            field.value = chosen
            field.cursor_position = len(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
