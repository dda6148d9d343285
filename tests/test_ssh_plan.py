"""How `wm ssh` decides the address, user, key and jump host before anything connects,
and the OSC 52 bytes `y`/`Y` write, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from winged_monkey.errors import ActionNotAllowed, ConfigError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.terminal.console_text import new_text
from winged_monkey.terminal.osc52 import copy_sequence, osc52, tmux_passthrough
from winged_monkey.terminal.ssh import guess_user, plan
from winged_monkey.user.config import AccountConfig, parse_config


def server(**fields: Any) -> Instance:
    base: dict[str, Any] = {
        "account": "dev",
        "id": "i-1",
        "name": "web-1",
        "state": InstanceState.RUNNING,
        "raw_state": "running",
        "provider": "ec2",
        "public_ips": ("203.0.113.7",),
        "private_ips": ("10.0.0.7",),
    }
    return Instance(**{**base, **fields})


def account(**settings: Any) -> AccountConfig:
    return AccountConfig(name="dev", provider="ec2", **settings)


def test_public_address_user_from_the_image_and_the_key_pairs_file(tmp_path: Path) -> None:
    (tmp_path / "prod.pem").write_text("key")
    found = plan(
        server(image="ami-1", extra={"key_name": "prod"}),
        account(),
        image_name="ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server",
        ssh_dir=tmp_path,
    )
    assert found.argv(["uptime"]) == [
        "ssh", "-i", str(tmp_path / "prod.pem"), "ubuntu@203.0.113.7", "--", "uptime"
    ]  # fmt: skip
    assert found.describe() == (
        "ssh ubuntu@203.0.113.7 (web-1): public address; user ubuntu from the image "
        f"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server; key {tmp_path / 'prod.pem'} "
        "(key pair prod)"
    )


def test_the_accounts_settings_win_and_a_private_address_goes_through_the_jump_host(
    tmp_path: Path,
) -> None:
    key = tmp_path / "id"
    key.write_text("key")
    settings = {
        "ssh_user": "ops",
        "ssh_port": 2222,
        "ssh_identity": str(key),
        "ssh_proxy_jump": "me@bastion.example",
        "ssh_options": ["ServerAliveInterval=30"],
    }
    found = plan(server(public_ips=(), image="ubuntu"), account(**settings), ssh_dir=tmp_path)
    assert found.command_line() == (
        f"ssh -p 2222 -i {key} -J me@bastion.example -o ServerAliveInterval=30 ops@10.0.0.7"
    )
    assert "private address via me@bastion.example" in found.reasons
    # A public address needs no jump host.
    assert plan(server(), account(**settings)).proxy_jump is None


def test_unknown_images_leave_the_user_to_the_users_ssh_config(tmp_path: Path) -> None:
    found = plan(server(image="ami-0abc"), account(), ssh_dir=tmp_path)
    assert (found.user, found.identity, found.destination) == (None, None, "203.0.113.7")
    assert guess_user("debian-12-amd64", ec2=True) == "admin"  # AWS's Debian images
    assert guess_user("debian-12-genericcloud-amd64") == "debian"
    assert guess_user("al2023-ami-2023.4") == "ec2-user"
    assert guess_user("Fedora-Cloud-Base-39") == "fedora"
    assert guess_user("CentOS-Stream-9") == "centos"
    assert guess_user("rhel-9.3") == "cloud-user"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"state": InstanceState.STOPPED}, "web-1 (dev/i-1) is stopped: start it first"),
        ({"public_ips": (), "private_ips": ()}, "web-1 (dev/i-1) has no address yet"),
        ({"extra": {"kind": "app"}}, "is an app: log in to one of its servers"),
    ],
)
def test_what_cannot_be_reached_is_said_before_connecting(
    fields: dict[str, Any], words: str
) -> None:
    with pytest.raises(ActionNotAllowed, match=words.replace("(", r"\(").replace(")", r"\)")):
        plan(server(**fields), account())


def test_ssh_keys_are_accepted_in_any_account_and_checked() -> None:
    config = parse_config(
        {"accounts": [{"name": "dev", "provider": "ec2", "ssh_user": "ops", "ssh_port": 22}]},
        source="t",
    )
    assert config.accounts[0].settings["ssh_user"] == "ops"
    with pytest.raises(ConfigError, match="ssh_usr"):
        parse_config({"accounts": [{"name": "d", "provider": "ec2", "ssh_usr": "x"}]}, source="t")
    with pytest.raises(ConfigError, match="ssh settings: ssh_port"):
        plan(server(), account(ssh_port=0))


def test_osc52_bytes() -> None:
    assert osc52("i-0abc") == b"\x1b]52;c;aS0wYWJj\x07"
    assert osc52("ssh ubuntu@203.0.113.7") == b"\x1b]52;c;c3NoIHVidW50dUAyMDMuMC4xMTMuNw==\x07"
    assert osc52("é") == b"\x1b]52;c;w6k=\x07"
    assert tmux_passthrough(b"\x1b]52;c;YQ==\x07") == b"\x1bPtmux;\x1b\x1b]52;c;YQ==\x07\x1b\\"
    assert copy_sequence("a", {}) == b"\x1b]52;c;YQ==\x07"
    # In tmux: the plain one (set-clipboard on) and the wrapped one (allow-passthrough on).
    assert copy_sequence("a", {"TMUX": "/tmp/tmux-0/default,1,0"}) == (
        b"\x1b]52;c;YQ==\x07\x1bPtmux;\x1b\x1b]52;c;YQ==\x07\x1b\\"
    )


def test_following_a_console_prints_only_what_is_new() -> None:
    assert new_text("", "boot\n") == "boot\n"
    assert new_text("boot\n", "boot\nlogin:\n") == "login:\n"
    head_dropped = "x" * 600 + "tail\n"
    assert new_text(head_dropped, head_dropped[300:] + "more\n") == "more\n"
    assert new_text("a\n", "a\n") == ""
    assert new_text("old log\n", "rebooted\n") == "rebooted\n"
