"""The store under abuse: writers killed with SIGKILL, writers racing, files it may not write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import StoreError
from winged_monkey.models import Event, EventSource
from winged_monkey.store.sqlite import Store
from winged_monkey.user import paths

WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from winged_monkey.models import Event, EventSource
from winged_monkey.store.sqlite import Store

path, prefix, batches, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
shared = sys.argv[5] if len(sys.argv) > 5 else ""
start = Path(str(path) + ".go")
while not start.exists():  # both writers begin together
    pass
store = Store.open(path)
added = 0
for b in range(batches):
    keys = [f"{prefix}-{b}-{n}" for n in range(size)]
    if shared:
        keys += [f"{shared}-{b}-{n}" for n in range(size)]
    added += store.append_events(
        Event(key=k, at=datetime.now(UTC), source=EventSource.ACTION, kind="stop",
              account="dev", target="i-" + k, detail="x" * 200)
        for k in keys
    )
    print(keys[size - 1], flush=True)  # committed: append_events has returned
print(f"added {added}", flush=True)
"""


def writer(path: Path, prefix: str, batches: int, size: int, *shared: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), prefix, str(batches), str(size), *shared],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def test_kill_9_mid_burst_loses_no_committed_event(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    Store.open(path).close()
    child = writer(path, "burst", 100_000, 20)
    (tmp_path / "wm.sqlite3.go").touch()
    reported: list[str] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while len(reported) < 250:  # 5,000 committed events, and the child is still writing
        assert time.monotonic() < deadline, f"only {len(reported)} batches reported"
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else "child ended"
        reported.append(line.strip())
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    reported += [line.strip() for line in child.stdout if line.strip()]  # flushed before death

    assert integrity(path) == "ok"
    store = Store.open(path)
    db = sqlite3.connect(path)
    stored = {key for (key,) in db.execute("SELECT key FROM events")}
    missing = [key for key in reported if key not in stored]
    assert missing == []
    # Batches are atomic: every batch present is present whole.
    batches = {key.rsplit("-", 1)[0] for key in stored}
    assert len(stored) == 20 * len(batches)
    assert len(stored) >= 20 * len(reported)
    store.append_events(  # and the file takes writes again
        [
            Event(
                key="after",
                at=datetime.now(UTC),
                source=EventSource.ACTION,
                kind="stop",
                account="dev",
                target="i",
            )
        ]
    )
    assert store.events(limit=1)[0].key == "after"


def test_two_writers_at_once_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    Store.open(path).close()
    children = [writer(path, name, 100, 25, "shared") for name in ("one", "two")]
    (tmp_path / "wm.sqlite3.go").touch()
    outputs = [child.communicate(timeout=90) for child in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    added = [int(out.splitlines()[-1].split()[1]) for out, _err in outputs]

    db = sqlite3.connect(path)
    keys = [key for (key,) in db.execute("SELECT key FROM events")]
    expected = {
        f"{p}-{b}-{n}" for p in ("one", "two", "shared") for b in range(100) for n in range(25)
    }
    assert len(keys) == len(set(keys)) == 7500
    assert set(keys) == expected
    assert sum(added) == 7500  # each shared event counted by exactly one writer
    assert integrity(path) == "ok"


# -- a file this process may not write ------------------------------------------


@pytest.fixture
def immutable_store(tmp_path: Path) -> Iterator[Path]:
    """A store file with the immutable attribute: even root cannot write it.

    Tests run as root, where chmod does not stop writes; `chattr +i` does.
    """
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    path = paths.store_path()
    store = Store.open(path)
    store.append_events(
        [
            Event(
                key="kept",
                at=datetime.now(UTC),
                source=EventSource.OBSERVED,
                kind="state",
                account="dev",
                target="i-1",
                old_state="running",
                new_state="stopped",
            )
        ]
    )
    store.close()
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_file_is_a_clear_error_and_still_readable(immutable_store: Path) -> None:
    with pytest.raises(OSError, match="not permitted"):
        immutable_store.open("ab").close()  # the witness: the file really is unwritable
    with pytest.raises(StoreError) as info:
        Store.open(immutable_store)
    message = str(info.value)
    assert str(immutable_store) in message
    assert "read-only" in message
    assert "runs without recording history" in message

    reader = Store.open(immutable_store, read_only=True)
    assert [e.key for e in reader.events()] == ["kept"]


def test_wm_on_a_read_only_store_still_runs(immutable_store: Path) -> None:
    listed = CliRunner().invoke(main, ["events", "--json"])
    assert listed.exit_code == ExitCode.OK, listed.output
    assert [e["key"] for e in json.loads(listed.stdout)] == ["kept"]
    Path(os.environ["WM_CONFIG"]).write_text("")  # no accounts: `wm ls` needs only the store
    ls = CliRunner().invoke(main, ["ls", "--json"])  # falls back to a store in memory
    assert ls.exit_code == ExitCode.OK, ls.output
    assert "read-only" in ls.stderr
    assert "Traceback" not in ls.output


def test_wm_events_follow_works_on_a_read_only_store(immutable_store: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from winged_monkey.cli.main import main; main()",
            "events",
            "--follow",
            "--json",
            "--since",
            "1d",
            "--interval",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["key"] == "kept"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == ExitCode.OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_newer_schema_keeps_wm_running(tmp_path: Path) -> None:
    path = paths.store_path()
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 999")
    db.close()
    result = CliRunner().invoke(main, ["events"])
    assert result.exit_code == ExitCode.FAILED
    assert "newer Winged Monkey (schema 999" in result.stderr
    Path(os.environ["WM_CONFIG"]).write_text("")
    ls = CliRunner().invoke(main, ["ls"])
    assert ls.exit_code == ExitCode.OK, ls.output
    assert "upgrade wm (the file is kept as it is); the app runs without history" in ls.stderr
    assert "Move the file aside" not in ls.stderr  # it would lose the newer wm's history
    assert path.exists()  # refused, not replaced
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 999
