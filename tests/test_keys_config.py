"""`[keys]` as a user sees it: a binding id no view has is refused when the config loads
(exit 3, with the nearest id and every id); and the ids the config knows are the ones the
views declare."""

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
from winged_monkey.user.binding_ids import BindingId
from winged_monkey.user.config import load_config

WM = Path(sys.executable).with_name("wm")
EVERY_ID = (
    "the ids: accounts, check, clear_filter, clear_marks, console, copy_field, copy_ssh, "
    "destroy, details, filter, help, mark, quit, reboot, refresh, reset, reverse_sort, sort, "
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
