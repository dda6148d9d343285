"""Textual's Footer, without the keys it kept after each rebuild.

Textual's Footer (8.2) binds every key it composes to its own `compact` (`data_bind`), and
Textual forgets a binding whose widget is gone only when the bound value changes, which
in wm it never does. The footer rebuilds its keys on each `refresh_bindings` (a key of the
view turning on or off: an action starting or ending, the cursor on a row in another
state), so a session kept every key it ever showed, widgets and all: about 19 widgets per
start through the TUI, memory and the UI's longest callback growing all day
(scripts/soak_session.py, 2,000 polls with a start every 10: 79 to 177 MB, 93 to 535 ms).
This footer runs compact's watchers after each rebuild (setting it to itself, Textual's
public `mutate_reactive`), which is when Textual drops the bindings of closed widgets.
"""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter

__all__ = ["Footer"]


class Footer(TextualFooter):
    """Textual's Footer, whose rebuilds leave nothing behind."""

    async def recompose(self) -> None:
        await super().recompose()
        # The replaced keys are closed now; the live ones are set to the value they hold.
        self.mutate_reactive(TextualFooter.compact)
