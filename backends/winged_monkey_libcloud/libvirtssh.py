"""libvirt over ssh (`qemu+ssh://host/system`): ssh never asks on wm's terminal, and what it
refuses is said with the fix.

libvirt runs the system's ssh as a child of wm, on wm's terminal: a host key ssh has not
seen, or a key locked by a passphrase, makes it ask there, over the TUI, reading the keys
meant for wm (and `wm ls` waits on it until the account's timeout, leaving it behind).
libvirt's own `no_tty=1` option runs ssh with `-T -o BatchMode=yes`, and nottyssh.py runs it
with no terminal at all (a ProxyJump's ssh does not get BatchMode), so ssh refuses at once
instead; its words (which libvirt passes on from ssh's stderr) become a message naming the
host and what to run. Host keys stay checked as the user's ssh checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, unquote, urlsplit

from winged_monkey.errors import AuthError, UnreachableError, WMError

#: libvirt's transports that run the system's ssh binary (libssh and libssh2 do not).
_SSH = "ssh"


def is_ssh(uri: str) -> bool:
    scheme = urlsplit(uri).scheme
    return "+" in scheme and scheme.rsplit("+", 1)[1] == _SSH


def without_prompts(uri: str, wrap: Callable[[str], str | None] = lambda _: None) -> str:
    """`uri` with libvirt's `no_tty=1`, and its ssh (or its own `command=`) run through
    `wrap(program)`, the path of a program running it without a terminal (nottyssh.py);
    unchanged when it is not over ssh or sets `no_tty` itself (a user's `no_tty=0` wants
    ssh's questions, and gets them). Values are kept as written: libvirt unescapes them
    its own way (a "+" stays a "+")."""
    if not is_ssh(uri):
        return uri
    head, hash_, fragment = uri.partition("#")
    base, _, query = head.partition("?")
    params = [param for param in query.split("&") if param]
    if any(_name(param) == "no_tty" for param in params):
        return uri
    commands = [param for param in params if _name(param) == "command"]
    program = unquote(commands[-1].partition("=")[2]) if commands else "ssh"
    wrapped = wrap(program)
    if wrapped is not None:
        params = [param for param in params if _name(param) != "command"]
        params.append("command=" + quote(wrapped, safe="/"))
    params.append("no_tty=1")
    return base + "?" + "&".join(params) + hash_ + fragment


def _name(param: str) -> str:
    return unquote(param.partition("=")[0])


def failure(uri: str, message: str, *, account: str) -> WMError | None:
    """The error for libvirt's `message` when it is ssh's own refusal; None otherwise."""
    if not is_ssh(uri) or "Cannot recv data:" not in message:
        return None
    said = _ssh_words(message)
    host = _host(uri)
    login = f"ssh {host.command}"
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in message:
        return UnreachableError(
            f"the ssh host key of {host.name} has changed since it was accepted (ssh: "
            "REMOTE HOST IDENTIFICATION HAS CHANGED; it may be an attack): ask the host's "
            f"admin; if the new key is right, ssh-keygen -R '{host.known_as}' and run "
            f"`{login}` once to accept it",
            account=account,
        )
    if "Host key verification failed" in message:
        return UnreachableError(
            f"ssh does not know the host key of {host.name} yet (or of a jump host on the "
            f"way), and wm does not let ssh ask on its screen: run `{login}` once in a "
            "terminal, check the key and accept it",
            account=account,
        )
    if "Permission denied" in message:
        return AuthError(
            f"ssh to {host.name} was refused ({said}): ssh cannot ask for a passphrase or a "
            "password under wm; load the key into ssh-agent (ssh-add), or name a key with "
            "keyfile= in the uri",
            account=account,
        )
    if said.startswith("ssh:"):
        return UnreachableError(
            f"cannot reach {host.name} over ssh: {said[4:].strip()}", account=account
        )
    return None


class _Host:
    """Where the uri's ssh goes, as a person would type it."""

    def __init__(self, user: str | None, name: str, port: int | None) -> None:
        at = f"{user}@" if user else ""
        self.name = f"{name}:{port}" if port else name
        self.command = (f"-p {port} " if port else "") + at + name
        self.known_as = f"[{name}]:{port}" if port and port != 22 else name


def _host(uri: str) -> _Host:
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    return _Host(parts.username, parts.hostname or "localhost", port)


def _ssh_words(message: str) -> str:
    """ssh's last line, out of libvirt's "Cannot recv data: <ssh's stderr>: Connection reset
    by peer"."""
    text = message.split("Cannot recv data:", 1)[1]
    text = text.removesuffix(": Connection reset by peer").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].rstrip(".") if lines else text
