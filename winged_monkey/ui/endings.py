"""wm's ways out when the system ends it: SIGTERM and SIGHUP leave as q does.

Textual leaves both to Python, which ends at once: the terminal stays in the alternate
screen, and nothing wm stops as it leaves (the demo's cloud) is stopped.

A hangup is the terminal gone (a dropped SSH session, a closed window). Its fds then fail
every write, and the kernel sends SIGCONT with the SIGHUP: Textual's handler for it restarts
application mode on the dead terminal, a write there ends Textual's writer thread, and its
bounded queue, left with no reader, blocks the next write for ever. wm hung at exit, one
hangup in ten, its demo cloud with it. So the hangup's handler, which Python runs before
SIGCONT's (by signal number), first points the fds that were the terminal at /dev/null.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from types import FrameType

TERMINAL_FDS = (0, 1, 2)

#: Undoes `leave_on_signals` (for an app that ends in a process that goes on: a test's).
Undo = Callable[[], None]


def leave_on_signals(leave: Callable[[], None]) -> Undo:
    """On SIGTERM or SIGHUP, call `leave` on the running loop. Outside the main thread
    (an app in a test's thread) signals cannot be handled: nothing is done."""
    loop = asyncio.get_running_loop()
    terminal = [fd for fd in TERMINAL_FDS if os.isatty(fd)]

    hung_up = False

    def hangup(_signum: int, _frame: FrameType | None) -> None:
        nonlocal hung_up
        if hung_up:  # our own, passed on below
            return
        hung_up = True
        # Here, in Python's handler (not the loop's callback, which runs after SIGCONT's).
        _let_go(terminal)
        # A hangup signals the session's leader alone, and a shell passes it on to its jobs;
        # wm may be the leader (`tmux new wm`, `ssh -t host wm`): it passes it on to what it
        # runs on the terminal (ssh, for `e`), whose end it waits for before it can leave.
        os.killpg(os.getpgrp(), signal.SIGHUP)
        loop.call_soon_threadsafe(leave)

    try:
        before = signal.signal(signal.SIGHUP, hangup)
    except ValueError:  # not the main thread
        return lambda: None
    with contextlib.suppress(RuntimeError, NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, leave)

    def undo() -> None:
        signal.signal(signal.SIGHUP, before)
        with contextlib.suppress(RuntimeError, NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)

    return undo


def _let_go(terminal: list[int]) -> None:
    """Point the fds that were the terminal and are no longer (it hung up) at /dev/null. A
    SIGHUP sent by hand, the terminal still there, changes nothing: wm restores it."""
    gone = [fd for fd in terminal if not os.isatty(fd)]
    if not gone:
        return
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in gone:
            os.dup2(null, fd)
    finally:
        os.close(null)
