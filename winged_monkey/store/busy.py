"""Another process's lock on the SQLite store, said alike by the store and by `wm ls
--cached` (which reads the file with the standard library alone: this module imports
nothing else)."""

from __future__ import annotations

import sqlite3

#: Seconds SQLite waits for another connection's lock before it gives up.
BUSY_TIMEOUT_S = 10.0


def locked(exc: sqlite3.Error) -> bool:
    """SQLite gave up waiting for another connection's lock (SQLITE_BUSY, SQLITE_LOCKED):
    the file is healthy, and moving it aside would lose its history."""
    return "database is locked" in str(exc) or "database table is locked" in str(exc)
