"""`y`/`Y`: text to the user's clipboard through the terminal (winged_monkey.terminal.osc52)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from textual.app import App

from winged_monkey.terminal.osc52 import osc52, tmux_passthrough

TERMINAL = "/dev/tty"


def copy(app: App[object], text: str, environ: Mapping[str, str] | None = None) -> None:
    """Textual's own OSC 52 (in order with the frames it draws; tmux takes it with
    `set-clipboard on`), and inside tmux the same wrapped for `allow-passthrough on`."""
    app.copy_to_clipboard(text)
    if (environ if environ is not None else os.environ).get("TMUX"):
        write_terminal(tmux_passthrough(osc52(text)))


def write_terminal(data: bytes) -> None:
    """One write to the controlling terminal (none under a test: nothing is lost)."""
    with contextlib.suppress(OSError):
        fd = os.open(TERMINAL, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
