"""Credential commands (`secret_command`, botocore's `credential_process`) run where they
cannot ask anything on wm's terminal: under the TUI, which draws there, and in `wm serve`.

Such a command runs in a session of its own with no input, so it has no terminal: a question
it would ask on /dev/tty (a password manager's master password, a login helper's prompt)
fails at once, instead of drawing over the TUI and reading the keys meant for it, and
staying there after wm has given up. GPG_TTY is dropped from its environment for the same
reason: gpg-agent would open pinentry-curses on that terminal. Whatever the command started
is killed with it when wm stops waiting. `wm ls` and the other commands keep running them
on the terminal, where a question can be answered; any still running as wm exits is
stopped (stop_running), so none is left asking on the shell's terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
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


def popen(args: Sequence[str], *, terminal: bool, **kwargs: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen, with the terminal or without one (as above), and known to
    stop_running until it ends. Also what botocore's ProcessProvider starts with."""
    if not terminal:
        kwargs |= {"stdin": subprocess.DEVNULL, "start_new_session": True, "env": environment()}
    process: subprocess.Popen[Any] = subprocess.Popen(args, **kwargs)
    with _lock:
        _running.difference_update([p for p in _running if p.poll() is not None])
        _running.add(process)
    return process


def run(argv: Sequence[str], *, timeout: float, terminal: bool) -> subprocess.CompletedProcess[str]:
    """Run `argv`, its output captured; subprocess.TimeoutExpired after `timeout` s, the
    command killed (with its process group, when it has its own)."""
    process = popen(
        argv, terminal=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            process.communicate()
            raise
    return subprocess.CompletedProcess(list(argv), process.returncode, out, err)


def stop_running() -> None:
    """Kill the credential commands still running, as wm exits: nothing will read their
    answer, and one left on the terminal (a question wm gave up waiting for) would read
    the keys typed into the shell next."""
    with _lock:
        left = [p for p in _running if p.poll() is None]
        _running.clear()
    for process in left:
        _stop(process)


def _stop(process: subprocess.Popen[Any]) -> None:
    """Kill `process`, and what it started when it leads a process group of its own."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


#: The commands started, maybe still running.
_running: set[subprocess.Popen[Any]] = set()
_lock = threading.Lock()
