"""A listing's JSON array, read one row at a time in a worker thread.

The aggregator's listings are large: 10,000 rows are 5 MB of JSON. Read on the event loop,
decoding, validating and converting them stopped the TUI for 0.3 s at every poll. In a
worker thread the loop runs on, provided the thread hands back the GIL often: a single
`json.loads` (or `validate_json`) of the whole body is one C call that holds it for 50 ms
and more, so the array is decoded element by element, and Python switches threads between
elements.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, nothing else
_DECODER = json.JSONDecoder()


def _skip(text: str, at: int) -> int:
    """`at`, moved past whitespace."""
    found = _SPACE.match(text, at)
    return at if found is None else found.end()


def elements(text: str) -> Iterator[Any]:
    """The elements of the JSON array `text`, in order, as `json.loads` would give them.
    ValueError (JSONDecodeError) when `text` is not one JSON array."""
    at = _skip(text, 0)
    if not text.startswith("[", at):
        raise ValueError("not a JSON array")
    at = _skip(text, at + 1)
    if not text.startswith("]", at):
        while True:
            element, at = _DECODER.raw_decode(text, at)
            yield element
            at = _skip(text, at)
            if text.startswith("]", at):
                break
            if not text.startswith(",", at):
                raise ValueError(f"expected ',' or ']' at {at}")
            at = _skip(text, at + 1)
    if _skip(text, at + 1) != len(text):
        raise ValueError(f"extra data after the array at {at + 1}")
