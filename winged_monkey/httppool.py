"""One httpx connection pool per event loop, for backends that speak HTTP themselves."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    import httpx


class LoopPool:
    """The client for the running event loop: a pool is bound to the loop that made it,
    and a CLI may run several loops in turn, so a new loop gets a new client (`make`)."""

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        import asyncio  # here: every `wm` imports this module, `wm --help` needs no asyncio

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = self._make(), loop
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(RuntimeError):  # its event loop is gone: nothing to release
                await client.aclose()


def without_httpx_cli() -> None:
    """httpx's __init__ imports its own command-line client whenever click is importable
    (rich and pygments: about 45 ms of every command that speaks HTTP; encode/httpx#3547).
    Where that module cannot be imported, httpx puts a stub in its place; wm never runs
    httpx's CLI, so a process of wm's says the module is absent before httpx is imported."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"
