"""`[keys]` names the views' binding ids: the ids the config knows (user/binding_ids.py)
are the ones the views declare, taken from there."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from textual.binding import Binding
from textual.dom import DOMNode

import winged_monkey.ui
from winged_monkey.user.binding_ids import BindingId


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
