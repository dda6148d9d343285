"""`wm app launch` with environments, by catalog name and as a dry run, and `wm app update`,
against the real standalone Heat and the template tree of tests/heat/tree.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.heat.conftest import Projects
from tests.heat.test_heat_cli import Cli
from tests.heat.tree import MOTD, write_tree
from winged_monkey import plugins
from winged_monkey.backend import Backend, Capability
from winged_monkey.catalog import TemplateForm
from winged_monkey.cli.main import ExitCode
from winged_monkey.models import Instance, InstanceState

FLAKY = """
heat_template_version: 2018-08-31
parameters:
  fail:
    type: boolean
    default: false
  word:
    type: string
    default: first
resources:
  step:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: word}
      fail: {get_param: fail}
"""


@pytest.fixture
def cli(heat: Projects, tmp_path: Path) -> Cli:
    return Cli(heat, tmp_path)


def outputs(heat: Projects, project: str, stack: str) -> dict[str, Any]:
    reply = heat.witness(project, "GET", f"/stacks/{stack}")
    assert reply.status_code == 200, reply.text
    return {o["output_key"]: o["output_value"] for o in reply.json()["stack"]["outputs"]}


def test_nested_launch_with_environments_then_update(cli: Cli, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree")
    cli.add_heat("lab")
    app, env, override = (str(tree / f) for f in ("app.yaml", "app_env.yaml", "override_env.yaml"))

    preview = cli.run("app", "launch", app, "--account", "lab", "-e", env, "--dry-run")
    assert preview.exit_code == ExitCode.OK, preview.output
    lines = preview.stdout.splitlines()
    assert any(line.split() == ["motd", "OS::Heat::TestResource"] for line in lines)
    assert any(line.split() == ["web/said", "OS::Heat::TestResource"] for line in lines)
    assert any(line.split() == ["db-tag/none", "OS::Heat::None"] for line in lines)  # ../../
    assert lines[-1].endswith("(nothing was created)")
    assert cli.heat.witness("lab", "GET", "/stacks").json()["stacks"] == []

    launched = cli.run(
        "app", "launch", app, "--account", "lab", "-e", env, "-e", override, "--wait"
    )
    assert launched.exit_code == ExitCode.OK, launched.output
    assert launched.stdout.strip().endswith(": ok: app is running (CREATE_COMPLETE)")
    found = outputs(cli.heat, "lab", "app")
    assert (found["greeting"], found["size"], found["motd"]) == (
        "hello from the environment",
        3,
        MOTD,
    )

    updated = cli.run("app", "update", "app", "--param", "greeting=changed")
    assert updated.exit_code == ExitCode.OK, updated.output
    assert updated.stdout.strip().endswith(": ok: app updated (UPDATE_COMPLETE)")
    found = outputs(cli.heat, "lab", "app")
    assert (found["greeting"], found["size"]) == ("changed", 3)  # the rest is kept
    # In the event log as the TUI's update is: its intent and its outcome, one row.
    (row,) = cli.run("events", "--kind", "update").stdout.splitlines()[1:]
    assert row.split()[2:4] == ["action", "update"]
    assert "app updated (UPDATE_COMPLETE) · 2 parts" in row
    assert len(cli.run("events", "--kind", "update", "--parts").stdout.splitlines()) == 3

    bad = cli.run("app", "update", "app", "--param", "size=lots")
    assert bad.exit_code == ExitCode.CONFIG
    assert bad.stderr.startswith("wm: lab/")
    assert "update rejected" in bad.stderr
    assert "size" in bad.stderr
    rejected, _ = cli.run("events", "--kind", "update").stdout.splitlines()[1:]
    assert " failed " in rejected  # the refusal is the update's outcome, in the same row
    assert "· 2 parts" in rejected


def test_update_that_fails_says_heats_reason(cli: Cli, tmp_path: Path) -> None:
    flaky = tmp_path / "flaky.yaml"
    flaky.write_text(FLAKY)
    cli.add_heat("fl")
    launched = cli.run("app", "launch", str(flaky), "--account", "fl", "--wait")
    assert launched.exit_code == ExitCode.OK, launched.output
    failed = cli.run("app", "update", "fl/flaky", "--param", "fail=true", "--param", "word=x")
    assert failed.exit_code == ExitCode.FAILED, failed.output
    assert ": flaky: UPDATE_FAILED: " in failed.stderr
    assert "Test Resource failed" in failed.stderr
    missing = cli.run("app", "update", "nothing-here", "--param", "word=x")
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_update_rolled_back_by_the_legacy_engine_says_so(cli: Cli, tmp_path: Path) -> None:
    """A stack created with rollback on: the legacy engine (Debian's Heat) rolls a failed
    update back with no UPDATE_FAILED event of the stack's. wm followed until its action
    timeout and said 'still updating' (10 minutes by default)."""
    cli.config.write_text("action_timeout = 30\n")
    cli.add_heat("rb")
    body = {"stack_name": "flaky", "template": FLAKY, "disable_rollback": False}
    created = cli.heat.witness("rb", "POST", "/stacks", json=body)
    assert created.status_code == 201, created.text
    assert cli.heat.wait("rb", created.json()["stack"]["id"]) == "CREATE_COMPLETE"
    failed = cli.run("app", "update", "rb/flaky", "--param", "fail=true", "--param", "word=x")
    assert failed.exit_code == ExitCode.FAILED, failed.output
    assert ": flaky: ROLLBACK_COMPLETE: update failed and was rolled back: " in failed.stderr
    assert "Test Resource failed" in failed.stderr


def test_launch_by_catalog_name_with_its_environment(cli: Cli, tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree")
    cli.add_heat("cat")
    with cli.config.open("a") as f:
        f.write(f'templates = "{tree}"\n')
    launched = cli.run("app", "launch", "app", "--account", "cat", "--wait")
    assert launched.exit_code == ExitCode.OK, launched.output
    assert outputs(cli.heat, "cat", "app")["size"] == 2  # app_env.yaml, beside app.yaml
    again = cli.run("app", "launch", "app", "--account", "cat")
    assert again.exit_code == ExitCode.CONFIG  # a rejection by Heat: the name is taken
    assert again.stderr.strip() == "wm: cat: app rejected: The Stack (app) already exists."
    unknown = cli.run("app", "launch", "nope", "--account", "cat")
    assert unknown.exit_code == ExitCode.CONFIG
    assert "no template nope" in unknown.stderr


class OlderPlugin(Backend):
    """A third-party backend written before n-tier apps were part of the contract: it
    lists an app row and has its own one-argument template_form, nothing more."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST, Capability.STACKS, Capability.LAUNCH}
    )

    async def list_instances(self) -> list[Instance]:
        return [
            Instance(
                account=self.account.name,
                id="app-1",
                name="shop",
                state=InstanceState.RUNNING,
                raw_state="deployed",
                provider="older",
                extra={"kind": "app"},
            )
        ]

    async def template_form(self, template: str) -> TemplateForm:  # type: ignore[override]
        return TemplateForm(account=self.account.name, template=template)


def test_a_backend_without_apps_refuses_update_and_preview(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: OlderPlugin if name == "older" else real_load(name)
    )
    with cli.config.open("a") as f:
        f.write('\n[[accounts]]\nname = "old"\nbackend = "older"\n')
    refused = cli.run("app", "update", "old/shop", "--param", "size=2")
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output  # refused, as README says
    assert refused.stderr.strip() == "wm: old: this account has no n-tier apps to update"
    dry = cli.run("app", "launch", "shop.yaml", "--account", "old", "--dry-run")
    assert dry.exit_code == ExitCode.NOT_FOUND, dry.output
    assert "no n-tier apps to preview" in dry.stderr


def test_wm_catalog_lists_a_heat_accounts_templates_unasked(cli: Cli, tmp_path: Path) -> None:
    """`wm catalog` with no account named reads every account that may have a catalog, as
    its class says before any is built. Heat's said none (it added `catalog` once built,
    with `templates` set): `wm catalog` left its templates out, the TUI's catalog too until
    its first poll, and `wm serve` scored a pool asked before that poll "catalog unreadable:
    this account has no catalog"."""
    tree = write_tree(tmp_path / "tree")
    cli.add_heat("cat")
    with cli.config.open("a") as f:
        f.write(f'templates = "{tree}"\n')
    cli.add_heat("bare")  # no templates: no catalog, said in one line with what to add
    shown = cli.run("catalog")
    assert shown.exit_code == ExitCode.OK, shown.output
    assert shown.stdout.startswith("cat (heat)\n"), shown.stdout
    assert f"{tree}/app.yaml" in shown.stdout, shown.stdout
    assert "bare" not in shown.stdout, shown.stdout
    [said] = [line for line in shown.stderr.splitlines() if "bare" in line]
    assert said.startswith("wm: bare: no catalog: a Heat account's catalog is the templates")


def test_wm_catalog_of_a_heat_account_without_templates_says_what_to_add(cli: Cli) -> None:
    """`wm catalog bare` on a Heat account given no templates said "heat accounts have no
    catalog" (the TUI) or "its provider offers nothing to launch here" (the CLI), which is
    untrue of any Heat account given `templates`: it says what to add."""
    cli.add_heat("bare")
    shown = cli.run("catalog", "--account", "bare")
    assert shown.exit_code == ExitCode.OK, shown.output  # said, not a failure to answer
    assert shown.stderr.startswith("wm: bare: no catalog: "), shown.stderr
    assert '`templates = "~/heat-templates"`' in shown.stderr, shown.stderr
