"""What `wm` answers to input users get wrong: one line that says what to do, the exit code
the README promises, no traceback, no secret, and nothing done that was not asked for."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.test_cli import Demo, demo
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store import sqlite as store_sqlite
from winged_monkey.terminal.ssh import plan
from winged_monkey.user import paths
from winged_monkey.user.config import AccountConfig

__all__ = ["demo"]  # the demo cloud's fixture, from test_cli

ACCOUNT = '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\n'


def wm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def said(result: Result, code: int, *words: str) -> None:
    """The exit code and the words a user reads, and no traceback (CliRunner keeps an
    exception that escaped click as `exception`; SystemExit is how click exits)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


# -- wm events: time windows and limits ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--since", "99999999w"), ExitCode.USAGE, "'99999999w' is out of range: use an age"),
        (("--since", "9" * 23 + "m"), ExitCode.USAGE, "is out of range: use an age like 30m"),
        (("--until", "0001-01-01"), ExitCode.USAGE, "'0001-01-01' is out of range"),
        (("--since", "30m", "--until", "1h"), ExitCode.USAGE, "is not before --until"),
        (("--limit", "9" * 23), ExitCode.OK, "no events match"),
    ],
)
def test_an_events_window_or_limit_out_of_range_is_said(
    args: tuple[str, ...], code: ExitCode, words: str
) -> None:
    said(wm("events", *args), code, words)


# -- the store: locked by another process, damaged --------------------------------------


@pytest.fixture
def locked_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A healthy store another process holds (an exclusive lock, as a stuck writer does)."""
    path = paths.store_path()
    store_sqlite.Store.open(path).close()
    monkeypatch.setattr(store_sqlite, "BUSY_TIMEOUT_S", 0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("PRAGMA user_version=3")
    try:
        yield path
    finally:
        holder.close()


def test_a_locked_store_is_kept_not_moved_aside(locked_store: Path) -> None:
    result = wm("events")
    said(result, ExitCode.FAILED, f"{locked_store}: locked by another process", "keep it")
    assert "Move the file aside" not in result.output  # it holds the history
    assert locked_store.stat().st_size > 0


def test_ls_cached_says_a_damaged_store_is_damaged(tmp_path: Path) -> None:
    Path(os.environ["WM_CONFIG"]).write_text(ACCOUNT)
    store = paths.store_path()
    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database " * 400)
    result = wm("ls", "--cached")
    said(result, ExitCode.FAILED, f"{store}: cannot read the cache (file is not a database)")
    assert "move the file aside" in result.output
    assert "never listed" not in result.output  # `wm ls` would not fill this one


# -- wm accounts import: files it cannot read ------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "clouds.yaml",
            b"\xff\xfeclouds: {}\n",
            "not UTF-8 text (byte 0xff at offset 0); save it as UTF-8",
        ),
        ("clouds.yaml", b"clouds: {}\n", "no cloud to import"),
        (
            "clouds.yaml",
            b"clouds:\n  mine: 42\n",
            "(cloud 'mine'): is a number, not a mapping of settings",
        ),
        ("aws-config", b"[default\nregion = us-east-1\n", "Unable to parse config file"),
        ("aws-credentials", b"[default]\naws_secret_access_key = Sekr1tAws\nnot ini\n", "parse"),
    ],
)
def test_accounts_import_of_a_file_it_cannot_read_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: bytes, words: str
) -> None:
    source = tmp_path / name
    source.write_bytes(text)
    if name == "clouds.yaml":
        result = wm("accounts", "import", "--clouds-yaml", str(source), "--no-secrets")
    else:
        (tmp_path / "empty").write_text("")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
        variable = "AWS_CONFIG_FILE" if name == "aws-config" else "AWS_SHARED_CREDENTIALS_FILE"
        monkeypatch.setenv(variable, str(source))
        result = wm("accounts", "import", "--aws")
    said(result, ExitCode.CONFIG, str(source), words)
    assert "Sekr1tAws" not in result.output
    assert "check them with" not in result.output  # nothing was imported
    assert not Path(os.environ["WM_CONFIG"]).exists()


# -- wm serve: its options ----------------------------------------------------------------


class _NotWmServe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>a web page</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_wm_serve() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _NotWmServe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_pools_says_what_is_wrong_with_its_url(
    monkeypatch: pytest.MonkeyPatch, not_wm_serve: str, closed_port: int
) -> None:
    monkeypatch.setenv("WM_SERVE_TOKEN", "wm_x_y")
    pools = ("serve", "pools", "--url")
    said(wm(*pools, "notaurl"), ExitCode.USAGE, "'notaurl' is not an http(s) URL")
    said(wm(*pools, "http://[::1"), ExitCode.USAGE, "Invalid value for --url")
    said(wm(*pools, not_wm_serve), ExitCode.FAILED, "answered, but not as wm serve does")
    hidden = wm(*pools, f"http://ops:hunter2@127.0.0.1:{closed_port}")
    said(hidden, ExitCode.FAILED, f"http://ops@127.0.0.1:{closed_port}: no answer")
    assert "hunter2" not in hidden.output


@pytest.fixture
def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_refuses_a_lifetime_past_the_calendar_and_a_file_that_is_no_pem(
    tmp_path: Path,
) -> None:
    create = ("serve", "token", "create", "--user", "a", "--role", "viewer", "--expires")
    said(wm(*create, "99999999999d"), ExitCode.USAGE, "ends after the year 9999")
    said(wm(*create, "9999999d"), ExitCode.USAGE, "ends after the year 9999")
    Path(os.environ["WM_CONFIG"]).write_text(ACCOUNT)
    pem = tmp_path / "not.pem"
    pem.write_text("not a certificate\n")
    tls = ("--ssl-keyfile", str(pem), "--ssl-certfile", str(pem), "--port", "0")
    said(wm("serve", *tls), ExitCode.CONFIG, f"cannot use --ssl-certfile {pem}", "PEM")


# -- the demo cloud: targets, launches, apps -------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("stop", "nope/i-123", "--yes"), ExitCode.NOT_FOUND, "no account named 'nope'"),
        (("ssh", "-n", "nope/i-123"), ExitCode.NOT_FOUND, "no account named 'nope'"),
        (("launch", "", "--account", "dev", "--size", "t3.micro", "--yes"), 2, "is empty"),
        (("launch", "dev/pool/dep", "--size", "t3.micro", "--yes"), 2, "takes no --size"),
        (("where", ""), ExitCode.USAGE, "SIZE_OR_SPEC is empty"),
        (("app", "launch", "x.yaml", "--account", "dev"), 4, "cannot launch apps"),
        (("app", "update", "api"), ExitCode.NOT_FOUND, "no app matches 'api'"),
    ],
)
def test_a_wrong_target_or_item_is_said_and_nothing_launched(
    demo: Demo, args: tuple[str, ...], code: int, words: str
) -> None:
    before = demo.run("ls", "--json").output
    said(demo.run(*args), code, words)
    assert demo.run("ls", "--json").output.count('"id": "i-') == before.count('"id": "i-')


def test_an_instance_named_twice_is_stopped_once(demo: Demo) -> None:
    result = demo.run("stop", "web-1", "web-1", "--yes")
    said(result, ExitCode.OK, "ok: web-1 stopped")
    assert "already has an action in flight" not in result.output
    assert demo.state_on_server("web-1") == "stopped"


def test_ssh_to_an_instance_without_an_address_says_what_to_do() -> None:
    running = Instance(
        account="dev",
        id="i-1",
        name="web-1",
        state=InstanceState.RUNNING,
        raw_state="running",
        provider="ec2",
    )
    with pytest.raises(ActionNotAllowed, match="try again once `wm ls` shows one"):
        plan(running, AccountConfig(name="dev", provider="ec2"))


def test_a_data_dir_that_is_a_file_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said only "<path>: Not a directory; the app runs without history" (twice over:
    "(running without history)" after it)."""
    taken = tmp_path / "a-file"
    taken.write_text("")
    monkeypatch.setenv("WM_DATA_DIR", str(taken))
    Path(os.environ["WM_CONFIG"]).write_text("")
    result = wm("ls")
    assert result.exit_code == ExitCode.OK, result.output
    assert (
        f"{taken}/wm.sqlite3: Not a directory: set WM_DATA_DIR to a directory you can write; "
        "the app runs without history meanwhile\n"
    ) in result.stderr
    assert "(running without history)" not in result.stderr
