"""What the agent's children inherit and do: the modules imported before the first fork
(and whether they are still the installed ones), and becoming one client's `wm`."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("winged_monkey.agent")

#: What the commands import only once they run: an HTTP client's transport, asyncio's
#: thread pool, the keyring. Imported here, they cost no child anything.
_WARM = (
    "httpcore",
    "h11",
    "anyio",
    "anyio._backends._asyncio",
    "concurrent.futures.thread",
    "keyring",
    "sqlite3",
)


class PreloadError(Exception):
    """What was imported left the process unable to fork safely."""


def preload() -> dict[str, int]:
    """Import what the served commands use and build the core's validators, once; the
    fingerprint of the code that was imported (see `changed`)."""
    import winged_monkey.cli
    import winged_monkey.cli_catalog
    import winged_monkey.cli_events
    import winged_monkey.events
    import winged_monkey.launching  # noqa: F401  (the catalog commands' engine)
    from winged_monkey import plugins
    from winged_monkey.httppool import without_httpx_cli

    without_httpx_cli()
    for module in _WARM:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    for name in plugins.available():
        try:
            plugins.load(name)
        except Exception as exc:  # a broken plugin fails in the child, as without us
            log.warning("backend %s not preloaded: %s", name, exc)
    _build_validators()
    if threading.active_count() != 1:  # a fork copies no thread: none may exist
        raise PreloadError("a preloaded module started a thread; the agent cannot fork")
    return _fingerprint()


def _build_validators() -> None:
    """Deferred pydantic models build their validators on first use: in the parent, once,
    rather than in every child."""
    from pydantic import BaseModel

    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith(("winged_monkey.", "winged_monkey_")):
            with contextlib.suppress(Exception):  # one that cannot yet builds in the child
                model.model_rebuild(force=True)


def _code_files() -> Iterator[str]:
    for name, module in list(sys.modules.items()):
        if name.split(".")[0].startswith("winged_monkey"):  # the core and its plugins
            path = getattr(module, "__file__", None)
            if path:
                yield path


def _fingerprint() -> dict[str, int]:
    """Modification times of wm's own modules and of every import directory (installing
    or removing a package changes its site-packages)."""
    found: dict[str, int] = {}
    for path in [*_code_files(), *(p for p in sys.path if p)]:
        with contextlib.suppress(OSError):
            found[path] = os.stat(path).st_mtime_ns
    return found


def changed(fresh: dict[str, int]) -> str | None:
    for path, mtime in fresh.items():
        try:
            now = os.stat(path).st_mtime_ns
        except OSError:
            return path
        if now != mtime:
            return path
    return None


def become_client(request: dict[str, Any], fds: list[int]) -> None:
    """Become the client's `wm` process for one command, then exit with its code."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)  # the parent's pipe: closed below
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # No terminal of the agent's: a question for the user goes to standard input, the
        # client's terminal (getpass turns its echo off there), never to the agent's.
        os.setsid()
        log.handlers.clear()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        # Nothing of the agent's stays open here: its socket, its log, other clients'.
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=stream.isatty())  # type: ignore[union-attr]
        sys.argv = ["wm", *request["argv"]]
        from winged_monkey.cli import main

        main(args=request["argv"], prog_name="wm")
        code = 0
    except SystemExit as exit:
        if isinstance(exit.code, int):
            code = exit.code
        elif exit.code is None:
            code = 0
        else:
            print(exit.code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
