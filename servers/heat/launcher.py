"""Run a standalone OpenStack Heat (engine + heat-api) in one process, on loopback.

Run with the Python of the Heat venv that install.sh builds, never the project's:

    $HEAT_VENV/bin/python servers/heat/launcher.py --port 8004 --state-dir /tmp/heat-x

Heat 27 ships no heat-all; its `fake://` message bus only works inside one
process, so this starts `heat.engine.service.EngineService` and serves the
heat-api paste app (noauth pipeline) from a threaded WSGI server here. No
Keystone: the project comes from the X-Auth-Project header.

The SQLite database gets WAL, a busy timeout, `BEGIN IMMEDIATE` transactions
and AUTOINCREMENT ids (without them stacks fail with "database is locked", or
Heat deletes a reused id's row and a stack hangs in DELETE_IN_PROGRESS).
Prints one line "heat-standalone listening on http://127.0.0.1:PORT" once the
engine is running and the socket accepts; stops on SIGTERM or SIGINT.
"""

# ruff: noqa: E402  (oslo.service's backend must be chosen before Heat is imported)

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import warnings
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

warnings.filterwarnings("ignore", category=DeprecationWarning)

from oslo_service import backend as oslo_backend

oslo_backend.init_backend(oslo_backend.BackendType.THREADING)

HERE = Path(__file__).resolve().parent
BUSY_TIMEOUT_MS = 30_000


def render_config(state: Path, convergence: bool = False) -> Path:
    """Write heat.conf for this run into the state dir (paths made absolute)."""
    for sub in ("locks",):
        (state / sub).mkdir(parents=True, exist_ok=True)
    text = (HERE / "heat.conf.in").read_text(encoding="utf-8")
    text = text.replace("@STATE@", str(state)).replace("@HERE@", str(HERE))
    text = text.replace("@CONVERGENCE@", "true" if convergence else "false")
    conf = state / "heat.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def tune_sqlite_connections() -> None:
    """WAL and a busy timeout on every SQLite connection Heat opens."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def begin_immediate() -> None:
    """Every transaction takes the write lock up front (after the migrations, which nest)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    # Class-level listeners run before oslo.db's per-engine one, which emits a plain BEGIN
    # unless its "in_transaction" marker is set: take the write lock up front instead.
    @event.listens_for(Engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.dialect.name == "sqlite" and "in_transaction" not in connection.info:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.info["in_transaction"] = True


_ID_COLUMN = re.compile(r"\n\s*id INTEGER NOT NULL,")
_ID_KEY = re.compile(r",\s*\n\s*PRIMARY KEY \(id\)")


def add_autoincrement(db: Path) -> list[str]:
    """Rebuild every table keyed by an integer `id` with AUTOINCREMENT (ids never reused)."""
    changed = []
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys=OFF")
        con.execute("BEGIN IMMEDIATE")
        rows = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='table' AND sql IS NOT NULL"
        ).fetchall()
        for name, sql in rows:
            if "AUTOINCREMENT" in sql or not _ID_COLUMN.search(sql) or not _ID_KEY.search(sql):
                continue
            new_sql = _ID_KEY.sub("", sql, count=1)
            new_sql = _ID_COLUMN.sub("\n\tid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,", new_sql)
            new_sql = new_sql.replace(f"CREATE TABLE {name} ", f"CREATE TABLE {name}__new ", 1)
            indexes = con.execute(
                "SELECT sql FROM sqlite_master"
                " WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
                (name,),
            ).fetchall()
            con.execute(new_sql)
            con.execute(f"INSERT INTO {name}__new SELECT * FROM {name}")  # noqa: S608
            con.execute(f"DROP TABLE {name}")
            con.execute(f"ALTER TABLE {name}__new RENAME TO {name}")
            for (index_sql,) in indexes:
                con.execute(index_sql)
            changed.append(name)
        con.execute("COMMIT")
        con.execute("PRAGMA foreign_keys=ON")
    finally:
        con.close()
    return changed


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-dir", type=Path, required=True, help="database, config, log")
    parser.add_argument(
        "--convergence", action="store_true", help="the convergence engine (real clouds' default)"
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("this test server listens on loopback only")
    state: Path = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    conf_file = render_config(state, args.convergence)
    started = time.monotonic()

    import oslo_i18n
    from oslo_config import cfg
    from oslo_log import log as logging

    oslo_i18n.enable_lazy()
    tune_sqlite_connections()

    from heat import version
    from heat.common import config, messaging
    from heat.db import migration
    from heat.engine import service as engine_service
    from heat.rpc import api as rpc_api

    conf = cfg.CONF
    logging.register_options(conf)
    conf(
        ["--config-file", str(conf_file)],
        project="heat",
        prog="heat-api",
        version=version.version_info.version_string(),
        default_config_files=[],
        default_config_dirs=[],
    )
    logging.setup(conf, "heat")
    config.set_config_defaults()
    messaging.setup()
    config.startup_sanity_check()

    db = state / "heat.sqlite"
    fresh = not db.exists()
    migration.db_sync()
    if fresh:
        add_autoincrement(db)
    begin_immediate()

    engine = engine_service.EngineService(conf.host, rpc_api.ENGINE_TOPIC)
    engine.start()

    app = config.load_paste_app("heat-api")
    server = make_server(
        args.host, args.port, app, server_class=_Server, handler_class=_QuietHandler
    )

    def _stop(signum: int, _frame: Any) -> None:
        # heat-engine's threads do not all honour shutdown; nothing here needs a clean exit.
        sys.stderr.flush()
        os._exit(0 if signum in (signal.SIGTERM, signal.SIGINT) else 1)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, name="heat-api", daemon=True)
    thread.start()
    print(
        f"heat-standalone listening on http://{args.host}:{args.port} "
        f"(ready in {time.monotonic() - started:.1f} s, state {state})",
        flush=True,
    )
    while thread.is_alive():
        thread.join(1.0)
    return 1


if __name__ == "__main__":
    sys.exit(main())
