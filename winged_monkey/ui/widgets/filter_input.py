"""The views' filter field: what is typed filters live; Down or Up goes to the table, as
enter does, so a person who reaches for the rows does not type j or k into the filter."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class FilterInput(Input):
    """An Input whose Down and Up submit it (the view then focuses its table)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,up", "submit", "to the rows", show=False, tooltip="Back to the rows"),
    ]
