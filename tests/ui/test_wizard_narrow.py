"""The launch wizard in a window that shrinks under it (tmux resize-window, 80x24 to
60x20): its title and hint stay one line each, the step number still on the title, and a
long reason in the account list wraps under itself."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from tests.ui.test_catalog_snapshots import _wizard, fixed_app  # noqa: F401 (a fixture)
from winged_monkey.ui.app import WMApp


def _drawn(widget: Static) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_the_wizard_keeps_its_title_and_hint_on_one_line_when_the_window_shrinks(
    fixed_app: WMApp,  # noqa: F811
) -> None:
    async with fixed_app.run_test(size=(80, 24)) as pilot:
        wizard = await _wizard(pilot)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        title = wizard.query_one("#wizard-title", Static)
        hint = wizard.query_one("#wizard-hint", Static)
        (title_line,) = _drawn(title)
        assert title_line.strip().endswith("step 1/6: account"), title_line
        (hint_line,) = _drawn(hint)
        assert hint_line.endswith("…"), hint_line
        options = wizard.query_one(OptionList)
        lines = [options.render_line(y).text.rstrip() for y in range(options.size.height)]
        (read_only,) = [n for n, line in enumerate(lines) if "cannot launch" in line]
        following = lines[read_only + 1]
        assert following.startswith("  "), lines  # the reason's own indent, not column 1
        assert "read-only" in " ".join(lines[read_only : read_only + 3])
