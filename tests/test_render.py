"""How values read in both the CLI and the TUI: compact ages, prices never shown as 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.events import TABLE_HEADER
from winged_monkey.terminal.render import (
    HEADER,
    STATE_GLYPHS,
    EventLines,
    event_table,
    fit_event_table,
    fit_instance_table,
    human_age,
    instance_row,
    price_text,
    render_table,
    state_label,
)

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


ROW = (
    "▶ running",
    "web-1",
    "dev",
    "ec2/us-east-1",
    "t3.micro",
    "0.010",
    "3d",
    "54.1.2.3, 54.1.2.4",
    "10.0.0.1",
)


@pytest.mark.parametrize("width", [80, 60, 40, 10])
def test_a_narrow_table_drops_columns_whole_and_keeps_the_name(width: int) -> None:
    table = fit_instance_table([HEADER, ROW], width)
    header, row = table
    assert "NAME" in header
    assert row[header.index("NAME")] == "web-1"
    assert len(render_table(table).splitlines()[0]) <= max(width, len("S  NAME"))
    for cell in row:  # each cell is one of the full row's, or its first address and +N
        assert cell in ROW or cell == "▶" or cell == "54.1.2.3 +1"


def test_a_table_that_fits_is_left_as_it_is() -> None:
    assert fit_instance_table([HEADER, ROW], 200) == [list(HEADER), list(ROW)]
    assert fit_instance_table([HEADER, ROW], None) == [list(HEADER), list(ROW)]


def test_a_row_its_source_could_not_list_reads_as_last_seen_and_when() -> None:
    """An aggregator's row kept as last seen: its state is the one observed then, with how
    long ago, in the table and in it narrowed to glyphs; never `▶ running` as if now."""
    row = Instance(
        account="team",
        id="prod/i-1",
        name="db-prod",
        state=InstanceState.RUNNING,
        raw_state="running",
        provider="ec2",
        stale="the aggregator cannot list prod: no answer",
        observed_at=NOW - timedelta(hours=9),
    )
    assert instance_row(row, NOW)[0] == "◌ last seen running 9h ago"
    unknown = row.model_copy(update={"observed_at": None})
    assert instance_row(unknown, NOW)[0] == "◌ last seen running ? ago"
    current = row.model_copy(update={"stale": None, "observed_at": None})
    assert instance_row(current, NOW)[0] == "▶ running"
    table = fit_instance_table([HEADER, instance_row(row, NOW), instance_row(current, NOW)], 20)
    assert [line[:2] for line in table] == [["S", "NAME"], ["◌▶", "db-prod"], ["▶", "db-prod"]]


EVENT = (
    "2026-12-04 17:22:13",
    "action",
    "launch",
    "heat",
    "abe00f0a-b775-4254-a66a-eacf6ccda75d",
    "app1",
    "pending → error",
    "failed",
    "by root: app1 went to error: Resource CREATE failed: EndpointNotFound",
)


@pytest.mark.parametrize("width", [120, 100, 80, 60, 10])
def test_a_narrow_event_table_keeps_the_kind_name_change_and_outcome_whole(width: int) -> None:
    table = fit_event_table([TABLE_HEADER, EVENT], width)
    header, row = table
    for column in ("KIND", "NAME", "CHANGE", "OUTCOME"):
        assert row[header.index(column)] == EVENT[TABLE_HEADER.index(column)]
    assert row[0] in ("2026-12-04 17:22:13", "12-04 17:22:13", "12-04 17:22")
    assert "TARGET" not in header  # the first to go: the name tells the target
    if width >= 60:
        assert max(len(line) for line in render_table(table).splitlines()) <= width
    if "DETAIL" in header:  # cut after a word, never inside one
        detail = row[header.index("DETAIL")]
        assert detail.endswith("…")
        assert EVENT[-1].startswith(detail[:-1])
        assert not EVENT[-1][len(detail) - 1].isalnum()  # the word before … is whole


def test_an_event_table_that_fits_is_left_as_it_is() -> None:
    assert fit_event_table([TABLE_HEADER, EVENT], 200) == [list(TABLE_HEADER), list(EVENT)]
    assert fit_event_table([TABLE_HEADER, EVENT], None) == [list(TABLE_HEADER), list(EVENT)]


LONG_NAME = (*EVENT[:5], "app2-server-grzph6cx4wzi", *EVENT[6:])
WENT_WELL = ("2026-12-04 17:20:01", "action", "stop", "dev", "i-1", "web-1", "on → off", "ok")


def test_a_change_that_failed_keeps_its_why_whole_at_80_columns() -> None:
    """`wm events` at 80 columns: a failed change's detail is never cut to "by root:
    app1…" nor dropped; where the table has no room for it whole it is said on lines of its
    own under its row. A change that went well keeps one line (its detail, by whom and how
    long, cut or dropped as before); --follow says it the same way."""
    ok = (*WENT_WELL, "by bob: web-1 stopped after a long wait for its guest to shut down")
    for event in (EVENT, LONG_NAME):
        lines = event_table([TABLE_HEADER, event, ok], 80).splitlines()
        assert max(len(line) for line in lines) <= 80, lines
        assert lines[1].rstrip().endswith("failed"), lines
        ok_at = next(i for i, line in enumerate(lines) if "web-1" in line)
        assert ok_at == len(lines) - 1  # one line, the last
        why = lines[2:ok_at]
        assert why, lines
        assert all(line.startswith("    ") for line in why)
        assert " ".join(line.strip() for line in why) == event[-1]  # whole, in order, once
        assert EventLines(TABLE_HEADER, 80).line(event).splitlines()[1:] == why
    assert len(event_table([TABLE_HEADER, EVENT, ok], None).splitlines()) == 3
    assert event_table([TABLE_HEADER, EVENT], 200) == render_table([TABLE_HEADER, EVENT])


def test_a_refused_change_keeps_its_why_whole_at_80_columns() -> None:
    """A change refused as sent (its intent logged, then a `wm serve`'s 409) says why as a
    failed one does: its detail whole, under its row, where `wm events` was cut to
    'by root: the…' at 80 columns."""
    why = (
        "by root: the aggregator refused: Heat would refuse to suspend quiet: resource "
        "group/0 is CHECK_FAILED; fix it with `wm app update quiet`, or destroy it"
    )
    refused = (*EVENT[:2], "stop", "team", "apps/4f1c", "quiet", "→ running", "refused", why)
    lines = event_table([TABLE_HEADER, refused], 80).splitlines()
    assert max(len(line) for line in lines) <= 80, lines
    assert lines[1].rstrip().endswith("refused"), lines
    assert " ".join(line.strip() for line in lines[2:]) == why, lines


def test_followed_event_lines_fit_the_terminal_and_never_regain_a_column() -> None:
    """`wm events --follow` at 80 columns: each line fits, as the table's row would; a
    short line after a long one keeps the narrower layout (no column comes and goes)."""
    short = ("2026-12-04 17:20:01", "action", "stop", "dev", "i-1", "web-1", "on → off", "ok", "-")
    lines = EventLines(TABLE_HEADER, 80)
    first = lines.line(short)
    assert first == "  ".join(short)  # fits whole: nothing given up yet
    long_line, after = lines.line(EVENT), lines.line(short)
    assert max(len(line) for line in long_line.splitlines()) <= 80
    assert "abe00f0a" not in long_line
    assert "action" not in long_line
    assert after.split("  ") == ["12-04 17:20", "stop", "dev", "web-1", "on → off", "ok", "-"]
    assert EventLines(TABLE_HEADER, None).line(EVENT) == "  ".join(EVENT)


def test_a_last_column_of_free_text_wraps_between_words_under_its_start() -> None:
    reason = "t3.large (2 vCPU, 8 GB) at $0.0882/h; 17 of 20 instances left"
    rows = [("#", "ACCOUNT", "WHY"), ("1", "dev", reason), ("2", "production-eu", "cheapest")]
    lines = render_table(rows, 40).splitlines()
    offset = len("#  production-eu  ")
    assert lines[0] == "#  ACCOUNT        WHY"
    assert lines[1].startswith("1  dev            t3.large")
    assert max(len(line) for line in lines) <= 40
    continued = lines[2 : lines.index("2  production-eu  cheapest")]
    assert continued
    assert all(line.startswith(" " * offset) and line[offset] != " " for line in continued)
    said = " ".join([lines[1][offset:], *(line.strip() for line in continued)])
    assert said == reason  # every word whole, in order
    assert render_table(rows, None) == render_table(rows)  # no width: one line per row
    assert render_table(rows, 25) == render_table(rows)  # too little room: left as it is


def test_a_wide_name_keeps_the_columns_aligned_and_controls_never_reach_the_terminal() -> None:
    """CJK and emoji take two cells each: the next column starts where the screen has it.
    A cloud's name with ESC in it is shown with ? in its place."""
    lines = render_table([["NAME", "STATE"], ["日本語🚀", "running"], ["a\x1b[2J", "off"]])
    header, wide, controlled = lines.splitlines()
    assert header.index("STATE") == 10
    assert wide == "日本語🚀  running"  # 8 cells, then the gap
    assert controlled == "a?[2J     off"
    wrapped = render_table([["NAME", "WHY"], ["日本語", "one two three four five six"]], 30)
    assert wrapped.splitlines() == ["NAME    WHY", "日本語  one two three four", "        five six"]
