"""An action through a `wm serve` ends with the server's own outcome of it: a stop its
cloud refused says the cloud's words at once, not a timeout after `action_timeout` of
looking at a row that stays running. Real `wm serve` over moto; one account reaches moto
through the fault proxy, which answers its StopInstances as EC2 refuses one (a refusal
moto does not give on demand), so the cloud stops nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aggregator.server import AMI, RunningAggregator, account_toml, two_pool_aggregator
from tests.aggregator.test_pools import named, run_instances
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.catalog import LaunchRequest
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.errors import AnswerLostError

REFUSING = "team-refusing"  # us-east-1 as team-a: it lists team-a's web and batch
#: EC2's answer to a StopInstances the caller may not make (botocore reads its Code).
UNAUTHORIZED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
    b"<Code>UnauthorizedOperation</Code>"
    b"<Message>You are not authorized to perform this operation.</Message>"
    b"</Error></Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>"
)


@pytest.fixture
def refusing(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault(
        "status",
        status=403,
        headers={"Content-Type": "text/xml;charset=UTF-8"},
        body=UNAUTHORIZED,
        match=b"Action=StopInstances",
    )
    toml = account_toml(REFUSING, "us-east-1", "gamma", proxy.port)
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=toml
    ) as running:
        running.wait_listed(len(running.ids) + 2)
        yield running, proxy


def test_a_stop_the_cloud_refused_says_the_clouds_words(
    refusing: tuple[RunningAggregator, FaultProxy], tmp_path: Path
) -> None:
    agg, proxy = refusing
    config = tmp_path / "wm.toml"
    config.write_text(  # before, this stop ended in a timeout: "web still running after 20 s"
        "action_poll_interval = 0.2\naction_timeout = 20\n\n"
        '[[accounts]]\nname = "team"\nbackend = "aggregator"\n'
        f'url = "{agg.url}"\n'
        'credentials = { keyring = false, secret_env = "WM_TEAM_TOKEN" }\n',
        encoding="utf-8",
    )
    env = {
        "WM_CONFIG": str(config),
        "WM_DATA_DIR": str(tmp_path / "data"),
        "WM_TEAM_TOKEN": agg.mint("otto", "operator"),
    }
    web = f"team/{REFUSING}/{agg.ids['team-a', 'web']}"
    stopped = CliRunner().invoke(main, ["stop", web, "--yes"], env=env, catch_exceptions=False)
    assert stopped.exit_code != 0, stopped.output
    assert "UnauthorizedOperation" in stopped.output, stopped.output
    assert "You are not authorized to perform this operation" in stopped.output
    assert "still running" not in stopped.output
    assert proxy.faulted == 1
    assert agg.cloud_state("team-a", "web") == "running"


async def test_a_launch_whose_answer_the_server_lost_ends_with_what_became_of_it(
    moto_server: MotoServer,
    tmp_path: Path,
    fault_proxy: Callable[[int], FaultProxy],
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's cloud created the instance and a gateway lost its answer: the server
    answered 504 no_answer with where the outcome will be, and wm's client ended the launch
    unknown ("the cloud may have created it; the next poll will tell"), though the server
    said a moment later what its poll saw. Now it reads that outcome, as an action's, and
    the launch ends with the new instance running."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("gateway", status=504, match=b"Action=RunInstances")
    lost = account_toml("team-lost", "ap-northeast-1", "gamma", proxy.port)
    serve = "rate = 1000\nburst = 1000"
    with two_pool_aggregator(moto_server, tmp_path / "agg", serve=serve, accounts=lost) as agg:
        token = agg.mint("lena", "operator", pool="gamma")
        portal = portals(aggregator_account("team", agg.url, token, monkeypatch))
        await refresh(portal)
        request = LaunchRequest(
            item=f"gamma/team-lost:image:{AMI}", kind="deployable", name="lost-1", size="t3.micro"
        )
        updates = [u async for u in portal.launch("team", request)]
        (new_id,) = named(moto_server, "tokyo", "lost-1")  # tokyo is ap-northeast-1
    assert (updates[-1].phase, updates[-1].instance.id) == ("done", f"team-lost/{new_id}"), [
        (u.phase, u.message) for u in updates
    ]
    assert run_instances(moto_server).get("ap-northeast-1") == 1  # sent once


async def test_a_launch_whose_answer_is_lost_and_stays_unknown_says_so_once(
    moto_server: MotoServer,
    tmp_path: Path,
    fault_proxy: Callable[[int], FaultProxy],
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's cloud gave no answer (a gateway's 504; nothing created) and no poll
    there said what became of it while wm waited: the launch ends unknown, saying what to
    expect once. The server's words say it already, and wm's launch added it again:
    '...: the cloud may have created it; the next poll will tell: the cloud may have
    created it; the next poll will tell'."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("status", status=504, match=b"Action=RunInstances")
    lost = account_toml("team-lost", "ap-northeast-1", "gamma", proxy.port)
    serve = "rate = 1000\nburst = 1000"
    with two_pool_aggregator(moto_server, tmp_path / "agg", serve=serve, accounts=lost) as agg:
        token = agg.mint("lena", "operator", pool="gamma")
        # Its timeout bounds how long it reads the server's outcome (half of it).
        account = aggregator_account("team", agg.url, token, monkeypatch, timeout=4.0)
        portal = portals(account)
        await refresh(portal)
        request = LaunchRequest(
            item=f"gamma/team-lost:image:{AMI}", kind="deployable", name="lost-2", size="t3.micro"
        )
        with pytest.raises(AnswerLostError) as raised:
            _ = [u async for u in portal.launch("team", request)]
    said = raised.value.message
    tail = "the cloud may have created it; the next poll will tell"
    assert said.endswith(tail), said
    assert said.count(tail) == 1, said
    assert "team-lost" in said, said
    (outcome,) = [
        e
        for e in portal.store.events(account="team")
        if e.kind == "launch" and e.outcome
        if e.outcome != "requested"
    ]
    assert outcome.outcome == "unknown", outcome
    assert (outcome.detail or "").count(tail) == 1, outcome.detail
