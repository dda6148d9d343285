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
    assert line.plain.endswith("ok <1m · 5 instances · 2 as last seen")


def test_filter_text_covers_the_visible_columns() -> None:
    from tests.ui.conftest import fixed_instances

    (web,) = fixed_instances("dev", ["web-1"], "us-east-1", 1)
    text = fmt.instance_search_text(web)
    for part in ("running", "web-1", "dev", "ec2/us-east-1", "t3.micro", "54.1.0.10", "10.1.0.10"):
        assert part in text


def test_an_aggregators_row_names_the_teams_account_within_the_column() -> None:
    from tests.ui.conftest import fixed_instances

    (web,) = fixed_instances("team", ["web-1"], "us-east-1", 1)

    def cell(local: str, source: str | None) -> str:
        row = web.model_copy(update={"account": local, "source_account": source})
        return fmt.account_cell(row, 14)

    assert cell("team", "prod") == "team/prod"
    assert cell("team", None) == "team"
    # Cut where it must be, the local account first: the team's account tells rows apart.
    assert cell("engineering", "dev") == "engineeri…/dev"
    assert cell("engineering-shared", "production") == "en…/production"
    assert cell("team", "production-eu-west-1") == "t…/production…"
    assert "team/prod" in fmt.instance_search_text(
        web.model_copy(update={"source_account": "prod"})
    )
