"""A libvirt account over ssh (`test+ssh://`, as the README's `qemu+ssh://host/system`), through
the suite's real sshd (tests/sshd.py) to its libvirtd, with the system's ssh client.

libvirt runs ssh as a child of wm, on wm's terminal. ssh's questions (an unknown host key, a
key's passphrase) are asked on the controlling terminal, so `wm ls` runs here on a pty made
its controlling terminal, as in a person's shell.

ssh finds ~/.ssh in the password database, not in $HOME, so a test gives it a known_hosts of
its own the way libvirt documents for choosing the ssh to run: the uri's `command=`, here a
script running `ssh -F` with the test's config.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.libvirt.daemon import Libvirtd
from tests.sshd import SshServer, keygen
from tests.terminal import shown_on_a_terminal
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config
from winged_monkey_libcloud import nottyssh
from winged_monkey_libcloud.libvirtssh import without_prompts

WM = [sys.executable, "-c", "from winged_monkey.cli.entry import main; main()"]

#: The remote end of libvirt's ssh transport: libvirt runs `NETCAT -U SOCKET` on the host
#: (its `netcat=` option). Debian's libvirt host would have nc; this machine need not.
UNIX_NC = """\
import os, socket, sys, threading
conn = socket.socket(socket.AF_UNIX)
conn.connect(sys.argv[-1])
def up():
    while data := os.read(0, 65536):
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while data := conn.recv(65536):
    os.write(1, data)
"""

PROMPTS = ("Are you sure you want to continue connecting", "Enter passphrase")


@dataclass
class Host:
    """A libvirt host reached by ssh: its sshd, the client's key, its known_hosts."""

    sshd: SshServer
    daemon: Libvirtd
    key: Path
    known_hosts: Path
    folder: Path

    def uri(self, *, key: Path | None = None, via: SshServer | None = None) -> str:
        """The account's uri; `via`: the hypervisor is `kvm`, behind that jump host (the
        ssh config's ProxyJump, as a bastion user's says)."""
        ssh = self.folder / "ssh"
        ssh.write_text(f'#!/bin/sh\nexec ssh -F {self.folder / "ssh_config"} "$@"\n')
        ssh.chmod(0o755)
        hops = (
            f"Host kvm\n  HostName 127.0.0.1\n  Port {self.sshd.port}\n  ProxyJump jump\n"
            f"Host jump\n  HostName 127.0.0.1\n  Port {via.port}\n  User {via.user}\n"
            f"  IdentityFile {self.key}\n"
            if via
            else ""
        )
        (self.folder / "ssh_config").write_text(
            f"UserKnownHostsFile {self.known_hosts}\nGlobalKnownHostsFile /dev/null\n"
            f"StrictHostKeyChecking ask\nIdentitiesOnly yes\n{hops}"  # before any Host: for all
        )
        nc = self.folder / "nc"
        nc.write_text(f"#!{sys.executable}\n{UNIX_NC}")
        nc.chmod(0o755)
        where = "kvm" if via else f"127.0.0.1:{self.sshd.port}"
        return (
            f"test+ssh://{self.sshd.user}@{where}/default?proxy=netcat"
            f"&netcat={nc}&socket={self.daemon.socket}&keyfile={key or self.key}&command={ssh}"
        )

    def config(self, uri: str) -> Path:
        path = self.folder / "wm.toml"
        path.write_text(
            f'[[accounts]]\nname = "kvm"\nprovider = "libvirt"\ndriver = {{ uri = "{uri}" }}\n'
            "timeout = 20\n"
        )
        return path


def no_agent(config: Path) -> dict[str, str]:
    """wm's environment with `config`, and no ssh-agent: a locked key can only be asked for."""
    env = {**os.environ, "WM_CONFIG": str(config)}
    env.pop("SSH_AUTH_SOCK", None)
    return env


@pytest.fixture
def host(daemon: Libvirtd, hypervisor: Any, tmp_path: Path) -> Iterator[Host]:
    key = keygen(tmp_path / "id_test")
    with SshServer(tmp_path / "sshd", key.with_suffix(".pub")) as sshd:
        yield Host(sshd, daemon, key, tmp_path / "known_hosts", tmp_path)


def refreshed(uri: str) -> tuple[set[str], str]:
    """The names a libvirt account on `uri` lists in one refresh, and its error ("" if none)."""
    account = AccountConfig(name="kvm", provider="libvirt", driver={"uri": uri}, timeout=20)
    portal = Portal(Config(accounts=(account,)), Store.memory())

    async def run() -> str:
        error = ""
        async for update in portal.refresh():
            error = update.status.error or ""
        await portal.close()
        return error

    error = asyncio.run(run())
    return {i.name for i in portal.instances()}, error


def test_domains_are_listed_over_ssh_from_a_known_host(host: Host) -> None:
    host.known_hosts.write_text(host.sshd.known_host())
    names, error = refreshed(host.uri())
    assert error == ""
    assert {"web", "db"} <= names
    assert host.sshd.logins() >= 1


def test_an_unknown_host_key_is_not_asked_over_wm(host: Host) -> None:
    host.known_hosts.write_text("")
    shown = shown_on_a_terminal([*WM, "ls"], no_agent(host.config(host.uri())))
    assert not any(prompt in shown for prompt in PROMPTS), shown
    assert f"ssh does not know the host key of 127.0.0.1:{host.sshd.port}" in shown, shown
    assert f"run `ssh -p {host.sshd.port} {host.sshd.user}@127.0.0.1` once" in shown
    assert "libvirt: XML-RPC error" not in shown  # libvirt's own print on stderr
    assert host.known_hosts.read_text() == ""  # nothing accepted on the user's behalf


def test_a_jump_hosts_unknown_key_is_not_asked_over_wm(host: Host) -> None:
    host.known_hosts.write_text(host.sshd.known_host())  # the hypervisor's, not the bastion's
    with SshServer(host.folder / "jump", host.key.with_suffix(".pub")) as jump:
        uri = host.uri(via=jump)
        shown = shown_on_a_terminal([*WM, "ls"], no_agent(host.config(uri)))
    assert not any(prompt in shown for prompt in PROMPTS), shown
    assert "ssh does not know the host key of kvm yet (or of a jump host on the way)" in shown
    assert f"run `ssh {host.sshd.user}@kvm` once" in shown


def test_a_jump_host_known_leads_to_the_domains(host: Host) -> None:
    with SshServer(host.folder / "jump", host.key.with_suffix(".pub")) as jump:
        host.known_hosts.write_text(host.sshd.known_host() + jump.known_host())
        names, error = refreshed(host.uri(via=jump))
        assert error == ""
        assert {"web", "db"} <= names
        assert jump.logins() >= 1  # through the bastion
        assert host.sshd.logins() >= 1


def test_a_key_locked_by_a_passphrase_is_not_asked_for(host: Host) -> None:
    host.known_hosts.write_text(host.sshd.known_host())
    locked = host.folder / "id_locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", str(locked)], check=True
    )
    (host.sshd.root / "authorized_keys").write_text(locked.with_suffix(".pub").read_text())
    shown = shown_on_a_terminal([*WM, "ls"], no_agent(host.config(host.uri(key=locked))))
    assert not any(prompt in shown for prompt in PROMPTS), shown
    assert f"ssh to 127.0.0.1:{host.sshd.port} was refused" in shown, shown
    assert "ssh-agent" in shown


def test_a_changed_host_key_is_said_with_the_way_to_check_it(host: Host) -> None:
    other = keygen(host.folder / "another_host_key")
    host.known_hosts.write_text(host.sshd.known_host(other))
    _, error = refreshed(host.uri())
    assert f"the ssh host key of 127.0.0.1:{host.sshd.port} has changed" in error, error
    assert f"ssh-keygen -R '[127.0.0.1]:{host.sshd.port}'" in error
    assert host.known_hosts.read_text() == host.sshd.known_host(other)


def wrap(program: str) -> str:
    return f"/wm/bin/notty-{program.rsplit('/', 1)[-1]}"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "qemu+ssh://kvm.lab/system",
            "qemu+ssh://kvm.lab/system?command=/wm/bin/notty-ssh&no_tty=1",
        ),
        (
            "qemu+ssh://me@kvm.lab:2222/system?keyfile=/k+1&command=/opt/ssh",
            "qemu+ssh://me@kvm.lab:2222/system?keyfile=/k+1&command=/wm/bin/notty-ssh&no_tty=1",
        ),
        ("qemu+ssh://kvm.lab/system?no_tty=0", "qemu+ssh://kvm.lab/system?no_tty=0"),
        ("qemu:///system", "qemu:///system"),
        ("qemu+tcp://kvm.lab/system", "qemu+tcp://kvm.lab/system"),
        ("qemu+libssh2://kvm.lab/system", "qemu+libssh2://kvm.lab/system"),
    ],
)
def test_only_the_ssh_transport_is_run_without_questions(uri: str, expected: str) -> None:
    assert without_prompts(uri, wrap) == expected


def test_the_wrapper_runs_ssh_with_no_terminal() -> None:
    """Run from a terminal, what the wrapper runs cannot open one to ask on (/dev/tty)."""
    program = nottyssh.wrapper("sh")
    assert program is not None
    probe = "(exec 3<>/dev/tty) 2>/dev/null && echo ASKS || echo CANNOT-ASK"
    assert shown_on_a_terminal(["sh", "-c", probe], dict(os.environ)).strip() == "ASKS"
    assert shown_on_a_terminal([program, "-c", probe], dict(os.environ)).strip() == "CANNOT-ASK"
