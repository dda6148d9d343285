"""A throwaway PostgreSQL cluster for the tests: Debian's initdb/pg_ctl as an unprivileged
user (the suite runs as root, which PostgreSQL refuses), on a loopback port, its unix
socket in its own directory. One cluster per test run; a fresh database per test.

    cluster = PostgresCluster.start()
    url = cluster.new_database()   # postgresql://wm@127.0.0.1:PORT/t_1 (no password)
    cluster.password                # what the store gets through the credential chain
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from tests.processes import free_port

USER = "wm"
PASSWORD = "pg-test-secret-do-not-leak"
_RUN_AS = "nobody"  # when root: an account every Debian has, with no login or home


def _bin_dir() -> Path:
    """Debian installs the server binaries per major version, off PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no initdb: run servers/postgresql/install.sh")
    return Path(initdb).parent


@dataclass
class PostgresCluster:
    root: Path
    port: int
    bin: Path
    password: str = PASSWORD
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", _RUN_AS, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}")

    @classmethod
    def start(cls) -> Self:
        # Not under pytest's tmp dir: its parents are private to root, and the server
        # runs as another user that must reach its data directory.
        root = Path(tempfile.mkdtemp(prefix="wm-pg-"))
        cluster = cls(root, free_port(), _bin_dir())
        pwfile = root / "pwfile"
        pwfile.write_text(PASSWORD + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_RUN_AS)
            for path in (root, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        cluster._run(
            str(cluster.bin / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            USER,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        cluster.pg_ctl_start()
        return cluster

    def pg_ctl_start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def pg_ctl_stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def new_database(self) -> str:
        """A fresh, empty database; its URL (the password is not in it)."""
        import psycopg

        name = f"t_{next(self._names)}"
        with psycopg.connect(self.url(), password=self.password, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")  # a name made here, not user input
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped (a test stopped it)
            self.pg_ctl_stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
