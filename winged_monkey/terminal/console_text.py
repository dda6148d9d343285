"""Following a console log that the provider returns whole (or as its last N kilobytes)
each time: what is new since the last read."""

from __future__ import annotations

import re

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


#: Terminal escapes (colours, cursor moves) and control characters a boot log carries:
#: C0 but tab and line feed, C1 (U+009B is a CSI by itself to many terminals), and the
#: bidirectional overrides and isolates a terminal obeys (a line drawn right to left).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """The log as lines of plain text: CR LF as LF, escapes and control characters gone."""
    return _ESCAPES.sub("", text.replace("\r\n", "\n"))
