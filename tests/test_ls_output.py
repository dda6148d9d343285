"""`wm ls` as scripts and terminals use it, through the `wm` console script's entry point:
`--cached` from the store alone, `--json-lines` as each account answers, a table that fits
the terminal, and no `wm agent`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.cli.base import ExitCode
from winged_monkey.demo.server import MotoServer

SECRET_ENV = "WM_TEST_LS_SECRET"
#: What `wm` runs: the console script's own entry point (pyproject.toml).
WM = [sys.executable, "-c", "from winged_monkey.cli.entry import main; main()"]
#: The click group itself, which `--cached` reaches when the entry point leaves it.
CLICK = [sys.executable, "-c", "from winged_monkey.cli.main import main; main()"]
NAMES = ("web-1", "web-2", "web-10", "db-1")
LONG_NAME = "a-name-long-enough-to-need-its-whole-width-0123456789"


def account(name: str, port: int, timeout: float = 10) -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f"timeout = {timeout}\n"
        f'endpoint = {{ host = "127.0.0.1", port = {port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", keyring = false, '
        f'secret_env = "{SECRET_ENV}" }}\n'
    )


def wm(
    tmp_path: Path, *args: str, secret: bool = True, command: list[str] = WM
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WM_DATA_DIR": str(tmp_path / "data")}
    env.pop(SECRET_ENV, None)
    if secret:
        env[SECRET_ENV] = DEV_SECRET
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def config(cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ec2 = cloud.ec2()
    for name in NAMES:
        cloud.launch(ec2, name)
    path = tmp_path / "config.toml"
    path.write_text(account("dev", cloud.server.port), encoding="utf-8")
    monkeypatch.setenv("WM_CONFIG", str(path))
    return path


def rows(table: str) -> list[list[str]]:
    """STATE (glyph and word), NAME and ACCOUNT of each row under the header: the columns
    that do not move between two listings a few seconds apart (AGE does)."""
    lines = table.split("\n\n")[0].splitlines()
    return [line.split()[:4] for line in lines[1:]]


def test_cached_prints_the_last_listing_with_ages_without_a_cloud_call_or_secret(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    live_table = wm(tmp_path, "ls", "--width", "0")
    live_json = wm(tmp_path, "ls", "--json")  # the last listing: the one the store keeps
    assert live_json.returncode == ExitCode.OK, live_json.stderr
    live: dict[str, Any] = json.loads(live_json.stdout)
    moto.clear_calls()

    cached_json = wm(tmp_path, "ls", "--cached", "--json", secret=False)
    cached_table = wm(tmp_path, "ls", "--cached", "--width", "0", secret=False)
    through_click = wm(tmp_path, "ls", "--cached", "--json", secret=False, command=CLICK)

    assert moto.calls == []
    assert cached_json.returncode == cached_table.returncode == ExitCode.OK, cached_json.stderr
    cached: dict[str, Any] = json.loads(cached_json.stdout)
    assert cached["instances"] == live["instances"]
    assert len(cached["instances"]) == len(NAMES)
    (dev,) = cached["accounts"]
    assert dev["name"] == "dev"
    assert dev["fetched_at"] == live["accounts"][0]["fetched_at"]
    assert dev["phase"] == "stale"
    assert 0 <= dev["age_seconds"] < 120
    assert json.loads(through_click.stdout)["instances"] == live["instances"]
    # The same rows, each state as last seen (when the listing saw it), not as current.
    assert [row[2:] for row in rows(live_table.stdout)] == [
        names_of(line) for line in rows_of(cached_table.stdout)
    ]
    # Names in the TUI's order, web-2 before web-10, live and cached alike.
    assert [row[2] for row in rows(live_table.stdout)] == ["db-1", "web-1", "web-2", "web-10"]
    assert [i["name"] for i in live["instances"]] == ["db-1", "web-1", "web-2", "web-10"]
    ages = cached_table.stdout.split("\n\n")[1].splitlines()
    assert ages[0].split() == ["ACCOUNT", "LISTED", "AGE", "ROWS"]
    assert ages[1].split()[0] == "dev"
    assert ages[1].split()[-1] == str(len(NAMES))


def rows_of(table: str) -> list[str]:
    """The lines of the instance table under its header."""
    return table.split("\n\n")[0].splitlines()[1:]


def names_of(line: str) -> list[str]:
    """NAME and ACCOUNT of a cached row: the words after its state's `... N ago`."""
    words = line.split()
    return words[words.index("ago") + 1 :][:2]


def test_cached_rows_read_as_last_seen_with_their_age_not_as_current(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    """Nothing a cached row says was seen now: on stdout alone (a status line, a watch
    pane) its state reads as last seen, and when, never as `▶ running`."""
    assert wm(tmp_path, "ls").returncode == ExitCode.OK
    table = wm(tmp_path, "ls", "--cached", "--width", "0", secret=False).stdout
    lines = rows_of(table)
    assert len(lines) == len(NAMES)
    for line in lines:
        assert not line.startswith("▶"), table
        state, _, seconds = line.partition(" ago")[0].rpartition(" ")
        assert state == "◌ last seen running", table
        assert seconds.endswith("s"), table  # the listing a moment ago, in seconds
        assert seconds[:-1].isdigit(), table
    # At the narrowest the mark stays beside the state's glyph.
    narrow = rows_of(wm(tmp_path, "ls", "--cached", "--width", "20", secret=False).stdout)
    assert {line.split()[0] for line in narrow} == {"◌▶"}, narrow


def test_json_says_a_failed_account_s_count_is_unknown_not_0(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    """An account listed a moment ago that fails now: its count is null, not 0 (a script
    summing counts would read 0 as no instances), in --json and --json-lines alike."""
    assert wm(tmp_path, "ls").returncode == ExitCode.OK  # the store has its rows
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config.write_text(account("dev", port), encoding="utf-8")
    as_json = wm(tmp_path, "ls", "--json")
    as_lines = wm(tmp_path, "ls", "--json-lines")
    assert as_json.returncode == as_lines.returncode == ExitCode.FAILED, as_json.stderr
    (dev,) = json.loads(as_json.stdout)["accounts"]
    (line,) = map(json.loads, as_lines.stdout.splitlines())
    for status in (dev, line["account"]):
        assert status["phase"] == "failed"
        assert status["count"] is None
        assert status["stale"] is None


def test_cached_without_a_store_says_so_and_how_to_fill_it(config: Path, tmp_path: Path) -> None:
    for command in (WM, CLICK):
        done = wm(tmp_path, "ls", "--cached", secret=False, command=command)
        assert done.returncode == ExitCode.FAILED
        assert "no cached inventory yet" in done.stderr
        assert "`wm ls`" in done.stderr
        assert done.stdout == ""
    assert not (tmp_path / "data").exists()  # a cached listing creates nothing


@pytest.mark.parametrize("name", ["dev", "my dev"])
def test_cached_refuses_a_config_with_a_name_twice_or_a_name_not_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(account("dev", 9) + account(name, 9), encoding="utf-8")
    monkeypatch.setenv("WM_CONFIG", str(path))
    for command in (WM, CLICK):
        done = wm(tmp_path, "ls", "--cached", secret=False, command=command)
        assert done.returncode == ExitCode.CONFIG, done.stderr
        assert str(path) in done.stderr
        assert f"{name!r}" in done.stderr
        assert done.stdout == ""


def test_cached_names_an_account_never_listed(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    assert wm(tmp_path, "ls").returncode == ExitCode.OK
    with config.open("a", encoding="utf-8") as f:
        f.write("\n" + account("new", moto.port))
    done = wm(tmp_path, "ls", "--cached", "--json", secret=False)
    assert done.returncode == ExitCode.FAILED
    assert "wm: new: never listed" in done.stderr
    assert {a["name"]: a["fetched_at"] for a in json.loads(done.stdout)["accounts"]}["new"] is None
    table = wm(tmp_path, "ls", "--cached", "--width", "0", secret=False).stdout
    (new,) = [line.split() for line in table.split("\n\n")[1].splitlines() if "new" in line]
    assert new == ["new", "never", "-", "?"]  # it read `0` rows, as if listed holding none
    unknown = wm(tmp_path, "ls", "--cached", "--account", "nope", secret=False)
    assert unknown.returncode == ExitCode.CONFIG
    assert "no account named 'nope' (configured: dev, new)" in unknown.stderr


def test_accounts_named_as_words_list_as_account_options_do_live_and_cached(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    """`wm ls ops` is what users type first: click said 'Got unexpected extra argument
    (ops)'. Words name accounts as --account does (both together, each once), on a live
    listing and on `--cached`, the entry point's and click's alike; an unknown word is
    --account's error, naming the configured accounts."""
    with config.open("a", encoding="utf-8") as f:
        f.write("\n" + account("ops", moto.port))
    live = wm(tmp_path, "ls", "ops", "--width", "0")
    assert live.returncode == ExitCode.OK, live.stderr
    assert {row[3] for row in rows(live.stdout)} == {"ops"}
    assert len(rows(live.stdout)) == len(NAMES)
    both = wm(tmp_path, "ls", "ops", "dev", "--account", "ops", "--json")
    assert both.returncode == ExitCode.OK, both.stderr
    assert sorted(a["name"] for a in json.loads(both.stdout)["accounts"]) == ["dev", "ops"]
    for command in (WM, CLICK):
        cached = wm(tmp_path, "ls", "--cached", "ops", "--json", secret=False, command=command)
        assert cached.returncode == ExitCode.OK, cached.stderr
        listed = json.loads(cached.stdout)
        assert [a["name"] for a in listed["accounts"]] == ["ops"]
        assert {i["account"] for i in listed["instances"]} == {"ops"}
        twice = wm(
            tmp_path, "ls", "--cached", "dev", "--account", "dev", secret=False, command=command
        )
        assert twice.returncode == ExitCode.OK, twice.stderr
        ages = twice.stdout.split("\n\n")[1].splitlines()[1:]
        assert [line.split()[0] for line in ages] == ["dev"]  # once, not once per mention
    for args in (("ls", "nope"), ("ls", "--cached", "nope"), ("ls", "dev", "nope", "--json")):
        unknown = wm(tmp_path, *args, secret=False)
        assert unknown.returncode == ExitCode.CONFIG, (args, unknown.stderr)
        assert "no account named 'nope' (configured: dev, ops)" in unknown.stderr, args
        assert "unexpected extra argument" not in unknown.stderr
        assert "Traceback" not in unknown.stderr


def test_the_table_fits_80_columns_and_keeps_names_whole(
    cloud: Cloud, config: Path, tmp_path: Path
) -> None:
    cloud.launch(cloud.ec2(), LONG_NAME)
    wide = wm(tmp_path, "ls", "--width", "0")
    assert max(len(line) for line in wide.stdout.splitlines()) > 80  # as it was: rows wrapped
    for args in (("ls", "--width", "80"), ("ls", "--cached", "--width", "80")):
        table = wm(tmp_path, *args).stdout
        lines = table.splitlines()
        assert lines, args
        assert max(len(line) for line in lines) <= 80, table
        assert "NAME" in lines[0].split()
        names = {row[2] for row in rows(wide.stdout)}
        assert LONG_NAME in names
        assert names <= set(table.split())  # each name whole, as a word of its own


def in_a_terminal(tmp_path: Path, *args: str, columns: int) -> list[str]:
    """What `wm ARGS` shows on a terminal `columns` wide (a pty; no COLUMNS variable)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, SECRET_ENV: DEV_SECRET, "WM_DATA_DIR": str(tmp_path / "data")}
    env.pop("COLUMNS", None)
    with subprocess.Popen([*WM, *args], env=env, stdout=follower, stderr=subprocess.DEVNULL):
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    os.close(leader)
    return shown.decode().replace("\r\n", "\n").splitlines()


def test_on_an_80_column_terminal_rows_do_not_wrap(
    cloud: Cloud, config: Path, tmp_path: Path
) -> None:
    cloud.launch(cloud.ec2(), LONG_NAME)
    for args in (("ls",), ("ls", "--cached")):
        lines = in_a_terminal(tmp_path, *args, columns=80)
        assert any(LONG_NAME in line.split() for line in lines), lines
        assert max(len(line) for line in lines) <= 80, lines


def test_json_lines_prints_an_account_as_soon_as_it_answers(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    with FaultProxy(("127.0.0.1", moto.port)) as proxy:
        proxy.fault = Fault("hang")
        with config.open("a", encoding="utf-8") as f:
            f.write("\n" + account("hung", proxy.port, timeout=30))
        env = {**os.environ, SECRET_ENV: DEV_SECRET, "WM_DATA_DIR": str(tmp_path / "data")}
        with subprocess.Popen(
            [*WM, "ls", "--json-lines"], env=env, stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout is not None
            first = json.loads(process.stdout.readline())
            # The hung account holds the process for its 30 s deadline; dev is out already.
            assert process.poll() is None
            assert first["account"]["name"] == "dev"
            assert first["account"]["phase"] == "ok"
            assert len(first["instances"]) == len(NAMES)
            process.terminate()


def test_wm_agent_is_gone(tmp_path: Path) -> None:
    done = wm(tmp_path, "agent", "start")
    assert done.returncode == ExitCode.USAGE
    assert "No such command 'agent'" in done.stderr


def test_json_lines_says_a_failed_account_s_instances_are_unknown_not_none(
    moto: MotoServer, config: Path, tmp_path: Path
) -> None:
    """A failed account's line has `"instances": null`: `[]` would tell a script that the
    account has no instances, which nobody saw."""
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with config.open("a", encoding="utf-8") as f:
        f.write("\n" + account("down", port))
    env = {**os.environ, SECRET_ENV: DEV_SECRET, "WM_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [*WM, "ls", "--json-lines"], env=env, capture_output=True, text=True, timeout=60
    )
    lines = {line["account"]["name"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert lines["down"]["account"]["phase"] == "failed"
    assert lines["down"]["instances"] is None
    assert len(lines["dev"]["instances"]) == len(NAMES)
    assert done.returncode != ExitCode.OK
