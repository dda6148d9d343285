"""Credential commands (`secret_command`, botocore's `credential_process`) run where they
cannot ask anything on wm's terminal: under the TUI, which draws there, and in `wm serve`.

Such a command runs in a session of its own with no input, so it has no terminal: a question
it would ask on /dev/tty (a password manager's master password, a login helper's prompt)
fails at once, instead of drawing over the TUI and reading the keys meant for it, and
staying there after wm has given up. GPG_TTY is dropped from its environment for the same
reason: gpg-agent would open pinentry-curses on that terminal. Whatever the command started
is killed with it when wm stops waiting. `wm ls` and the other commands keep running them
on the terminal, where a question can be answered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

#: Variables that hand a command wm's terminal by name.
_TERMINAL_VARIABLES = ("GPG_TTY",)


def no_terminal(what: str) -> str:
    """Added to the message of `what` (a command) that failed without a terminal."""
    return (
        f"{what} runs without a terminal here (wm's TUI draws on it; wm serve has none), so "
        "it cannot ask for a passphrase: run it once in a shell to answer there (gpg-agent "
        "and most password managers then remember it for a while)"
    )


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _TERMINAL_VARIABLES}


def popen_without_terminal(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """subprocess.Popen with no terminal and no input, for botocore's ProcessProvider."""
    return subprocess.Popen(
        args, stdin=subprocess.DEVNULL, start_new_session=True, env=environment(), **kwargs
    )


def run(argv: Sequence[str], *, timeout: float, terminal: bool) -> subprocess.CompletedProcess[str]:
    """Run `argv`, its output captured; with the terminal, or without one (as above).
    subprocess.TimeoutExpired after `timeout` s, its whole process group killed."""
    if terminal:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=environment(),
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(list(argv), process.returncode, out, err)
