"""How values read in both the CLI and the TUI: compact ages, prices never shown as 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from winged_monkey.models import InstanceState
from winged_monkey.render import STATE_GLYPHS, human_age, price_text, render_table, state_label

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86400 * 3 + 5, "3d")],
)
def test_compact_age(seconds: float, shown: str) -> None:
    assert human_age(NOW - timedelta(seconds=seconds), NOW) == shown


def test_unknown_age_and_price_are_question_marks_never_zero() -> None:
    assert human_age(None, NOW) == "?"
    assert price_text(None) == "?"
    assert price_text(0.0104) == "0.010"
    assert price_text(12.5) == "12.50"


def test_each_state_has_its_own_glyph() -> None:
    assert len(set(STATE_GLYPHS.values())) == len(InstanceState)
    assert state_label(InstanceState.STOPPED) == "■ stopped"


def test_table_columns_line_up() -> None:
    lines = render_table([("A", "LONGER"), ("wide cell", "x")]).splitlines()
    assert lines == ["A          LONGER", "wide cell  x"]
