"""The demo: three accounts on a local moto server, seeded with named, tagged instances.

"dev" (moto's default account, us-east-1), "dev-eu" (the same keys in eu-west-1)
and "prod" (a second account reached through STS AssumeRole, as teams do on AWS).
Secrets reach the accounts the way a user's would: through environment
variables the config names, set here in-process. Nothing but loopback is used.
"""

from __future__ import annotations

import http.client
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from winged_monkey.demo.server import MotoServer, documentation_addresses, launched_ago

if TYPE_CHECKING:  # the demo's child seeds without the config's pydantic models
    from winged_monkey.user.config import Config

PROD_ROLE = "arn:aws:iam::111111111111:role/demo"
DEV_KEY = "AKIADEMODEV000000001"
DEV_SECRET = "demo-dev-secret"  # noqa: S105 (moto accepts any secret; this one is public)
# Names of the environment variables that carry the secrets (names, not secrets).
ENV_DEV_SECRET = "WM_DEMO_DEV_SECRET"  # noqa: S105
ENV_PROD_KEY = "WM_DEMO_PROD_KEY"
ENV_PROD_SECRET = "WM_DEMO_PROD_SECRET"  # noqa: S105
ENV_PROD_TOKEN = "WM_DEMO_PROD_TOKEN"  # noqa: S105
AMI = "ami-1e749f67"  # an Ubuntu image moto ships in every region
#: That image as moto describes it (MOTO_AMIS_PATH's format): the one `wm --demo` loads.
DEMO_IMAGE = {
    "ami_id": AMI,
    "state": "available",
    "public": True,
    "owner_id": "099720109477",
    "image_location": "amazon/getting-started",
    "sriov": "simple",
    "root_device_type": "ebs",
    "root_device_name": "/dev/sda1",
    "description": "Canonical, Ubuntu, 14.04 LTS, amd64 trusty image build on 2017-07-27",
    "image_type": "machine",
    "platform": None,
    "architecture": "x86_64",
    "name": "ubuntu/images/hvm-ssd/ubuntu-trusty-14.04-amd64-server-20170727",
    "virtualization_type": "hvm",
    "hypervisor": "xen",
}
#: How long before the demo starts its instances say they were launched (server.py's
#: `launched_ago`): before its history's first event (history.py, 50 minutes ago), so no
#: instance has an event from before its launch, in the events view or its timeline.
LAUNCHED_AGO = timedelta(hours=3)
CONFIG_NAME = "config.toml"
STORE_NAME = "wm.sqlite3"


@dataclass(frozen=True)
class Seed:
    """One instance to create: its name, type, the state to leave it in, and its tags."""

    name: str
    type: str
    state: str  # running, stopped, terminated
    team: str
    env: str


DEMO_FLEET: dict[str, list[Seed]] = {
    "dev": [
        Seed("web-1", "t3.micro", "running", "web", "dev"),
        Seed("web-2", "t3.micro", "running", "web", "dev"),
        Seed("api", "t3.small", "running", "platform", "dev"),
        Seed("batch", "m5.large", "stopped", "data", "dev"),
        Seed("old-ci", "t3.micro", "terminated", "platform", "dev"),
    ],
    "dev-eu": [
        Seed("eu-web", "t3.small", "running", "web", "dev"),
        Seed("eu-worker", "t3.medium", "stopped", "data", "dev"),
        Seed("eu-cache", "r5.large", "running", "platform", "dev"),
    ],
    "prod": [
        Seed("prod-web-1", "m5.large", "running", "web", "prod"),
        Seed("prod-web-2", "m5.large", "running", "web", "prod"),
        Seed("prod-db", "r5.xlarge", "running", "data", "prod"),
        Seed("prod-report", "c5.xlarge", "stopped", "data", "prod"),
    ],
}


def build_demo(
    server: MotoServer, workdir: Path, seeded: dict[tuple[str, str], str] | None = None
) -> Config:
    """Seed `server`, write `workdir/config.toml` for it and return that config; `seeded`,
    if given, is filled with each instance's id by (account, name)."""
    prod, ids = seed_cloud(server.url)
    if seeded is not None:
        seeded.update(ids)
    export_prod(prod)
    return plan_demo(workdir, server.host, server.port, prod_key=prod["AccessKeyId"])


def seed_cloud(url: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Seed the moto server at `url`: prod's STS credentials (AssumeRole, as teams reach a
    second AWS account) and each instance's id by (account, name)."""
    aws = _QueryAPI(url)
    try:
        assumed = aws.call(
            "sts",
            "us-east-1",
            DEV_KEY,
            {"Action": "AssumeRole", "RoleArn": PROD_ROLE, "RoleSessionName": "winged-monkey-demo"},
        )
        creds = {k: _text(assumed, f"{{*}}Credentials/{{*}}{k}") for k in _CREDENTIALS}
        plan = [
            ("dev", "us-east-1", DEV_KEY, None),
            ("dev-eu", "eu-west-1", DEV_KEY, None),
            ("prod", "us-east-1", creds["AccessKeyId"], creds["SessionToken"]),
        ]
        seeded: dict[tuple[str, str], str] = {}
        for name, region, key, token in plan:
            for seed_name, ident in _seed(aws, region, key, token, DEMO_FLEET[name]).items():
                seeded[(name, seed_name)] = ident
    finally:
        aws.close()
    return creds, seeded


def export_prod(creds: dict[str, str]) -> None:
    """prod's STS credentials where its account reads them (the variables the config names)."""
    os.environ[ENV_PROD_KEY] = creds["AccessKeyId"]
    os.environ[ENV_PROD_SECRET] = creds["SecretAccessKey"]
    os.environ[ENV_PROD_TOKEN] = creds["SessionToken"]


def plan_demo(workdir: Path, host: str, port: int, *, prod_key: str | None = None) -> Config:
    """Write `workdir/config.toml` for a demo cloud at host:port and return it: no cloud
    call, so the TUI can open while the cloud starts. prod's key id is `prod_key`, or read
    from $WM_DEMO_PROD_KEY (set once the cloud has issued it)."""
    from winged_monkey.user.config import load_config

    workdir.mkdir(parents=True, exist_ok=True)
    os.environ[ENV_DEV_SECRET] = DEV_SECRET
    # A user's HTTP(S)_PROXY must not swallow loopback traffic to the demo cloud.
    _bypass_proxy(host)
    prod = {"key": prod_key} if prod_key else {"key_env": ENV_PROD_KEY}
    accounts: list[dict[str, Any]] = [
        _account("dev", "us-east-1", host, port, {"key": DEV_KEY}, ENV_DEV_SECRET),
        _account("dev-eu", "eu-west-1", host, port, {"key": DEV_KEY}, ENV_DEV_SECRET),
        _account("prod", "us-east-1", host, port, prod, ENV_PROD_SECRET, ENV_PROD_TOKEN),
    ]
    settings = {
        "refresh_interval": 5.0,
        "busy_refresh_interval": 1.0,
        "action_poll_interval": 0.5,
        "action_timeout": 60.0,
    }
    path = workdir / CONFIG_NAME
    path.write_text(to_toml(settings, accounts), encoding="utf-8")
    return load_config(path, must_exist=True)


def _seed(
    aws: _QueryAPI, region: str, key: str, token: str | None, fleet: list[Seed]
) -> dict[str, str]:
    """Create the fleet; each instance's id by name."""
    created: dict[str, str] = {}
    ids: dict[str, list[str]] = {"stopped": [], "terminated": []}
    for seed in fleet:
        tags = {"Name": seed.name, "team": seed.team, "env": seed.env}
        params = {
            "Action": "RunInstances",
            "ImageId": AMI,
            "InstanceType": seed.type,
            "MinCount": "1",
            "MaxCount": "1",
            "TagSpecification.1.ResourceType": "instance",
        }
        for n, (tag, value) in enumerate(tags.items(), 1):
            params[f"TagSpecification.1.Tag.{n}.Key"] = tag
            params[f"TagSpecification.1.Tag.{n}.Value"] = value
        reply = aws.call("ec2", region, key, params, token)
        created[seed.name] = _text(reply, "{*}instancesSet/{*}item/{*}instanceId")
        if seed.state in ids:
            ids[seed.state].append(created[seed.name])
    for state, action in (("stopped", "StopInstances"), ("terminated", "TerminateInstances")):
        if ids[state]:
            listed = {f"InstanceId.{n}": ident for n, ident in enumerate(ids[state], 1)}
            aws.call("ec2", region, key, {"Action": action, **listed}, token)
    return created


_CREDENTIALS = ("AccessKeyId", "SecretAccessKey", "SessionToken")
_VERSIONS = {"ec2": "2016-11-15", "sts": "2011-06-15"}


class _QueryAPI:
    """EC2's and STS's Query API (a form POST, an XML answer) on the moto server at `url`,
    as boto3 would send it, without boto3's client: building one parses EC2's 2 MB model,
    a cost the demo's child would pay before the TUI can list anything. moto reads the
    account from the access key and the service and region from the credential's scope;
    it checks no signature."""

    def __init__(self, url: str) -> None:
        address = urlsplit(url)
        # http.client directly: loopback must not go through a configured HTTP proxy.
        self._connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=30
        )

    def call(
        self, service: str, region: str, key: str, params: dict[str, str], token: str | None = None
    ) -> ElementTree.Element:
        scope = f"{key}/20260101/{region}/{service}/aws4_request"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, "
            "Signature=0",
        }
        if token is not None:
            headers["X-Amz-Security-Token"] = token
        body = urlencode({"Version": _VERSIONS[service], **params})
        self._connection.request("POST", "/", body, headers)
        response = self._connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"moto {params['Action']}: HTTP {response.status}: {answer[:300]!r}")
        return ElementTree.fromstring(answer)  # noqa: S314 (our own moto, on loopback)

    def close(self) -> None:
        self._connection.close()


def _text(reply: ElementTree.Element, path: str) -> str:
    found = reply.find(f".//{path}")
    if found is None or not found.text:
        raise RuntimeError(f"moto's answer has no {path}")
    return found.text


def _account(
    name: str,
    region: str,
    host: str,
    port: int,
    key: dict[str, str],
    secret_env: str,
    token_env: str | None = None,
) -> dict[str, Any]:
    credentials: dict[str, Any] = {**key, "keyring": False, "secret_env": secret_env}
    if token_env:
        credentials["token_env"] = token_env
    return {
        "name": name,
        "backend": "libcloud",
        "provider": "ec2",
        "region": region,
        "timeout": 10.0,
        "endpoint": {"host": host, "port": port, "secure": False},
        "credentials": credentials,
        # The catalog offers what an account owns or names: the demo owns no image.
        "images": [AMI],
        # Its addresses answer nothing (documentation_addresses): `e` says so in seconds.
        "ssh_options": ["ConnectTimeout=3"],
    }


def to_toml(settings: dict[str, Any], accounts: list[dict[str, Any]]) -> str:
    """The config as TOML, as a user would write it (accounts as `[[accounts]]` tables)."""
    import tomlkit

    doc = tomlkit.document()
    doc.add(
        tomlkit.comment(
            "Winged Monkey demo: accounts on a local moto server. Written by `wm --demo`."
        )
    )
    doc.update(settings)
    doc["accounts"] = accounts
    return tomlkit.dumps(doc)


@contextmanager
def running_demo(workdir: Path | None = None) -> Iterator[tuple[Config, Path, MotoServer]]:
    """Start a moto server, seed it and yield (config, store path, server); all in `workdir`
    (a fresh temporary directory by default), never in the user's own directories."""
    with (
        documentation_addresses(),
        MotoServer() as server,
        tempfile.TemporaryDirectory(prefix="wm-demo-") as tmp,
    ):
        base = workdir or Path(tmp)
        # moto keeps its state per process, not per server: start from a clean cloud.
        server.reset()
        _bypass_proxy(server.host)  # before the first call: the portal reads the proxies too
        server.seed(42)
        seeded: dict[tuple[str, str], str] = {}
        with launched_ago(LAUNCHED_AGO):  # before its history; a launch later is now's
            config = build_demo(server, base, seeded)
        record_history(base / STORE_NAME, seeded)
        yield config, base / STORE_NAME, server


def record_history(path: Path, seeded: dict[tuple[str, str], str]) -> None:
    """A few past events in the demo's log: its events view is not empty at start."""
    from winged_monkey.demo.history import demo_history
    from winged_monkey.store.sqlite import Store

    store = Store.open(path)
    try:
        store.append_events(demo_history(seeded, datetime.now(UTC)))
    finally:
        store.close()


def _bypass_proxy(host: str) -> None:
    current = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    if host not in current.split(","):
        value = ",".join(filter(None, [current, host]))
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = value
