"""`wm --demo` in a tmux pane (a real terminal): its cloud, moto in a child process, is off the
terminal, so ctrl+c typed for ssh (`e`) does not reach it; ssh (`e`) goes to an address no
machine answers; and however wm ends (q, a hangup, SIGTERM, SIGKILL) the child ends and the
run's directory in $TMPDIR goes with it."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tmux import Tmux
from winged_monkey.demo.server import DEMO_ADDRESSES

WM = Path(sys.executable).with_name("wm")
#: ssh as it hangs connecting to an address that does not answer.
HANGING_SSH = (
    '#!/bin/sh\necho $$ > "$(dirname "$0")/ssh.pid"\necho "ssh: connecting to $*"\nexec sleep 600\n'
)
ACCOUNTS = {"dev", "dev-eu", "prod"}
STATUS = re.compile(r"^ ● (\S+) +ok ", re.MULTILINE)


def start_demo(tmux: Tmux, tmp_path: Path, command: str) -> Path:
    """wm --demo running `command` in the pane, its fleet on screen; its $TMPDIR."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "ssh").write_text(HANGING_SSH)
    (tools / "ssh").chmod(0o755)
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "PATH": f"{tools}:{os.environ['PATH']}",
        "TERM": "xterm-256color",
    }
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", command, env=env)
    tmux.wait_for("12 instances", timeout=120)
    return temp


def screen_until(
    tmux: Tmux, holds: Callable[[float, str], bool], what: str, timeout: float
) -> None:
    """Until `holds(when, screen)`, `when` taken just before the screen; fails with the screen."""
    deadline = time.monotonic() + timeout
    while True:
        when = time.monotonic()
        screen = tmux.screen()
        if holds(when, screen):
            return
        if when > deadline:
            raise AssertionError(f"{what}: not within {timeout} s:\n{screen}")
        time.sleep(0.1)


def test_ctrl_c_for_a_hanging_ssh_leaves_the_demo_cloud_running(tmux: Tmux, tmp_path: Path) -> None:
    start_demo(tmux, tmp_path, f"{WM} --demo")
    tmux.keys("e")  # the first row, api, is running
    tmux.wait_for("ssh: connecting to", timeout=30)
    tmux.keys("C-c")
    tmux.wait_for("press enter to return to wm", timeout=30)
    tmux.keys("Enter")
    tmux.wait_for("12 instances", timeout=30)
    # The cloud answers after ctrl+c: a reboot of api (the first row) goes through it, and
    # every account's next poll is ok (the strip reads ages to the minute: no poll's time).
    tmux.keys("b")
    tmux.wait_for("api rebooted", timeout=60)
    tmux.keys("R")
    screen_until(
        tmux,
        lambda _when, screen: set(STATUS.findall(screen)) == ACCOUNTS and "⟳" not in screen,
        "every account polled ok after ctrl+c",
        60,
    )
    assert "connection refused" not in tmux.screen()
    tmux.keys("q")


def test_ssh_on_a_demo_instance_goes_where_no_machine_answers(tmux: Tmux, tmp_path: Path) -> None:
    """moto's addresses (54.214.x.x) are AWS's: `e` in the demo sent the user's ssh, and the
    names of their keys, to a stranger's server. The demo's come from RFC 5737's range for
    documentation, which no machine answers, and its ssh gives up after 3 s."""
    start_demo(tmux, tmp_path, f"{WM} --demo")
    shown = [ipaddress.ip_address(a) for a in re.findall(r"\b\d+(?:\.\d+){3}\b", tmux.screen())]
    public = [a for a in shown if a not in ipaddress.ip_network("10.0.0.0/8")]  # moto's VPC
    assert public
    assert all(a in DEMO_ADDRESSES for a in public), public
    tmux.keys("e")  # the first row, api, is running
    tmux.wait_for("ssh: connecting to", timeout=30)
    (line,) = [t for t in tmux.screen().splitlines() if t.startswith("ssh: connecting to")]
    argv = line.removeprefix("ssh: connecting to ").split()
    assert "ConnectTimeout=3" in argv
    assert ipaddress.ip_address(argv[-1].rpartition("@")[2]) in DEMO_ADDRESSES
    tmux.keys("C-c")


def _pids_of(workdir: Path) -> list[int]:
    """The live processes whose command line names `workdir` (the demo cloud's child)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # it ended as we looked
            continue
        if str(workdir).encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def _parent(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("ending", ["q", "hangup", "SIGTERM", "SIGKILL"])
def test_however_wm_ends_its_demo_cloud_and_directory_go(
    tmux: Tmux, tmp_path: Path, ending: str
) -> None:
    temp = start_demo(tmux, tmp_path, f"{WM} --demo")
    (workdir,) = temp.glob("wm-demo-*")
    (child,) = _pids_of(workdir)
    assert (workdir / "config.toml").exists()
    wm = _parent(child)

    if ending == "q":
        tmux.keys("q")
    elif ending == "hangup":  # a dropped SSH session, a closed terminal: SIGHUP
        tmux.run("kill-session", "-t", "wm")
    else:
        os.kill(wm, getattr(signal, ending))

    deadline = time.monotonic() + 30
    while list(temp.iterdir()) or _pids_of(workdir):
        if time.monotonic() > deadline:
            left = [p.name for p in temp.iterdir()]
            raise AssertionError(f"after {ending}: left {left}, processes {_pids_of(workdir)}")
        time.sleep(0.05)


def test_a_hangup_while_ssh_runs_ends_ssh_wm_and_the_demo_cloud(tmux: Tmux, tmp_path: Path) -> None:
    """wm as the terminal's session leader (`tmux new wm`, `ssh -t bastion wm`) is the only
    one the hangup signals; it waited for ever on the ssh it ran for `e`, which no one told."""
    temp = start_demo(tmux, tmp_path, f"{WM} --demo")
    (workdir,) = temp.glob("wm-demo-*")
    tmux.keys("e")
    tmux.wait_for("ssh: connecting to", timeout=30)
    ssh = int((tmp_path / "bin" / "ssh.pid").read_text())
    tmux.run("kill-session", "-t", "wm")

    deadline = time.monotonic() + 30
    while list(temp.iterdir()) or _pids_of(workdir) or _alive(ssh):
        if time.monotonic() > deadline:
            left = [p.name for p in temp.iterdir()]
            raise AssertionError(
                f"left {left}, processes {_pids_of(workdir)}, ssh alive: {_alive(ssh)}"
            )
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_leaves_the_terminal_as_wm_found_it(tmux: Tmux, tmp_path: Path) -> None:
    """`kill` (systemd, a session manager, a timeout): wm leaves as by q, the terminal out of
    the alternate screen, not left drawn over with the TUI."""
    temp = start_demo(tmux, tmp_path, f"sh -c '{WM} --demo; echo ENDED $?; exec sleep 600'")
    (workdir,) = temp.glob("wm-demo-*")
    (child,) = _pids_of(workdir)
    os.kill(_parent(child), signal.SIGTERM)
    tmux.wait_for("ENDED", timeout=30)
    assert tmux.run("display", "-p", "-t", "wm", "#{alternate_on}").strip() == "0"
