"""A script learns a launch's outcome from the 202 alone, as an action's: its Location (and
outcome_href) lead to the events of the launch the cloud took (after any failover), one
per new id, with the id and the state seen. Against a real `wm serve` over moto; the
README's shell loop is run as written, with curl and jq."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.aggregator.server import AMI, RunningAggregator, account_toml, two_pool_aggregator
from tests.aggregator.test_action_outcome import readme_loop
from tests.aggregator.test_pools import MISSING_AMI, named, run_instances, synthetic_cloud
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.demo.server import MotoServer

LAUNCH = {"deployable": f"team-a:image:{AMI}", "name": "newbie", "size": "t3.micro"}


def _outcomes(client: httpx.Client, follow: str) -> list[dict[str, object]]:
    """The launch's settled outcomes, once there are any."""
    found: list[dict[str, object]] = []

    def known() -> bool:
        events = client.get(follow).json()["events"]
        found[:] = [e for e in events if e["source"] == "action" and e["outcome"] != "unknown"]
        return bool(found)

    wait_until(known, timeout=30)
    return found


def test_the_202_of_a_launch_leads_to_the_new_instance_and_its_state(
    fresh_aggregator: RunningAggregator,
) -> None:
    """The 202 had no Location: a script had the new id and had to poll the listing for
    it, or scan the log for an outcome two links from the request."""
    agg = fresh_aggregator
    with agg.client(agg.mint("lena", "operator", pool="alpha")) as client:
        reply = client.post("/api/v1/pools/alpha/launches", json=LAUNCH)
        assert reply.status_code == 202, reply.text
        follow = reply.headers["Location"]
        assert reply.json()["outcome_href"] == follow
        (new_id,) = reply.json()["ids"]
        outcomes = _outcomes(client, follow)
    assert [(e["kind"], e["outcome"], e["target"], e["new_state"]) for e in outcomes] == [
        ("launch", "ok", new_id, "running")
    ]
    assert outcomes[0]["user"] == "lena"
    assert agg.ec2("team-a").describe_instances(InstanceIds=[new_id])["Reservations"]


def test_a_pool_launch_that_failed_over_leads_to_the_launch_the_cloud_took(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import settings

    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)  # east's image is missing
    with synthetic_cloud(moto_server, tmp_path / "agg", east_image=MISSING_AMI) as agg:
        client = agg.client(agg.mint("olga", "operator"))
        reply = client.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert [t["outcome"] for t in accepted["tries"]] == ["rejected", "launched"]
        assert reply.headers["Location"] == accepted["outcome_href"]
        outcomes = _outcomes(client, accepted["outcome_href"])
        assert [(e["account"], e["outcome"], e["target"]) for e in outcomes] == [
            ("west", "ok", accepted["ids"][0])
        ]
        assert named(moto_server, "west", "w1") == accepted["ids"]


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq")
def test_the_readmes_shell_loop_prints_the_outcome_of_a_launch(
    fresh_aggregator: RunningAggregator, tmp_path: Path
) -> None:
    agg = fresh_aggregator
    script = tmp_path / "launch.sh"
    script.write_text(readme_loop("/launches"), encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "WM": agg.url,
        "WM_TOKEN": agg.mint("cron", "operator"),
        "POOL": "alpha",
    }
    run = subprocess.run(
        ["bash", str(script)],
        env={**env, "BODY": json.dumps(LAUNCH)},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert run.returncode == 0, run.stderr
    (new_id,) = named(agg.moto, "east", "newbie")  # east is us-east-1, as team-a
    assert run.stdout == f"ok: {new_id} running: newbie launched, running\n", run.stdout
    refused = subprocess.run(  # no such pool: refused, and the script says why
        ["bash", str(script)],
        env={**env, "POOL": "nowhere", "BODY": json.dumps(LAUNCH)},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert refused.returncode == 1
    assert "no pool 'nowhere'" in refused.stderr, refused.stderr


def test_a_launch_whose_answer_was_lost_leads_to_what_became_of_it(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """The cloud created the instance and a gateway lost its answer: wm serve answered 504
    no_answer with no Location, though it had recorded the launch and a later poll settles
    it, so a script knew neither the id nor where to look. Now the 504 leads to the outcome
    as a 202 does, and the README's loop prints it."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("gateway", status=504, match=b"Action=RunInstances")
    lost = account_toml("team-lost", "ap-northeast-1", "gamma", proxy.port)
    serve = "rate = 1000\nburst = 1000"
    with two_pool_aggregator(moto_server, tmp_path / "agg", serve=serve, accounts=lost) as agg:
        token = agg.mint("lena", "operator", pool="gamma")
        body = {"deployable": f"team-lost:image:{AMI}", "name": "lost-1", "size": "t3.micro"}
        with agg.client(token) as client:
            reply = client.post("/api/v1/pools/gamma/launches", json=body)
            assert reply.status_code == 504, reply.text
            assert reply.json()["error"]["code"] == "no_answer"
            follow = reply.headers["Location"]
            assert reply.json()["outcome_href"] == follow
            outcomes = _outcomes(client, follow)
        (new_id,) = named(moto_server, "tokyo", "lost-1")  # tokyo is ap-northeast-1
        assert [(e["kind"], e["outcome"], e["target"], e["new_state"]) for e in outcomes] == [
            ("launch", "ok", new_id, "running")
        ]
        assert run_instances(moto_server).get("ap-northeast-1") == 1  # sent once

        if not (shutil.which("curl") and shutil.which("jq")):
            return
        script = tmp_path / "launch.sh"
        script.write_text(readme_loop("/launches"), encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "WM": agg.url, "WM_TOKEN": token, "POOL": "gamma"}
        body["name"] = "lost-2"
        run = subprocess.run(
            ["bash", str(script)],
            env={**env, "BODY": json.dumps(body)},
            capture_output=True,
            text=True,
            timeout=150,
        )
    assert proxy.faulted == 2
    assert run.returncode == 0, run.stderr
    (second,) = named(moto_server, "tokyo", "lost-2")
    assert run.stdout.startswith(f"ok: {second} running: observed running "), run.stdout
