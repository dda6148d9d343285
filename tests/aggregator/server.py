"""`wm serve` as a real process on loopback, over moto's EC2 server, for any test to reuse.

    with two_pool_aggregator(moto_server, tmp_path) as agg:
        token = agg.mint("alice", "operator", pool="alpha")
        httpx.get(f"{agg.url}/api/v1/instances", headers={"Authorization": f"Bearer {token}"})

Two accounts in two pools: "team-a" (us-east-1, pool "alpha") and "team-b" (eu-west-1,
pool "beta"), each with a running "web" and a stopped "batch" (ids in `agg.ids`).
The server's environment is built here from scratch (its own HOME, data dir and config),
so it works from module- or session-scoped fixtures too.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

import httpx

from tests.faultproxy import PASS, FaultProxy
from tests.processes import ServerProcess, free_port, spawn, wait_listening
from winged_monkey.demo.server import MotoServer
from winged_monkey.serve.tokens import TokenStore

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

Role = Literal["viewer", "operator", "admin"]
AMI = "ami-1e749f67"
KEY = "AKIATESTAGGREGATOR01"
SECRET = "aggregator-test-secret-do-not-leak"
SECRET_ENV = "WM_AGG_TEST_SECRET"
#: account -> (region, pool)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "team-a": ("us-east-1", "alpha"),
    "team-b": ("eu-west-1", "beta"),
}
_DROPPED = ("AWS_", "WM_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def account_toml(name: str, region: str, pool: str, moto_port: int) -> str:
    """One EC2 account on the moto endpoint, its secret in SECRET_ENV, in `pool`."""
    return (
        "[[accounts]]\n"
        f'name = "{name}"\nprovider = "ec2"\nregion = "{region}"\npool = "{pool}"\n'
        f'timeout = 10\nimages = ["{AMI}"]\n'
        f'endpoint = {{ host = "127.0.0.1", port = {moto_port}, secure = false }}\n'
        f'credentials = {{ key = "{KEY}", keyring = false, secret_env = "{SECRET_ENV}" }}\n\n'
    )


def server_env(workdir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment of its own: no developer config, keyring, AWS variables or proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        WM_CONFIG=str(workdir / "config.toml"),
        WM_DATA_DIR=str(workdir / "data"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    env[SECRET_ENV] = SECRET
    env.update(extra or {})
    return env


class AggregatorProcess(ServerProcess):
    """`wm serve --config CONFIG --port PORT` in its own process group."""

    def __init__(self, workdir: Path, config: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.config = config
        self.env = dict(env)
        self.port = 0
        self.log = workdir / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.port = free_port()
        command = [
            sys.executable,
            "-c",
            "from winged_monkey.cli.main import main; main()",
            "serve",
            "--config",
            str(self.config),
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.extra_args(),
        ]
        self._process = spawn(command, self.log, self.env)
        wait_listening(self._process, self.port, self.log, "wm serve", timeout=60)
        return self

    def extra_args(self) -> list[str]:
        """More `wm serve` options (a subclass adds TLS)."""
        return []


@dataclass
class RunningAggregator:
    """A started aggregator: its base URL, token minting, and the seeded ids."""

    process: AggregatorProcess
    tokens_path: Path
    moto: MotoServer
    #: (account, name) -> instance id, e.g. ids["team-a", "web"].
    ids: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def store_path(self) -> Path:
        """The server's store (its event log), under its own WM_DATA_DIR."""
        return self.process.workdir / "data" / "wm.sqlite3"

    def mint(
        self,
        user: str = "alice",
        role: Role = "viewer",
        pool: str | None = None,
        *,
        expires: timedelta = timedelta(hours=1),
        revoked: bool = False,
        issued_at: datetime | None = None,
    ) -> str:
        """A token for (user, role, pool); `issued_at` in the past with a short `expires`
        gives an expired one, `revoked` a revoked one."""
        store = TokenStore(self.tokens_path)
        try:
            record, token = store.create(user, role, pool, expires=expires, now=issued_at)
            if revoked:
                store.revoke(record.id)
        finally:
            store.close()
        return token

    def expired(self, user: str = "alice", role: Role = "admin", pool: str | None = None) -> str:
        past = datetime.now(UTC) - timedelta(days=2)
        return self.mint(user, role, pool, expires=timedelta(days=1), issued_at=past)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, trust_env=False)

    def ec2(self, account: str) -> EC2Client:
        import boto3

        region = ACCOUNTS[account][0]
        return boto3.client(
            "ec2",
            endpoint_url=self.moto.url,
            region_name=region,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )

    def cloud_state(self, account: str, name: str) -> str:
        """The instance's state as moto itself says (a witness independent of the server)."""
        reply = self.ec2(account).describe_instances(InstanceIds=[self.ids[account, name]])
        return reply["Reservations"][0]["Instances"][0]["State"]["Name"]

    def wait_listed(self, count: int, timeout: float = 30) -> None:
        """Until the server's cache lists `count` instances (its first poll is done); a
        token per try, so a low rate limit is not spent here."""
        deadline = time.monotonic() + timeout
        while True:
            with self.client(self.mint("setup", "viewer")) as client:
                reply = client.get("/api/v1/instances")
            if reply.status_code == 200 and len(reply.json()) >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"aggregator listed {reply.text[:300]} after {timeout} s")
            time.sleep(0.05)


def seed(moto: MotoServer) -> dict[tuple[str, str], str]:
    """Empty moto and give each account a running "web" and a stopped "batch"."""
    import boto3

    moto.reset()
    ids: dict[tuple[str, str], str] = {}
    for account, (region, _pool) in ACCOUNTS.items():
        ec2 = boto3.client(
            "ec2",
            endpoint_url=moto.url,
            region_name=region,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        for name in ("web", "batch"):
            reply = ec2.run_instances(
                ImageId=AMI,
                InstanceType="t3.micro",
                MinCount=1,
                MaxCount=1,
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
                ],
            )
            ids[account, name] = reply["Instances"][0]["InstanceId"]
        ec2.stop_instances(InstanceIds=[ids[account, "batch"]])
    return ids


def write_config(workdir: Path, moto_port: int, serve: str = "", accounts: str = "") -> Path:
    """The server's config: the two accounts (and `accounts`, more TOML), fast polls,
    tokens under `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.toml"
    settings = {"poll_interval": "0.5", "tokens": f'"{workdir / "tokens.sqlite3"}"'}
    for line in serve.splitlines():  # the caller's lines replace the defaults
        key, _, value = line.partition("=")
        if value:
            settings[key.strip()] = value.strip()
    text = (
        "action_poll_interval = 0.1\naction_timeout = 30\nbusy_refresh_interval = 0.2\n\n"
        "[serve]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()) + "\n"
    )
    text += "".join(
        account_toml(name, region, pool, moto_port) for name, (region, pool) in ACCOUNTS.items()
    )
    path.write_text(text + accounts, encoding="utf-8")
    return path


@contextmanager
def two_pool_aggregator(
    moto: MotoServer,
    workdir: Path,
    *,
    serve: str = "",
    accounts: str = "",
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningAggregator]:
    """Seed moto, start `wm serve` on it, wait for its first poll; stop it afterwards.

    `serve` adds lines to the `[serve]` section (e.g. 'rate = 5\\nburst = 5'), `accounts`
    more accounts (TOML, e.g. from `account_toml`)."""
    ids = seed(moto)
    config = write_config(workdir, moto.port, serve, accounts)
    with AggregatorProcess(workdir, config, server_env(workdir, env)) as process:
        running = RunningAggregator(process, workdir / "tokens.sqlite3", moto, ids)
        running.wait_listed(len(ids))
        yield running


#: An account that lists team-a's rows (us-east-1) through a fault proxy (`flaky_aggregator`).
FLAKY = "team-flaky"


@contextmanager
def flaky_aggregator(
    moto: MotoServer, workdir: Path, proxy: FaultProxy
) -> Iterator[RunningAggregator]:
    """`two_pool_aggregator` with FLAKY in pool gamma, reaching moto through `proxy` (its
    fault PASS to begin with) with a short timeout: a test fails it at will."""
    proxy.fault = PASS
    toml = account_toml(FLAKY, "us-east-1", "gamma", proxy.port).replace(
        "timeout = 10", "timeout = 3"
    )
    serve = "rate = 1000\nburst = 1000"
    with two_pool_aggregator(moto, workdir, serve=serve, accounts=toml) as running:
        yield running
