"""The Textual app: takes its portal and clock as arguments, applies the user's keymap."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import ActiveBinding, Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from winged_monkey.engine.portal import Clock, Portal, utcnow
from winged_monkey.terminal.render import printable, printable_lines
from winged_monkey.ui.bindings import keymap_clashes
from winged_monkey.ui.endings import Undo, leave_on_signals
from winged_monkey.ui.screens.accounts import AccountsScreen
from winged_monkey.ui.screens.help import MOVING, HelpScreen
from winged_monkey.ui.screens.main import MainScreen, Starting
from winged_monkey.ui.screens.secret import SecretScreen
from winged_monkey.ui.screens.switcher import VIEWS, ViewSwitcher
from winged_monkey.ui.typeahead import (
    STUCK_AFTER_S,
    KeyHandled,
    KeysWait,
    Typeahead,
    after_pending,
)
from winged_monkey.ui.widgets.header import TITLE
from winged_monkey.user.binding_ids import BindingId
from winged_monkey.user.config import Config
from winged_monkey.user.credentials import keyring_usable


class WMApp(App[None]):
    """One mode per view (instances, events) over a portal; keys remappable via `config.keys`.

    The instances view owns the inventory polling; it keeps polling while another view
    is shown (that view may be watching the events the polls record), not under a dialog.
    """

    CSS_PATH = "wm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "colon",
            "views",
            "views",
            id=BindingId.VIEWS,
            tooltip="Go to another view (:apps, :catalog, :events, :accounts)",
        ),
        Binding("question_mark", "help", "help", id=BindingId.HELP, tooltip="Show every key"),
        # A field takes `?` as text (a name, a filter, a secret): f1 is help there too, and
        # under a dialog (priority, as the palette's ctrl+p). The footer shows it where `?`
        # is typed in the focused field, `?` elsewhere (one key per action).
        Binding(
            "f1",
            "help",
            "help",
            id=BindingId.HELP_ANYWHERE,
            tooltip="Show every key, even while typing in a field",
            priority=True,
        ),
        Binding("q", "quit", "quit", id=BindingId.QUIT, tooltip="Leave Winged Monkey"),
        # A toast goes away on a click or its timeout: a keyboard has this. Reached only
        # where the view has nothing to do with escape (no filter to clear, no dialog).
        Binding(
            "escape",
            "dismiss_notes",
            "dismiss notes",
            id=BindingId.DISMISS_NOTES,
            tooltip="Clear the notes in the corner (when escape has nothing else to do)",
            show=False,
        ),
        # The shell's job control, as on any bastion: `fg` brings wm back where it was.
        Binding(
            "ctrl+z",
            "suspend_process",
            "to the shell",
            id=BindingId.SUSPEND_PROCESS,
            # Textual's ctrl+c copies the selected text; said here so the help says it.
            tooltip="Suspend wm to the shell; `fg` brings it back. ctrl+c never quits "
            "(it copies selected text): q does",
            show=False,
        ),
    ]

    def __init__(
        self,
        portal: Portal,
        config: Config | None = None,
        *,
        clock: Clock = utcnow,
        title_suffix: str | None = None,
        starting: Starting | None = None,
    ) -> None:
        """`starting`: what the instances view waits for before its first poll (the
        demo's cloud), painted meanwhile with its note."""
        super().__init__()
        self.portal = portal
        self.config = config or portal.config
        self.clock = clock
        self._undo_endings: Undo = lambda: None
        #: The views whose keys were checked against the user's keymap (`_warn_clashes`).
        self._keys_checked: set[type[Screen[object]]] = set()
        self._typeahead = Typeahead()
        self.title = f"{TITLE} · {title_suffix}" if title_suffix else TITLE
        self.main_screen = MainScreen(
            self.portal, self.clock, keys=self.config.keys, starting=starting
        )
        self.add_mode("instances", lambda: self.main_screen)
        self.add_mode("events", self._events)
        self.add_mode("catalog", self._catalog)
        self.add_mode("accounts", lambda: AccountsScreen(self.portal, self.clock))

    # The other views load when first shown: the first paint does not wait for their modules.
    def _events(self) -> Screen[None]:
        from winged_monkey.ui.screens.events import EventsScreen

        return EventsScreen(self.portal, self.clock)

    def _catalog(self) -> Screen[None]:
        from winged_monkey.ui.screens.catalog import CatalogScreen

        return CatalogScreen(self.portal, self.clock)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every note (a refusal, a toast, an error) carries names as their clouds have
        them: their control characters never reach the terminal, as in the table."""
        super().notify(
            printable_lines(message),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def action_dismiss_notes(self) -> None:
        self.clear_notifications()
        self.main_screen.toaster.dismissed()  # not shown again when a dialog closes

    def action_suspend_process(self) -> None:
        """ctrl+z, only where a shell's `fg` can bring wm back; elsewhere it stopped wm for
        good (a frozen pane, a dead SSH session) or did nothing, and said nothing."""
        if job_control():
            super().action_suspend_process()
            return
        quit_key = next(
            (
                self.get_key_display(a.binding)
                for a in self.active_bindings.values()
                if a.binding.id == BindingId.QUIT
            ),
            "q",
        )
        self.notify(
            "wm was started as a command, not at a shell's prompt: no shell to come back "
            f"to with `fg`. {quit_key} quits.",
            title="Not suspended",
            severity="warning",
            markup=False,
        )

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
            self.screen_change_signal.subscribe(self, self._warn_clashes)
        self.switch_mode("instances")
        self.app_resume_signal.subscribe(self, self._repaint)
        self._undo_endings = leave_on_signals(self.exit)

    def on_unmount(self) -> None:
        self._undo_endings()

    # -- keys typed ahead: each applies to what the one before it left (ui/typeahead.py) --

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
        elif self._typeahead.hold(event):
            self.set_timer(STUCK_AFTER_S * 1.1, self._send_next)
        else:
            await self._send_key(event)

    async def _send_key(self, key: events.Key) -> None:
        target = self.focused or self.screen
        await super().on_event(key)  # a priority binding, or on to the focused widget
        token = self._typeahead.sent()
        if not (key.is_forwarded and target.post_message(KeyHandled(token))):
            self._typeahead.handled(token)
            self._send_next()

    @on(KeyHandled)
    def _on_key_handled(self, message: KeyHandled) -> None:
        self._typeahead.handled(message.token)
        self._send_next()

    @on(KeysWait)
    def _on_keys_wait(self, message: KeysWait) -> None:
        # Posted right before the dialog is pushed: by now it is, and the keys go to it.
        self._typeahead.wait(message.wait)
        self._send_next()

    def _send_next(self) -> None:
        """The next held key, once the screen has handled what the last one set off."""
        if self._typeahead.settle():
            after_pending(self.focused or self.screen, self._send_held)
            self.set_timer(STUCK_AFTER_S * 1.1, self._send_next)  # in case a hop is lost

    async def _send_held(self) -> None:
        if (key := self._typeahead.next_key()) is not None:
            await self._send_key(key)

    def _warn_clashes(self, screen: Screen[object]) -> None:
        """A key the user's keymap gives two bindings of a view runs only one of them, and
        Textual says nothing: say it once per view, the first time it shows (once its
        widgets, which have keys too, are mounted)."""
        if type(screen) in self._keys_checked:
            return
        self._keys_checked.add(type(screen))

        def check() -> None:
            # Every binding with an id anywhere on the view; those without one (the
            # table's arrows, a screen's tab) only where a key reaches them: the focused
            # widget and what holds it, as Textual looks for a key's binding.
            chain = screen.focused.ancestors_with_self if screen.focused else [screen]
            nodes = [screen, *screen.walk_children()]
            layers = [
                b for n in nodes for b in _own_bindings(type(n)) if n in chain or b.id is not None
            ]
            # A dialog's keys are its own, but for the app's priority keys (f1 help), which
            # reach it first: a dialog's key moved onto one of those never runs.
            outer = [
                b for b in Binding.make_bindings(self.BINDINGS) if b.priority or not screen.is_modal
            ]
            for line in keymap_clashes(self.config.keys, [layers, outer]):
                self.notify(line, title="Keys that clash", severity="warning", markup=False)

        self.call_after_refresh(check)

    def _repaint(self, _: App[None]) -> None:
        """After ctrl+z and `fg` the terminal is back on a blank screen, and Textual sends
        only what changes: draw every line again, as its own App.suspend does."""
        self.refresh(layout=True)

    @property
    def view(self) -> str:
        """The view on screen: its mode, or `apps` (the instances mode showing only apps)."""
        if self.current_mode == "instances" and self.main_screen.table.kind == "app":
            return "apps"
        return self.current_mode

    def action_views(self) -> None:
        self.push_screen(ViewSwitcher(self.view, on_choice=self._switching), self._go)

    def _switching(self) -> None:
        # Keys typed after the view's name go to that view (`:inst⏎/web`), not this one.
        self._typeahead.busy = True

    def _go(self, view: str | None) -> None:
        if view is not None:
            self.run_worker(self.show_view(view), group="views", description="switch view")

    async def show_view(self, view: str) -> None:
        """Go to a view, at its top (a timeline or details opened in it are closed).

        The apps view is the instances view showing only apps: one screen polls."""
        mode = "instances" if view == "apps" else view
        try:
            await self.switch_mode(mode)
            while len(self.screen_stack) > 1:
                await self.pop_screen()
            if mode == "instances":
                self.main_screen.show_kind("app" if view == "apps" else None)
        finally:
            self._typeahead.busy = False
            self._send_next()

    def ask_secret(self, account: str, what: str) -> str | None:
        """A credential prompt for the portal: called from the thread that builds an
        account's backend, it waits there while the dialog is on screen."""
        answer: Future[str | None] = Future()
        creds = self.config.account(account).credentials
        # Here, in the worker thread: the keyring may ask D-Bus.
        stored = creds.keyring and keyring_usable()
        unset = (
            creds.secret_env if creds.secret_env and not os.environ.get(creds.secret_env) else None
        )

        def show() -> None:
            screen = SecretScreen(account, what, keyring=stored, unset_env=unset)
            self.push_screen(screen, callback=answer.set_result)

        self.call_from_thread(show)
        return answer.result()

    def action_help_quit(self) -> None:
        """ctrl+c: how to quit, with the portal's own key (q, or the keymap's), not
        Textual's ctrl+q; and ctrl+z when it is bound."""
        key = self.config.keys.get(BindingId.QUIT, "q").split(",")[0].strip()
        suspend = any(
            isinstance(b, Binding) and b.id == BindingId.SUSPEND_PROCESS for b in self.BINDINGS
        )
        also = "; ctrl+z suspends to the shell" if suspend else ""
        self.notify(
            f"Press {key} to quit (ctrl+c copies selected text{also})",
            title="Do you want to quit?",
        )

    def action_refresh_inventory(self) -> None:
        """Poll every account now, from whichever view."""
        self.main_screen.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "help":
            return not isinstance(self.screen, HelpScreen)
        if action == "views":
            return not self.screen.is_modal
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_bindings(self.screen)))

    def help_bindings(self, screen: Screen[object]) -> list[ActiveBinding]:
        """Every key: the active ones, then those hidden for the current row or account,
        but for a key that moves in the focused list here (the wizard's `↓ next account`
        is the size list's `↓ down` on the size step, and was listed as both)."""
        listed = list(screen.active_bindings.values())
        shown = {active.binding.action for active in listed}
        moving = {
            key
            for key, active in screen.active_bindings.items()
            if active.enabled and active.binding.action.startswith(MOVING)
        }
        # Under a dialog only the app's priority keys reach it (f1 help, not ?): those
        # first, and on where the app allows them, so help lists the key that works there.
        candidates = [(binding, False) for binding in Binding.make_bindings(type(screen).BINDINGS)]
        reaching = [
            (binding, screen.is_modal and binding.priority)
            for binding in Binding.make_bindings(self.BINDINGS)
        ]
        candidates += sorted(reaching, key=lambda pair: not pair[1])
        for binding, works in candidates:
            if not binding.description or binding.action in shown:
                continue
            if binding.id in self.config.keys:
                binding = replace(binding, key=self.config.keys[binding.id])
            if {key.strip() for key in binding.key.split(",")} & moving:
                continue
            enabled = works and self.check_action(binding.action, ()) is True
            listed.append(ActiveBinding(screen, binding, enabled, binding.tooltip))
            shown.add(binding.action)
        return listed

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette offers the views and the portal's own enabled keys (those with an id)
        of the screen it was opened from, then Textual's theme and quit: not the widgets'
        cursor and copy keys, which only crowd it."""
        for view, about in VIEWS:
            if view != self.view:
                yield SystemCommand(f"view: {view}", about, partial(self._go, view))
        for node, binding, enabled, tooltip in screen.active_bindings.values():
            if (
                enabled
                and binding.id is not None
                and binding.description
                and binding.action not in ("quit", "help_quit")  # Textual's Quit is kept
            ):
                yield SystemCommand(
                    f"{binding.description} ({self.get_key_display(binding)})",
                    tooltip or binding.tooltip or binding.description,
                    partial(self.run_action, binding.action, node),
                )
        for command in super().get_system_commands(screen):
            if command.title in ("Theme", "Quit"):
                yield command


def _own_bindings(node: type[object]) -> list[Binding]:
    """The bindings a widget or screen class holds: those it declares, and those its bases
    declare for keys it does not (a class's key replaces its bases', as Textual merges)."""
    by_key: dict[str, list[Binding]] = {}
    for cls in reversed(node.__mro__):
        declared: dict[str, list[Binding]] = {}
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            declared.setdefault(binding.key, []).append(binding)
        by_key.update(declared)
    return [binding for bindings in by_key.values() for binding in bindings]


def job_control() -> bool:
    """Whether wm runs as a job of a shell with job control: such a shell gives each job a
    process group of its own. Started by a command instead (`ssh host wm`, a tmux pane's
    command, `sh -c`), wm is in its session leader's group, where a stop is one nothing
    resumes."""
    try:
        return os.getpgrp() != os.getsid(0)
    except OSError:  # no session to ask about: let Textual decide, as before
        return True
