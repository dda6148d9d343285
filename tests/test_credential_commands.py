"""A credential command that would ask on the terminal. Under the TUI, in a real terminal
(tmux), it must not draw over wm nor read the keys meant for it; under `wm ls`, on a pty,
it may ask, and is not left asking once wm has given up on it.

The README's own `secret_command = "pass show cloud/lab"` is gpg underneath: with its key
locked, gpg-agent opens pinentry-curses on the terminal named by GPG_TTY (which a gpg user
exports in their shell). A helper such as 1Password's `op` or Bitwarden's `bw` asks on
/dev/tty instead. Both run here for real: gpg with a key of the test's own, and a script that
asks on /dev/tty, as botocore's credential_process too.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud, wait_until
from tests.terminal import on_a_terminal
from tests.tmux import Tmux

WM = Path(sys.executable).with_name("wm")
PASSPHRASE = "a passphrase only the test knows"
#: gpg given the passphrase by the test, as a person gives it to pinentry.
LOOPBACK = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE]

#: What a helper that asks on the terminal does (op, bw, keepassxc-cli, a login script).
ASKS_ON_THE_TERMINAL = """#!/bin/sh
printf 'Master password: ' > /dev/tty
read answer < /dev/tty
{print}
"""


@dataclass
class Gpg:
    home: Path
    secret: Path  # the account's secret, encrypted to a key locked by PASSPHRASE

    def env(self) -> dict[str, str]:
        return {**os.environ, "GNUPGHOME": str(self.home)}

    def unlock(self) -> None:
        """What a person does in a shell: decrypt once, answering the passphrase; the agent
        keeps it for a while."""
        subprocess.run(
            [*LOOPBACK, "-q", "-d", str(self.secret)],
            env=self.env(),
            capture_output=True,
            check=True,
        )


@pytest.fixture
def gpg(tmp_path: Path) -> Iterator[Gpg]:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    found = Gpg(home, tmp_path / "secret.gpg")
    run = {"env": found.env(), "capture_output": True, "check": True}
    subprocess.run(
        [*LOOPBACK, "--quick-gen-key", "wm test <test@wm.invalid>", "default", "default", "never"],
        **run,  # type: ignore[call-overload]
    )
    subprocess.run(
        ["gpg", "--batch", "-e", "-r", "test@wm.invalid", "-o", str(found.secret)],
        input=DEV_SECRET.encode(),
        **run,  # type: ignore[call-overload]
    )
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], **run)  # type: ignore[call-overload]
    yield found  # the passphrase is in no agent now: gpg has to ask for it
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=found.env(), check=False)


def account(cloud: Cloud, credentials: str) -> str:
    return (
        '[[accounts]]\nname = "lab"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}\n'
        f"credentials = {{ {credentials} }}\ntimeout = 10\n"
    )


def start(tmux: Tmux, config: Path, env: dict[str, str]) -> None:
    """wm's TUI in a tmux pane, GPG_TTY naming that pane's terminal, as a gpg user's shell
    exports it."""
    command = f"GPG_TTY=$(tty) exec {WM} --config {shlex.quote(str(config))}"
    tmux.run(
        "new-session", "-d", "-s", "wm", "-x", "80", "-y", "24", "sh", "-c", command,
        env={**env, "TERM": "xterm-256color"},
    )  # fmt: skip


def ended(tmux: Tmux) -> bool:
    """wm has exited (its pane, and so its session, is gone)."""
    check = ["tmux", "-L", tmux.socket, "has-session", "-t", "wm"]
    return subprocess.run(check, capture_output=True, check=False).returncode != 0


def settled(tmux: Tmux, asked: str) -> str:
    """The screen once the account has listed or failed, or a question is drawn on it."""
    screens: list[str] = []

    def done() -> bool:
        screens.append(tmux.screen())
        return any(word in screens[-1] for word in ("✗ lab", "web-1", asked))

    wait_until(done, timeout=60, step=0.1)
    return screens[-1]


def test_pass_show_with_a_locked_key_does_not_draw_pinentry_over_wm(
    cloud: Cloud, gpg: Gpg, tmux: Tmux, tmp_path: Path
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    config = tmp_path / "wm.toml"
    command = f"gpg -q -d {gpg.secret}"  # what `pass show` runs
    config.write_text(
        account(cloud, f'key = "{DEV_KEY}", keyring = false, secret_command = "{command}"')
    )
    start(tmux, config, gpg.env())
    screen = settled(tmux, asked="Passphrase")
    assert "Passphrase" not in screen, screen  # pinentry-curses, over the TUI
    tmux.keys("a")  # the accounts view: the account's whole message
    shown = tmux.wait_for("runs without a terminal here", timeout=20)
    assert "run it once in a shell" in " ".join(shown.split())

    gpg.unlock()  # as the message says; then a refresh signs in without a question
    tmux.keys("R")
    tmux.wait_for("● lab", timeout=60)  # signed in and listed
    tmux.keys("escape")
    tmux.wait_for("web-1", timeout=20)
    assert "Passphrase" not in tmux.screen()
    tmux.keys("q")
    wait_until(lambda: ended(tmux), timeout=20)


@pytest.mark.parametrize("source", ["secret_command", "credential_process", "source_profile"])
def test_a_helper_that_asks_on_the_terminal_leaves_wm_its_keys(
    cloud: Cloud, tmux: Tmux, tmp_path: Path, source: str
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    helper = tmp_path / "helper"
    if source == "secret_command":
        helper.write_text(ASKS_ON_THE_TERMINAL.format(print='echo "$answer"'))
        credentials = f'key = "{DEV_KEY}", keyring = false, secret_command = "{helper}"'
        env = dict(os.environ)
    else:
        body = '{"Version": 1, "AccessKeyId": "' + DEV_KEY + '", "SecretAccessKey": "x"}'
        helper.write_text(ASKS_ON_THE_TERMINAL.format(print=f"echo '{body}'"))
        profiles = tmp_path / "aws_config"
        profiles.write_text(f"[profile asks]\ncredential_process = {helper}\n")
        if source == "source_profile":  # botocore starts it for the role, not the chain
            profiles.write_text(
                f"[profile base]\ncredential_process = {helper}\n"
                f"[profile asks]\nrole_arn = arn:aws:iam::123456789012:role/ops\n"
                "source_profile = base\n"
            )
        credentials = 'aws_profile = "asks"'
        env = {**os.environ, "AWS_CONFIG_FILE": str(profiles)}
    helper.chmod(0o755)
    config = tmp_path / "wm.toml"
    config.write_text(account(cloud, credentials))
    start(tmux, config, env)
    screen = settled(tmux, asked="Master password")
    assert "Master password" not in screen, screen
    tmux.keys("q")  # wm's key, not an answer to the helper
    wait_until(lambda: ended(tmux), timeout=20)


def test_wm_ls_lets_a_command_ask_and_leaves_no_question_behind(
    cloud: Cloud, tmp_path: Path
) -> None:
    pid_file = tmp_path / "helper.pid"
    helper = tmp_path / "helper"
    helper.write_text(
        ASKS_ON_THE_TERMINAL.replace("#!/bin/sh\n", f"#!/bin/sh\necho $$ > {pid_file}\n").format(
            print='echo "$answer"'
        )
    )
    helper.chmod(0o755)
    config = tmp_path / "wm.toml"
    credentials = f'key = "{DEV_KEY}", keyring = false, secret_command = "{helper}"'
    config.write_text(account(cloud, credentials).replace("timeout = 10", "timeout = 2"))
    with on_a_terminal([str(WM), "--config", str(config), "ls"], dict(os.environ)) as shown:
        assert "Master password" in shown  # a terminal's command may ask there
        assert "not signed in within 2 s" in shown, shown
        pid = int(pid_file.read_text())
        # wm has exited: the question it gave up on is not left to read the shell's keys.
        wait_until(lambda: not alive(pid), timeout=10)


def alive(pid: int) -> bool:
    """A process runs as `pid` (a zombie nobody reaped is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
