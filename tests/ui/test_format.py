"""How values look: glyphs readable without colour, compact ages, unknown prices never 0."""

from __future__ import annotations

from datetime import timedelta

from tests.ui.conftest import FIXED_NOW
from winged_monkey.models import AccountStatus, InstanceState
from winged_monkey.ui import format as fmt
from winged_monkey.ui.widgets.account_strip import account_line


def test_every_state_has_a_glyph_and_its_word() -> None:
    for state in InstanceState:
        text = fmt.state_text(state).plain
        assert text.endswith(str(state))
        assert len(text.split()[0]) == 1


def test_failed_account_line_is_one_truncated_line() -> None:
    status = AccountStatus(
        name="lab",
        phase="failed",
        fetched_at=FIXED_NOW - timedelta(minutes=5),
        error="cannot reach 127.0.0.1:9:\nconnection refused " + "x" * 200,
        count=4,
    )
    line = account_line(status, FIXED_NOW, 60, 8, read_only=False, hint="")
    assert "\n" not in line.plain
    assert len(line.plain) <= 60
    assert line.plain.endswith("…")
    assert "failed (4 shown, 5m old): cannot reach" in line.plain


def test_an_account_with_rows_as_last_seen_says_how_many() -> None:
    status = AccountStatus(
        name="team", phase="ok", fetched_at=FIXED_NOW - timedelta(seconds=3), count=5, stale=2
    )
    line = account_line(status, FIXED_NOW, 80, 8, read_only=False, hint="")
    assert line.plain.endswith("ok 3s · 5 instances · 2 as last seen")


def test_filter_text_covers_the_visible_columns() -> None:
    from tests.ui.conftest import fixed_instances

    (web,) = fixed_instances("dev", ["web-1"], "us-east-1", 1)
    text = fmt.instance_search_text(web)
    for part in ("running", "web-1", "dev", "ec2/us-east-1", "t3.micro", "54.1.0.10", "10.1.0.10"):
        assert part in text
