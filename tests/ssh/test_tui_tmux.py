"""The TUI's `e` for real: wm in a tmux pane (a real terminal), the key suspends it, the
system's ssh logs in to the test sshd, a command typed there leaves its witness file, and on
`exit` wm is back where it was (the row's mark still there). Pilot's headless driver cannot
suspend, so this is the test of App.suspend. And ctrl+z: wm stops, bash's `fg` resumes it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.conftest import Cloud, wait_until
from tests.ssh.conftest import WM, Lab, Wm
from tests.tmux import Tmux


def test_e_suspends_wm_runs_ssh_and_returns_where_it_was(
    lab: Lab, tmux: Tmux, tmp_path: Path
) -> None:
    lab.write_config(ssh_user=f'"{lab.target.user}"', ssh_config=f'"{lab.ssh_config}"')
    env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret", "TERM": "xterm-256color"}
    command = f"{WM} --config {lab.config}"
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", command, env=env)
    wait_until(lambda: "web-1" in tmux.screen(), timeout=30)
    tmux.keys("Space")  # a mark: state of the list that must survive the ssh session
    wait_until(lambda: "1 marked" in tmux.screen(), timeout=20)

    tmux.keys("e")
    wait_until(lambda: f"wm: ssh {lab.target.user}@{lab.public_ip} (web-1)" in tmux.screen(), 30)
    witness = tmp_path / "typed-in-the-ssh-session"
    tmux.keys(f"touch {witness}; exit", "Enter")
    wait_until(witness.exists, timeout=20)
    assert lab.target.logins() == 1

    # Back in wm as it was: the row, its mark, and the note that ssh ended.
    wait_until(lambda: back(tmux.screen()), timeout=30)
    tmux.keys("q")


def back(screen: str) -> bool:
    return all(s in screen for s in ("ssh to web-1 ended", "1 marked")) and running(screen)


def running(screen: str) -> bool:
    """web-1's row shows it running (the state's word may give way to its glyph)."""
    return re.search(r"▶ +(running +)?web-1", screen) is not None


def test_ctrl_z_suspends_to_the_shell_and_fg_brings_wm_back(
    cloud: Cloud, tmux: Tmux, tmp_path: Path
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    wm = Wm(tmp_path / "wm.toml", cloud)
    wm.write_config()
    env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret", "TERM": "xterm-256color"}
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", "bash --norc -i", env=env)
    tmux.keys(f"{WM} --config {wm.config}", "Enter")
    wait_until(lambda: running(tmux.screen()), timeout=30)
    tmux.keys("C-z")
    wait_until(lambda: "Stopped" in tmux.screen(), timeout=10)  # bash's job control says so
    tmux.keys("clear; jobs", "Enter")
    wait_until(lambda: not running(tmux.screen()), timeout=10)
    tmux.keys("fg", "Enter")
    wait_until(lambda: running(tmux.screen()), timeout=20)
    tmux.keys("q")
    wait_until(lambda: tmux.screen().rstrip().endswith(("$", "#")), timeout=20)  # the prompt


def test_ctrl_z_with_no_shell_to_come_back_to_says_so_and_wm_stays(
    cloud: Cloud, tmux: Tmux, tmp_path: Path
) -> None:
    """wm as a command's, not at a shell's prompt (`ssh host wm`, a tmux pane's command):
    no job control, so nothing would ever `fg` it. ctrl+z stopped it for good, the pane
    frozen; now it says why it stays, and q still quits."""
    cloud.launch(cloud.ec2(), "web-1")
    wm = Wm(tmp_path / "wm.toml", cloud)
    wm.write_config()
    env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret", "TERM": "xterm-256color"}
    command = f"sh -c '{WM} --config {wm.config}; echo wm-left; sleep 60'"
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", command, env=env)
    wait_until(lambda: running(tmux.screen()), timeout=30)
    tmux.keys("C-z")
    tmux.wait_for("Not suspended", timeout=10)
    assert running(tmux.wait_for("no shell to come back to", timeout=10))
    tmux.keys("q")
    tmux.wait_for("wm-left", timeout=20)


def test_ssh_interrupted_with_ctrl_c_says_so_in_words(
    cloud: Cloud, tmux: Tmux, tmp_path: Path
) -> None:
    """A login that hangs (here a proxy that never answers), given up with ctrl+c: wm said
    `ssh exited with -2`, subprocess's number for the signal; it names it."""
    cloud.launch(cloud.ec2(), "web-1")
    hanging = tmp_path / "ssh_config"
    hanging.write_text("Host *\n  ProxyCommand sleep 60\n")
    wm = Wm(tmp_path / "wm.toml", cloud)
    wm.write_config(ssh_user='"tester"', ssh_config=f'"{hanging}"')
    env = {**os.environ, "WM_DEV_SECRET": "test-dev-secret", "TERM": "xterm-256color"}
    tmux.run("new-session", "-d", "-s", "wm", "-x", "100", "-y", "30", "bash --norc -i", env=env)
    tmux.keys(f"{WM} --config {wm.config}", "Enter")
    wait_until(lambda: running(tmux.screen()), timeout=30)
    tmux.keys("e")
    tmux.wait_for("wm: ssh tester@", timeout=20)
    tmux.keys("C-c")
    screen = tmux.wait_for("press enter to return to wm", timeout=20)
    assert "wm: ssh stopped by SIGINT (ctrl+c); press enter" in screen
    assert "exited with -2" not in screen  # (the tmp path may hold `-2`: pytest-222)
    tmux.keys("Enter")
    assert running(tmux.wait_for("ssh to web-1 ended (stopped by", 20))  # the toast, wrapped
    tmux.keys("q")
