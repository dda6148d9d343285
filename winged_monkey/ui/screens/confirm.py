"""Confirmation before a destructive action: names every target and its account."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from winged_monkey.actions import Action
from winged_monkey.models import Instance
from winged_monkey.terminal.render import printable
from winged_monkey.ui.bindings import dialog_help_key
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.user.binding_ids import BindingId

TARGET_LINES = 12  # the list's most, as wm.tcss says


def _plural(count: int) -> str:
    return f"{count} instance{'s' if count != 1 else ''}"


class ConfirmScreen(ModalScreen[bool]):
    """y runs, n or escape cancels. Destroying several needs their count typed in."""

    #: Under 24 lines (a tmux split) 12 targets and the blank lines pushed the answer off
    #: the screen: the screen is `-short`, wm.tcss takes the blank lines out, and the list
    #: gets the lines the rest leaves (_fit_targets).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "yes", id=BindingId.CONFIRM_YES, tooltip="Run the action on these"),
        Binding("n", "cancel", "no", id=BindingId.CONFIRM_NO, tooltip="Do nothing"),
        # An action of its own: Textual's footer shows one key per action, and showed `n no`
        # alone where the dialog says `n / esc no`.
        Binding("escape", "close", "cancel", id=BindingId.CONFIRM_CANCEL, tooltip="Do nothing"),
        dialog_help_key(),  # also where `?` would be typed into the count
    ]

    def __init__(
        self,
        action: Action,
        targets: Sequence[Instance],
        left_alone: str = "",
        unseen: Collection[str] = (),
    ) -> None:
        """`left_alone`: what the action will not touch though it is marked (hidden rows);
        `unseen`: the keys of the targets kept as last seen (their state now is unknown)."""
        super().__init__()
        self.action = action
        self.targets = list(targets)
        self.left_alone = left_alone
        self.unseen = frozenset(unseen)
        self.count_required = action is Action.DESTROY and len(self.targets) > 1

    def compose(self) -> ComposeResult:
        verb = str(self.action).capitalize()
        accounts = sorted({t.account for t in self.targets})
        with Vertical(id="confirm-dialog", classes=f"-{self.action}"):
            yield Static(
                Text(
                    f"{verb} {_plural(len(self.targets))} in "
                    f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}?",
                    style="bold",
                ),
                id="confirm-title",
            )
            with VerticalScroll(id="confirm-targets"):
                yield Static(self._target_lines())
            if self.left_alone:
                yield Static(Text(self.left_alone, style="italic"), id="confirm-left-alone")
            if hard := self._hard_stop():
                yield Static(Text(hard), id="confirm-hard-stop")
            if self.action is Action.DESTROY:
                yield Static("This cannot be undone.", id="confirm-warning")
            if self.count_required:
                yield Static(
                    f"Type {len(self.targets)} and press enter to {self.action} them:",
                    id="confirm-count-prompt",
                )
                yield Input(
                    placeholder=str(len(self.targets)),
                    restrict=r"[0-9]*",
                    compact=True,
                    id="confirm-count",
                )
            else:
                yield Static(Text.from_markup("[b]y[/] yes   [b]n[/] / [b]esc[/] no"))
        # The dialog's keys, over the view's (which do nothing while it is open).
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        if self.count_required:
            self.query_one("#confirm-count", Input).focus()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_targets)

    def _fit_targets(self) -> None:
        """On a short screen the list scrolls in the lines the rest of the dialog leaves
        (a CSS height in vh made the dialog as tall as the whole list, blank below)."""
        targets = self.query_one("#confirm-targets", VerticalScroll)
        if not self.has_class("-short"):
            targets.styles.max_height = None  # wm.tcss's
            return
        dialog = self.query_one("#confirm-dialog", Vertical)
        rest = dialog.styles.gutter.height + sum(
            child.outer_size.height for child in dialog.children if child is not targets
        )
        room = self.size.height - self.query_one(Footer).outer_size.height  # above it
        targets.styles.max_height = max(1, min(TARGET_LINES, room - rest))

    def _hard_stop(self) -> str:
        """One line when the stop of a target is a hard power-off (a vSphere VM without
        VMware Tools: its backend's `stop_method`), which the guest is not asked about."""
        if self.action is not Action.STOP:
            return ""
        hard = [
            t for t in self.targets if str(t.extra.get("stop_method", "")).startswith("power off")
        ]
        if not hard:
            return ""
        method = str(hard[0].extra["stop_method"])
        why = method[method.find("(") :] if "(" in method else ""  # "(no VMware Tools)"
        if len(hard) == len(self.targets):
            return f"A hard power-off {why}: the guest is not shut down.".replace("  ", " ")
        names = ", ".join(printable(t.name) for t in hard)
        return f"A hard power-off for {names} {why}.".replace("  ", " ").replace(" .", ".")

    def _target_lines(self) -> Text:
        names = {t.key: printable(t.name) for t in self.targets}  # as the table shows them
        width = max(len(name) for name in names.values())
        account_width = max(len(t.account) for t in self.targets)  # the ids in one column
        lines = [
            Text.assemble(
                "• ",
                (names[t.key].ljust(width), "bold"),
                "  ",
                (t.account.ljust(account_width), "cyan"),
                f"  {t.id}  {'last seen ' if t.key in self.unseen else ''}{t.state}",
            )
            for t in self.targets
        ]
        return Text("\n").join(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return not self.count_required
        return True

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_close(self) -> None:
        self.dismiss(False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == str(len(self.targets)):
            self.dismiss(True)
        else:
            event.input.value = ""
            # Said in the dialog, not in a toast that would outlive it.
            self.query_one("#confirm-count-prompt", Static).update(
                Text(
                    f"That is not {len(self.targets)}: type {len(self.targets)} to "
                    f"{self.action} them, or escape to cancel:",
                    style="bold",
                )
            )
