"""Three `wm serve` replicas on one PostgreSQL database over the real moto: each account
polled by one replica (moto's request log, one access key per replica), takeover after
`kill -9` within two poll intervals, the same inventory from every replica, a change
seen by all before their own interval, an action settled by another replica when its
own dies, a catalog fetched once for all."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.aggregator.replica_set import POLL_S, V1, Replicas, replica_key, started_replicas
from tests.aggregator.server import ACCOUNTS
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from tests.postgres import PostgresCluster
from winged_monkey.demo.server import MotoServer


def test_one_poller_per_account_and_a_takeover_after_kill_9(replicas: Replicas) -> None:
    replicas.moto.clear_calls()
    regions = {account: region for account, (region, _pool) in ACCOUNTS.items()}
    # Several intervals: every replica has had its turn at every account.
    wait_until(
        lambda: all(
            sum(
                1
                for c in replicas.moto.calls
                if c.action == "DescribeInstances" and c.region == region
            )
            >= 4
            for region in regions.values()
        ),
        timeout=60,
    )
    for region in regions.values():
        assert len(replicas.pollers(region)) == 1, replicas.moto.calls

    # kill -9 the replica polling team-a: another takes it within two poll intervals.
    (leader_key,) = replicas.pollers(regions["team-a"])
    leader = [replica_key(n) for n in range(3)].index(leader_key)
    process = replicas.processes[leader]._process
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    killed_at = time.monotonic()
    replicas.moto.clear_calls()
    wait_until(lambda: bool(replicas.pollers(regions["team-a"])), timeout=2 * POLL_S + 10)
    took = time.monotonic() - killed_at
    (successor,) = replicas.pollers(regions["team-a"])
    assert successor != leader_key
    assert took <= 2 * POLL_S, f"takeover after {took:.2f} s"  # the bound

    # The survivors serve the same inventory, including a change only the new poller saw.
    web = replicas.ids["team-a", "web"]
    replicas.ec2("team-a").stop_instances(InstanceIds=[web])
    survivors = [n for n in range(3) if n != leader]

    def stopped_everywhere() -> bool:
        _, token = replicas.mint("bob")  # a token per try: the rate limit is low here
        return all(("team-a", web, "stopped") in replicas.listed(n, token) for n in survivors)

    wait_until(stopped_everywhere, timeout=30, step=0.2)
    _, token = replicas.mint("carol")
    assert replicas.listed(survivors[0], token) == replicas.listed(survivors[1], token)


def test_a_change_reaches_the_other_replicas_before_their_own_interval(
    moto_server: MotoServer, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    """The poller's save is NOTIFYed: replicas that poll every minute show it at once."""
    with started_replicas(moto_server, postgres_cluster, tmp_path, [1.0, 60, 60]) as running:
        running.moto.clear_calls()  # the session's moto: earlier tests' calls are in it
        web = running.ids["team-b", "web"]
        running.ec2("team-b").stop_instances(InstanceIds=[web])

        def stopped_everywhere() -> bool:
            _, token = running.mint("erin")
            return all(("team-b", web, "stopped") in running.listed(n, token) for n in range(3))

        wait_until(stopped_everywhere, timeout=20, step=0.2)  # well inside the 60 s interval
        assert running.pollers(ACCOUNTS["team-b"][0]) <= {replica_key(0)}


@pytest.mark.parametrize(
    ("actor", "witness"), [(0, 1), (1, 0)], ids=["the-poller-dies", "another-replica-dies"]
)
def test_an_action_whose_replica_dies_is_settled_by_another(
    moto_server: MotoServer,
    postgres_cluster: PostgresCluster,
    tmp_path: Path,
    actor: int,
    witness: int,
) -> None:
    """A replica accepts a stop, sends it (moto stops the instance), and is killed before
    the answer reaches it: the replica polling team-a (the one that takes it over, or the
    one that had it) finds the intent in the database and records its outcome from what
    it observes. Replica 0 starts first and polls both accounts."""
    with (
        FaultProxy(("127.0.0.1", moto_server.port)) as proxy,
        started_replicas(
            moto_server, postgres_cluster, tmp_path, [1.0, 1.0], {actor: proxy.port}
        ) as running,
    ):
        web = running.ids["team-a", "web"]
        _, operator = running.mint("olga", "operator")
        proxy.fault = Fault("drip", interval=3600, match=b"StopInstances")  # it never hears back
        running.moto.clear_calls()
        with running.client(actor, operator) as client:
            assert client.post(f"{V1}/instances/team-a/{web}/stop").status_code == 202
        wait_until(
            lambda: any(
                c.action == "StopInstances" and c.access_key == replica_key(actor)
                for c in running.moto.calls
            ),
            timeout=30,
        )
        process = running.processes[actor]._process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert running.cloud_state_of("team-a", web) == "stopped"

        def outcome() -> list[dict[str, object]]:
            with running.client(witness, operator) as client:
                reply = client.get(f"{V1}/events", params={"target": web, "limit": 50})
            if reply.status_code != 200:
                return []
            return [
                e
                for e in reply.json()["events"]
                if e["source"] == "action" and e["cause"] and e["outcome"] != "requested"
            ]

        wait_until(lambda: bool(outcome()), timeout=30, step=0.5)
        (settled,) = outcome()  # the engine's intent (the API's audit line stays as it is)
        assert str(settled["cause"]).startswith("action:")
        assert settled["outcome"] == "ok"
        assert str(settled["key"]).endswith(":settled")  # observed, not answered
        assert "observed stopped" in str(settled["detail"])


def test_a_catalog_is_fetched_once_for_all_replicas(replicas: Replicas) -> None:
    _, token = replicas.mint("cat")
    replicas.moto.clear_calls()
    with replicas.client(0, token) as client:
        first = client.get(f"{V1}/catalogs")
    assert first.status_code == 200
    assert any(c.access_key == replica_key(0) for c in replicas.moto.calls)  # it asked
    assert any(pool["deployables"] for pool in first.json())
    for n in (1, 2):
        with replicas.client(n, token) as client:
            reply = client.get(f"{V1}/catalogs")
        assert reply.status_code == 200
        assert reply.json() == first.json()
    # Polling aside (one replica per account), the others asked the cloud nothing.
    asked = {
        (c.access_key, c.action)
        for c in replicas.moto.calls
        if c.access_key in (replica_key(1), replica_key(2)) and c.action != "DescribeInstances"
    }
    assert asked == set()
