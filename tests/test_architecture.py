"""The layering DESIGN.md promises: a core without Textual, plugins found without importing."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CORE_MODULES = [
    "winged_monkey",
    "winged_monkey.models",
    "winged_monkey.actions",
    "winged_monkey.backend",
    "winged_monkey.user.config",
    "winged_monkey.user.credentials",
    "winged_monkey.errors",
    "winged_monkey.engine.observe",
    "winged_monkey.plugins",
    "winged_monkey.engine.portal",
    "winged_monkey.terminal.render",
    "winged_monkey.store.sqlite",
    "winged_monkey.cli.main",
    "winged_monkey.cli.entry",
    "winged_monkey.cli.cached",
    "winged_monkey.demo",
    "winged_monkey_libcloud",
]

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_core_never_imports_textual() -> None:
    imports = "\n".join(f"import {name}" for name in CORE_MODULES)
    loaded = _modules_after(imports)
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert "winged_monkey.ui" not in loaded


def test_listing_backends_imports_no_backend() -> None:
    loaded = _modules_after("from winged_monkey import plugins\nprint(plugins.available())")
    assert "winged_monkey_libcloud" not in loaded
    assert "libcloud" not in loaded


def test_importing_the_package_does_no_work(tmp_path: object) -> None:
    """Nothing happens at import time: no directories, no files, no threads."""
    code = (
        "import os, threading\n"
        "os.environ['WM_DATA_DIR'] = os.environ['WM_CONFIG'] = '/nonexistent/wm'\n"
        "before = threading.active_count()\n"
        "import winged_monkey.cli.main, winged_monkey.ui.app\n"
        "assert threading.active_count() == before\n"
        "assert not os.path.exists('/nonexistent')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wm_loads_the_server_and_the_catalog_only_when_asked() -> None:
    """Every `wm` command pays for what `wm` imports: the server, its tokens, the catalog,
    events and import commands load only when their command runs (or --help lists them)."""
    loaded = _modules_after("import winged_monkey.cli.main")
    lazy = {
        "cli.serve",
        "cli.catalog",
        "cli.events",
        "cli.accounts_import",
        "store.events",
        "catalog",
    }
    assert not {f"winged_monkey.{name}" for name in lazy} & loaded
    assert not {m for m in loaded if m.startswith(("winged_monkey.serve", "fastapi"))}
    out = subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli.main import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {"serve", "catalog", "launch", "where", "events", "ls"} <= {
        line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()
    }
    accounts = subprocess.run(
        [
            sys.executable,
            "-c",
            "from winged_monkey.cli.main import main; main()",
            "accounts",
            "--help",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "import" in {
        line.split()[0] for line in accounts.split("Commands:")[1].splitlines() if line.strip()
    }


@pytest.mark.parametrize(
    "args", [["ls", "--cached", "--json"], ["ls", "--cached", "dev", "--json"]], ids=str
)
def test_wm_answers_a_cached_listing_with_the_standard_library(
    tmp_path: Path, args: list[str]
) -> None:
    """`wm` is winged_monkey.cli.entry (pyproject.toml), which hands every command to the
    click CLI but `wm ls --cached`: a status line calling that every few seconds pays for
    Python and one store read, not for pydantic, httpx, click or asyncio; an account named
    as a word (`wm ls --cached dev`) too."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["wm"] == "winged_monkey.cli.entry:main"
    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "dev"\nprovider = "ec2"\n', encoding="utf-8")
    code = (
        "import os, sys\n"
        f"os.environ.update(WM_CONFIG={str(config)!r}, WM_DATA_DIR={str(tmp_path)!r})\n"
        f"sys.argv = ['wm', *{args!r}]\n"
        "from winged_monkey.cli.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    loaded = _modules_after(code)
    assert "winged_monkey.cli.cached" in loaded
    heavy = {"pydantic", "httpx", "click", "asyncio", "textual"}
    assert not {m.split(".")[0] for m in loaded} & heavy
    assert "winged_monkey.cli.main" not in loaded
