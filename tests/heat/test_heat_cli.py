"""`wm ls --kind`, `wm stop|start|destroy` on apps, against the real standalone Heat."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.faultproxy import FaultProxy
from tests.heat.conftest import FAILING, SMALL, Projects
from tests.processes import free_port
from winged_monkey.cli.main import ExitCode, main

SECRET_ENV = "WM_HEAT_CLI_TEST_SECRET"


class Cli:
    def __init__(self, heat: Projects, tmp_path: Path) -> None:
        self.heat = heat
        self.config = tmp_path / "config.toml"
        self.data_dir = tmp_path / "data"
        self.config.write_text("")

    def add_heat(self, name: str, url: str | None = None) -> None:
        """A Heat account `name`; `url`: its endpoint when not Heat's own (a proxy)."""
        self._append(
            f'[[accounts]]\nname = "{name}"\nbackend = "heat"\ntimeout = 10\n'
            f'endpoint_url = "{url or self.heat.server.url}"\n'
            f'project = "{self.heat.project(name)}"\n'
            "credentials = { keyring = false }\n"
        )

    def add_dead_ec2(self, name: str) -> None:
        self._append(
            f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\n'
            f"timeout = 5\n"
            f'endpoint = {{ host = "127.0.0.1", port = {free_port()}, secure = false }}\n'
            f'credentials = {{ key = "AKIAX", secret_env = "{SECRET_ENV}", keyring = false }}\n'
        )

    def _append(self, toml: str) -> None:
        with self.config.open("a") as f:
            f.write("\n" + toml)

    def run(self, *args: str) -> Result:
        env = {
            "WM_CONFIG": str(self.config),
            "WM_DATA_DIR": str(self.data_dir),
            SECRET_ENV: "not-a-secret",
        }
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def cli(heat: Projects, tmp_path: Path) -> Cli:
    return Cli(heat, tmp_path)


def listing(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_ls_kind_app_lists_stacks_and_asks_only_backends_with_apps(cli: Cli) -> None:
    heat = cli.heat
    for stack in (heat.create("apps", "web", size=3), heat.create("apps", "db")):
        assert heat.wait("apps", stack) == "CREATE_COMPLETE"
    cli.add_heat("apps")
    cli.add_dead_ec2("vms")

    # Without --kind every account is asked: the dead EC2 account fails the run.
    everything = cli.run("ls", "--json")
    assert everything.exit_code == ExitCode.FAILED
    assert "wm: vms: " in everything.stderr

    # --kind app asks only the accounts whose backend has apps: the EC2 one is not polled.
    apps = cli.run("ls", "--kind", "app", "--json")
    assert apps.exit_code == ExitCode.OK, apps.output
    data = listing(apps)
    assert [a["name"] for a in data["accounts"]] == ["apps"]
    assert [(i["name"], i["kind"], i["extra"]["members"]) for i in data["instances"]] == [
        ("db", "app", 2),
        ("web", "app", 2),
    ]
    assert {i["raw_state"] for i in data["instances"]} == {"CREATE_COMPLETE"}

    table = cli.run("ls", "--kind", "app")
    assert table.exit_code == ExitCode.OK, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["STATE", "NAME", "ACCOUNT"]
    (web,) = [line for line in lines if " web " in line]
    assert "app (2)" in web
    assert "heat" in web

    # --kind instance on a Heat-only config: nothing, and no failure.
    cli.config.write_text("")
    cli.add_heat("apps")
    none = cli.run("ls", "--kind", "instance", "--json")
    assert none.exit_code == ExitCode.OK, none.output
    assert listing(none)["instances"] == []


@pytest.mark.parametrize("ref", ["name", "key"])
def test_start_and_stop_read_an_apps_resources_once(
    cli: Cli, fault_proxy: Callable[[int], FaultProxy], ref: str
) -> None:
    """`wm stop|start APP` reads what Heat would refuse (the app's resources, as deep as
    Heat nests them) before it records its intent; the action then read them all again
    before sending, each nested stack's too: two readings of the same thing on a slow link.
    Heat, behind a proxy that counts, is asked once per action (with a prompt between, the
    reading is done again: it may have waited minutes)."""
    heat = cli.heat
    stack = heat.create("once", "shop")
    assert heat.wait("once", stack) == "CREATE_COMPLETE"
    proxy = fault_proxy(heat.server.port)
    cli.add_heat("once", f"http://127.0.0.1:{proxy.port}/v1")
    target = "shop" if ref == "name" else f"once/{stack}"

    def readings() -> int:  # the refusal's reading: the only one that walks nested stacks
        return sum("/resources?nested_depth=" in line for line in proxy.request_lines)

    stop = cli.run("stop", target, "--yes")
    assert stop.exit_code == ExitCode.OK, stop.output
    assert stop.stdout.strip() == f"once/{stack}: ok: shop suspended"  # as `wm ls` reads it
    assert heat.status("once", stack) == "SUSPEND_COMPLETE"
    assert readings() == 1, proxy.request_lines
    start = cli.run("start", target)
    assert start.exit_code == ExitCode.OK, start.output
    assert heat.status("once", stack) == "RESUME_COMPLETE"
    assert readings() == 2, proxy.request_lines


def test_stop_start_destroy_an_app_from_the_cli(cli: Cli) -> None:
    heat = cli.heat
    stack = heat.create("ops", "shop")
    assert heat.wait("ops", stack) == "CREATE_COMPLETE"
    cli.add_heat("ops")

    stop = cli.run("stop", "shop", "--yes")
    assert stop.exit_code == ExitCode.OK, stop.output
    assert stop.stdout.strip() == f"ops/{stack}: ok: shop suspended"  # as `wm ls` reads it
    assert heat.status("ops", stack) == "SUSPEND_COMPLETE"

    start = cli.run("start", f"ops/{stack}")
    assert start.exit_code == ExitCode.OK, start.output
    assert heat.status("ops", stack) == "RESUME_COMPLETE"

    refused = cli.run("start", "shop")
    assert refused.exit_code == ExitCode.NOT_FOUND
    assert "shop is already running" in refused.stderr

    # Destroy asks first; without a terminal it needs --yes and changes nothing.
    declined = cli.run("destroy", "shop")
    assert declined.exit_code == ExitCode.DECLINED
    assert heat.status("ops", stack) == "RESUME_COMPLETE"
    destroy = cli.run("destroy", "shop", "--yes")
    assert destroy.exit_code == ExitCode.OK, destroy.output
    assert heat.status("ops", stack) == "DELETE_COMPLETE"
    assert listing(cli.run("ls", "--kind", "app", "--json"))["instances"] == []


def test_app_launch_validates_then_follows(cli: Cli, tmp_path: Path) -> None:
    heat = cli.heat
    cli.add_heat("lab")
    shop = tmp_path / "shop.yaml"
    shop.write_text(SMALL)

    launched = cli.run(
        "app", "launch", str(shop), "--account", "lab", "--param", "size=3", "--wait"
    )
    assert launched.exit_code == ExitCode.OK, launched.output
    (line,) = launched.stdout.splitlines()
    assert line.startswith("lab/")
    assert line.endswith(": ok: shop is running (CREATE_COMPLETE)")
    stack_id = line.split(":")[0].removeprefix("lab/")
    assert heat.status("lab", stack_id) == "CREATE_COMPLETE"
    nested = heat.witness("lab", "GET", f"/stacks/shop/{stack_id}/resources?nested_depth=1")
    assert len([r for r in nested.json()["resources"] if r.get("parent_resource")]) == 3
    history: list[dict[str, Any]] = json.loads(
        cli.run("events", "--json", "--kind", "launch").stdout
    )
    # The intent (named, its id not known yet), then the outcome on the new stack's id.
    assert sorted((e["target"], e["outcome"], e["user"] is not None) for e in history) == sorted(
        [("shop", "requested", True), (stack_id, "ok", True)]
    )

    # Without --wait: accepted, not followed.
    quick = cli.run("app", "launch", str(shop), "--account", "lab", "--name", "quick")
    assert quick.exit_code == ExitCode.OK, quick.output
    assert quick.stdout.strip().endswith("quick is being created (wm ls --kind app to see it)")

    # The same name again: Heat's rejection (a conflict), as one line, exit 3.
    again = cli.run("app", "launch", str(shop), "--account", "lab")
    assert again.exit_code == ExitCode.CONFIG
    assert again.stderr.strip() == "wm: lab: shop.yaml rejected: The Stack (shop) already exists."


def test_app_launch_shows_heat_rejections_and_failures(cli: Cli, tmp_path: Path) -> None:
    heat = cli.heat
    cli.add_heat("bad")
    bad = tmp_path / "bad.yaml"
    bad.write_text("heat_template_version: 2018-08-31\nresources: {x: {type: No::Such}}\n")
    rejected = cli.run("app", "launch", str(bad), "--account", "bad")
    assert rejected.exit_code == ExitCode.CONFIG
    assert rejected.stderr.startswith("wm: bad: bad.yaml rejected: ")
    assert "No::Such" in rejected.stderr
    assert "Traceback" not in rejected.stderr

    shop = tmp_path / "shop.yaml"
    shop.write_text(SMALL)
    wrong = cli.run("app", "launch", str(shop), "--account", "bad", "--param", "size=lots")
    assert wrong.exit_code == ExitCode.CONFIG
    assert "size" in wrong.stderr
    assert heat.witness("bad", "GET", "/stacks").json()["stacks"] == []  # nothing was created

    usage = cli.run("app", "launch", str(shop), "--account", "bad", "--param", "size")
    assert usage.exit_code == ExitCode.USAGE
    assert "'size' is not KEY=VALUE" in usage.stderr

    failing = tmp_path / "failing.yaml"
    failing.write_text(FAILING)
    failed = cli.run("app", "launch", str(failing), "--account", "bad", "--wait")
    assert failed.exit_code == ExitCode.FAILED
    assert "failed: failing: " in failed.stderr
    assert "Test Resource failed" in failed.stderr


#: What `wm ls` of a Heat account has no use for; each costs every command its import.
NOT_FOR_A_LISTING = (
    "rich",  # httpx's own command-line client (encode/httpx#3547)
    "pygments",
    "platformdirs",  # WM_CONFIG and WM_DATA_DIR say where
    "configparser",  # AWS profiles
    "winged_monkey.catalog",
    "winged_monkey_heat.templates",
    "winged_monkey.cli.events",
    "winged_monkey.cli.accounts_import",
    "winged_monkey.cli.catalog",
    "textual",
)


def test_ls_of_a_heat_account_loads_only_what_listing_needs(cli: Cli, tmp_path: Path) -> None:
    """A fresh `wm ls` process pays for every module it imports (issue 3's speed goal)."""
    heat = cli.heat
    assert heat.wait("lean", heat.create("lean", "one")) == "CREATE_COMPLETE"
    cli.add_heat("lean")
    modules = tmp_path / "modules.json"
    code = (
        "import json, sys\n"
        "from winged_monkey.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        f"open({str(modules)!r}, 'w').write(json.dumps([code, sorted(sys.modules)]))\n"
    )
    env = {
        **os.environ,
        "WM_CONFIG": str(cli.config),
        "WM_DATA_DIR": str(cli.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, "ls", "--kind", "app", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    code_seen, loaded = json.loads(modules.read_text())
    assert code_seen == ExitCode.OK, done.stderr
    assert [row["name"] for row in json.loads(done.stdout)["instances"]] == ["one"]
    assert "httpx" in loaded
    assert not {m for m in loaded if m in NOT_FOR_A_LISTING or m.split(".")[0] in NOT_FOR_A_LISTING}


def _resumes(heat: Projects, name: str, at: str, stack: str) -> int:
    """How many resumes of the stack Heat began."""
    reply = heat.witness(name, "GET", f"{at}/events", params={"resource_name": stack})
    return sum(e["resource_status"] == "RESUME_IN_PROGRESS" for e in reply.json()["events"])


GROUP = (
    "heat_template_version: 2018-08-31\nresources:\n  group:\n"
    "    type: OS::Heat::ResourceGroup\n"
    "    properties: {count: 1, resource_def: {type: OS::Heat::None}}\n"
)


def _nested(heat: Projects, name: str, at: str) -> str:
    """The path of the nested stack of the app's group (its only resource)."""
    (member,) = heat.witness(name, "GET", f"{at}/resources").json()["resources"]
    nested = member["physical_resource_id"]
    inner = heat.witness(name, "GET", f"/stacks/{nested}").json()["stack"]["stack_name"]
    return f"/stacks/{inner}/{nested}"


def _resume_failed_below(heat: Projects, name: str) -> tuple[str, str, str]:
    """An app `quiet` of one group, suspended, its nested stack checked by itself (its
    member CHECK_COMPLETE, the group still SUSPEND_COMPLETE), then resumed: Heat failed
    the resume below the top level ('State ('CHECK', 'COMPLETE') invalid for resume').
    Returns the stack's id, its path and its nested stack's path."""
    stack = heat.create(name, "quiet", GROUP)
    assert heat.wait(name, stack) == "CREATE_COMPLETE"
    at = f"/stacks/quiet/{stack}"
    reply = heat.witness(name, "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait(name, stack) == "SUSPEND_COMPLETE"
    nested = _nested(heat, name, at)
    reply = heat.witness(name, "POST", f"{nested}/actions", json={"check": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait(name, nested.rsplit("/", 1)[1]) == "CHECK_COMPLETE"
    reply = heat.witness(name, "POST", f"{at}/actions", json={"resume": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait(name, stack) == "RESUME_FAILED"
    assert _resumes(heat, name, at, "quiet") == 1
    return stack, at, nested


def test_start_on_an_app_whose_resume_failed_resumes_it_again(cli: Cli) -> None:
    """Heat resumes a stack in RESUME_FAILED again (its resources take a resume after a
    failed one); wm refused: 'quiet is error; start needs it stopped or suspended'. Here
    the nested stack that failed the resume is suspended again by itself first, so Heat
    takes the resume: wm sends it."""
    heat = cli.heat
    cli.add_heat("again")
    stack, at, nested = _resume_failed_below(heat, "again")
    reply = heat.witness("again", "POST", f"{nested}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("again", nested.rsplit("/", 1)[1]) == "SUSPEND_COMPLETE"

    started = cli.run("start", "quiet")
    assert "start needs it" not in started.output
    assert started.exit_code == ExitCode.OK, started.output
    assert _resumes(heat, "again", at, "quiet") == 2  # wm asked Heat: a second resume
    assert heat.status("again", stack) == "RESUME_COMPLETE"


def test_start_on_an_app_heat_would_not_resume_below_its_top_level_says_so(cli: Cli) -> None:
    """Heat's resume walks nested stacks too: a member of the app's group left
    CHECK_COMPLETE (its nested stack checked by itself) fails it. wm read only the top
    level (the group: RESUME_FAILED, which a resume takes), sent the resume, and `wm
    start` failed with Heat's words (exit 1). Now it names the member, sends nothing,
    exits 4, and what it says to do (Heat will not suspend a RESUME_FAILED group either)
    brings the app back."""
    heat = cli.heat
    cli.add_heat("deep")
    stack, at, _ = _resume_failed_below(heat, "deep")

    refused = cli.run("start", "quiet")
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert (
        "Heat would refuse to resume quiet: resource group/0 is CHECK_COMPLETE (Heat resumes "
        "a resource only when suspended, or when its last action was a resume); check it "
        "first (`wm check quiet`: Heat's check leaves each resource CHECK_COMPLETE, which "
        "its suspend takes), then stop it and start it"
    ) in refused.output
    assert "failed" not in refused.output
    assert _resumes(heat, "deep", at, "quiet") == 1  # nothing sent

    checked = cli.run("check", "quiet")  # Heat completes it: wm said 'went to error'
    assert checked.exit_code == ExitCode.OK, checked.output
    assert heat.status("deep", stack) == "CHECK_COMPLETE"
    assert checked.output.splitlines()[-1].endswith(
        "ok: quiet checked (Stack CHECK completed successfully. 'CHECK' not fully supported "
        "(see resources)); it is error, as before the check: Resource RESUME failed: "
        "Error: resources.group.resources[0]: State ('CHECK', 'COMPLETE') invalid for resume"
    ), checked.output
    for command in ("stop", "start"):
        done = cli.run(command, "quiet", "--yes")
        assert done.exit_code == ExitCode.OK, done.output
    assert heat.status("deep", stack) == "RESUME_COMPLETE"


def test_a_check_heat_fails_says_what_it_found(cli: Cli) -> None:
    """A check Heat fails (CHECK_FAILED: a resource its check finds not created) says so
    with Heat's words; wm said 'broken went to error', as if the app had broken."""
    heat = cli.heat
    cli.add_heat("chkf")
    stack = heat.create("chkf", "broken", FAILING)
    assert heat.wait("chkf", stack) == "CREATE_FAILED"
    checked = cli.run("check", "broken")
    assert checked.exit_code == ExitCode.FAILED, checked.output
    assert heat.status("chkf", stack) == "CHECK_FAILED"
    assert "went to error" not in checked.output
    assert (
        f"chkf/{stack}: failed: Heat's check of broken ended CHECK_FAILED: Resource CHECK "
        "failed: ['Exception: resources.broken: Resource not created']"
    ) in checked.output


def test_stop_on_an_app_heat_would_not_suspend_below_its_top_level_says_so(cli: Cli) -> None:
    """Heat's suspend walks nested stacks too: a member of the app's group marked
    unhealthy (CHECK_FAILED; the group and the app stay CREATE_COMPLETE) fails it. wm
    read only the top level, sent the suspend, and Heat failed the app (SUSPEND_FAILED).
    Now `wm stop` names the member, sends nothing, and exits 4."""
    heat = cli.heat
    cli.add_heat("sick")
    stack = heat.create("sick", "quiet", GROUP)
    assert heat.wait("sick", stack) == "CREATE_COMPLETE"
    nested = _nested(heat, "sick", f"/stacks/quiet/{stack}")
    body = {"mark_unhealthy": True, "resource_status_reason": "test"}
    reply = heat.witness("sick", "PATCH", f"{nested}/resources/0", json=body)
    assert reply.status_code == 200, reply.text

    stopped = cli.run("stop", "quiet", "--yes")
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output
    assert (
        f"wm: sick/{stack}: Heat would refuse to suspend quiet: resource group/0 is "
        "CHECK_FAILED (Heat suspends a resource only once its last action completed, or its "
        "suspend failed); fix it with `wm app update quiet`, or destroy it"
    ) in stopped.output
    assert "wm: nothing was done" in stopped.output
    assert heat.status("sick", stack) == "CREATE_COMPLETE"  # nothing sent


def test_start_walks_no_nested_stack_heat_leaves_resumed(cli: Cli) -> None:
    """Heat's resume leaves a nested stack already RESUME_COMPLETE as it is, whatever its
    resources: one resumed by itself, a member then marked unhealthy, resumes with its
    app. wm must not refuse what Heat takes."""
    heat = cli.heat
    cli.add_heat("left")
    stack = heat.create("left", "quiet", GROUP)
    assert heat.wait("left", stack) == "CREATE_COMPLETE"
    at = f"/stacks/quiet/{stack}"
    reply = heat.witness("left", "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("left", stack) == "SUSPEND_COMPLETE"
    nested = _nested(heat, "left", at)
    reply = heat.witness("left", "POST", f"{nested}/actions", json={"resume": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("left", nested.rsplit("/", 1)[1]) == "RESUME_COMPLETE"
    body = {"mark_unhealthy": True, "resource_status_reason": "test"}
    reply = heat.witness("left", "PATCH", f"{nested}/resources/0", json=body)
    assert reply.status_code == 200, reply.text

    started = cli.run("start", "quiet")
    assert started.exit_code == ExitCode.OK, started.output
    assert heat.status("left", stack) == "RESUME_COMPLETE"


def test_start_on_an_app_heat_would_not_resume_says_so_before_sending(cli: Cli) -> None:
    """A snapshot of a suspended app leaves its resources SNAPSHOT_COMPLETE, which Heat's
    resume refuses (Resource.resume takes SUSPEND_COMPLETE, RESUME_FAILED, RESUME_COMPLETE):
    wm sent the resume, and `wm start` failed with Heat's 'State ('SNAPSHOT', 'COMPLETE')
    invalid for resume', even on the app whose resume had failed so. Now wm says so first,
    and what Heat takes: a suspend, then a resume."""
    heat = cli.heat
    cli.add_heat("snap")
    one = "heat_template_version: 2018-08-31\nresources:\n  vm: {type: OS::Heat::None}\n"
    stack = heat.create("snap", "quiet", one)
    assert heat.wait("snap", stack) == "CREATE_COMPLETE"
    at = f"/stacks/quiet/{stack}"
    reply = heat.witness("snap", "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("snap", stack) == "SUSPEND_COMPLETE"
    reply = heat.witness("snap", "POST", f"{at}/snapshots", json={"name": "s1"})
    assert reply.status_code == 200, reply.text
    assert heat.wait("snap", stack) == "SNAPSHOT_COMPLETE"

    refused = cli.run("start", "quiet")  # suspended since: its status says it
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert (
        "Heat would refuse to resume quiet: since its snapshot, its resources are "
        "SNAPSHOT_COMPLETE, and Heat resumes only suspended ones; suspend it again "
        "(`wm stop quiet`), then start it"
    ) in refused.output
    assert _resumes(heat, "snap", at, "quiet") == 0

    reply = heat.witness("snap", "POST", f"{at}/actions", json={"resume": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("snap", stack) == "RESUME_FAILED"  # Heat's own refusal
    refused = cli.run("start", "quiet")  # its resources as read before sending
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert (
        "Heat would refuse to resume quiet: resource vm is SNAPSHOT_COMPLETE (Heat resumes a "
        "resource only when suspended, or when its last action was a resume); suspend it "
        "again (`wm stop quiet`), then start it"
    ) in refused.output
    assert "failed" not in refused.output
    assert _resumes(heat, "snap", at, "quiet") == 1  # Heat's own, not wm's

    stopped = cli.run("stop", "quiet", "--yes")
    assert stopped.exit_code == ExitCode.OK, stopped.output
    assert heat.status("snap", stack) == "SUSPEND_COMPLETE"
    started = cli.run("start", "quiet")
    assert started.exit_code == ExitCode.OK, started.output
    assert started.output.splitlines()[-1].endswith("ok: quiet resumed"), started.output
    assert heat.status("snap", stack) == "RESUME_COMPLETE"


def test_a_suspended_app_checked_since_suspends_again_then_starts(cli: Cli) -> None:
    """After a check of a suspended app, `wm start` is refused with what to do (before:
    sent, and Heat failed it), and `wm stop` suspends it again (before: 'quiet is already
    suspended'), after which it starts."""
    heat = cli.heat
    cli.add_heat("chk")
    stack = heat.create("chk", "quiet")
    assert heat.wait("chk", stack) == "CREATE_COMPLETE"
    at = f"/stacks/quiet/{stack}"
    for ask in ({"suspend": None}, {"check": None}):
        reply = heat.witness("chk", "POST", f"{at}/actions", json=ask)
        assert reply.status_code == 200, reply.text
        heat.wait("chk", stack)
    assert heat.status("chk", stack) == "CHECK_COMPLETE"

    refused = cli.run("start", "quiet")
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert "since its check, its resources are CHECK_COMPLETE" in refused.output
    assert _resumes(heat, "chk", at, "quiet") == 0
    stopped = cli.run("stop", "quiet", "--yes")
    assert stopped.exit_code == ExitCode.OK, stopped.output
    assert stopped.output.splitlines()[-1].endswith("ok: quiet suspended"), stopped.output
    started = cli.run("start", "quiet")
    assert started.exit_code == ExitCode.OK, started.output
    assert heat.status("chk", stack) == "RESUME_COMPLETE"


def test_ls_shows_the_status_of_an_app_it_cannot_map_beside_unknown(cli: Cli) -> None:
    """A status of an action Heat 27 does not document (a newer Heat's, written here into
    the real server's database) is unknown; `wm ls` said '? unknown' and nothing more."""
    heat = cli.heat
    cli.add_heat("newer")
    stack = heat.create("newer", "moved")
    assert heat.wait("newer", stack) == "CREATE_COMPLETE"
    with sqlite3.connect(heat.server.state_dir / "heat.sqlite", timeout=30) as db:
        db.execute("UPDATE stack SET action = 'MIGRATE' WHERE id = ?", (stack,))
    assert heat.status("newer", stack) == "MIGRATE_COMPLETE"
    table = cli.run("ls", "--kind", "app")
    assert table.exit_code == ExitCode.OK, table.output
    (moved,) = [line for line in table.stdout.splitlines() if " moved " in line]
    assert moved.startswith("? unknown (MIGRATE_COMPLETE)  moved"), table.stdout


def test_suspend_on_an_app_whose_suspend_failed_suspends_it_again(cli: Cli) -> None:
    """Heat suspends a stack in SUSPEND_FAILED again (a resource whose suspend failed takes
    another); wm refused: 'pair is error; suspend needs it running'. A resume is refused
    still: Heat refuses to resume a resource whose suspend failed."""
    heat = cli.heat
    cli.add_heat("sus")
    two = (
        "heat_template_version: 2018-08-31\nresources:\n"
        "  a: {type: OS::Heat::None}\n  b: {type: OS::Heat::None}\n"
    )
    stack = heat.create("sus", "pair", two)
    assert heat.wait("sus", stack) == "CREATE_COMPLETE"
    at = f"/stacks/pair/{stack}"

    def mark(unhealthy: bool) -> None:  # b in CHECK_FAILED: Heat will not suspend it
        body = {"mark_unhealthy": unhealthy, "resource_status_reason": "test"}
        reply = heat.witness("sus", "PATCH", f"{at}/resources/b", json=body)
        assert reply.status_code == 200, reply.text

    mark(True)
    reply = heat.witness("sus", "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("sus", stack) == "SUSPEND_FAILED"
    mark(False)

    resumed = cli.run("start", "pair")
    assert resumed.exit_code == ExitCode.NOT_FOUND, resumed.output
    # Its resources as listed (the portal's rules alone: 'pair is error; ...'): b, and a
    # too where Heat's failed suspend stopped before it (still CREATE_COMPLETE).
    said = resumed.output
    assert "Heat would refuse to resume pair: resource" in said
    assert "resource b is CHECK_COMPLETE (" in said or "b (CHECK_COMPLETE)" in said
    assert "; suspend it again (`wm stop pair`), then start it" in said
    suspended = cli.run("suspend", "pair")
    assert suspended.exit_code == ExitCode.OK, suspended.output
    assert suspended.output.splitlines()[-1].endswith("pair suspended"), suspended.output
    assert heat.status("sus", stack) == "SUSPEND_COMPLETE"


def test_stop_names_a_group_whose_nested_stack_was_never_created(cli: Cli) -> None:
    """A create that failed before the app's group leaves the group INIT_COMPLETE with no
    nested stack: Heat's suspend takes its state, then fails it ('Cannot suspend group,
    stack not created'; StackResource.handle_suspend). wm named only the failed resource;
    now it names the group too, and why."""
    heat = cli.heat
    cli.add_heat("half")
    template = (
        "heat_template_version: 2018-08-31\nresources:\n"
        "  broken:\n    type: OS::Heat::TestResource\n    properties: {fail: true}\n"
        "  group:\n    type: OS::Heat::ResourceGroup\n    depends_on: broken\n"
        "    properties: {count: 1, resource_def: {type: OS::Heat::None}}\n"
    )
    stack = heat.create("half", "half", template)
    assert heat.wait("half", stack) == "CREATE_FAILED"
    stopped = cli.run("stop", "half", "--yes")
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output
    said = stopped.output
    assert "Heat would refuse to suspend half: resources " in said
    # in the order Heat lists them
    assert "group (INIT_COMPLETE, its nested stack not created)" in said
    assert "broken (CREATE_FAILED)" in said
    assert (
        "(Heat suspends a resource only once its last action completed, or its suspend "
        "failed, and one that owns a nested stack only once that stack is created); fix it "
        "with `wm app update half`, or destroy it"
    ) in said
    assert heat.status("half", stack) == "CREATE_FAILED"  # nothing sent
    # What Heat says when asked anyway: the group first (a suspend walks dependents first).
    at = f"/stacks/half/{stack}"
    reply = heat.witness("half", "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("half", stack) == "SUSPEND_FAILED"
    reason = heat.witness("half", "GET", at).json()["stack"]["stack_status_reason"]
    assert "Cannot suspend group, stack not created" in reason, reason


def test_stop_on_an_app_heat_would_not_suspend_says_so_before_sending(cli: Cli) -> None:
    """A failed create leaves its resource CREATE_FAILED, which Heat's Resource.suspend
    refuses: `wm stop` sent the suspend and failed with Heat's 'State ('CREATE', 'FAILED')
    invalid for suspend', the app now SUSPEND_FAILED. A stop Heat takes on a failed app
    (its resources complete) is still sent: the resume test above."""
    heat = cli.heat
    cli.add_heat("fail")
    stack = heat.create("fail", "broken", FAILING)
    assert heat.wait("fail", stack) == "CREATE_FAILED"
    stopped = cli.run("stop", "broken", "--yes")
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output  # a refusal, not a failure
    assert (
        f"wm: fail/{stack}: Heat would refuse to suspend broken: resource broken is "
        "CREATE_FAILED (Heat suspends a resource only once its last action completed, or its "
        "suspend failed); fix it with `wm app update broken`, or destroy it"
    ) in stopped.output
    assert "failed:" not in stopped.output
    assert heat.status("fail", stack) == "CREATE_FAILED"  # nothing sent


def test_stop_names_an_environment_type_whose_nested_stack_was_never_created(cli: Cli) -> None:
    """A type the app's environment maps to a template (`My::Thing: thing.yaml`) owns a
    nested stack as a group does: a create that failed before it leaves it INIT_COMPLETE
    with none, and Heat's suspend fails it ('Cannot suspend thing, stack not created').
    wm told only the group and the types named by a file apart, and named only the failed
    resource; it reads the environment's registry now and names the thing too, and why."""
    heat = cli.heat
    cli.add_heat("env")
    template = (
        "heat_template_version: 2018-08-31\nresources:\n"
        "  broken:\n    type: OS::Heat::TestResource\n    properties: {fail: true}\n"
        "  thing:\n    type: My::Thing\n    depends_on: broken\n"
    )
    body = {
        "stack_name": "env",
        "template": template,
        "files": {"thing.yaml": "heat_template_version: 2018-08-31\nresources: {}\n"},
        "environment": {"resource_registry": {"My::Thing": "thing.yaml"}},
    }
    reply = heat.witness("env", "POST", "/stacks", json=body)
    assert reply.status_code == 201, reply.text
    stack = str(reply.json()["stack"]["id"])
    assert heat.wait("env", stack) == "CREATE_FAILED"
    stopped = cli.run("stop", "env", "--yes")
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output
    said = stopped.output
    assert "Heat would refuse to suspend env: resources " in said, said
    assert "thing (INIT_COMPLETE, its nested stack not created)" in said, said
    assert "broken (CREATE_FAILED)" in said
    assert "and one that owns a nested stack only once that stack is created" in said
    assert heat.status("env", stack) == "CREATE_FAILED"  # nothing sent
    # What Heat says when asked anyway.
    at = f"/stacks/env/{stack}"
    reply = heat.witness("env", "POST", f"{at}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("env", stack) == "SUSPEND_FAILED"
    reason = heat.witness("env", "GET", at).json()["stack"]["stack_status_reason"]
    assert "Cannot suspend thing, stack not created" in reason, reason
