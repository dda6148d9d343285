"""`wm accounts test` on an 80-column terminal (a pty) against a real vcsim: its line ran to
~150 characters ("lab: ok: VMware vCenter Server 6.5.0 build-… (TLS verified): reachable,
…") and the terminal wrapped it mid-word; it folds between words, under the account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vsphere.accounts import write_config
from tests.vsphere.vcsim import Vcsim

WM = [sys.executable, "-c", "from winged_monkey.cli.main import main; main()"]


def in_a_terminal(*args: str, columns: int) -> list[str]:
    """What `wm ARGS` shows on a terminal `columns` wide (a pty; no COLUMNS variable)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    with subprocess.Popen([*WM, *args], env=env, stdout=follower, stderr=subprocess.DEVNULL):
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    os.close(leader)
    return shown.decode().replace("\r\n", "\n").splitlines()


def test_accounts_test_folds_under_the_account_at_80_columns(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(sim, tmp_path, monkeypatch)
    lines = in_a_terminal("accounts", "test", columns=80)
    assert lines[0].startswith("lab: ok: VMware vCenter Server"), lines
    whole = " ".join(line.strip() for line in lines)
    assert "(TLS verified): reachable" in whole, lines
    assert len(lines) > 1, lines  # too long for one line: folded
    assert max(len(line) for line in lines) <= 80, lines
    assert all(line.startswith("  ") for line in lines[1:]), lines  # under the account
    piped = subprocess.run([*WM, "accounts", "test"], capture_output=True, text=True, check=True)
    assert piped.stdout.splitlines() == [whole]  # a pipe gets it on one line
