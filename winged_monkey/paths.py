"""Where the portal keeps its files; computed on demand, never created at import."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "winged-monkey"


def config_path() -> Path:
    """`WM_CONFIG` if set, else config.toml in the platform's config dir."""
    if env := os.environ.get("WM_CONFIG"):
        return Path(env).expanduser()
    import platformdirs  # only when no variable says where (it imports tempfile and shutil)

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir() -> Path:
    """`WM_DATA_DIR` if set, else the platform's data dir (holds the store)."""
    if env := os.environ.get("WM_DATA_DIR"):
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def store_path() -> Path:
    return data_dir() / "wm.sqlite3"
