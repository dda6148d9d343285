"""What a stream's encoding can carry: wm writes Unicode (state glyphs, box lines, dashes),
and a bastion's locale may still be a legacy one (LANG=en_US.ISO-8859-1), where Python's
stdout raises on the first glyph and its stderr prints `\\u25b6` escapes.

Standard library only: the console script asks before it imports the CLI.
"""

from __future__ import annotations

import codecs
import io
from typing import TextIO

#: Characters wm and Textual draw with: a state glyph, the app mark, a rounded corner, a
#: dash, the enter key and Textual's header icon.
_DRAWN = "▶◆╭—⏎⭘"


def encoding_of(stream: TextIO | None) -> str:
    """The stream's encoding by its codec's name ('utf-8', 'iso8859-1'); 'utf-8' when the
    stream has none (a test's capture, Textual's print capture)."""
    name = getattr(stream, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def carries(stream: TextIO | None, text: str = _DRAWN) -> bool:
    """Whether `text` can be written to `stream` as it is."""
    try:
        text.encode(encoding_of(stream))
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def forgive(stream: TextIO | None) -> None:
    """Have a stream whose encoding cannot carry wm's characters write `?` for each one it
    cannot, instead of raising mid-table (stdout) or escaping it (stderr). JSON is written
    ASCII-only, so this never touches what scripts parse."""
    if isinstance(stream, io.TextIOWrapper) and not carries(stream):
        stream.reconfigure(errors="replace")
