"""What a `wm` process imports before it answers (issue 13): `wm --help` lists every command
without importing any, and lists them as click would from the commands themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from winged_monkey.actions import Action
from winged_monkey.cli.accounts import _LazyAccounts, accounts
from winged_monkey.cli.base import LazyGroup
from winged_monkey.cli.main import _LazyGroup, main
from winged_monkey.demo.seed import running_demo

#: Each lazy group of the CLI, its class beside the group.
GROUPS: list[tuple[type[LazyGroup], click.Group]] = [(_LazyGroup, main), (_LazyAccounts, accounts)]
LISTED = [(cls, group, name) for cls, group in GROUPS for name in sorted(cls.LISTED)]


def _modules_after_cli(*args: str) -> tuple[str, set[str]]:
    """`wm ARGS`' output and the modules it had imported, in a fresh process."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('\\n' + json.dumps(sorted(sys.modules))))\n"
        "from winged_monkey.cli.entry import main\n"
        f"sys.argv = ['wm', *{list(args)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out, _, modules = done.stdout.rpartition("\n\n")
    return out, set(json.loads(modules))


def test_help_imports_no_command_nor_what_commands_run_on() -> None:
    out, loaded = _modules_after_cli("--help")
    assert "  stop      Stop instances (by id, name or ACCOUNT/ID)." in out.splitlines()
    heavy = {"pydantic", "asyncio", "libcloud", "httpx", "textual", "fastapi"}
    assert not {m.split(".")[0] for m in loaded} & heavy
    ours = {m for m in loaded if m.startswith("winged_monkey.")}
    assert ours <= {
        "winged_monkey.cli",
        "winged_monkey.cli.entry",
        "winged_monkey.cli.main",
        "winged_monkey.cli.base",
        "winged_monkey.errors",
        "winged_monkey.httppool",
        "winged_monkey.user",
        "winged_monkey.user.paths",
        "winged_monkey.terminal",  # the encoding check: standard library only
        "winged_monkey.terminal.encoding",
    }


def test_accounts_help_imports_not_the_importer() -> None:
    out, loaded = _modules_after_cli("accounts", "--help")
    assert "  import      Add accounts from clouds.yaml, OS_* variables or AWS" in out
    assert "winged_monkey.cli.accounts_import" not in loaded


def test_every_command_is_listed_from_its_sentence_and_the_actions_are_all_there() -> None:
    for cls, _group in GROUPS:
        assert set(cls.LISTED) == set(cls.LAZY), cls
    ctx = click.Context(main)
    actions = {n for n, t in _LazyGroup.LAZY.items() if t.endswith(":COMMANDS")}
    assert actions == {str(a) for a in Action} | {"delete"}
    assert main.get_command(ctx, "delete") is main.get_command(ctx, "destroy")


@pytest.mark.parametrize(("cls", "group", "name"), LISTED)
def test_a_listed_sentence_shortens_as_its_commands_own_help(
    cls: type[LazyGroup], group: click.Group, name: str
) -> None:
    """click shortens a command's help to the width left beside the names: whatever the
    terminal's width, the line from the sentence is the line from the command itself."""
    command = group.get_command(click.Context(group), name)
    assert command is not None
    stand_in = click.Command(name, help=cls.LISTED[name])
    for limit in range(1, 240):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), limit


def test_a_mistyped_command_is_told_the_close_ones_lazy_or_not() -> None:
    result = CliRunner().invoke(main, ["sto"])
    assert result.exit_code == 2
    assert "No such command 'sto'. (Did you mean one of: 'destroy', 'stop'?)" in result.output
    assert "Did you mean 'serve'?" in CliRunner().invoke(main, ["serv"]).output


@pytest.mark.parametrize("group", [group for _cls, group in GROUPS])
@pytest.mark.parametrize("width", [40, 80, 200])
def test_help_reads_as_click_lists_the_imported_commands(group: click.Group, width: int) -> None:
    ctx = click.Context(group, terminal_width=width)
    listed = click.HelpFormatter(width=width)
    group.format_commands(ctx, listed)
    commands = {n: group.get_command(ctx, n) for n in group.list_commands(ctx)}
    imported = click.Group(commands={n: c for n, c in commands.items() if c is not None})
    expected = click.HelpFormatter(width=width)
    imported.format_commands(click.Context(imported, terminal_width=width), expected)
    assert listed.getvalue() == expected.getvalue()
    assert all(f"  {name} " in listed.getvalue() for name in commands)


def test_an_ec2_account_loads_its_family_only_and_no_catalog() -> None:
    """A process whose accounts are EC2 ones pays for EC2's family, not OpenStack's,
    libvirt's or the generic one (nor their compat layers); and, until it reads a catalog
    (`wm catalog`, `wm launch`), not for the catalog's models."""
    code = (
        "import json, sys\n"
        "from winged_monkey.account import AccountConfig, Secrets\n"
        "from winged_monkey_libcloud import LibcloudBackend\n"
        "account = AccountConfig(name='a', provider='ec2')\n"
        "print(type(LibcloudBackend(account, Secrets(account='a'))).__name__)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    built, modules = done.stdout.splitlines()[-2:]
    assert built == "EC2Backend"
    loaded = set(json.loads(modules))
    families = {m for m in loaded if m.startswith("winged_monkey_libcloud.")}
    assert not {"openstack", "libvirt", "generic", "openstackcompat", "libvirtcompat"} & {
        m.rpartition(".")[2] for m in families
    }
    assert not {"winged_monkey.catalog", "winged_monkey_libcloud.ec2catalog"} & loaded


#: What `wm ls --json` runs on no path of its own: other commands', the views', the
#: server's, the catalog's, and the event log's exports (retention is store/retention.py).
NOT_FOR_A_LISTING = {
    "textual",
    "fastapi",
    "winged_monkey.ui",
    "winged_monkey.serve",
    "winged_monkey.catalog",
    "winged_monkey.cli.serve",
    "winged_monkey.cli.catalog",
    "winged_monkey.cli.events",
    "winged_monkey.cli.actions",
    "winged_monkey.cli.accounts_import",
    "winged_monkey.engine.catalogs",
    "winged_monkey.engine.launching",
    "winged_monkey.engine.ranking",
    "winged_monkey.engine.poller",  # the TUI's and wm serve's polling
    "winged_monkey.store.events",  # `wm events`' windows, filters and exports
    "winged_monkey.user.binding_ids",  # the TUI's key ids: read for a [keys] table only
    "winged_monkey.user.importing",
    "winged_monkey_libcloud.ec2catalog",
}


def test_a_listing_imports_and_reads_only_what_it_runs(tmp_path: Path) -> None:
    """`wm ls --json` over EC2 accounts (issue 13: each run costs a script its CPU): none of
    the modules above, and no other package's metadata read to find wm's own backend (a
    few hundred files in a full environment; a plugin of another package is still found,
    tests/ui/test_instance_table_scale.py installs one)."""
    code = (
        "import atexit, importlib.metadata as metadata, json, sys\n"
        "callers = []\n"
        "every = metadata.entry_points\n"
        "def entry_points(**params):\n"
        "    callers.append(sys._getframe(1).f_globals['__name__'])\n"
        "    return every(**params)\n"
        "metadata.entry_points = entry_points\n"
        "atexit.register(lambda: print('\\n' + json.dumps([sorted(sys.modules), callers])))\n"
        "from winged_monkey.cli.entry import main\n"
        "sys.argv = ['wm', 'ls', '--json']\n"
        "main()\n"
    )
    with running_demo(tmp_path / "demo") as (_config, store_path, _server):
        env = {
            **os.environ,
            "WM_CONFIG": str(store_path.parent / "config.toml"),
            "WM_DATA_DIR": str(tmp_path / "data"),
        }
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    out, _, loaded = done.stdout.rpartition("\n\n")
    listed = json.loads(out)
    assert {a["name"]: a["phase"] for a in listed["accounts"]} == {
        "dev": "ok",
        "dev-eu": "ok",
        "prod": "ok",
    }
    assert listed["instances"]
    modules, callers = json.loads(loaded)
    imported = [
        m for m in modules if any(m == n or m.startswith(f"{n}.") for n in NOT_FOR_A_LISTING)
    ]
    assert not imported
    assert "winged_monkey.plugins" not in callers, callers
