"""The program libvirt runs for an ssh uri (its `command=`): the user's ssh, in a session of
its own, with no terminal.

libvirt's `no_tty=1` gives ssh `-o BatchMode=yes`, but ssh does not hand that option to the
ssh it runs for a ProxyJump: a bastion's host key ssh has not seen yet was still asked for
on wm's terminal, over the TUI. Without a controlling terminal nothing of ssh's can ask
(there is no /dev/tty to open), so every question fails at once, whatever the user's ssh
config. The wrapper is a few lines of Python, written once into wm's data dir with the
program it runs (ssh, or the uri's own `command=`) written in.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from winged_monkey.user import paths

SCRIPT = """#!{python} -I
# Written by wm for its libvirt accounts: {program} without a controlling terminal.
import os, sys
os.setsid()
try:
    os.execvp({program!r}, [{program!r}, *sys.argv[1:]])
except OSError as exc:
    sys.exit(f"ssh: cannot run {program!r}: {{exc.strerror}}")
"""


def wrapper(program: str = "ssh") -> str | None:
    """The path of the wrapper that runs `program`; None where it cannot be written (then
    libvirt runs `program` itself, with no_tty's BatchMode only)."""
    return _written(paths.data_dir() / "bin", program)


@functools.cache
def _written(folder: Path, program: str) -> str | None:
    if " " in sys.executable:  # a #! line cannot hold it
        return None
    suffix = "" if program == "ssh" else "-" + hashlib.sha256(program.encode()).hexdigest()[:12]
    try:
        path = paths.private_dir(folder) / f"ssh-without-terminal{suffix}"
        if os.statvfs(folder).f_flag & getattr(os, "ST_NOEXEC", 0):
            return None  # a home mounted noexec (hardened bastions): nothing there runs
        text = SCRIPT.format(python=sys.executable, program=program)
        if not path.exists() or path.read_text() != text:
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(text)
            partial.chmod(0o700)
            partial.replace(path)  # whole or not at all, for another wm starting meanwhile
    except OSError:
        return None
    return str(path)
