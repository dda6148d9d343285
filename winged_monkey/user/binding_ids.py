"""The TUI's binding ids, the names `[keys]` remaps (`stop = "x,ctrl+x"`), written once.

The views' `Binding(..., id=BindingId.STOP)` take them from here and the config refuses
any other name when it loads; this module is plain data (the core never imports Textual).
tests/test_keys_config.py holds it equal to the ids the views declare."""

from __future__ import annotations

from enum import StrEnum

from winged_monkey.actions import Action


class BindingId(StrEnum):
    # Every view (the app's own keys).
    VIEWS = "views"
    HELP = "help"
    HELP_ANYWHERE = "help_anywhere"  # f1: help where `?` would be typed in a field
    QUIT = "quit"
    SUSPEND_PROCESS = "suspend_process"
    DISMISS_NOTES = "dismiss_notes"
    # The instances view, and the events view for the first three.
    FILTER = "filter"
    CLEAR_FILTER = "clear_filter"
    TIMELINE = "timeline"
    REFRESH = "refresh"  # the accounts and catalog views too
    MARK = "mark"
    CLEAR_MARKS = "clear_marks"
    DETAILS = "details"
    START = Action.START.value
    STOP = Action.STOP.value
    REBOOT = Action.REBOOT.value
    DESTROY = Action.DESTROY.value
    SUSPEND = Action.SUSPEND.value
    RESET = Action.RESET.value
    POWEROFF = Action.POWEROFF.value
    CHECK = Action.CHECK.value
    SORT = "sort"
    REVERSE_SORT = "reverse_sort"
    ACCOUNTS = "accounts"
    SSH = "ssh"
    COPY_SSH = "copy_ssh"
    COPY_FIELD = "copy_field"
    CONSOLE = "console"
    UPDATE_APP = "update_app"
    # One view's or dialog's own keys, named after it.
    ACCOUNTS_CLOSE = "accounts.close"
    APP_CLOSE = "app.close"
    APP_RELOAD = "app.reload"
    CATALOG_LAUNCH = "catalog.launch"
    CATALOG_SEARCH = "catalog.search"
    CATALOG_CLOSE_SEARCH = "catalog.close_search"
    CATALOG_DETAILS = "catalog.details"
    CONFIRM_YES = "confirm.yes"
    CONFIRM_NO = "confirm.no"
    CONFIRM_CANCEL = "confirm.cancel"
    CONSOLE_CLOSE = "console.close"
    CONSOLE_FOLLOW = "console.follow"
    CONSOLE_RELOAD = "console.reload"
    DETAILS_CLOSE = "details.close"
    EVENTS_WINDOW = "events.window"
    EVENTS_RANGE = "events.range"
    EVENTS_ACCOUNT = "events.account"
    EVENTS_KIND = "events.kind"
    EVENTS_STATE = "events.state"
    EVENTS_TARGET = "events.target"
    EVENTS_PLOT = "events.plot"
    EVENTS_FOLD = "events.fold"
    EVENTS_TIMELINE = "events.timeline"
    HELP_CLOSE = "help.close"
    PICK_CANCEL = "pick.cancel"
    RANGE_CANCEL = "range.cancel"
    SECRET_SKIP = "secret.skip"  # noqa: S105 (the secret dialog's skip key)
    TIMELINE_CLOSE = "timeline.close"
    UPDATE_CLOSE = "update.close"
    VIEWS_CANCEL = "views.cancel"
    VIEWS_NEXT = "views.next"
    VIEWS_PREVIOUS = "views.previous"
    VIEWS_COMPLETE = "views.complete"
    WIZARD_BACK = "wizard.back"
    WIZARD_NEXT = "wizard.next"
    WIZARD_DOWN = "wizard.down"
    WIZARD_UP = "wizard.up"


def listed() -> str:
    """Every id, for a message: the app's and the instances view's, then each view's own
    by its name (`events.{account,fold,...}`)."""
    plain = sorted(i for i in BindingId if "." not in i)
    views: dict[str, list[str]] = {}
    for binding_id in sorted(i for i in BindingId if "." in i):
        view, _, name = binding_id.partition(".")
        views.setdefault(view, []).append(name)
    return ", ".join(
        [
            *plain,
            *(f"{v}.{{{','.join(n)}}}" if len(n) > 1 else f"{v}.{n[0]}" for v, n in views.items()),
        ]
    )
