"""The events module and `wm events`: time windows, filters, exports, --follow, retention."""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.events import followed
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.models import Event, EventSource
from winged_monkey.store import sqlite as store_sqlite
from winged_monkey.store.events import (
    EXPORT_COLUMNS,
    EventQuery,
    csv_chunks,
    enforce_retention,
    event_record,
    event_rows,
    parse_when,
    to_csv,
    to_json,
)
from winged_monkey.store.sqlite import Store
from winged_monkey.terminal.render import render_table
from winged_monkey.user import paths
from winged_monkey.user.config import EventsConfig, parse_config

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
WM = [sys.executable, "-c", "from winged_monkey.cli.main import main; main()"]


def ev(key: str, at: datetime, **fields: object) -> Event:
    data: dict[str, object] = {
        "key": key,
        "at": at,
        "source": EventSource.OBSERVED,
        "kind": "state",
        "account": "dev",
        "target": "i-1",
        "target_name": "web",
        "old_state": "running",
        "new_state": "stopped",
    }
    data.update(fields)
    return Event.model_validate(data)


# -- time windows --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", NOW - timedelta(hours=1)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2d", NOW - timedelta(days=2)),
        (" 1w ", NOW - timedelta(weeks=1)),
        ("90s", NOW - timedelta(seconds=90)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("now", NOW),
        ("2026-11-01T08:30:00+00:00", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30Z", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


def test_a_bare_date_is_local_midnight() -> None:
    parsed = parse_when("2026-11-01", NOW)
    assert parsed.tzinfo is not None
    local = parsed.astimezone()
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 11, 1, 0, 0)


@pytest.mark.parametrize("text", ["", "1", "h", "-1h", "1y", "yesterday", "2026-13-01", "1h ago"])
def test_parse_when_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a time: use an age like 30m, 1h, 2d"):
        parse_when(text, NOW)


# -- queries and exports -------------------------------------------------------


def test_query_matches_what_the_store_returns(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "wm.sqlite3")
    events = [
        ev(f"k{n}", NOW - timedelta(hours=n), account=("dev", "prod")[n % 2], kind=kind)
        for n, kind in enumerate(["state", "stop", "appeared", "state", "start", "state"])
    ]
    store.append_events(events)
    queries = [
        EventQuery(),
        EventQuery(since=NOW - timedelta(hours=2)),
        EventQuery(until=NOW - timedelta(hours=2)),
        EventQuery(account="prod", kinds={"state", "stop"}),
        EventQuery(sources={EventSource.ACTION}),
        EventQuery(target="i-1", since=NOW - timedelta(hours=4), until=NOW),
        EventQuery(target="web"),  # a name: what `wm events --target` is typed with
    ]
    for query in queries:
        expected = sorted((e for e in events if query.matches(e)), key=lambda e: e.at)[::-1]
        assert query.run(store) == expected, query
    assert [len(q.run(store)) for q in queries] == [6, 3, 3, 3, 0, 4, 6]


def test_exports_carry_every_field_and_survive_commas_and_newlines() -> None:
    tricky = ev(
        "k1",
        NOW,
        source=EventSource.ACTION,
        kind="stop",
        outcome="failed",
        user="ana",
        detail='refused, "quota"\nsecond line',
        duration=1.25,
    )
    plain = ev("k2", NOW - timedelta(minutes=1))
    rows = list(csv.DictReader(io.StringIO(to_csv([tricky, plain]))))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["detail"] == 'refused, "quota"\nsecond line'
    assert rows[0]["at"] == "2026-11-03T12:00:00+00:00"
    assert rows[1]["outcome"] == ""  # None is an empty cell
    data = json.loads(to_json([tricky, plain]))
    assert [d["key"] for d in data] == ["k1", "k2"]
    assert data[0]["duration"] == 1.25
    assert Event.model_validate(data[0]) == tricky  # the export round-trips
    table = render_table(event_rows([tricky]))
    assert "running → stopped" in table
    assert 'by ana: refused, "quota" second line (1.2 s)' in table


def test_exports_are_written_as_read_in_the_same_form() -> None:
    """The streamed JSON is byte for byte what one json.dumps of the list gave, empty too."""
    events = [ev(f"k{n}", NOW - timedelta(minutes=n), detail='a "b"\nc') for n in range(3)]
    for some in (events, events[:1], []):
        assert to_json(some) == json.dumps([event_record(e) for e in some], indent=2)
    assert "".join(csv_chunks(events, rows=2)) == to_csv(events)


def test_wm_events_exports_a_large_log_in_little_memory(tmp_path: Path) -> None:
    """A year's log exported whole (`wm events --json --limit 1000000 > year.json`) held
    every event three times over before printing one: 4.8 GB of memory for a million
    events, enough to get a laptop's wm killed. It is now written as it is read."""
    count = 40_000
    store = Store.open(paths.store_path())
    store.append_events(ev(f"k{n}", NOW - timedelta(seconds=n)) for n in range(count))
    store.close()
    peaks = {}
    for fmt in ("--json", "--csv"):
        measured = subprocess.run(  # the peak of a process of its own, not of pytest's
            [
                sys.executable,
                "-c",
                "import resource, subprocess, sys\n"
                "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                *WM,
                "events",
                fmt,
                "--limit",
                str(count),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        peaks[fmt] = int(measured.stdout) // 1024  # MB
    assert max(peaks.values()) < 100, peaks  # before: 250 MB and more


# -- retention -------------------------------------------------------------------


def test_retention_from_config_by_age_and_count(tmp_path: Path) -> None:
    config = parse_config({"events": {"max_age_days": 2, "max_count": 3}}, source="test")
    assert config.events == EventsConfig(max_age_days=2, max_count=3)
    store = Store.open(tmp_path / "wm.sqlite3")
    store.append_events(ev(f"d{n}", NOW - timedelta(days=n, minutes=1)) for n in range(5))
    store.append_events(ev(f"h{n}", NOW - timedelta(hours=n)) for n in range(3))
    # Age first: d2, d3, d4 are older than 2 days; then only the 3 newest recorded stay.
    assert enforce_retention(store, config.events, NOW, batch=2) == 5
    assert sorted(e.key for e in store.events()) == ["h0", "h1", "h2"]


def test_retention_limits_can_be_switched_off(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "wm.sqlite3")
    store.append_events(ev(f"d{n}", NOW - timedelta(days=400 + n)) for n in range(5))
    assert enforce_retention(store, EventsConfig(max_age_days=0, max_count=0), NOW) == 0
    assert enforce_retention(store, EventsConfig(), NOW) == 5  # the defaults: 90 days
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        EventsConfig(max_count=-1)


# -- wm events ---------------------------------------------------------------------


def wm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def history() -> list[Event]:
    now = datetime.now(UTC)
    events = [
        ev("old", now - timedelta(days=3), target="i-9", target_name="db"),
        ev("stopped", now - timedelta(hours=2), account="prod"),
        ev(
            "acted",
            now - timedelta(minutes=5),
            source=EventSource.ACTION,
            kind="start",
            outcome="ok",
            user="ana",
            old_state=None,
            new_state="running",
        ),
    ]
    store = Store.open(paths.store_path())
    store.append_events(events)
    store.close()
    return events


def keys(result: Result) -> list[str]:
    assert result.exit_code == ExitCode.OK, result.output
    return [row["key"] for row in json.loads(result.stdout)]


def test_wm_events_filters_and_json(history: list[Event]) -> None:
    assert keys(wm("events", "--json")) == ["acted", "stopped", "old"]
    assert keys(wm("events", "--json", "--since", "1d")) == ["acted", "stopped"]
    assert keys(wm("events", "--json", "--until", "1h")) == ["stopped", "old"]
    assert keys(wm("events", "--json", "--account", "prod")) == ["stopped"]
    assert keys(wm("events", "--json", "--target", "i-9")) == ["old"]
    assert keys(wm("events", "--json", "--kind", "start", "--kind", "stop")) == ["acted"]
    assert keys(wm("events", "--json", "--source", "observed", "--limit", "1")) == ["stopped"]
    since = (datetime.now(UTC) - timedelta(days=4)).date().isoformat()
    assert keys(wm("events", "--json", "--since", since)) == ["acted", "stopped", "old"]
    assert keys(wm("events", "--json", "--target", "nobody")) == []


def test_wm_events_table_and_csv(history: list[Event]) -> None:
    table = wm("events")
    assert table.exit_code == ExitCode.OK
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["TIME", "SOURCE", "KIND", "ACCOUNT", "TARGET", "NAME", "CHANGE",
                                "OUTCOME", "DETAIL"]  # fmt: skip
    assert [line.split()[2] for line in lines[1:]] == ["action", "observed", "observed"]
    assert "by ana" in lines[1]
    exported = wm("events", "--csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["key"] for r in rows] == ["acted", "stopped", "old"]
    assert rows[0]["user"] == "ana"
    empty = wm("events", "--csv", "--target", "nobody")
    assert empty.stdout.splitlines() == [",".join(EXPORT_COLUMNS)]


def test_wm_events_target_is_an_id_or_a_name(history: list[Event]) -> None:
    """Users know their machines by name: --target takes what the NAME column shows as
    well as the id, in the window and in what --follow prints."""
    assert keys(wm("events", "--json", "--target", "web")) == ["acted", "stopped"]
    assert keys(wm("events", "--json", "--target", "db")) == ["old"]
    assert keys(wm("events", "--json", "--target", "i-9")) == ["old"]
    assert keys(wm("events", "--json", "--target", "web", "--account", "prod")) == ["stopped"]
    store = Store.open(paths.store_path())
    follow = followed(store, EventQuery(target="db"), store.last_seq())
    empty = CliRunner().invoke(main, ["events", "--target", " "])
    assert empty.exit_code == ExitCode.USAGE, empty.output  # not: every event with no name
    assert "--target" in empty.stderr
    assert next(follow) == []
    store.append_events([ev("renamed", datetime.now(UTC), target="i-9", target_name="db")])
    store.append_events([ev("other", datetime.now(UTC), target="i-2", target_name="cache")])
    assert [e.key for e in next(follow) or []] == ["renamed"]
    store.close()


@pytest.fixture
def local_zone() -> Iterator[Callable[[str], None]]:
    """Sets the process's local time zone (TZ, as a user's shell does) for the test."""
    before = os.environ.get("TZ")

    def use(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_wm_events_table_times_carry_their_utc_offset(local_zone: Callable[[str], None]) -> None:
    """On the night British clocks go back, 01:30 comes twice: the table said
    "2026-10-25 01:30:00" for both, and a teammate in Kolkata could not tell what zone a
    pasted table was in. Each time now carries its offset, as --json and --csv do."""
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    store = Store.open(paths.store_path())
    store.append_events([ev("bst", first), ev("gmt", first + timedelta(hours=1))])
    store.close()
    local_zone("Europe/London")
    lines = wm("events", "--parts", "--width", "0").stdout.splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [
        ["2026-10-25", "01:30:00+00:00"],
        ["2026-10-25", "01:30:00+01:00"],
    ]
    narrow = wm("events", "--parts", "--width", "60").stdout.splitlines()
    assert [line.split()[:2] for line in narrow[1:]] == [
        ["10-25", "01:30+00:00"],
        ["10-25", "01:30+01:00"],
    ]
    local_zone("Asia/Kolkata")
    lines = wm("events", "--parts", "--width", "0").stdout.splitlines()
    assert lines[1].split()[:2] == ["2026-10-25", "07:00:00+05:30"]


def test_wm_events_says_when_tz_names_no_zone(
    history: list[Event], local_zone: Callable[[str], None]
) -> None:
    """TZ=Europe/Lodnon (a typo) made the C library show UTC without a word: the table's
    times read as London's. wm says so; a zone or a POSIX rule it knows says nothing."""
    local_zone("Europe/Lodnon")
    result = wm("events")
    assert result.exit_code == ExitCode.OK
    said = " ".join(result.stderr.split())
    assert said == (
        "wm: TZ='Europe/Lodnon' is no time zone this system knows (see /usr/share/zoneinfo): "
        "times are shown in UTC"
    )
    assert "+00:00" in result.stdout.splitlines()[1]
    assert wm("events", "--json").stderr == ""  # its times say UTC already
    for known in ("Europe/London", ":Asia/Kolkata", "UTC", "<+0530>-5:30", "EST5EDT"):
        local_zone(known)
        assert wm("events").stderr == "", known


@pytest.mark.parametrize(
    ("zone", "text", "said"),
    [
        (
            "Europe/London",
            "2026-03-29T01:30",
            "'2026-03-29T01:30' does not exist in local time (the clocks skipped it for "
            "daylight saving): give its offset, 2026-03-29T01:30+00:00 or 2026-03-29T01:30+01:00",
        ),
        (
            "Europe/London",
            "2026-10-25T01:30",
            "'2026-10-25T01:30' comes twice in local time (the clocks went back over it): give "
            "its offset, 2026-10-25T01:30+01:00 (the first) or 2026-10-25T01:30+00:00 (the second)",
        ),
        (
            "America/New_York",
            "2026-11-01T01:15:30",
            "'2026-11-01T01:15:30' comes twice in local time (the clocks went back over it): "
            "give its offset, 2026-11-01T01:15:30-04:00 (the first) or "
            "2026-11-01T01:15:30-05:00 (the second)",
        ),
    ],
)
def test_a_local_time_a_dst_change_skips_or_repeats_is_refused(
    local_zone: Callable[[str], None], zone: str, text: str, said: str
) -> None:
    """--since 2026-03-29T01:30 in London named an hour no British clock showed, and
    01:30 on the night clocks go back one of two hours, both taken silently as one of
    them; the user is now asked for the offset that makes it one time."""
    local_zone(zone)
    result = CliRunner().invoke(main, ["events", "--since", text])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert said in " ".join(result.stderr.split())
    assert parse_when(f"{text}+01:00", NOW) == datetime.fromisoformat(f"{text}+01:00")


def test_local_times_either_side_of_a_dst_change_stay_accepted(
    local_zone: Callable[[str], None],
) -> None:
    local_zone("Europe/London")
    assert parse_when("2026-03-29T00:59", NOW) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert parse_when("2026-03-29T02:00", NOW) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert parse_when("2026-10-25T00:59", NOW) == datetime(2026, 10, 24, 23, 59, tzinfo=UTC)
    assert parse_when("2026-10-25T02:00", NOW) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert parse_when("2026-10-25", NOW) == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    local_zone("Asia/Kolkata")
    assert parse_when("2026-03-29T01:30", NOW) == datetime(2026, 3, 28, 20, 0, tzinfo=UTC)


def test_a_date_whose_midnight_is_skipped_begins_when_the_clocks_land(
    local_zone: Callable[[str], None],
) -> None:
    """Chile puts its clocks from 00:00 to 01:00 on 2026-09-06: --since 2026-09-06 took
    in the last hour of the 5th (03:00 UTC); the day begins at 01:00 -03:00."""
    local_zone("America/Santiago")
    assert parse_when("2026-09-06", NOW) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert parse_when("2026-09-07", NOW) == datetime(2026, 9, 7, 3, 0, tzinfo=UTC)
    assert parse_when("2026-04-05", NOW) == datetime(2026, 4, 5, 4, 0, tzinfo=UTC)


def test_wm_events_says_when_a_name_was_given_again(history: list[Event]) -> None:
    """An instance terminated and a new one launched with its name: `wm events --target web`
    on an 80-column terminal showed both histories with no id, the old one's stop read as
    the new one's. It still shows both (a name is what the user gave), and says so."""
    store = Store.open(paths.store_path())
    now = datetime.now(UTC)
    store.append_events([ev("reborn", now, target="i-0b1f", old_state=None, kind="appeared")])
    store.close()
    result = wm("events", "--target", "web", "--width", "80")
    assert result.exit_code == ExitCode.OK
    assert len(result.stdout.splitlines()) == 4  # the header and a line for each
    assert "i-0b1f" not in result.stdout  # the narrowed table has no TARGET column
    note = " ".join(result.stderr.split())
    assert (
        "'web' names 3 instances or apps in these events, newest first: "
        "i-0b1f (dev), i-1 (dev), i-1 (prod);"
    ) in note
    assert "--target with an id shows one" in note
    assert wm("events", "--target", "i-1").stderr == ""
    assert wm("events", "--target", "db").stderr == ""


CONFIGURED = (
    '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\n'
    '[[accounts]]\nname = "staging"\nprovider = "ec2"\nregion = "us-east-1"\n'
)


def test_wm_events_refuses_an_account_it_cannot_know(history: list[Event]) -> None:
    """An account in neither the config nor the log is a typo: exit 3, naming the accounts
    there are, as `wm ls --account` does; one removed from the config keeps its history."""
    config = Path(os.environ["WM_CONFIG"])
    config.write_text(CONFIGURED)
    assert keys(wm("events", "--json", "--account", "prod")) == ["stopped"]  # removed, kept
    assert keys(wm("events", "--json", "--account", "staging")) == []  # no history yet
    typo = CliRunner().invoke(main, ["events", "--account", "nope"])
    assert typo.exit_code == ExitCode.CONFIG, typo.output
    assert typo.stdout == ""
    assert "wm: no account named 'nope' (configured: dev, staging; " in typo.stderr
    assert "with history: dev, prod)" in typo.stderr
    assert str(config) in typo.stderr
    followed_typo = CliRunner().invoke(main, ["events", "--follow", "--account", "nope"])
    assert followed_typo.exit_code == ExitCode.CONFIG, followed_typo.output

    config.write_text(CONFIGURED + "[oops\n")  # `wm events` reads the log, not the config
    assert keys(wm("events", "--json", "--account", "prod")) == ["stopped"]
    broken = CliRunner().invoke(main, ["events", "--account", "staging"])
    assert broken.exit_code == ExitCode.CONFIG, broken.output
    assert "no account named 'staging' in the event log (with history: dev, prod)" in (
        broken.stderr
    )
    assert f"the config cannot be read to look for it: {config}: not valid TOML" in broken.stderr

    config.unlink()
    assert CliRunner().invoke(main, ["events", "--account", "nope"]).exit_code == ExitCode.CONFIG


def test_wm_events_on_a_locked_store_waits_once_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process's exclusive lock: one busy timeout, not one for the read-write try
    and another for the read-only one, then the words that say to keep the file."""
    path = paths.store_path()
    Store.open(path).close()
    timeout = 1.0
    monkeypatch.setattr(store_sqlite, "BUSY_TIMEOUT_S", timeout)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute(f"PRAGMA user_version={store_sqlite.SCHEMA_VERSION}")
        start = time.monotonic()
        result = CliRunner().invoke(main, ["events"])
        elapsed = time.monotonic() - start
    finally:
        holder.close()
    assert result.exit_code == ExitCode.FAILED, result.output
    assert result.stderr.count("locked by another process for over 1 s") == 1, result.stderr
    assert "keep it" in result.stderr
    assert elapsed < 1.5 * timeout  # twice it before: each try waited


def test_wm_events_fits_the_width_it_is_given(history: list[Event]) -> None:
    """An 80-column terminal (its width, or --width) reads one line per change: the id,
    the source, the year and the seconds give way first; names and changes stay whole."""
    store = Store.open(paths.store_path())
    store.append_events(
        [
            ev(
                "long",
                datetime.now(UTC),
                target="3256bdb2-cbf4-4573-931a-d3493ea353b5",
                target_name="app2-server-grzph6cx4wzi",
                detail="Resource CREATE failed: EndpointNotFound: no cloudformation endpoint",
            )
        ]
    )
    store.close()
    wide = wm("events").stdout.splitlines()  # not a terminal: every column, whole
    assert max(len(line) for line in wide) > 80
    assert "3256bdb2-cbf4-4573-931a-d3493ea353b5" in wide[1]
    lines = wm("events", "--width", "80").stdout.splitlines()
    assert len(lines) == len(wide)
    assert max(len(line) for line in lines) <= 80, lines
    assert lines[0].split()[:3] == ["TIME", "KIND", "NAME"]
    assert "app2-server-grzph6cx4wzi" in lines[1].split()
    assert "running → stopped" in lines[1]
    assert wm("events", "--width", "0").stdout == wm("events").stdout


def test_wm_events_at_80_columns_says_why_a_change_failed(history: list[Event]) -> None:
    """The table at 80 columns has no room for the detail; a failed start still says why,
    whole, under its row, where the user reads it without --width 0."""
    why = "InsufficientInstanceCapacity: no c5.xlarge in us-east-1a just now"
    store = Store.open(paths.store_path())
    failed = ev(
        "failed-start",
        datetime.now(UTC),
        source=EventSource.ACTION,
        kind="start",
        target_name="prod-report",
        old_state="stopped",
        new_state="stopped",
        outcome="failed",
        detail=why,
    )
    store.append_events([failed])
    store.close()
    lines = wm("events", "--width", "80").stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "prod-report" in line)
    assert lines[at].split()[-1] == "failed"
    below = []
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        below.append(line.strip())
    assert " ".join(below) == why, lines
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "'yesterday' is not a time: use an age like 30m"),
        (["--until", "2026-02-30"], "'2026-02-30' is not a time"),
        (["--json", "--csv"], "--json and --csv exclude each other"),
        (["--source", "gossip"], "'gossip' is not one of"),
    ],
)
def test_wm_events_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["events", *args])
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_wm_events_on_a_corrupt_store_says_so_and_fails(tmp_path: Path) -> None:
    path = paths.store_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    result = CliRunner().invoke(main, ["events", "--json"])
    assert result.exit_code == ExitCode.FAILED
    assert str(path) in result.stderr
    assert "Move the file aside" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_follow_prints_an_event_recorded_between_its_start_and_its_window_once(
    tmp_path: Path,
) -> None:
    """The follow takes the log's last seq, then reads the --since window: an event
    recorded in between is in both, and printed once."""
    store = Store.open(tmp_path / "log.sqlite3")
    now = datetime.now(UTC)
    store.append_events([ev("before", now - timedelta(minutes=2))])
    start = store.last_seq()
    store.append_events([ev("between", now - timedelta(minutes=1))])
    follow = followed(store, EventQuery(since=now - timedelta(hours=1)), start)
    assert [e.key for e in next(follow) or []] == ["before", "between"]
    assert next(follow) == []  # "between" came again: already printed
    assert next(follow) is None  # nothing new
    store.append_events([ev("after", now)])
    assert [e.key for e in next(follow) or []] == ["after"]
    store.close()


# -- wm events --follow (a real process, a real Ctrl-C) ---------------------------


class Lines:
    """A child's stdout read by a thread, so the test can wait with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                self._queue.put(line)

        threading.Thread(target=pump, daemon=True).start()

    def next(self, timeout: float = 15.0) -> str:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s") from None


def test_follow_streams_events_from_another_process_and_stops_on_ctrl_c(
    history: list[Event],
) -> None:
    process = subprocess.Popen(
        [
            *WM,
            "events",
            "--follow",
            "--json",
            "--since",
            "1h",
            "--account",
            "dev",
            "--interval",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        lines = Lines(process)
        assert json.loads(lines.next())["key"] == "acted"  # the window so far, then live
        writer = Store.open(paths.store_path())
        now = datetime.now(UTC)
        writer.append_events([ev("other-account", now, account="prod"), ev("live-1", now)])
        assert json.loads(lines.next())["key"] == "live-1"
        writer.append_events([ev("live-2", now - timedelta(days=9), kind="vanished")])
        writer.append_events([ev("live-3", now, kind="vanished")])
        assert json.loads(lines.next())["key"] == "live-3"  # live-2 is outside --since
        writer.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == ExitCode.OK
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_follow_as_a_table_prints_new_events_as_lines(history: list[Event]) -> None:
    process = subprocess.Popen(
        [*WM, "events", "-f", "--since", "1m", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = Lines(process)
        writer = Store.open(paths.store_path())
        # Printed from the window or live, whichever the child reaches first.
        writer.append_events([ev("first", datetime.now(UTC), target="i-first")])
        assert "i-first" in lines.next()
        # Now the child is surely following: this one can only arrive live.
        writer.append_events([ev("fresh", datetime.now(UTC), target="i-fresh", kind="appeared")])
        line = lines.next()
        assert line.split()[2:6] == ["observed", "appeared", "dev", "i-fresh"]
        assert "running → stopped" in line
        writer.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == ExitCode.OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_csv_export_adds_since_after_the_last_release_s_columns() -> None:
    """A script reading the last release's CSV by position still finds each column where it
    was (the key 14th); when the target was last listed before a late change comes after."""
    late = ev("k1", NOW, old_state="running", new_state="stopped", since=NOW - timedelta(hours=9))
    header, row = list(csv.reader(io.StringIO(to_csv([late]))))
    last_release = "at,source,kind,account,target,target_name,old_state,new_state,outcome,"
    assert ",".join(header).startswith(last_release + "user,detail,duration,key,")
    assert dict(zip(header, row, strict=True))["since"] == "2026-11-03T03:00:00+00:00"
