"""Async streams: several merged into one, each item as soon as it comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

T = TypeVar("T")


async def merge(streams: Sequence[AsyncIterator[T]]) -> AsyncIterator[T]:
    """The items of several async iterators as they come; the first failure is raised
    (after which the others are cancelled)."""
    queue: asyncio.Queue[tuple[T] | BaseException | None] = asyncio.Queue()

    async def drain(stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                queue.put_nowait((item,))
        except Exception as exc:
            queue.put_nowait(exc)
        finally:
            queue.put_nowait(None)

    tasks = [asyncio.ensure_future(drain(s)) for s in streams]
    try:
        running = len(tasks)
        while running:
            got = await queue.get()
            if got is None:
                running -= 1
            elif isinstance(got, BaseException):
                raise got
            else:
                yield got[0]
    finally:
        for task in tasks:
            task.cancel()
