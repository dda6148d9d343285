"""The `wm` command: hands a read-only command to a running `wm agent` when there is one,
and runs everything else (and everything when there is no agent) in this process.

A fresh Python process spends most of a `wm ls` importing pydantic, httpx, asyncio and
click before its first request. The agent (winged_monkey.agent) has them imported
already and forks a child for each command, which runs it exactly as this process would:
with this process's arguments, environment, working directory, standard input, output
and error (passed over the socket), and its exit code comes back here. This module
therefore imports nothing beyond the standard library's smallest parts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

TYPE_CHECKING = False  # typing itself is not imported here: it is not free
if TYPE_CHECKING:
    from typing import BinaryIO

#: Commands the agent runs: they only read, and ask nothing but a missing credential
#: (on this process's terminal, which the child gets as its standard input).
SERVED = frozenset({"ls", "events", "catalog", "where"})
#: The wire format's version; an agent speaking another one is not used.
PROTOCOL = 1
#: Global options of `wm` that take a value (the command is the first other word).
_VALUED = frozenset({"--config"})
#: How long a connected agent may take to answer that it has started the command (it
#: gives another client 2 s at most to send its request).
_START_TIMEOUT = 10.0
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def main() -> None:
    """The console script's entry point."""
    args = sys.argv[1:]
    if _servable(args):
        code = _via_agent(args)
        if code is not None:
            sys.exit(code)
    from winged_monkey.cli import main as run_here

    run_here(prog_name="wm")


def agent_dir() -> str:
    """Where the agent's socket lives: `WM_AGENT_DIR`, else `$XDG_RUNTIME_DIR/winged-monkey`,
    else `/tmp/winged-monkey-UID` (tmux's choice on hosts without a runtime dir)."""
    if given := os.environ.get("WM_AGENT_DIR"):
        return given
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(runtime, "winged-monkey")
    return f"/tmp/winged-monkey-{os.getuid()}"  # noqa: S108 (checked: ours, 0700, no link)


def socket_path() -> str:
    """One agent per Python environment: an agent runs the code of the venv it started in."""
    import binascii  # built in: hashlib would load OpenSSL

    tag = binascii.crc32(os.fsencode(sys.prefix)) & 0xFFFFFFFF
    return os.path.join(agent_dir(), f"agent-{tag:08x}.sock")


def private_dir(path: str) -> bool:
    """True when `path` is a real directory of this user that nobody else may enter: a
    socket in anything else could be someone else's."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077 == 0


def served_command(args: list[str]) -> str | None:
    """The command of `wm ARGS` when the agent may run it, else None."""
    words = iter(args)
    for word in words:
        if word == "--demo" or word in ("-h", "--help", "--version"):
            return None
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word if word in SERVED else None
    return None  # no command: the TUI


def _servable(args: list[str]) -> bool:
    if os.environ.get("WM_AGENT", "").lower() in ("0", "off", "no", "false"):
        return False
    if not sys.platform.startswith("linux"):  # fork without exec: Linux only
        return False
    return served_command(args) is not None


def _via_agent(args: list[str]) -> int | None:
    """The command's exit code as the agent's child ran it; None to run it here."""
    path = socket_path()
    if not private_dir(os.path.dirname(path)):
        return None
    try:
        request = {
            "protocol": PROTOCOL,
            "argv": args,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": _umask(),
            "python": sys.executable,
        }
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:  # no working directory, no sockets
        return None
    with conn:
        try:
            return _ask(conn, path, request)
        except KeyboardInterrupt:  # before the child was known: nothing to pass it on to
            return 130


def _ask(conn: socket.socket, path: str, request: dict[str, object]) -> int | None:
    try:
        conn.settimeout(_START_TIMEOUT)
        conn.connect(path)
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        reader = conn.makefile("rb")
        first = _message(reader)
    except (OSError, ValueError):  # none there, a stale socket, a closed stdio
        return None
    if first is None or "pid" not in first:
        if first and first.get("say"):  # e.g. wm's code changed since it started
            print(f"wm: agent: {first.get('declined')}", file=sys.stderr)
        return None
    conn.settimeout(None)
    return _follow(int(str(first["pid"])), reader)


def _follow(pid: int, reader: BinaryIO) -> int:
    """Wait for the child's exit code, passing on the signals this process gets."""
    previous = {sig: signal.signal(sig, lambda s, _f: _forward(pid, s)) for sig in _FORWARDED}
    try:
        last = _message(reader)
    except (OSError, ValueError):
        last = None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if last is None or "exit" not in last:
        print("wm: the agent stopped before the command ended", file=sys.stderr)
        return 1
    code = int(str(last["exit"]))
    if code < 0:  # killed by a signal: die the same way, as the shell expects
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _umask() -> int:
    mask = os.umask(0o077)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def _forward(pid: int, sig: int) -> None:
    try:  # noqa: SIM105 (contextlib is one more import on every command)
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _message(reader: BinaryIO) -> dict[str, object] | None:
    line = reader.readline()
    if not line:
        return None
    found = json.loads(line)
    return found if isinstance(found, dict) else None
