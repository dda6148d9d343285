"""Copying to the user's clipboard through the terminal (OSC 52), over ssh and inside tmux.

The terminal, not this host, owns the clipboard: the escape travels down the same stream
as the screen, so it works on a bastion with no display. Inside tmux the plain escape is
taken by tmux when `set-clipboard on`; the wrapped one (DCS passthrough) reaches the outer
terminal when `allow-passthrough on`. Both are sent there, so either setting works.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

#: Terminals cut long OSC 52 payloads (xterm's default limit is about 100 kB).
MAX_BYTES = 74_994


def osc52(text: str) -> bytes:
    """The escape that puts `text` on the clipboard: ESC ] 52 ; c ; base64 BEL."""
    payload = base64.b64encode(text.encode("utf-8"))
    if len(payload) > MAX_BYTES:
        raise ValueError(f"too long for the terminal's clipboard ({len(payload)} bytes)")
    return b"\x1b]52;c;" + payload + b"\x07"


def tmux_passthrough(sequence: bytes) -> bytes:
    """`sequence` wrapped for tmux to hand to the outer terminal: ESC P tmux; ... ESC \\,
    each ESC inside doubled."""
    return b"\x1bPtmux;" + sequence.replace(b"\x1b", b"\x1b\x1b") + b"\x1b\\"


def copy_sequence(text: str, environ: Mapping[str, str]) -> bytes:
    """Everything to write for `text` to reach the clipboard from this terminal."""
    plain = osc52(text)
    if environ.get("TMUX"):
        return plain + tmux_passthrough(plain)
    return plain
