"""The TUI's `e` for real: wm in a tmux pane (a real terminal), the key suspends it, the
system's ssh logs in to the test sshd, a command typed there leaves its witness file, and on
`exit` wm is back where it was (the filter still there). Pilot's headless driver cannot
suspend, so this is the test of App.suspend."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.ssh.conftest import WM, Lab


class Tmux:
    """One tmux server of the test's own (its own socket), one window of 100x30."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=30,
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "wm", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "wm")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        raise RuntimeError("no tmux: apt-get install tmux")
    found = Tmux(f"wm-test-{os.getpid()}-{tmp_path.name}")
    yield found
    subprocess.run(["tmux", "-L", found.socket, "kill-server"], capture_output=True, check=False)


def test_e_suspends_wm_runs_ssh_and_returns_where_it_was(
    lab: Lab, tmux: Tmux, tmp_path: Path
) -> None:
    lab.write_config(ssh_user=f'"{lab.target.user}"', ssh_config=f'"{lab.ssh_config}"')
    env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret", "TERM": "xterm-256color"}
    command = f"{WM} --config {lab.config}"
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", command, env=env)
    wait_until(lambda: "web-1" in tmux.screen(), timeout=30)
    tmux.keys("/", "web-1", "Enter")  # filter to the row: the cursor lands on it
    wait_until(lambda: filtered(tmux.screen()), timeout=10)

    tmux.keys("e")
    wait_until(lambda: f"wm: ssh {lab.target.user}@{lab.public_ip} (web-1)" in tmux.screen())
    witness = tmp_path / "typed-in-the-ssh-session"
    tmux.keys(f"touch {witness}; exit", "Enter")
    wait_until(witness.exists, timeout=20)
    assert lab.target.logins() == 1

    # Back in wm as it was: the filter, the row, and the note that ssh ended.
    wait_until(lambda: "ssh to web-1 ended" in tmux.screen(), timeout=20)
    screen = tmux.screen()
    assert filtered(screen), screen
    assert "▶ running     web-1" in screen
    tmux.keys("q")


def filtered(screen: str) -> bool:
    """The filter line shows `web-1` (its own line, under the account strip)."""
    return any(line.strip() == "web-1" for line in screen.splitlines())
