"""The synthetic cloud against a real `wm serve` over moto: one pool of three EC2 accounts
in three regions at three prices, one deployable defined once for the pool. The server
picks the account; moto's request log and boto3 are the witnesses of where it launched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from tests.aggregator.server import (
    AMI,
    KEY,
    SECRET,
    AggregatorProcess,
    RunningAggregator,
    account_toml,
    server_env,
)
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.store.sqlite import Store

MISSING_AMI = "ami-0123456789abcdef0"
#: account -> (region, hourly price): tokyo is the cheapest but its quota is full.
ACCOUNTS = {
    "east": ("us-east-1", 0.02),
    "west": ("eu-west-1", 0.03),
    "tokyo": ("ap-northeast-1", 0.01),
}


def ec2(moto: MotoServer, account: str) -> Any:
    return boto3.client(
        "ec2",
        endpoint_url=moto.url,
        region_name=ACCOUNTS[account][0],
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )


def config(
    workdir: Path,
    moto_port: int,
    images: dict[str, str],
    quality: float,
    ports: dict[str, int] | None = None,
) -> Path:
    text = (
        "action_poll_interval = 0.1\naction_timeout = 30\nbusy_refresh_interval = 0.2\n\n"
        "[serve]\npoll_interval = 0.5\nrate = 1000\nburst = 1000\n"
        f'tokens = "{workdir}/tokens.sqlite3"\n\n'
        "[serve.pools.synth]\nwindow_hours = 1\n"
        f"weights = {{ price = 1, quality = {quality}, speed = 0, polls = 0 }}\n\n"
        "[[serve.pools.synth.deployables]]\n"
        'name = "web"\ndescription = "a small web server"\nvcpus = 1\nram_mb = 512\n'
        "images = { " + ", ".join(f'{a} = "{i}"' for a, i in images.items()) + " }\n\n"
    )
    for name, (region, price) in ACCOUNTS.items():
        port = (ports or {}).get(name, moto_port)
        text += account_toml(name, region, "synth", port).rstrip("\n") + "\n"
        text += f"price_hourly = {price}\n"
        text += "limits = { instances = 1 }\n\n" if name == "tokyo" else "\n"
    path = workdir / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def synthetic_cloud(
    moto: MotoServer,
    workdir: Path,
    *,
    east_image: str = AMI,
    west_image: str = AMI,
    quality: float = 1.0,
    ports: dict[str, int] | None = None,
) -> Iterator[RunningAggregator]:
    """The pool on a fresh moto (an account in `ports` reaches it on that port: a fault
    proxy's); tokyo runs one instance, its whole quota."""
    moto.reset()
    workdir.mkdir(parents=True)
    busy = ec2(moto, "tokyo").run_instances(
        ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1
    )
    images = {"east": east_image, "west": west_image, "tokyo": AMI}
    path = config(workdir, moto.port, images, quality, ports)
    with AggregatorProcess(workdir, path, server_env(workdir)) as process:
        running = RunningAggregator(process, workdir / "tokens.sqlite3", moto)
        running.ids["tokyo", "busy"] = busy["Instances"][0]["InstanceId"]
        running.wait_listed(1)
        moto.clear_calls()
        yield running


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto refuses an image it does not have, as AWS does (read on every call)."""
    from moto import settings

    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)


def run_instances(moto: MotoServer) -> dict[str, int]:
    """RunInstances calls per region, from moto's own request log."""
    found: dict[str, int] = {}
    for call in moto.calls:
        if call.action == "RunInstances":
            found[call.region or "?"] = found.get(call.region or "?", 0) + 1
    return found


def named(moto: MotoServer, account: str, name: str) -> list[str]:
    reply = ec2(moto, account).describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
    return [i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"]]


def test_a_launch_goes_to_the_cheapest_account_with_room_and_says_why(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    with synthetic_cloud(moto_server, tmp_path / "agg") as agg:
        viewer = agg.client(agg.mint("vera", "viewer"))
        (catalog,) = viewer.get("/api/v1/catalogs").json()
        web = next(d for d in catalog["deployables"] if d["id"] == "web")
        assert web["item"]["kind"] == "deployable"
        assert web["match"]["chosen"] == "east"
        ranked = {c["account"]: c for c in web["match"]["ranked"]}
        assert [c["account"] for c in web["match"]["ranked"]] == ["east", "west", "tokyo"]
        assert ranked["west"]["summary"] == "score 0.50 (price +0.50)"
        assert ranked["tokyo"]["summary"].startswith("passed over: quota: launching 1 x ")
        assert ranked["tokyo"]["summary"].endswith("needs 1 instances; 0 of 1 remain")

        # A viewer reads the scores and may not launch: RBAC as for any launch.
        scores = viewer.get("/api/v1/pools/synth/scores")
        assert scores.status_code == 200, scores.text
        assert scores.json()["weights"] == {"price": 1, "quality": 1, "speed": 0, "polls": 0}
        refused = viewer.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["message"].endswith("this token is viewer")

        operator = agg.client(agg.mint("olga", "operator"))
        reply = operator.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["account"] == "east"
        assert accepted["match"]["why"].startswith("east: the best score; ")
        assert "at $0.0200/h, the cheapest" in accepted["match"]["why"]
        assert [(t["account"], t["outcome"]) for t in accepted["tries"]] == [("east", "launched")]
        assert named(moto_server, "east", "w1") == list(accepted["ids"])
        # Tokyo was passed over on its quota before any call: no RunInstances there.
        assert run_instances(moto_server) == {"us-east-1": 1}

        # The shell: `wm launch team/synth/web` through an aggregator account.
        moto_server.clear_calls()
        shell = wm_launch(tmp_path, agg.url, agg.mint("olga", "operator"), "team/synth/web")
        assert shell.exit_code == 0, shell.output
        assert "team/synth/web: a small web server (pool synth, the server's choice now: " in (
            shell.stderr
        )
        assert run_instances(moto_server) == {"us-east-1": 1}
        (launched,) = named(moto_server, "east", "cli-web")
        assert f"team/east/{launched}" in shell.output


def wm_launch(tmp_path: Path, url: str, token: str, item: str) -> Any:
    path = tmp_path / "wm.toml"
    path.write_text(
        '[[accounts]]\nname = "team"\nbackend = "aggregator"\n'
        f'url = "{url}"\ncredentials = {{ keyring = false, secret_env = "WM_TEAM_TOKEN" }}\n',
        encoding="utf-8",
    )
    env = {"WM_CONFIG": str(path), "WM_DATA_DIR": str(tmp_path / "data"), "WM_TEAM_TOKEN": token}
    args = ["launch", item, "--name", "cli-web", "--yes"]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_a_rejected_launch_fails_over_and_the_failure_counts_against_the_account(
    moto_server: MotoServer, tmp_path: Path, strict: None
) -> None:
    with synthetic_cloud(moto_server, tmp_path / "agg", east_image=MISSING_AMI, quality=2) as agg:
        viewer = agg.client(agg.mint("vera", "viewer"))
        (before,) = viewer.get("/api/v1/pools/synth/scores").json()["deployables"]
        assert before["chosen"] == "east"  # the cheapest, with no record yet

        operator = agg.client(agg.mint("olga", "operator"))
        reply = operator.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["account"] == "west"
        east_try, west_try = accepted["tries"]
        assert (east_try["account"], east_try["outcome"]) == ("east", "rejected")
        assert "InvalidAMIID.NotFound" in east_try["reason"]
        assert (west_try["account"], west_try["outcome"]) == ("west", "launched")
        assert run_instances(moto_server) == {"us-east-1": 1, "eu-west-1": 1}
        assert named(moto_server, "west", "w1") == list(accepted["ids"])

        # Both tries in the log, each request linked to its outcome.
        events = operator.get("/api/v1/events", params={"limit": 1000}).json()["events"]
        tries = [e for e in events if e["kind"] == "pool-launch"]
        by_key = {e["key"]: e for e in tries}
        outcomes = [(by_key[e["cause"]]["account"], e["outcome"]) for e in tries if e["cause"]]
        assert outcomes == [("east", "failed"), ("west", "ok")]
        assert "east rejected the launch: " in tries[1]["detail"]
        failed = [e for e in events if e["kind"] == "launch" and e["outcome"] == "failed"]
        assert [e["account"] for e in failed] == ["east"]  # the engine's own outcome

        # Its record now ranks the cheapest account below a dearer healthy one.
        (after,) = viewer.get("/api/v1/pools/synth/scores").json()["deployables"]
        assert after["chosen"] == "west"
        east = next(c for c in after["ranked"] if c["account"] == "east")
        assert "1 of the last 1 launches failed" in east["reasons"]
        assert east["summary"] == "score 2.00 (quality +2.00)"
        assert east["record"]["launches"] == 1

        # The admin's view on the bastion: `wm serve pools` against the running server.
        shown = CliRunner().invoke(
            main,
            ["serve", "--config", str(agg.process.config), "pools", "--url", agg.url],
            env={"WM_SERVE_TOKEN": agg.mint("ada", "viewer")},
        )
        assert shown.exit_code == 0, shown.output
        lines = shown.stdout.splitlines()
        assert lines[0] == (
            "pool synth (record over 1 h; weights: price 1, quality 2, speed 0, polls 0)"
        )
        assert lines[1].startswith("  web: west: the best score; t2.nano")
        assert lines[2].split()[:2] == ["1", "west"]
        assert lines[3].split()[:2] == ["2", "east"]
        assert "score 2.00 (quality +2.00); price 0.00 quality 2.00" in lines[3]
        assert "1 of the last 1 launches failed" in lines[3]
        assert lines[4].split()[:2] == ["-", "tokyo"]
        assert "passed over: quota: launching 1 x t2.nano needs 1 instances" in lines[4]

        moto_server.clear_calls()
        again = operator.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w2"}
        ).json()
        assert [(t["account"], t["outcome"]) for t in again["tries"]] == [("west", "launched")]
        assert run_instances(moto_server) == {"eu-west-1": 1}


def test_when_every_account_rejects_the_launch_all_reasons_are_given(
    moto_server: MotoServer, tmp_path: Path, strict: None
) -> None:
    with synthetic_cloud(
        moto_server, tmp_path / "agg", east_image=MISSING_AMI, west_image=MISSING_AMI
    ) as agg:
        operator = agg.client(agg.mint("olga", "operator"))
        reply = operator.post(
            "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
        )
        assert reply.status_code == 502, reply.text
        message = reply.json()["error"]["message"]
        assert message.startswith("every account of pool synth rejected the launch: east: ")
        assert "; west: " in message
        assert "tokyo" not in run_instances(moto_server)


def test_a_launch_whose_answer_is_lost_is_not_tried_elsewhere(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """east's RunInstances reaches moto, which creates the instance, and its answer is cut
    short: the launch may exist, so the pool must not launch it again on west (it did: two
    w1, one of them unknown to the user)."""
    with FaultProxy(("127.0.0.1", moto_server.port)) as proxy:
        proxy.fault = Fault("truncate", keep=400, match=b"RunInstances")
        with synthetic_cloud(moto_server, tmp_path / "agg", ports={"east": proxy.port}) as agg:
            operator = agg.client(agg.mint("olga", "operator"))
            reply = operator.post(
                "/api/v1/pools/synth/launches", json={"deployable": "web", "name": "w1"}
            )
            assert reply.status_code == 504, reply.text  # no_answer: not a refusal (502)
            assert reply.json()["error"]["code"] == "no_answer"
            assert reply.headers["Location"] == reply.json()["outcome_href"]  # east's launch
            said = reply.json()["error"]["message"]
            assert said.startswith("east: not tried elsewhere: the reply from "), said
            assert said.endswith(": the cloud may have created it; the next poll will tell"), said
            assert run_instances(moto_server) == {"us-east-1": 1}
            assert len(named(moto_server, "east", "w1")) == 1
            assert named(moto_server, "west", "w1") == []

            # Through a client: the answer lost, it follows the outcome_href to what the
            # server's poll found (the one instance moto made), never launching it again.
            moto_server.clear_calls()
            shell = wm_launch(tmp_path, agg.url, agg.mint("olga", "operator"), "team/synth/web")
            assert shell.exit_code == 0, shell.output
            (made,) = named(moto_server, "east", "cli-web")
            assert f"team/east/{made}: cli-web: launched" in shell.output
            assert run_instances(moto_server) == {"us-east-1": 1}
            store = Store.open(tmp_path / "data" / "wm.sqlite3")
            try:
                outcomes = [e.outcome for e in store.events() if e.kind == "launch"]
            finally:
                store.close()
            assert outcomes == ["ok", "requested"], outcomes  # newest first
