"""Following a console log that the provider returns whole (or as its last N kilobytes)
each time: what is new since the last read."""

from __future__ import annotations

import re

from winged_monkey.terminal.render import CONTROLS

#: How much of the next read's start is looked for in the previous one.
_PROBE = 64


def new_text(old: str, new: str) -> str:
    """The part of `new` that follows what `old` already showed. The provider may have
    dropped the log's start (EC2 keeps its last 64 KiB), so `new` may begin anywhere in
    `old`; when it does not continue `old` at all (a reboot, a log cut), all of `new`."""
    if not old:
        return new
    if new.startswith(old):
        return new[len(old) :]
    probe = new[:_PROBE]
    at = old.find(probe)
    while at >= 0:  # the first place `new` continues from: the longest overlap
        if new.startswith(old[at:]):
            return new[len(old) - at :]
        at = old.find(probe, at + 1)
    return new


#: Terminal escapes (colours, cursor moves) and the control characters a boot log carries:
#: those no name reaches a terminal with (render.CONTROLS: C0, C1 such as U+009B, a CSI by
#: itself to many terminals, and the bidirectional overrides), but tab and line feed.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|["
    + "".join(re.escape(chr(c)) for c in CONTROLS if chr(c) not in "\t\n")
    + "]"
)


def printable(text: str) -> str:
    """The log as lines of plain text: CR LF as LF, escapes and control characters gone."""
    return _ESCAPES.sub("", text.replace("\r\n", "\n"))
