"""Two real sshd on loopback (an instance and a jump host), a test key, and an EC2 account
on moto whose instances' addresses reach the first one through a test ssh config."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Cloud
from tests.sshd import SshServer, keygen

WM = Path(sys.executable).with_name("wm")


@dataclass
class Wm:
    """`wm` run as a process over a config with one EC2 account on moto, "dev"."""

    config: Path
    cloud: Cloud

    def write_config(self, **ssh: str) -> None:
        """The wm config: one EC2 account on moto with these ssh_* keys (TOML values)."""
        keys = "".join(f"{k} = {v}\n" for k, v in ssh.items())
        self.config.write_text(
            '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\n'
            f'endpoint = {{ host = "127.0.0.1", port = {self.cloud.server.port}, '
            "secure = false }\n"
            'credentials = { key = "AKIATESTDEV000000001", keyring = false, '
            'secret_env = "WM_DEV_SECRET" }\n' + keys
        )

    def wm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`wm --config CONFIG ARGS...` as a user runs it (its own process: `wm ssh` execs)."""
        env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret"}
        return subprocess.run(
            [str(WM), "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )


@dataclass
class Lab(Wm):
    """The servers, the key, the moto instance and the config that ties them together."""

    target: SshServer
    jump: SshServer
    key: Path
    known_hosts: Path
    ssh_config: Path
    instance_id: str
    public_ip: str
    private_ip: str


@pytest.fixture
def lab(cloud: Cloud, tmp_path: Path) -> Iterator[Lab]:
    key = keygen(tmp_path / "id_test")
    public = key.with_suffix(".pub")
    with (
        SshServer(tmp_path / "target", public) as target,
        SshServer(tmp_path / "jump", public) as jump,
    ):
        ec2 = cloud.ec2()
        instance_id = cloud.launch(ec2, "web-1")
        described = ec2.describe_instances(InstanceIds=[instance_id])
        record = described["Reservations"][0]["Instances"][0]
        public_ip, private_ip = record["PublicIpAddress"], record["PrivateIpAddress"]
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(target.known_host() + jump.known_host())
        # What a user's ~/.ssh/config would say; the instance's addresses lead to the
        # target sshd, "jump" to the other. Host keys checked strictly, as ssh does.
        ssh_config = tmp_path / "ssh_config"
        ssh_config.write_text(
            f"Host {public_ip} {private_ip}\n  HostName 127.0.0.1\n  Port {target.port}\n"
            f"Host jump\n  HostName 127.0.0.1\n  Port {jump.port}\n  User {jump.user}\n"
            f"Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n"
            "  BatchMode yes\n  LogLevel ERROR\n"
        )
        yield Lab(
            target=target,
            jump=jump,
            key=key,
            known_hosts=known_hosts,
            ssh_config=ssh_config,
            config=tmp_path / "wm.toml",
            instance_id=instance_id,
            public_ip=public_ip,
            private_ip=private_ip,
            cloud=cloud,
        )
