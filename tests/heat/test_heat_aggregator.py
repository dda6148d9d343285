"""Deployments (n-tier apps) through the aggregator (`wm serve`, tests/aggregator/server.py):
a Heat account in its own pool beside the EC2 ones, on the suite's real standalone Heat."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.aggregator.server import RunningAggregator, two_pool_aggregator
from tests.aggregator_client.test_cli import wm
from tests.aggregator_client.test_stale_rows import relaying
from tests.conftest import wait_until
from tests.heat.conftest import SMALL, Projects
from tests.heat.heatserver import HeatServer
from tests.heat.test_heat_cli import GROUP, _nested, _resume_failed_below
from winged_monkey.cli.main import ExitCode
from winged_monkey.demo.server import MotoServer

V1 = "/api/v1"
PROJECT = f"aggregator-{time.monotonic_ns() % 10**6}"


def heat_call(server: HeatServer, method: str, path: str, **kwargs: object) -> httpx.Response:
    """Heat itself, as a witness independent of the aggregator."""
    return httpx.request(
        method,
        f"{server.url}/{PROJECT}{path}",
        headers={"X-Auth-Project": PROJECT, "X-Auth-Token": "witness"},
        follow_redirects=True,
        timeout=10,
        trust_env=False,
        **kwargs,  # type: ignore[arg-type]
    )


def stack_status(server: HeatServer, stack_id: str) -> str:
    return str(heat_call(server, "GET", f"/stacks/{stack_id}").json()["stack"]["stack_status"])


@pytest.fixture
def with_heat(
    moto_server: MotoServer, heat_server: HeatServer, tmp_path: Path
) -> Iterator[tuple[RunningAggregator, str]]:
    created = heat_call(
        heat_server, "POST", "/stacks", json={"stack_name": "shop", "template": SMALL}
    )
    assert created.status_code == 201, created.text
    stack_id = str(created.json()["stack"]["id"])
    wait_until(lambda: stack_status(heat_server, stack_id) == "CREATE_COMPLETE", timeout=60)
    account = (
        '[[accounts]]\nname = "apps"\nbackend = "heat"\npool = "delta"\ntimeout = 10\n'
        f'endpoint_url = "{heat_server.url}"\nproject = "{PROJECT}"\n'
        "credentials = { keyring = false }\n"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=account
    ) as agg:
        yield agg, stack_id
    # The next test's "shop" in the same project: Heat refuses a name taken.
    deleted = heat_call(heat_server, "DELETE", f"/stacks/shop/{stack_id}")
    assert deleted.status_code == 204, deleted.text
    wait_until(lambda: _gone(heat_server, stack_id), timeout=60)


def _gone(server: HeatServer, stack_id: str) -> bool:
    reply = heat_call(server, "GET", f"/stacks/{stack_id}")
    return reply.status_code == 404 or reply.json()["stack"]["stack_status"] == "DELETE_COMPLETE"


def test_a_stack_is_a_deployment_its_operator_can_stop(
    with_heat: tuple[RunningAggregator, str], heat_server: HeatServer
) -> None:
    agg, stack_id = with_heat
    with agg.client(agg.mint("viv", "viewer", pool="delta")) as viewer:
        wait_until(lambda: len(viewer.get(f"{V1}/deployments").json()) == 1, timeout=30)
        (shop,) = viewer.get(f"{V1}/deployments").json()
        assert (shop["id"], shop["kind"], shop["pool"], shop["state"]) == (
            stack_id,
            "app",
            "delta",
            "running",
        )
        assert shop["links"] == {}
        assert viewer.get(f"{V1}/instances").json() == []  # the stack is not an instance
    with agg.client(agg.mint("opal", "operator", pool="delta")) as operator:
        (shop,) = operator.get(f"{V1}/deployments").json()
        assert {"stop", "check"} <= set(shop["links"])
        assert "destroy" not in shop["links"]
        reply = operator.post(shop["links"]["stop"]["href"])
        assert reply.status_code == 202, reply.text
        wait_until(lambda: stack_status(heat_server, stack_id) == "SUSPEND_COMPLETE", timeout=60)

        def logged() -> set[tuple[str, str | None, str | None]]:
            page = operator.get(f"{V1}/events", params={"target": stack_id}).json()
            return {(e["kind"], e["outcome"], e["user"]) for e in page["events"]}

        wait_until(lambda: ("stop", "ok", "opal") in logged(), timeout=60)
    with agg.client(agg.mint("ed", "operator", pool="alpha")) as outsider:
        reply = outsider.get(f"{V1}/deployments/apps/{stack_id}")
        assert reply.status_code == 403


def test_a_poweroff_of_a_deployment_is_refused_in_heats_words(
    with_heat: tuple[RunningAggregator, str], heat_server: HeatServer
) -> None:
    """wm serve links no poweroff on a Heat app, and a client that asks anyway is told why
    in the served account's words (a 409), not a 422 for an action the API did not know."""
    agg, stack_id = with_heat
    with agg.client(agg.mint("opal", "operator", pool="delta")) as operator:
        wait_until(lambda: len(operator.get(f"{V1}/deployments").json()) == 1, timeout=30)
        (shop,) = operator.get(f"{V1}/deployments").json()
        assert "stop" in shop["links"]
        assert "poweroff" not in shop["links"]
        reply = operator.post(f"{V1}/deployments/apps/{stack_id}/poweroff")
    assert reply.status_code == 409, reply.text
    assert reply.json()["error"]["message"] == (
        "a Heat app has no power-off: wm stop suspends it (Heat's stack suspend); its "
        "servers power off through their own cloud's account"
    )
    assert stack_status(heat_server, stack_id) == "CREATE_COMPLETE"


@contextlib.contextmanager
def serving(
    moto_server: MotoServer, heat: Projects, project: str, tmp_path: Path
) -> Iterator[RunningAggregator]:
    """A `wm serve` whose account "apps" (pool delta) is the Heat project `project`."""
    account = (
        '[[accounts]]\nname = "apps"\nbackend = "heat"\npool = "delta"\ntimeout = 10\n'
        f'endpoint_url = "{heat.server.url}"\nproject = "{heat.project(project)}"\n'
        "credentials = { keyring = false }\n"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=account
    ) as agg:
        yield agg


def test_a_stop_the_server_refuses_is_a_refusal_in_its_words(
    moto_server: MotoServer, heat: Projects, tmp_path: Path
) -> None:
    """An app whose group member is CHECK_FAILED (the group and the app CREATE_COMPLETE):
    the server offers its stop, as its listing read it, then reads what Heat's suspend
    would walk and refuses it (409), nothing sent. `wm stop` through that server said it
    as a failure ('failed: the aggregator refused: ...', exit 1); locally it is a refusal
    (exit 4, 'wm: KEY: ...'), and so it is now, in the server's words."""
    stack = heat.create("sick", "quiet", GROUP)
    assert heat.wait("sick", stack) == "CREATE_COMPLETE"
    nested = _nested(heat, "sick", f"/stacks/quiet/{stack}")
    body = {"mark_unhealthy": True, "resource_status_reason": "test"}
    reply = heat.witness("sick", "PATCH", f"{nested}/resources/0", json=body)
    assert reply.status_code == 200, reply.text
    with serving(moto_server, heat, "sick", tmp_path) as agg:
        token = agg.mint("opal", "operator", pool="delta")
        with agg.client(token) as operator:
            wait_until(lambda: len(operator.get(f"{V1}/deployments").json()) == 1, timeout=30)
            (quiet,) = operator.get(f"{V1}/deployments").json()
            assert "stop" in quiet["links"]  # its top level alone does not refuse it
        stopped = wm(tmp_path, agg.url, token, "stop", f"team/apps/{stack}", "--yes")
        listed = wm(tmp_path, agg.url, token, "events", "--width", "0")
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output
    assert (
        f"wm: team/apps/{stack}: the aggregator refused: Heat would refuse to suspend quiet: "
        "resource group/0 is CHECK_FAILED (Heat suspends a resource only once its last action "
        "completed, or its suspend failed); fix it with `wm app update quiet`, or destroy it"
    ) in stopped.stderr, stopped.output
    assert "failed:" not in stopped.output
    assert heat.status("sick", stack) == "CREATE_COMPLETE"  # nothing sent
    # wm's log says it as refused too (it said failed: its intent was recorded first).
    assert outcome_of(listed.stdout, f"apps/{stack}") == "refused", listed.stdout


def outcome_of(table: str, target: str) -> str:
    """The OUTCOME cell of `wm events`'s one row of `target`."""
    header, *rows = table.splitlines()
    (row,) = [row for row in rows if f" {target} " in row]
    return row[header.index("OUTCOME") :].split()[0]


@pytest.mark.parametrize("wait", ["outcome", "row"])
def test_a_check_of_an_app_in_error_ends_as_the_servers_check_did(
    moto_server: MotoServer,
    heat: Projects,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait: str,
) -> None:
    """An app in error (its resume failed below its top level) checked through `wm serve`:
    Heat completes the check, the app stays in error, and the server ends the check ok in
    its Heat account's words (Backend.ended). wm's client followed the relayed row itself
    and said 'failed: quiet went to error: ...' (exit 1); it ends as the server's check did,
    whether its outcome came within the client's wait for it (`outcome`) or after, the client
    following the row while the server said its check was under way (`row`: a check longer
    than OUTCOME_WAIT_S, as a big app's is)."""
    if wait == "row":
        monkeypatch.setattr("winged_monkey_aggregator.backend.OUTCOME_WAIT_S", 0.0)
    project = f"chkagg{wait}"
    stack, _, _ = _resume_failed_below(heat, project)
    with serving(moto_server, heat, project, tmp_path) as agg:
        token = agg.mint("opal", "operator", pool="delta")
        with agg.client(token) as operator:
            wait_until(lambda: len(operator.get(f"{V1}/deployments").json()) == 1, timeout=30)
            (quiet,) = operator.get(f"{V1}/deployments").json()
            assert quiet["state"] == "error"
            assert "check" in quiet["links"]
        checked = wm(tmp_path, agg.url, token, "check", f"team/apps/{stack}")
    assert "went to error" not in checked.output
    assert checked.exit_code == ExitCode.OK, checked.output
    assert checked.output.splitlines()[-1].endswith(
        "ok: quiet checked (Stack CHECK completed successfully. 'CHECK' not fully supported "
        "(see resources)); it is error, as before the check: Resource RESUME failed: "
        "Error: resources.group.resources[0]: State ('CHECK', 'COMPLETE') invalid for resume"
    ), checked.output
    assert heat.status(project, stack) == "CHECK_COMPLETE"


def _sick(heat: Projects, project: str) -> str:
    """An app `quiet` whose group member is CHECK_FAILED (the group and the app stay
    CREATE_COMPLETE, so its stop is offered): Heat's suspend would refuse it."""
    stack = heat.create(project, "quiet", GROUP)
    assert heat.wait(project, stack) == "CREATE_COMPLETE"
    nested = _nested(heat, project, f"/stacks/quiet/{stack}")
    body = {"mark_unhealthy": True, "resource_status_reason": "test"}
    reply = heat.witness(project, "PATCH", f"{nested}/resources/0", json=body)
    assert reply.status_code == 200, reply.text
    return stack


HEATS_WORDS = (
    "Heat would refuse to suspend quiet: resource group/0 is CHECK_FAILED (Heat suspends a "
    "resource only once its last action completed, or its suspend failed); fix it with "
    "`wm app update quiet`, or destroy it"
)


def test_a_stop_refused_two_servers_away_is_a_refusal_in_the_clouds_words(
    moto_server: MotoServer, heat: Projects, tmp_path: Path
) -> None:
    """wm -> relay (`wm serve`, its account "upstream") -> agg (`wm serve` over Heat),
    whose read of the app refuses the stop (409). The relay sent it after recording its
    intent, so the refusal came back as its action's outcome, logged 'failed': `wm stop`
    said 'failed: at the aggregator: the aggregator refused: ...' and exited 1. Now the
    relay logs it refused, and wm says it as one hop does (exit 4, the cloud's words once)
    and `wm events` on either side shows it refused, not failed."""
    stack = _sick(heat, "hops")
    with (
        serving(moto_server, heat, "hops", tmp_path) as agg,
        relaying(agg, tmp_path / "relay", role="operator") as relay,
    ):
        token = relay.mint("opal", "operator")
        with relay.client(token) as operator:
            wait_until(lambda: len(operator.get(f"{V1}/deployments").json()) == 1, timeout=30)
            (quiet,) = operator.get(f"{V1}/deployments").json()
            assert "stop" in quiet["links"]  # its top level alone does not refuse it
        key = f"team/upstream/apps/{stack}"
        stopped = wm(tmp_path, relay.url, token, "stop", key, "--yes")
        listed = wm(tmp_path, relay.url, token, "events", "--width", "0")
        with relay.client(token) as operator:
            served = operator.get(f"{V1}/events", params={"target": f"apps/{stack}"}).json()
    assert stopped.exit_code == ExitCode.NOT_FOUND, stopped.output
    assert f"wm: {key}: the aggregator refused: {HEATS_WORDS}" in stopped.stderr, stopped.output
    assert "failed:" not in stopped.output
    assert heat.status("hops", stack) == "CREATE_COMPLETE"  # nothing sent
    # The relay's own record: its request, its intent, and the intent's outcome, refused.
    outcomes = [e["outcome"] for e in served["events"] if e["kind"] == "stop"]
    assert "refused" in outcomes, served
    assert "failed" not in outcomes, served
    # The client's log: its stop is one change, refused, in the cloud's words.
    assert listed.exit_code == 0, listed.output
    assert outcome_of(listed.stdout, f"upstream/apps/{stack}") == "refused", listed.stdout
    assert f"the aggregator refused: {HEATS_WORDS}" in listed.stdout, listed.stdout
