"""Point openstacksdk's loader at a test's own clouds.yaml and secure.yaml."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest


def only_these_files(monkeypatch: pytest.MonkeyPatch, clouds: Path, secure: Path) -> None:
    """openstacksdk reads `clouds` and `secure`, and none of this machine's OS_* variables."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure))


def no_network(monkeypatch: pytest.MonkeyPatch, doing: str) -> None:
    """Any connection made from here on fails the test, saying `doing` made it."""

    def connect(*args: Any) -> None:
        raise AssertionError(f"{doing} made a network call")

    monkeypatch.setattr(socket.socket, "connect", connect)
