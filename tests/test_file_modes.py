"""What `wm` writes (the store, its directories) only its user may read, whatever the umask:
another user of a shared bastion must not read the inventory or the event log."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from winged_monkey.demo.server import MotoServer

SECRET_ENV = "WM_MODES_TEST_SECRET"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_config(path: Path, moto: MotoServer) -> None:
    path.write_text(
        "[[accounts]]\n"
        'name = "dev"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 10\n'
        f'endpoint = {{ host = "127.0.0.1", port = {moto.port}, secure = false }}\n'
        'credentials = { key = "AKIAMODESTEST0000001", keyring = false, '
        f'secret_env = "{SECRET_ENV}" }}\n',
        encoding="utf-8",
    )


def wm_ls(umask: int, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SECRET_ENV: "any", "WM_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli.main import main; main()", "ls", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=umask,
        check=False,
    )


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_wm_ls_creates_its_store_and_directories_for_its_user_only(
    moto: MotoServer, tmp_path: Path, umask: int
) -> None:
    write_config(Path(os.environ["WM_CONFIG"]), moto)
    os.chmod(tmp_path, 0o755)  # noqa: S103 (the user's own folder, as on a bastion)
    data = tmp_path / "share" / "wm-data"  # neither exists: wm makes both

    done = wm_ls(umask, data)

    assert done.returncode == 0, done.stderr
    assert '"dev"' in done.stdout  # it listed the account, so it wrote the store
    assert mode(tmp_path / "share") == 0o700
    assert mode(data) == 0o700
    written = sorted(data.iterdir())
    assert data / "wm.sqlite3" in written
    for path in written:
        assert mode(path) == 0o600, path
    assert mode(tmp_path) == 0o755  # not wm's: left as the user set it


def test_an_older_wm_s_readable_store_is_narrowed_once_and_said_so(
    moto: MotoServer, tmp_path: Path
) -> None:
    write_config(Path(os.environ["WM_CONFIG"]), moto)
    shared = tmp_path / "shared"
    data = shared / "winged-monkey"  # the platform's data dir is named for wm
    data.mkdir(parents=True)
    os.chmod(shared, 0o755)  # noqa: S103 (as an older wm and the user left them)
    os.chmod(data, 0o755)  # noqa: S103
    first = wm_ls(0o022, data)
    assert first.returncode == 0, first.stderr
    os.chmod(data / "wm.sqlite3", 0o644)  # as wm left it before

    narrowed = wm_ls(0o022, data)
    again = wm_ls(0o022, data)

    assert narrowed.returncode == 0, narrowed.stderr
    assert mode(data) == 0o700
    assert mode(data / "wm.sqlite3") == 0o600
    assert mode(shared) == 0o755  # the folder the user pointed into is theirs
    assert "wm.sqlite3 was readable by others (mode 0644)" in narrowed.stderr
    assert "was readable by others" not in again.stderr


def test_a_data_dir_the_user_made_keeps_its_mode_and_the_store_is_still_private(
    moto: MotoServer, tmp_path: Path
) -> None:
    write_config(Path(os.environ["WM_CONFIG"]), moto)
    data = tmp_path / "team-share"
    data.mkdir()
    os.chmod(data, 0o750)  # noqa: S103 (shared with the user's group on purpose)

    done = wm_ls(0o000, data)

    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o750
    assert mode(data / "wm.sqlite3") == 0o600
