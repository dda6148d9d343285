from __future__ import annotations

import pytest

from winged_monkey import plugins
from winged_monkey.backend import Backend
from winged_monkey.errors import PluginError


def test_builtin_backend_is_registered_like_a_plugin() -> None:
    assert "libcloud" in plugins.available()
    cls = plugins.load("libcloud")
    assert issubclass(cls, Backend)


def test_missing_backend_names_the_installed_ones() -> None:
    with pytest.raises(PluginError) as info:
        plugins.load("heat-but-misspelt")
    assert "'heat-but-misspelt' is not installed" in str(info.value)
    assert "libcloud" in str(info.value)
