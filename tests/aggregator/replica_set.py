"""`wm serve` replicas (one per poll interval given) on one PostgreSQL database over the real
moto, each signing with its own access key so moto's request log tells which one asked:
started on a fresh database, and read through (tokens, clients, moto as a witness)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.aggregator.server import (
    ACCOUNTS,
    KEY,
    AggregatorProcess,
    Role,
    seed,
    server_env,
    write_config,
)
from tests.conftest import wait_until
from tests.postgres import PostgresCluster
from winged_monkey.demo.server import MotoServer
from winged_monkey.serve.shared_state import SharedTokenStore
from winged_monkey.store.postgres import PostgresStore

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

POLL_S = 1.5
RARE = 0.01  # a rate (requests per second) that refills nothing within a test
PASSWORD_ENV = "WM_PG_TEST_PASSWORD"
V1 = "/api/v1"


def replica_key(n: int) -> str:
    """Each replica signs with its own access key (moto serves any key the same account),
    so moto's request log tells which replica asked."""
    return f"AKIATESTREPLICA{n:05d}"


@dataclass
class Replicas:
    processes: list[AggregatorProcess]
    store: PostgresStore
    moto: MotoServer
    ids: dict[tuple[str, str], str]

    def mint(self, user: str = "alice", role: Role = "viewer") -> tuple[str, str]:
        """(token id, token) issued in the shared database."""
        record, token = SharedTokenStore(self.store).create(user, role)
        return record.id, token

    def client(self, n: int, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.processes[n].url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            trust_env=False,
        )

    def ec2(self, account: str) -> EC2Client:
        import boto3

        return boto3.client(
            "ec2",
            endpoint_url=self.moto.url,
            region_name=ACCOUNTS[account][0],
            aws_access_key_id=KEY,
            aws_secret_access_key="x",
        )

    def cloud_state_of(self, account: str, instance_id: str) -> str:
        """The instance's state as moto says (a witness independent of the servers)."""
        reply = self.ec2(account).describe_instances(InstanceIds=[instance_id])
        return reply["Reservations"][0]["Instances"][0]["State"]["Name"]

    def pollers(self, region: str) -> set[str]:
        """The access keys that listed this region's instances since the log was cleared."""
        return {
            c.access_key or ""
            for c in self.moto.calls
            if c.action == "DescribeInstances" and c.region == region
        }

    def listed(self, n: int, token: str) -> set[tuple[str, str, str]]:
        with self.client(n, token) as client:
            reply = client.get(f"{V1}/instances")
        if reply.status_code != 200:
            return set()
        return {(i["account"], i["id"], i["state"]) for i in reply.json()}


@contextmanager
def started_replicas(
    moto: MotoServer,
    cluster: PostgresCluster,
    workdir: Path,
    intervals: list[float],
    cloud_ports: dict[int, int] | None = None,
    rate: float = 2,
) -> Iterator[Replicas]:
    """A replica per poll interval, started in order (the first takes every account),
    on a fresh database; each one's first answer waited for. `cloud_ports`: replica ->
    the port it reaches moto on; `rate`: each token's requests per second (burst 10)."""
    ids = seed(moto)
    url = cluster.new_database()
    store = PostgresStore.connect(url, cluster.password)
    processes: list[AggregatorProcess] = []
    try:
        for n, interval in enumerate(intervals):
            serve = (
                f'poll_interval = {interval}\nrate = {rate}\nburst = 10\ndatabase = "{url}"\n'
                f'database_credentials = {{ secret_env = "{PASSWORD_ENV}" }}'
            )
            port = (cloud_ports or {}).get(n, moto.port)  # a fault proxy in front of moto
            config = write_config(workdir / f"replica{n}", port, serve)
            config.write_text(config.read_text().replace(KEY, replica_key(n)))
            env = server_env(workdir / f"replica{n}", {PASSWORD_ENV: cluster.password})
            processes.append(AggregatorProcess(workdir / f"replica{n}", config, env).start())
        running = Replicas(processes, store, moto, ids)
        for n in range(len(intervals)):
            # A token per try: a low rate is not spent here.
            wait_until(
                lambda n=n: len(running.listed(n, running.mint("setup")[1])) == len(ids),  # type: ignore[misc]
                timeout=60,
                step=0.1,
            )
        yield running
    finally:
        for process in processes:
            process.stop()
        store.close()
