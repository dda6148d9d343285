"""A command on a pty that is the controlling terminal of a shell, as in a person's terminal:
where ssh, gpg and password managers ask their questions (/dev/tty).

The shell leads the terminal's session and stays after the command, as a person's shell
does: when a session's leader exits, the kernel hangs up what is left on its terminal,
which would hide a process the command left behind there.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence

import pytest

#: What the shell prints once the command has ended.
ENDED = "[the command ended]"


@contextlib.contextmanager
def on_a_terminal(argv: Sequence[str], env: dict[str, str], deadline: float = 90) -> Iterator[str]:
    """What `argv` showed on the terminal, once it has ended; on leaving the block, the shell
    and whatever the command left behind on the terminal are killed."""
    leader, follower = os.openpty()
    shell = f'"$@"; echo "{ENDED}"; exec sleep {deadline + 60:.0f}'
    process = subprocess.Popen(
        ["setsid", "--ctty", "sh", "-c", shell, "sh", *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    end = time.monotonic() + deadline
    try:
        while ENDED.encode() not in shown:
            if time.monotonic() > end:
                pytest.fail(f"{' '.join(argv)} still running after {deadline} s: {shown!r}")
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    shown += os.read(leader, 65536)
                except OSError:  # EIO: everything on the terminal has closed it
                    break
        text = shown.decode(errors="replace").replace("\r\n", "\n")
        yield text.split(ENDED, 1)[0]
    finally:
        # setsid: the shell leads its own process group, and the command's processes are in it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(leader)


def shown_on_a_terminal(argv: Sequence[str], env: dict[str, str], deadline: float = 90) -> str:
    """What `argv` showed on the terminal; what it left behind killed."""
    with on_a_terminal(argv, env, deadline) as shown:
        return shown
