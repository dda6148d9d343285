"""The layering DESIGN.md promises: a core without Textual, plugins found without importing."""

from __future__ import annotations

import json
import subprocess
import sys

CORE_MODULES = [
    "winged_monkey",
    "winged_monkey.models",
    "winged_monkey.actions",
    "winged_monkey.backend",
    "winged_monkey.config",
    "winged_monkey.credentials",
    "winged_monkey.errors",
    "winged_monkey.observe",
    "winged_monkey.plugins",
    "winged_monkey.portal",
    "winged_monkey.render",
    "winged_monkey.store",
    "winged_monkey.cli",
    "winged_monkey.launcher",
    "winged_monkey.agent",
    "winged_monkey.demo",
    "winged_monkey_libcloud",
]


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
        "import winged_monkey.cli, winged_monkey.ui.app\n"
        "assert threading.active_count() == before\n"
        "assert not os.path.exists('/nonexistent')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wm_loads_the_server_and_the_catalog_only_when_asked() -> None:
    """Every `wm` command pays for what `wm` imports: the server, its tokens, the catalog,
    events and import commands load only when their command runs (or --help lists them)."""
    loaded = _modules_after("import winged_monkey.cli")
    lazy = {"cli_serve", "cli_catalog", "cli_events", "cli_import", "events", "catalog"}
    assert not {f"winged_monkey.{name}" for name in lazy} & loaded
    assert not {m for m in loaded if m.startswith(("winged_monkey.aggregator", "fastapi"))}
    out = subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert {"serve", "catalog", "launch", "where", "events", "ls"} <= {
        line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()
    }
    accounts = subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli import main; main()", "accounts", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "import" in {
        line.split()[0] for line in accounts.split("Commands:")[1].splitlines() if line.strip()
    }


def test_the_wm_command_imports_little_before_it_knows_where_to_run() -> None:
    """`wm` hands a command to a running agent before importing pydantic, httpx or click."""
    loaded = _modules_after("import winged_monkey.launcher")
    assert not {m.split(".")[0] for m in loaded} & {"pydantic", "httpx", "click", "typing"}
