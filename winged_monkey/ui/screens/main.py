"""The main screen: account strip, instance table, filter; refresh polling and actions.

Workers are async and only post messages; the handlers update the widgets.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar, Protocol

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from winged_monkey.actions import Action
from winged_monkey.backend import ACTION_CAPABILITY, Capability
from winged_monkey.engine.poller import Poller
from winged_monkey.engine.portal import AccountUpdate, ActionUpdate, Portal
from winged_monkey.errors import ActionNotAllowed, WMError
from winged_monkey.models import Instance, InstanceKind
from winged_monkey.ui.bindings import footer_order
from winged_monkey.ui.keyed_words import with_keys
from winged_monkey.ui.screens.accounts import AccountsScreen
from winged_monkey.ui.screens.app_detail import AppScreen
from winged_monkey.ui.screens.app_update import cannot_update, open_update
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.ui.screens.instance_keys import (
    ACTION_KEYS,
    INSTANCE_BINDINGS,
    ROW_READS,
    action_keys,
    row_keys,
)
from winged_monkey.ui.screens.row_reads import RowReadsScreen
from winged_monkey.ui.screens.timeline import TimelineScreen
from winged_monkey.ui.toasts import Bulk, Toast, Toaster, cannot
from winged_monkey.ui.widgets.account_strip import AccountStrip
from winged_monkey.ui.widgets.filter_input import FilterInput
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.header import Header
from winged_monkey.ui.widgets.instance_table import SORT_LABELS, SORTS, InstanceTable
from winged_monkey.user.binding_ids import BindingId

_STALE_PHASES = ("stale", "failed")

NO_APPS = (
    "No apps yet. Heat accounts list their stacks here, an aggregator its deployments; "
    "`:catalog` launches one from a template."
)


class Starting(Protocol):
    """What the view waits for before its first poll (the demo's cloud), with its note."""

    note: str

    async def ready(self) -> None: ...


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class MainScreen(RowReadsScreen):
    """Every instance of every account, kept fresh, with the actions the backends allow."""

    # Focused as it composes, not later from on_mount: keys typed ahead of the view
    # (`:events⏎` then more) reach it.
    AUTO_FOCUS = "#instances"

    BINDINGS: ClassVar[list[BindingType]] = INSTANCE_BINDINGS

    class AccountRefreshed(Message):
        """One account answered a refresh (or started loading, or failed)."""

        def __init__(self, update: AccountUpdate) -> None:
            super().__init__()
            self.update = update

    class ActionProgress(Message):
        """An action on one instance moved on (requested, progress, done, failed, timeout);
        `batch` gathers the outcomes of one bulk action (or launch) into one toast."""

        def __init__(self, update: ActionUpdate, batch: Bulk | None = None) -> None:
            super().__init__()
            self.update = update
            self.batch = batch or Bulk(str(update.action), 1)

    class ActionRefused(Message):
        """A row of `batch` refused as its action was sent (Portal.run_action read that its
        provider would refuse it): nothing was asked of the provider."""

        def __init__(self, reason: str, batch: Bulk) -> None:
            super().__init__()
            self.reason = reason
            self.batch = batch

    def __init__(
        self,
        portal: Portal,
        clock: Callable[[], datetime],
        keys: Mapping[str, str] | None = None,
        starting: Starting | None = None,
    ) -> None:
        super().__init__()
        self.starting = starting
        self.portal = portal
        self.clock = clock
        self.keys = portal.config.keys if keys is None else keys  # the app's keymap
        self._caps: dict[str, frozenset[Capability]] = {}
        self._poller: Poller | None = None
        self._warned: set[str] = set()
        #: What check_action answers for each of this view's keys, as the footer shows it.
        self._checks = [
            ("act", (b.id,)) if b.id in ACTION_KEYS else (b.action, ())
            for b in Binding.make_bindings(INSTANCE_BINDINGS)
            if "." not in b.action  # the app's actions are checked by the app
        ]
        self._keys_shown: tuple[bool | None, ...] = ()
        #: Each action's first key, as the keymap sets it: said beside the `wm` commands
        #: of the backends' words (`notify`).
        self._action_key: dict[Action, str] = {}
        for key, action in action_keys(self.keys).items():
            self._action_key.setdefault(action, key)
        #: The update key, as the keymap sets it: off but on an app's row, it says why.
        self._update_keys = {
            key.strip()
            for b in Binding.make_bindings(INSTANCE_BINDINGS)
            if b.id == BindingId.UPDATE_APP
            for key in self.keys.get(b.id, b.key).split(",")
        }
        self.toaster = Toaster(
            # Toasts carry names and the clouds' reasons: text, not markup.
            lambda t: self.notify(
                t.message, title=t.title, severity=t.severity, timeout=t.timeout, markup=False
            ),
            lambda: self.app.clear_notifications(),
            lambda: self.app.screen.is_modal,
        )

    # -- layout --------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A note of this view: a backend's `wm reset stuck` gets its key here beside it."""
        said = with_keys(message, self._action_key)
        super().notify(said, title=title, severity=severity, timeout=timeout, markup=markup)

    def compose(self) -> ComposeResult:
        yield Header()
        read_only = {a.name for a in self.portal.config.accounts if a.read_only}
        yield AccountStrip(self.clock, read_only=read_only, id="accounts")
        yield FilterInput(placeholder="filter: words in any column", compact=True, id="filter")
        yield Static(NO_APPS, id="no-apps")
        if self.starting is not None:
            yield Static(self.starting.note, id="starting")
        yield InstanceTable(self.clock, keymap=self.keys, id="instances")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def strip(self) -> AccountStrip:
        return self.query_one(AccountStrip)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    def on_mount(self) -> None:
        self.filter_input.display = False
        self.portal.load_cache()
        # Draw from the portal's state, not only from what load_cache returned this time:
        # whoever built the portal may have loaded the cache already.
        instances = self.portal.instances()
        for status in self.portal.statuses():
            mine = [i for i in instances if i.account == status.name]
            self._show_account(AccountUpdate(status, tuple(mine) if mine else None))
        self._show_store_warnings()
        self._update_subtitle()
        # The fleet just loaded lives as long as the app: a full collection that walks it
        # again and again cost 150-250 ms pauses at 10k rows (scripts/bench_scale.py).
        gc.freeze()
        self.app.screen_change_signal.subscribe(self, self._on_screen_change)
        self._poll()

    # -- refresh -------------------------------------------------------------

    @work(group="poller", exclusive=True, exit_on_error=False, description="polling")
    async def _poll(self) -> None:
        """Run the portal's poller (each account on its own cadence) for as long as the
        screen lives; its updates come back as messages, coalesced by the table."""
        if self.starting is not None:
            try:
                await self.starting.ready()
            finally:
                self.post_message(self.Started())
        poller = self._poller = self.portal.poller()
        unsubscribe = poller.subscribe(
            lambda update: self.post_message(self.AccountRefreshed(update))
        )
        try:
            await poller.run()
        finally:
            unsubscribe()

    @property
    def poller(self) -> Poller | None:
        """The poller feeding this screen, once it runs."""
        return self._poller

    def action_refresh(self) -> None:
        """Poll every account now (each as soon as its current poll ends)."""
        if self._poller is not None:
            self._poller.poll_now()

    def _on_screen_change(self, screen: Screen[object]) -> None:
        # No new poll while a dialog is open: what it shows stays put (a poll under way ends).
        if self._poller is not None:
            if screen.is_modal:
                self._poller.pause()
            else:
                self._poller.resume()
        # Nor a toast over it: they wait until it closes.
        if screen.is_modal:
            self.toaster.dialog_opened()
        else:
            self.toaster.dialog_closed()

    class Started(Message):
        """What the view waited for is there (or failed: the worker's error says why)."""

    @on(Started)
    def _on_started(self) -> None:
        self.query_one("#starting").display = False

    @on(AccountRefreshed)
    def _on_account_refreshed(self, message: AccountRefreshed) -> None:
        self._show_account(message.update)
        self._show_store_warnings()
        self._update_subtitle()
        self.refresh_keys()

    def _show_account(self, update: AccountUpdate) -> None:
        status = update.status
        self.strip.update_status(status)
        if status.phase == "ok":
            self._caps[status.name] = self.portal.capabilities(status.name)
        if update.instances is not None or status.phase in _STALE_PHASES:
            self.table.set_account(status.name, update.instances, status.phase in _STALE_PHASES)

    def _show_store_warnings(self) -> None:
        for warning in self.portal.store_warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.notify(warning, title="Local store", severity="warning", timeout=10)

    # -- actions -------------------------------------------------------------

    def refusal(self, action: Action, instance: Instance) -> str | None:
        """Why `action` cannot run on `instance` (capabilities: once its account answered)."""
        reason = self.portal.refusal(action, instance)
        caps = self._caps.get(instance.account)
        action = self.portal.effective(action, instance)
        if reason is None and caps is not None and ACTION_CAPABILITY[action] not in caps:
            reason = f"the backend of {instance.account} cannot {action}"
        return reason

    def action_act(self, name: str) -> None:
        action = ACTION_KEYS[name]
        targets = self.table.targets()
        verdicts = [(t, self.refusal(action, t)) for t in targets]
        allowed = [t for t, why in verdicts if why is None]
        refused = [(t, why) for t, why in verdicts if why is not None]
        left_alone = self._left_alone()
        if allowed and action.destructive:

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._launch(action, allowed, targets)

            unseen = {t.key for t in allowed if not self.portal.seen_now(t)}
            self.app.push_screen(ConfirmScreen(action, allowed, left_alone, unseen), confirmed)
        elif allowed:
            self._launch(action, allowed, targets)
            if left_alone:
                title = f"{str(action).capitalize()} {_count(len(allowed), 'row')} shown"
                self.toaster.notify(Toast(left_alone, title, "warning", 10))
        if refused:  # after the dialog opened: the note waits until it closes
            # A reason shared by many rows (an account's, a backend's) is said once.
            reasons = [why for _, why in refused]
            asked = len(targets) if allowed else 0
            self.toaster.notify(cannot(str(action), reasons, asked, left_alone))

    def _left_alone(self) -> str:
        """What an action leaves alone because it is hidden, said (or "" when nothing is)."""
        hidden = self.table.hidden_marks()
        rows = [i for by in ("view", "filter") for i in hidden.get(by, [])]
        if not rows:
            return ""
        hiders = " or ".join(f"the {by}" for by in ("view", "filter") if by in hidden)
        names = ", ".join(i.name for i in rows[:3]) + (", …" if len(rows) > 3 else "")
        verb = "is" if len(rows) == 1 else "are"
        return (
            f"{_count(len(rows), 'marked row')} hidden by {hiders} {verb} left alone, "
            f"still marked: {names}"
        )

    def _launch(self, action: Action, allowed: list[Instance], targets: list[Instance]) -> None:
        """Run `action` on `allowed` and unmark `targets` (those asked, refused or not)."""
        batch = Bulk(str(action), len(allowed))
        for instance in allowed:
            self._follow_action(action, instance, batch)
        self.table.clear_marks(targets)

    @work(group="actions", exit_on_error=False, description="action")
    async def _follow_action(self, action: Action, instance: Instance, batch: Bulk) -> None:
        try:
            async for update in self.portal.run_action(action, instance):
                self.post_message(self.ActionProgress(update, batch))
        except ActionNotAllowed as exc:  # read from its provider as it was sent: no error
            self.post_message(self.ActionRefused(exc.message, batch))

    @on(ActionRefused)
    def _on_action_refused(self, message: ActionRefused) -> None:
        for toast in message.batch.refuse(message.reason):
            self.toaster.notify(toast)

    @on(ActionProgress)
    def _on_action_progress(self, message: ActionProgress) -> None:
        update = message.update
        target = update.instance
        if update.phase == "requested" and self._poller is not None:
            self._poller.reschedule([target.account])  # its account polls at the busy pace
        # A destroyed row stays, as terminated, until a listing no longer has it (EC2 lists
        # it for a while): dropped here, it came back with the next poll.
        # Dimmed while its account's last poll failed: a row the call failed on is the one
        # it started from, last seen, and nothing the follow read is a listing's yet.
        self.table.put(target, stale=not self.portal.seen_now(target))
        if update.finished and update.refused:  # refused as sent: the note a refusal shows
            for note in message.batch.refuse(update.message, target.key):
                self.toaster.notify(note)
        elif (toast := message.batch.track(update)) is not None:
            self.toaster.notify(toast)
        self.refresh_keys()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR:
            error = worker.error
            if isinstance(error, WMError):
                self.notify(
                    error.message, title=error.title, severity="error", timeout=15, markup=False
                )
            else:
                self.notify(
                    f"{worker.description} failed: {type(error).__name__}: {error}",
                    title="Unexpected error",
                    severity="error",
                    timeout=15,
                )
        if worker.group == "actions" and worker.is_finished:
            self.refresh_keys()

    # -- table keys ------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """An action key that does not apply to the row (its binding is off, so it would do
        nothing) says why in a short note; `?` lists them all."""
        if self.focused is self.filter_input:
            return
        if self.table.cursor_instance is None and (verb := row_keys(self.keys).get(event.key)):
            # Enter, space, t, e, y, Y, L on no row: they would do nothing, silently.
            self.notify(self._no_row(verb), title=f"Cannot {verb.split()[0]}", timeout=4)
            return
        if event.key in self._update_keys and not self.check_action("update_app", ()):
            open_update(self, self.portal, self.table.cursor_instance)  # says why not
            return
        action = action_keys(self.keys).get(event.key)
        if action is None or self.check_action("act", (str(action),)):
            return
        if self.table.targets():
            self.action_act(str(action))
        else:
            left_alone = self._left_alone()
            noun = "app" if self.table.kind == "app" else "instance"
            note = f"No {noun} here to {action}" + (f"; {left_alone}" if left_alone else "")
            self.notify(note, title=f"Cannot {action}", timeout=5 if left_alone else 3)

    def _no_row(self, verb: str) -> str:
        """No row to `verb`, and why none is shown: the filter, or the view's kind."""
        table = self.table
        noun = "app" if table.kind == "app" else "instance"
        words = f"No {noun} here to {verb}"
        if table.total_count and (typed := self.filter_input.value):
            words += f": the filter “{typed}” matches none of {table.total_count} (esc clears it)"
        return words

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, in the footer's order of value: filter, help and quit, the row's
        actions, views, then the rest (info, sort), so a narrow footer cuts the least useful."""

        def then(binding_id: str | None) -> int:
            return 0 if binding_id in ACTION_KEYS else 1 if binding_id == "views" else 2

        return footer_order(super().active_bindings, then)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act" and parameters:
            chosen = ACTION_KEYS[str(parameters[0])]
            targets = self.table.targets()
            return any(self.refusal(chosen, t) is None for t in targets)
        if action == "filter":  # a `/` typed into the filter is part of it
            return self.focused is not self.filter_input
        if action == "clear_filter":
            return bool(self.filter_input.value) or self.filter_input.display
        if action in ("details", "mark", "timeline", *ROW_READS):
            return None if self.table.cursor_instance is None else True
        if action == "update_app":  # off (help says so) but for an app that can be updated
            return cannot_update(self.portal, self.table.cursor_instance) is None
        return True

    def refresh_keys(self, *, focus_moved: bool = False) -> None:
        """refresh_bindings, only when a key of this view turned on or off (or the focus
        moved: the focused widget's keys change): the footer rebuilds itself on each (tens
        of ms), and most cursor moves and polls change none."""
        keys = tuple(self.check_action(name, args) for name, args in self._checks)
        if focus_moved or keys != self._keys_shown:
            self._keys_shown = keys
            self.refresh_bindings()

    def action_details(self) -> None:
        instance = self.table.cursor_instance
        if instance is None:
            return
        if instance.kind == "app" and Capability.STACKS in self.portal.capabilities(
            instance.account
        ):
            self.app.push_screen(AppScreen(self.portal, instance, self.clock))
        else:
            status = self.portal.status(instance.account)
            self.app.push_screen(DetailsScreen(instance, self.clock, self.keys, status))

    def action_accounts(self) -> None:
        self.app.push_screen(AccountsScreen(self.portal, self.clock))

    def action_update_app(self) -> None:
        open_update(self, self.portal, self.table.cursor_instance)

    def action_timeline(self) -> None:
        instance = self.table.cursor_instance
        if instance is not None:
            self.app.push_screen(
                TimelineScreen(
                    self.portal, self.clock, instance.account, instance.id, instance.name
                )
            )

    def action_mark(self) -> None:
        self.table.toggle_mark()

    def action_sort(self) -> None:
        names = list(SORTS)
        following = names[(names.index(self.table.sort_column) + 1) % len(names)]
        self._sort(following, self.table.sort_reverse)

    def action_reverse_sort(self) -> None:
        self._sort(self.table.sort_column, not self.table.sort_reverse)

    def _sort(self, column: str, reverse: bool) -> None:
        self.table.sort_by(column, reverse)
        # Sorted now, in the key's callback, and drawn in the next frame's: each stays short.
        self.table.index.commit()
        self._update_subtitle()

    @on(InstanceTable.RowHighlighted)
    def _on_row_highlighted(self) -> None:
        self.refresh_keys()

    @on(InstanceTable.MarksChanged)
    def _on_marks_changed(self) -> None:
        self._update_subtitle()
        self.refresh_keys()

    # -- filter --------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_input.display = True
        # Focus now, not after a refresh: keys typed right after `/` must reach the input.
        self.set_focus(self.filter_input)
        self.refresh_keys(focus_moved=True)

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.filter_input.display = False
        self.set_focus(self.table)
        self.refresh_keys(focus_moved=True)

    @on(Input.Changed, "#filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._update_subtitle()

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.filter_input.display = False
        self.set_focus(self.table)
        self.refresh_keys(focus_moved=True)

    def show_kind(self, kind: InstanceKind | None) -> None:
        """Only apps (the apps view), or every row (the instances view)."""
        self.table.set_kind(kind)
        self._update_subtitle()
        self.refresh_keys()

    def _update_subtitle(self) -> None:
        table = self.table
        parts = [
            f"{table.shown_count} of {table.total_count}"
            if table.shown_count != table.total_count
            else _count(table.total_count, "app" if table.kind == "app" else "instance"),
        ]
        if marked := len(table.marked):
            parts.append(f"{marked} marked")
        # The counts first, the sort as the column's header marks it (`public IP ▼`): the
        # demo's title with 3 rows marked fits 80 columns whole (it ended `3 ma…`).
        parts.append(f"{SORT_LABELS[table.sort_column]} {'▼' if table.sort_reverse else '▲'}")
        self.sub_title = " · ".join(parts)
        self.query_one("#no-apps").display = table.kind == "app" and not table.total_count
