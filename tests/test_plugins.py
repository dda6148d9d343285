from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from winged_monkey import plugins
from winged_monkey.backend import Backend
from winged_monkey.errors import PluginError

ROOT = Path(__file__).resolve().parent.parent


def test_builtin_backend_is_registered_like_a_plugin() -> None:
    assert "libcloud" in plugins.available()
    cls = plugins.load("libcloud")
    assert issubclass(cls, Backend)


def test_missing_backend_names_the_installed_ones() -> None:
    with pytest.raises(PluginError) as info:
        plugins.load("heat-but-misspelt")
    assert "'heat-but-misspelt' is not installed" in str(info.value)
    assert "libcloud" in str(info.value)


def test_a_plugin_of_another_package_is_found_beside_the_bundled_ones(tmp_path: Path) -> None:
    """The bundled backends are looked up in wm's own metadata first; a name there is not
    (a plugin another distribution registers) is still found in the whole environment's,
    and listed: the example plugin's package, with the metadata pip would write for it."""
    site = tmp_path / "site"
    info = site / "winged_monkey_synthetic-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: winged-monkey-synthetic\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[winged_monkey.backends]\nsynthetic = winged_monkey_synthetic:SyntheticBackend\n\n"
        "[winged_monkey.settings]\nsynthetic = winged_monkey_synthetic:SyntheticSettings\n"
    )
    example = ROOT / "examples" / "winged-monkey-synthetic"
    path = [str(site), str(example), *filter(None, [os.environ.get("PYTHONPATH")])]
    code = (
        "from winged_monkey import plugins\n"
        "print(plugins.load('synthetic').__name__, plugins.settings('synthetic').__name__)\n"
        "print(plugins.load('libcloud').__name__, 'synthetic' in plugins.available())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == [
        "SyntheticBackend",
        "SyntheticSettings",
        "LibcloudBackend",
        "True",
    ]
