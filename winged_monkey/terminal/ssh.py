"""Logging in to an instance: which address, user, port, key and jump host, and the OpenSSH
command line that does it.

The system's `ssh` does the work; nothing here reimplements it. The user's own ssh config
always applies (options given here only fill what the account says), and host keys are
checked as the user's ssh checks them: no option that weakens that is ever added.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from winged_monkey.errors import ActionNotAllowed, ConfigError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.ssh_settings import SshSettings, missing_config, missing_identity, ssh_settings
from winged_monkey.user.config import AccountConfig

#: Options a user might copy from a forum post; wm never passes them for anyone.
_UNSAFE = {
    ("stricthostkeychecking", "no"),
    ("stricthostkeychecking", "off"),
    ("userknownhostsfile", "/dev/null"),
    ("globalknownhostsfile", "/dev/null"),
}

#: The login of well-known cloud images, by a word in the image's name (first match wins).
_USERS: tuple[tuple[str, str], ...] = (
    ("ubuntu", "ubuntu"),
    ("debian", "debian"),
    ("amzn", "ec2-user"),
    ("amazon", "ec2-user"),
    ("al2023", "ec2-user"),
    ("fedora", "fedora"),
    ("centos", "centos"),
    ("rocky", "rocky"),
    ("alma", "almalinux"),
    ("rhel", "cloud-user"),
    ("red hat", "cloud-user"),
    ("suse", "ec2-user"),
    ("cirros", "cirros"),
    ("freebsd", "freebsd"),
    ("arch", "arch"),
)
#: AWS's own images log in otherwise than the distributions' generic cloud images.
_EC2_USERS = {"debian": "admin", "cloud-user": "ec2-user", "freebsd": "ec2-user"}
_KEY_SUFFIXES = ("", ".pem", ".key")
_REFUSED_STATES = {
    InstanceState.STOPPED: "is stopped: start it first",
    InstanceState.SUSPENDED: "is suspended: resume it first",
    InstanceState.TERMINATED: "is terminated",
}


@dataclass(frozen=True)
class SshPlan:
    """How to reach one instance, and why each part was chosen (`reasons`, for the user)."""

    instance: Instance
    address: str
    user: str | None = None
    port: int | None = None
    identity: Path | None = None
    proxy_jump: str | None = None
    options: tuple[str, ...] = ()
    config_file: Path | None = None
    reasons: tuple[str, ...] = ()

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.address}" if self.user else self.address

    def argv(self, command: Sequence[str] = (), *, ssh: str = "ssh") -> list[str]:
        """The OpenSSH command line; `command` runs remotely (none: a login shell)."""
        args = [ssh]
        if self.config_file is not None:
            args += ["-F", str(self.config_file)]
        if self.port is not None:
            args += ["-p", str(self.port)]
        if self.identity is not None:
            args += ["-i", str(self.identity)]
        if self.proxy_jump:
            args += ["-J", self.proxy_jump]
        for option in self.options:
            args += ["-o", option]
        args.append(self.destination)
        if command:
            args += ["--", *command]
        return args

    def command_line(self, command: Sequence[str] = ()) -> str:
        """The same, as a line to paste into a shell."""
        return shlex.join(self.argv(command))

    def describe(self) -> str:
        """One line shown before connecting: where, as whom, and why."""
        how = "; ".join(self.reasons)
        return f"ssh {self.destination} ({self.instance.name})" + (f": {how}" if how else "")


def plan(
    instance: Instance,
    account: AccountConfig,
    *,
    image_name: str | None = None,
    ssh_dir: Path | None = None,
) -> SshPlan:
    """Decide how to log in to `instance` from its account's ssh settings, its addresses,
    its image's name and its key pair. Raises a WMError that says what to do when it
    cannot be reached (no address, stopped, a configured key file that is not there)."""
    settings = ssh_settings(account)
    where = f"{instance.name} ({instance.key})"
    if instance.kind == "app":
        raise ActionNotAllowed(f"{where} is an app: log in to one of its servers")
    refused = _REFUSED_STATES.get(instance.state)
    if refused:
        raise ActionNotAllowed(f"{where} {refused}")
    reasons: list[str] = []
    address, jump = _address(instance, settings, reasons)
    user = _user(instance, settings, image_name, reasons)
    identity = _identity(instance, account, settings, ssh_dir or Path.home() / ".ssh", reasons)
    config_file = _expand(settings.ssh_config) if settings.ssh_config else None
    if config_file is not None and not config_file.is_file():
        raise ConfigError(missing_config(config_file), account=account.name)
    unsafe = [o for o in settings.ssh_options if _option(o) in _UNSAFE]
    if unsafe:
        raise ConfigError(
            f"ssh_options {', '.join(unsafe)}: wm never turns host-key checks off; "
            "add the host's key to known_hosts instead",
            account=account.name,
        )
    return SshPlan(
        instance=instance,
        address=address,
        user=user,
        port=settings.ssh_port,
        identity=identity,
        proxy_jump=jump,
        options=settings.ssh_options,
        config_file=config_file,
        reasons=tuple(reasons),
    )


def ssh_client() -> str:
    """The system's OpenSSH client (a ConfigError saying so when there is none)."""
    found = shutil.which("ssh")
    if found is None:
        raise ConfigError("no ssh client on PATH: install OpenSSH (Debian: openssh-client)")
    return found


def _address(
    instance: Instance, settings: SshSettings, reasons: list[str]
) -> tuple[str, str | None]:
    public, private = instance.public_ips, instance.private_ips
    jump = settings.ssh_proxy_jump
    if settings.ssh_address == "private" and private:
        reasons.append("private address (ssh_address)" + (f" via {jump}" if jump else ""))
        return private[0], jump
    if public:
        reasons.append("public address")
        return public[0], None  # a jump host is for addresses the user cannot reach
    if private:
        if jump:
            reasons.append(f"private address via {jump}")
        else:
            reasons.append("private address (no public one; set ssh_proxy_jump for a bastion)")
        return private[0], jump
    raise ActionNotAllowed(
        f"{instance.name} ({instance.key}) has no address yet: if it is still booting, "
        "try again once `wm ls` shows one; else give it a public IP or a network you reach"
    )


def _user(
    instance: Instance, settings: SshSettings, image_name: str | None, reasons: list[str]
) -> str | None:
    if settings.ssh_user:
        reasons.append(f"user {settings.ssh_user} (ssh_user)")
        return settings.ssh_user
    guessed = guess_user(image_name or instance.image or "", ec2=instance.provider == "ec2")
    if guessed:
        reasons.append(f"user {guessed} from the image {image_name or instance.image}")
    return guessed  # None: the user's ssh config (or local name) decides


def guess_user(image: str, *, ec2: bool = False) -> str | None:
    """The usual login of an image by its name (ubuntu, ec2-user, ...), None if unknown."""
    text = image.lower()
    for word, user in _USERS:
        if word in text:
            return _EC2_USERS.get(user, user) if ec2 else user
    return None


def _identity(
    instance: Instance,
    account: AccountConfig,
    settings: SshSettings,
    ssh_dir: Path,
    reasons: list[str],
) -> Path | None:
    if settings.ssh_identity is not None:
        path = _expand(settings.ssh_identity)
        if not path.is_file():
            # Said now: ssh itself would only warn and then ask for a password.
            raise ConfigError(missing_identity(path), account=account.name)
        reasons.append(f"key {path} (ssh_identity)")
        return path
    pair = instance.extra.get("key_name") or instance.extra.get("keyName")
    if not isinstance(pair, str) or not pair:
        return None
    for suffix in _KEY_SUFFIXES:
        candidate = ssh_dir / f"{pair}{suffix}"
        if candidate.is_file():
            reasons.append(f"key {candidate} (key pair {pair})")
            return candidate
    reasons.append(f"key pair {pair}: no ~/.ssh/{pair}[.pem] here, so your agent and ssh config")
    return None


def _option(option: str) -> tuple[str, str]:
    """("key", "value") of an ssh -o option written `Key=Value` or `Key Value`."""
    key, _, value = option.strip().replace("=", " ", 1).partition(" ")
    return key.lower(), value.strip().lower()


def _expand(path: Path) -> Path:
    return path.expanduser()
