"""`wm` without the TUI, against the demo's real moto server: output, side effects, exit codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from winged_monkey.actions import Action
from winged_monkey.cli.actions import question
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.demo.seed import DEV_KEY, DEV_SECRET, running_demo
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import Instance, InstanceState


@dataclass
class Demo:
    config: Path
    server: MotoServer
    data_dir: Path

    def run(self, *args: str, stdin: str | None = None) -> Result:
        env = {"WM_CONFIG": str(self.config), "WM_DATA_DIR": str(self.data_dir)}
        return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)

    def state_on_server(self, name: str, region: str = "us-east-1") -> str:
        """The witness: what moto itself says, through boto3 rather than our backend."""
        ec2 = boto3.client(
            "ec2",
            endpoint_url=self.server.url,
            region_name=region,
            aws_access_key_id=DEV_KEY,
            aws_secret_access_key=DEV_SECRET,
        )
        answer = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
        reservations = answer["Reservations"]
        (instance,) = [i for r in reservations for i in r["Instances"]]
        return str(instance["State"]["Name"])

    def add_account(self, toml: str) -> None:
        with self.config.open("a") as f:
            f.write("\n" + toml)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path / "demo") as (_config, store_path, server):
        yield Demo(store_path.parent / "config.toml", server, tmp_path / "data")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dead_account(name: str, port: int) -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 5\n'
        f'endpoint = {{ host = "127.0.0.1", port = {port}, secure = false }}\n'
        f'credentials = {{ key = "AKIAX", secret_env = "WM_DEMO_DEV_SECRET", keyring = false }}\n'
    )


def listing(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_ls_json_lists_every_account(demo: Demo) -> None:
    result = demo.run("ls", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    data = listing(result)
    assert {a["name"]: a["phase"] for a in data["accounts"]} == {
        "dev": "ok",
        "dev-eu": "ok",
        "prod": "ok",
    }
    names = {i["name"]: i for i in data["instances"]}
    assert len(names) >= 10
    assert names["eu-web"]["region"] == "eu-west-1"
    assert names["web-1"]["state"] == "running"
    assert names["web-1"]["raw_state"] == "running"


def test_ls_table_and_account_filter(demo: Demo) -> None:
    result = demo.run("ls", "--account", "dev-eu")
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["STATE", "NAME", "ACCOUNT"]
    assert all(" dev-eu " in line for line in lines[1:])
    assert any("eu-web" in line for line in lines)


def test_ls_unknown_account_is_a_config_error(demo: Demo) -> None:
    result = demo.run("ls", "--account", "nope")
    assert result.exit_code == ExitCode.CONFIG
    assert "no account named 'nope' (configured: dev, dev-eu, prod)" in result.stderr


def test_a_dead_account_fails_alone(demo: Demo, closed_port: int) -> None:
    demo.add_account(dead_account("gone", closed_port))
    result = demo.run("ls", "--json")
    assert result.exit_code == ExitCode.FAILED
    data = listing(result)
    phases = {a["name"]: a["phase"] for a in data["accounts"]}
    assert phases == {"dev": "ok", "dev-eu": "ok", "prod": "ok", "gone": "failed"}
    assert "gone: " in result.stderr
    assert str(closed_port) in result.stderr
    assert "Traceback" not in result.output


def test_a_listing_with_nothing_to_show_says_so_not_a_bare_header(
    demo: Demo, closed_port: int
) -> None:
    """`wm ls` printed a table header and no row when nothing was listed: its only
    account dead (its error said, its rows unknown), or `--kind app` where no account has
    apps. It says why now, and prints no table."""
    demo.add_account(dead_account("gone", closed_port))
    dead = demo.run("ls", "--account", "gone")
    assert dead.exit_code == ExitCode.FAILED
    assert dead.stdout == ""
    assert dead.stderr.startswith("wm: gone: "), dead.stderr
    apps = demo.run("ls", "--kind", "app")
    assert (apps.exit_code, apps.stdout) == (ExitCode.OK, "")
    assert apps.stderr == "wm: no account has apps (a Heat or aggregator account)\n"
    prod = demo.run("ls", "--account", "prod", "--kind", "app", "--json")
    assert listing(prod)["instances"] == []
    empty = dead_account("west", demo.server.port).replace('"us-east-1"', '"us-west-2"')
    demo.add_account(empty.replace('"AKIAX"', f'"{DEV_KEY}"'))
    west = demo.run("ls", "--account", "west")
    assert (west.exit_code, west.stdout) == (ExitCode.OK, "")
    assert west.stderr == "wm: no instances or apps in west\n"


def test_stop_needs_confirmation_without_a_terminal(demo: Demo) -> None:
    result = demo.run("stop", "web-1")
    assert result.exit_code == ExitCode.DECLINED, result.output
    assert "--yes" in result.stderr
    assert demo.state_on_server("web-1") == "running"


def test_stop_then_start_change_the_server(demo: Demo) -> None:
    result = demo.run("stop", "web-1", "--yes")
    assert result.exit_code == ExitCode.OK, result.output
    assert "ok: web-1 stopped" in result.stdout
    assert demo.state_on_server("web-1") == "stopped"

    result = demo.run("start", "web-1")
    assert result.exit_code == ExitCode.OK, result.output
    assert demo.state_on_server("web-1") == "running"


def test_a_stop_then_a_listing_in_another_process_is_one_change_in_the_log(demo: Demo) -> None:
    """`wm stop web-1`, then `wm ls`: the listing finds web-1 stopped, as the stop had seen
    it end. `wm events` says the stop once, the listing's sight of it one of its parts; it
    said the stop and, beside it, a `state` change nobody had asked for."""
    assert demo.run("stop", "web-1", "--yes").exit_code == ExitCode.OK
    assert demo.run("ls").exit_code == ExitCode.OK
    lines = demo.run("events", "--target", "web-1", "--since", "5m", "--width", "0").stdout
    changes = [line.split() for line in lines.splitlines()[1:]]
    assert len(changes) == 1, lines
    assert changes[0][2:4] == ["action", "stop"]
    parts = demo.run("events", "--target", "web-1", "--since", "5m", "--parts").stdout
    assert [line.split()[3] for line in parts.splitlines()[1:]] == ["state", "stop", "stop"]


def test_destroy_by_account_and_id(demo: Demo) -> None:
    instance = next(i for i in listing(demo.run("ls", "--json"))["instances"] if i["name"] == "api")
    result = demo.run("destroy", f"dev/{instance['id']}", "--yes")
    assert result.exit_code == ExitCode.OK, result.output
    assert demo.state_on_server("api") == "terminated"


def test_an_action_by_account_and_id_fetches_that_instance_alone(demo: Demo) -> None:
    """Fetched by its id, never by listing accounts (on a big vSphere, that is most of the
    wait): moto sees the look at it, the stop, then the looks that follow it."""
    instance = next(i for i in listing(demo.run("ls", "--json"))["instances"] if i["name"] == "api")
    demo.server.clear_calls()
    result = demo.run("stop", f"dev/{instance['id']}", "--yes")
    assert result.exit_code == ExitCode.OK, result.output
    assert demo.state_on_server("api") == "stopped"
    calls = [c for c in demo.server.calls if c.access_key]
    actions = [c.action for c in calls if c.action != "DescribeAddresses"]  # (its addresses)
    assert actions[:2] == ["DescribeInstances", "StopInstances"], actions
    assert set(actions) == {"DescribeInstances", "StopInstances"}, actions
    assert {c.region for c in calls} == {"us-east-1"}  # no other account was asked


def test_an_action_by_account_and_id_on_a_silent_account_is_its_error(
    demo: Demo, closed_port: int
) -> None:
    demo.add_account(dead_account("lab", closed_port))
    result = demo.run("stop", "lab/i-0123456789abcdef0", "--yes")
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "wm: lab: cannot reach" in result.output


def test_one_silent_account_among_the_targets_leaves_all_undone_and_says_so(
    demo: Demo, closed_port: int
) -> None:
    """All or nothing, said: the silent account's error, that nothing was done, and the
    command that acts on the others alone (which then works)."""
    demo.add_account(dead_account("lab", closed_port))
    api = next(i for i in listing(demo.run("ls", "--json"))["instances"] if i["name"] == "api")
    result = demo.run("stop", f"dev/{api['id']}", "lab/i-0123456789abcdef0", "--yes")
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "wm: lab: cannot reach" in result.stderr
    rest = f"wm stop dev/{api['id']}"
    assert f"wm: nothing was done; to stop the others alone: {rest}" in result.stderr
    assert demo.state_on_server("api") == "running"
    assert demo.run(*rest.split()[1:], "--yes").exit_code == ExitCode.OK
    assert demo.state_on_server("api") == "stopped"


def test_reboot(demo: Demo) -> None:
    result = demo.run("reboot", "web-2")
    assert result.exit_code == ExitCode.OK, result.output
    assert demo.state_on_server("web-2") == "running"


def test_unknown_and_refused_targets(demo: Demo) -> None:
    result = demo.run("stop", "no-such-box", "--yes")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no instance matches 'no-such-box'" in result.stderr

    result = demo.run("start", "web-1")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "web-1 is already running" in result.stderr


def test_read_only_account_is_refused_before_any_call(demo: Demo) -> None:
    text = demo.config.read_text().replace('name = "prod"', 'name = "prod"\nread_only = true')
    demo.config.write_text(text)
    demo.server.clear_calls()
    result = demo.run("stop", "prod-db", "--yes")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "prod is read-only" in result.stderr
    assert not [c for c in demo.server.calls if c.mutating]


def test_accounts_list_and_test(demo: Demo, closed_port: int) -> None:
    demo.add_account(dead_account("gone", closed_port))
    result = demo.run("accounts")
    assert result.exit_code == ExitCode.OK
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "ACCOUNT",
        "dev",
        "dev-eu",
        "prod",
        "gone",
    ]
    result = demo.run("accounts", "test")
    assert result.exit_code == ExitCode.FAILED
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["dev"].startswith("ok")
    assert lines["gone"].startswith("FAILED")


def test_missing_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "ls"])
    assert result.exit_code == ExitCode.CONFIG
    assert "nope.toml: no such file" in result.stderr


def test_set_secret_reads_stdin_into_the_keyring(demo: Demo) -> None:
    import keyring

    # An account that reads the keyring (the demo's read their secrets from variables).
    demo.add_account(
        '[[accounts]]\nname = "vault"\nprovider = "ec2"\nregion = "us-east-1"\n'
        'credentials = { key = "AKIAVAULT" }\n'
    )
    result = demo.run("accounts", "set-secret", "vault", stdin="s3cret-canary\n")
    assert result.exit_code == ExitCode.OK, result.output
    assert "s3cret-canary" not in result.output
    assert keyring.get_password("winged-monkey", "vault") == "s3cret-canary"


def test_a_missing_backend_names_the_installed_ones(demo: Demo) -> None:
    demo.add_account('[[accounts]]\nname = "stacks"\nbackend = "openstack-heat"\n')
    result = demo.run("ls", "--json")
    assert result.exit_code == ExitCode.CONFIG  # the config names a backend that is not here
    assert {a["name"]: a["phase"] for a in listing(result)["accounts"]}["stacks"] == "failed"
    assert "stacks: backend 'openstack-heat' is not installed" in result.stderr
    assert "installed backends: " in result.stderr
    assert "libcloud" in result.stderr
    result = demo.run("accounts")
    assert "backend not installed" in result.stdout


def test_the_confirmation_names_what_it_asks_about() -> None:
    """`wm stop web-1` at a terminal asked "Stop 1 instance(s)?", and a poweroff
    "Poweroff 1 instance(s)?"."""
    web = Instance(account="dev", id="i-1", name="web-1", state=InstanceState.RUNNING,
                   raw_state="running", provider="ec2")  # fmt: skip
    db = web.model_copy(update={"id": "i-2", "name": "db"})
    app = web.model_copy(update={"extra": {"kind": "app"}, "name": "shop"})
    assert question(Action.STOP, [web]) == "Stop web-1?"
    assert question(Action.POWEROFF, [web, db]) == "Power off 2 instances?"
    assert question(Action.STOP, [app, app.model_copy(update={"id": "s-2"})]) == "Stop 2 apps?"
    assert question(Action.REBOOT, [web, app]) == "Reboot 2 instances?"
