"""Shared fixtures: an isolated environment for every test and a real moto server for the suite."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.postgres import PostgresCluster
from tests.tmux import Tmux
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials, Endpoint
from winged_monkey.user.credentials import CredentialResolver

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from tests.faultproxy import FaultProxy

AMI = "ami-1e749f67"
DEV_KEY = "AKIATESTDEV000000001"
DEV_SECRET = "test-dev-secret"
ISOLATED_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "LIBCLOUD_DEBUG",
)


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in the test: nothing reaches the developer's real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """Keep the developer's config, data, ~/.aws, proxies and keyring out of every test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WM_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("WM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    return memory


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on loopback, started once per run (tests/postgres.py)."""
    cluster = PostgresCluster.start()
    yield cluster
    cluster.close()


@pytest.fixture
def moto(moto_server: MotoServer) -> MotoServer:
    """The suite's moto server, emptied, seeded and with no recorded calls."""
    moto_server.reset()
    moto_server.seed(7)
    moto_server.clear_calls()
    return moto_server


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """Poll `predicate` until it holds; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


async def eventually(
    predicate: Callable[[], bool], within: float = 10.0, step: float = 0.02
) -> None:
    """`wait_until` for async tests: the event loop runs while it waits (the tasks that make
    `predicate` hold may be on it)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(step)


@dataclass
class Cloud:
    """Helpers over one moto server: witnesses (boto3), seeding, accounts and portals."""

    server: MotoServer
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    stores: list[Store] = field(default_factory=list)

    def ec2(
        self,
        region: str = "us-east-1",
        key: str = DEV_KEY,
        secret: str = DEV_SECRET,
        token: str | None = None,
        url: str | None = None,
    ) -> EC2Client:
        import boto3

        return boto3.client(
            "ec2",
            endpoint_url=url or self.server.url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )

    def assume_role(self, role: str = "arn:aws:iam::111111111111:role/test") -> dict[str, str]:
        """Temporary credentials for another account, as STS hands them out."""
        import boto3

        sts = boto3.client(
            "sts",
            endpoint_url=self.server.url,
            region_name="us-east-1",
            aws_access_key_id=DEV_KEY,
            aws_secret_access_key=DEV_SECRET,
        )
        creds = sts.assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
        return {
            "key": creds["AccessKeyId"],
            "secret": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
        }

    def launch(
        self, ec2: EC2Client, name: str, *, type: str = "t3.micro", state: str = "running"
    ) -> str:
        reply = ec2.run_instances(
            ImageId=AMI,
            InstanceType=type,  # type: ignore[arg-type]
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
            ],
        )
        instance_id = reply["Instances"][0]["InstanceId"]
        if state == "stopped":
            ec2.stop_instances(InstanceIds=[instance_id])
        elif state == "terminated":
            ec2.terminate_instances(InstanceIds=[instance_id])
        return instance_id

    @staticmethod
    def state_of(ec2: EC2Client, instance_id: str) -> str:
        """The server's own answer, independent of the code under test."""
        reply = ec2.describe_instances(InstanceIds=[instance_id])
        return reply["Reservations"][0]["Instances"][0]["State"]["Name"]

    def account(
        self,
        name: str,
        *,
        region: str = "us-east-1",
        key: str = DEV_KEY,
        secret: str = DEV_SECRET,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        **settings: Any,
    ) -> AccountConfig:
        """An EC2 account on the moto endpoint, its secret in an env var as a user would."""
        var = "WM_TEST_" + name.upper().replace("-", "_")
        self.monkeypatch.setenv(var + "_SECRET", secret)
        creds: dict[str, Any] = {"key": key, "keyring": False, "secret_env": var + "_SECRET"}
        if token is not None:
            self.monkeypatch.setenv(var + "_TOKEN", token)
            creds["token_env"] = var + "_TOKEN"
        return AccountConfig(
            name=name,
            provider="ec2",
            region=region,
            endpoint=Endpoint(host=host, port=port or self.server.port, secure=False),
            credentials=Credentials.model_validate(creds),
            **settings,
        )

    def portal(
        self,
        *accounts: AccountConfig,
        store: Path | None = None,
        resolver: CredentialResolver | None = None,
    ) -> Portal:
        """A portal over a store file in tmp_path, polling actions fast."""
        config = Config(
            accounts=accounts,
            refresh_interval=1,
            busy_refresh_interval=0.1,
            action_poll_interval=0.05,
            action_timeout=20,
        )
        opened = Store.open(store or self.tmp_path / "wm.sqlite3")
        self.stores.append(opened)
        return Portal(config, opened, resolver=resolver, user="tester")


@pytest.fixture
def cloud(moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    helper = Cloud(moto, tmp_path, monkeypatch)
    yield helper
    for store in helper.stores:
        store.close()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[int], FaultProxy]]:
    """Start FaultProxy instances in front of loopback servers (by port); all stop at teardown."""
    from tests.faultproxy import FaultProxy

    proxies: list[FaultProxy] = []

    def start(upstream_port: int) -> FaultProxy:
        proxy = FaultProxy(("127.0.0.1", upstream_port)).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def aws_files(cloud: Cloud, tmp_path: Path) -> Path:
    """Empty AWS shared files of the test's own; no instance metadata probe."""
    folder = tmp_path / "aws"
    folder.mkdir()
    cloud.monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "config"))
    cloud.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "credentials"))
    cloud.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return folder


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A tmux server of the test's own; its session "wm" is the test's to start."""
    if shutil.which("tmux") is None:
        raise RuntimeError("no tmux: apt-get install tmux")
    found = Tmux(f"wm-test-{os.getpid()}-{tmp_path.name}")
    yield found
    subprocess.run(["tmux", "-L", found.socket, "kill-server"], capture_output=True, check=False)
