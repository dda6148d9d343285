"""wm in a tmux pane: a real terminal, for what Pilot's headless driver cannot show (App.suspend,
a child process writing on the terminal)."""

from __future__ import annotations

import subprocess
import time


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

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The screen once `text` is on it; the test fails at the deadline with the screen."""
        deadline = time.monotonic() + timeout
        while text not in (screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen within {timeout} s:\n{screen}")
            time.sleep(0.05)
        return screen
