"""Where the portal keeps its files; computed on demand, never created at import."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "winged-monkey"


def config_path() -> Path:
    """`WM_CONFIG` if set, else config.toml in the platform's config dir."""
    if env := os.environ.get("WM_CONFIG"):
        return given_path(env)
    import platformdirs  # only when no variable says where (it imports tempfile and shutil)

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def given_path(text: str | Path) -> Path:
    """A path as the user gave it (`--config`, `WM_CONFIG`), its `~` expanded: the shell
    leaves `~` as it is in `--config=~/wm.toml`, and so do systemd units and env files."""
    return Path(text).expanduser()


def data_dir() -> Path:
    """`WM_DATA_DIR` if set, else the platform's data dir (holds the store)."""
    if env := os.environ.get("WM_DATA_DIR"):
        return given_path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def store_path() -> Path:
    return data_dir() / "wm.sqlite3"


# What wm writes may hold a team's inventory, event log or tokens: only its user reads it,
# whatever the umask (a shared bastion's is often 022).
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Make `path` and its missing parents as directories only the user may enter (0700,
    as XDG asks for data dirs). An existing directory is the user's choice and kept as it
    is, except one named for wm (the platform's data dir), which is narrowed if wider."""
    missing: list[Path] = []
    at = path
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(PRIVATE_DIR)
        except FileExistsError:  # another wm made it meanwhile: it narrows its own
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    if not missing and path.name == APP_NAME:
        _narrow(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 unless it exists; an existing file of the user's
    with wider modes (written by an older wm) is narrowed, with a warning. SQLite gives
    the -wal and -shm files it creates beside a database that database's mode."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        _narrow(path, PRIVATE_FILE)
    else:
        try:
            os.fchmod(handle, PRIVATE_FILE)  # the umask may have taken bits wm needs
        finally:
            os.close(handle)
    for extra in ("-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + extra)
        if sibling.exists():
            _narrow(sibling, PRIVATE_FILE)
    return path


def _narrow(path: Path, mode: int) -> None:
    """Take away group and other bits from what this user owns; say so (once: then it is
    narrow). What belongs to someone else is theirs to change."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    wider = info.st_mode & 0o777 & ~mode
    if not wider or os.name != "posix" or info.st_uid != os.getuid():
        return
    import logging  # only on the rare narrowing

    log = logging.getLogger("winged_monkey.files")
    try:
        os.chmod(path, info.st_mode & 0o777 & mode)
    except OSError as exc:  # immutable, or a file system without modes: still usable
        log.warning(
            "wm: %s is readable by others (mode %04o) and could not be narrowed (%s)",
            path,
            info.st_mode & 0o777,
            exc.strerror,
        )
        return
    log.warning(
        "wm: %s was readable by others (mode %04o); now only you may read it (%04o)",
        path,
        info.st_mode & 0o777,
        info.st_mode & 0o777 & mode,
    )
