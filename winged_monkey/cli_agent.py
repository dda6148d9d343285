"""`wm agent start|stop|status`: the preloaded process that makes `wm ls`, `wm events`,
`wm catalog` and `wm where` start in a fraction of a fresh process's time."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from datetime import datetime

import click

from winged_monkey import agent, launcher
from winged_monkey.cli_base import ExitCode, fail

#: How long a starting agent may take to import everything and listen.
START_TIMEOUT = 60.0


@click.group("agent")
def agent_group() -> None:
    """Fast ls, events, catalog and where: wm kept imported (Linux).

    A process of yours with wm already imported. While it runs, `wm ls`,
    `wm events`, `wm catalog` and `wm where` are run by a fresh fork of it, with
    your arguments, environment, directory and terminal: the same answers, without
    a new Python process importing everything first. Every other command runs as
    usual. It holds no credentials, stops when wm is upgraded or edited, and leaves
    by itself after --idle seconds without a command.
    """


@agent_group.command("start")
@click.option(
    "--idle",
    type=click.FloatRange(min=1),
    default=agent.DEFAULT_IDLE,
    show_default=True,
    help="Leave after this many seconds without a command.",
)
@click.option("--foreground", is_flag=True, help="Serve in this process (for a service manager).")
def start(idle: float, foreground: bool) -> None:
    """Start the agent in the background (or in this process with --foreground)."""
    if foreground:
        try:
            agent.serve(idle=idle)
        except agent.AgentError as exc:
            fail(str(exc), ExitCode.FAILED)
        return
    running = agent.request("status")
    if running is not None:
        click.echo(f"wm agent: already running (pid {running['pid']})")
        return
    code = "from winged_monkey.agent import main; main()"
    try:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", code, "--idle", str(idle)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not in this terminal's job control: no SIGHUP on logout
            cwd="/",
        )
    except OSError as exc:
        fail(f"cannot start the agent: {exc}", ExitCode.FAILED)
    assert process.stdout is not None
    # Its first line says it listens, or why not; a silent one is given up on.
    readable, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if readable else b""
    process.stdout.close()
    answer = json.loads(line) if line.strip() else {}
    if "ready" not in answer:
        if process.poll() is None:
            process.kill()
        why = answer.get("error") or f"it did not listen within {START_TIMEOUT:g} s"
        fail(f"agent not started: {why} (log: {_log_path()})", ExitCode.FAILED)
    click.echo(f"wm agent: started (pid {answer['ready']}), at {launcher.socket_path()}")


def _log_path() -> str:
    return launcher.socket_path().removesuffix(".sock") + ".log"


@agent_group.command("stop")
def stop() -> None:
    """Stop the agent once the commands it runs have ended."""
    answer = agent.request("stop")
    if answer is None:
        click.echo("wm agent: not running")
        return
    click.echo(f"wm agent: stopping (pid {answer['pid']})")


@agent_group.command("status")
def status() -> None:
    """Whether an agent runs for this wm, and what it did (exit 1 when none runs)."""
    answer = agent.request("status")
    if answer is None:
        click.echo(f"wm agent: not running (would listen at {launcher.socket_path()})")
        sys.exit(ExitCode.FAILED)
    since = datetime.fromtimestamp(float(answer["started"])).strftime("%Y-%m-%d %H:%M:%S")
    click.echo(
        f"wm agent: running (pid {answer['pid']}) since {since}; {answer['served']} commands "
        f"served, {answer['running']} running; leaves after {answer['idle']:g} s idle"
    )
