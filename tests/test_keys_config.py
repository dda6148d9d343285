"""`[keys]` as a user sees it: a binding id no view has is refused when the config loads
(exit 3, with the nearest id and every id), a key the keymap gives two bindings of one
view is said in the TUI; and the ids the config knows are the ones the views declare."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import winged_monkey.ui
from tests.terminal import shown_on_a_terminal
from tests.test_config_refusals import refused
from tests.ui.conftest import settle
from tests.ui.on_screen import Notes
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.user.binding_ids import BindingId
from winged_monkey.user.config import Config, load_config

WM = Path(sys.executable).with_name("wm")
EVERY_ID = (
    "the ids: accounts, check, clear_filter, clear_marks, console, copy_field, copy_ssh, "
    "destroy, details, dismiss_notes, filter, help, help_anywhere, mark, poweroff, quit, "
    "reboot, refresh, reset, reverse_sort, sort, "
    "ssh, start, stop, suspend, suspend_process, timeline, update_app, views, accounts.close, "
    "app.{close,reload}, catalog.{close_search,details,launch,search}, "
    "confirm.{cancel,no,yes}, console.{close,follow,reload}, details.close, "
    "events.{account,fold,kind,plot,range,state,target,timeline,window}, help.close, "
    "pick.cancel, range.cancel, secret.skip, timeline.close, update.close, "
    "views.{cancel,complete,next,previous}, wizard.{back,down,next,up})"
)


def keys_file(tmp_path: Path, keys: str) -> Path:
    config = tmp_path / "wm.toml"
    config.write_text(f"[keys]\n{keys}\n")
    return config


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (
            'refersh = "f5"',
            "refersh = 'f5': 'refersh' is not a binding id (did you mean 'refresh'? ",
        ),
        (
            '"events.windw" = "w"',
            "events.windw = 'w': 'events.windw' is not a binding id (did you ",
        ),
        ('kill = "k"', "kill = 'k': 'kill' is not a binding id ("),
    ],
)
def test_wm_ls_refuses_a_binding_id_no_view_has(tmp_path: Path, keys: str, said: str) -> None:
    config = keys_file(tmp_path, keys)
    shown = refused(config)
    assert f"{config}: field keys: {said}" in shown
    assert EVERY_ID in shown
    if "windw" in keys:
        assert "did you mean 'events.window'?" in shown


def test_the_tui_does_not_start_on_a_mistyped_binding_id(tmp_path: Path) -> None:
    config = keys_file(tmp_path, 'refersh = "f5"')
    env = {**os.environ, "WM_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}
    shown = shown_on_a_terminal(["sh", "-c", f'"{WM}" --config "{config}"; echo "exit $?"'], env)
    flat = "".join(shown.replace("\r", "").split("\n"))
    assert "field keys: refersh = 'f5': 'refersh' is not a binding id (did you mean " in flat
    assert "exit 3" in flat


def test_every_binding_id_may_be_remapped(tmp_path: Path) -> None:
    config = keys_file(tmp_path, "\n".join(f'"{i}" = "f12"' for i in BindingId))
    assert set(load_config(config).keys) == {i.value for i in BindingId}


def _node_classes() -> Iterator[type[DOMNode]]:
    """Every screen, widget and app class the views define (their modules imported)."""
    for module in pkgutil.walk_packages(winged_monkey.ui.__path__, "winged_monkey.ui."):
        importlib.import_module(module.name)
    todo = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("winged_monkey"):
            yield cls


def test_the_ids_the_config_knows_are_those_the_views_declare() -> None:
    declared: dict[str, str] = {}
    for cls in _node_classes():
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.id is not None:
                # From binding_ids, not written again by hand in the view.
                assert isinstance(binding.id, BindingId), (cls, binding)
                declared[binding.id] = cls.__name__
    assert set(declared) == {i.value for i in BindingId}


async def clash_notes(tmp_path: Path, keys: dict[str, str]) -> list[str]:
    """What the TUI says of `keys` in the instances view, and in the events view."""
    store = Store.open(tmp_path / "wm.sqlite3")
    notes = Notes()
    app = WMApp(Portal(Config(keys=keys), store, user="tester"), title_suffix="test")
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        await settle(pilot)
        await app.show_view("events")
        await pilot.pause()
        await pilot.pause()
    store.close()
    return [n.message for n in notes.shown if n.title == "Keys that clash"]


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (
            {"refresh": "s"},
            [
                "[keys] refresh = 's': s is also the key of start on this view, and a key runs "
                "only one binding: give each its own",
                "[keys] refresh = 's': s is also the key of events.state on this view, and a "
                "key runs only one binding: give each its own",
            ],
        ),
        (
            {"stop": "k", "start": "k"},
            [
                "[keys] start = 'k', stop = 'k': k is the key of start and stop on this view, "
                "and a key runs only one binding: give each its own"
            ],
        ),
        (
            {"stop": "q"},
            [
                "[keys] stop = 'q': q is also the key of quit on this view, and a key runs only "
                "one binding: give each its own"
            ],
        ),
        (
            {"stop": "u"},
            [
                "[keys] stop = 'u': u is also the key of clear_marks on this view, and a key "
                "runs only one binding: give each its own"
            ],
        ),
        (
            {"events.window": "k"},
            [
                "[keys] events.window = 'k': k is also the key of events.kind on this view, and "
                "a key runs only one binding: give each its own"
            ],
        ),
        (
            # The table's own keys hold no id, and the focused table has a key first.
            {"stop": "up", "events.kind": "down"},
            [
                "[keys] stop = 'up': up is also the key of the row above on this view, and a "
                "key runs only one binding: give each its own",
                "[keys] events.kind = 'down': down is also the key of cursor down on this view, "
                "and a key runs only one binding: give each its own",
            ],
        ),
        (
            {"stop": "tab"},
            [
                "[keys] stop = 'tab': tab is also the key of focus next on this "
                "view, and a key runs only one binding: give each its own"
            ],
        ),
        ({"stop": "x,ctrl+x", "quit": "Q", "events.kind": "K", "start": "j"}, []),
    ],
    ids=[
        "on-a-default",
        "two-entries",
        "over-the-app",
        "over-a-widget",
        "events",
        "over-a-widgets-own-key",
        "over-the-screens-own-key",
        "none",
    ],
)
async def test_a_key_given_to_two_bindings_of_a_view_is_said(
    tmp_path: Path, keys: dict[str, str], said: list[str]
) -> None:
    assert await clash_notes(tmp_path, keys) == said
