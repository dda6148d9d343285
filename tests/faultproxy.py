"""A fault-injecting HTTP/1.1 proxy on loopback, in front of a real server (moto, Heat, vcsim).

Real servers do not hang, drip or cut a reply short on demand; this proxy does, between the
code under test and the real server, so the server stays the witness of what reached it.
It runs its own asyncio loop in a daemon thread, so sync and async tests use it alike:

    with FaultProxy(("127.0.0.1", moto.port)) as proxy:
        proxy.fault = Fault("drip", interval=0.5)   # applies to requests that start now
        ... point an account at proxy.port ...
        wait_until(lambda: proxy.open_connections == 0)

With `server_ssl` (the proxy's certificate) and `upstream_ssl` (trusting the server's), it
terminates and re-originates TLS, for a server that speaks only TLS (vcsim).

Each request is parsed by its headers (Content-Length or chunked), forwarded on one upstream
connection per client connection, and its reply framed the same way (or read to the upstream's
close), which is all keep-alive with moto, Heat and vcsim needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from types import TracebackType
from typing import Literal

FaultKind = Literal[
    "pass",
    "hang",
    "drip",  # the whole reply a byte at a time
    "drip_body",  # the status line and headers at once, then the body a byte at a time
    "drip_head",  # the status line and headers a byte at a time, then the body at once
    "close",
    "status",
    "garbage",
    "truncate",
    "reset",
    "delay",
    "gateway",
    "rewrite",  # the request's head with `find` replaced by `instead`, then forwarded
]
GARBAGE = b"<html><body>Welcome to the captive portal. Please log in.</body></html>"
#: A gateway's own page for an upstream that did not answer it (nginx's words).
GATEWAY_PAGE = b"<html><body><h1>504 Gateway Time-out</h1>nginx</body></html>"


@dataclass(frozen=True)
class Fault:
    """What the proxy does to a request (and its reply)."""

    kind: FaultKind
    interval: float = 0.5  # drip: seconds between bytes of the reply
    status: int = 503  # status, gateway: the HTTP status to answer with
    # (status: no upstream call; gateway: after the server got the request and answered,
    # its answer replaced by the gateway's page, as a load balancer's upstream timeout does)
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "7"}
    body: bytes = b""  # status/garbage: the body sent (garbage: a captive portal's page if empty)
    keep: int = 100  # truncate, reset: bytes of the upstream reply sent before closing
    # (truncate: a clean close, FIN; reset: an abort, RST, as a crashed peer or a firewall)
    delay: float = 12.0  # delay: hold the request this long, then forward it
    match: bytes | None = None  # only requests whose bytes contain this are faulted
    find: bytes = b""  # rewrite: what the request's head says (e.g. b"limit=200") ...
    instead: bytes = b""  # ... and what the server reads in its place (b"limit=2": a capped page)


PASS = Fault("pass")


class _Ended(Exception):
    """The peer closed in the middle of a message."""


class _Stream:
    """A buffered reader that can be watched for the peer's close without losing bytes."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = bytearray()
        self.eof = False

    async def fill(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    async def until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            if not await self.fill():
                raise _Ended
        return self.take(end + len(marker))

    async def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not await self.fill():
                raise _Ended
        return self.take(size)

    async def rest(self) -> bytes:
        while await self.fill():
            pass
        return self.take(len(self.buffer))

    async def closed(self) -> None:
        """Return when the peer closes (bytes it sends meanwhile stay buffered)."""
        while await self.fill():
            pass

    def take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


@dataclass
class _Message:
    raw: bytes
    head: bytes
    headers: dict[str, str]
    close: bool  # the connection ends after this message


def _parse_head(head: bytes) -> tuple[bytes, dict[str, str]]:
    first, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return first.encode("latin-1"), headers


async def _read_chunked(stream: _Stream) -> bytes:
    parts = []
    while True:
        line = await stream.until(b"\r\n")
        parts.append(line)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (trailer := await stream.until(b"\r\n")) != b"\r\n":
                parts.append(trailer)
            parts.append(trailer)
            return b"".join(parts)
        parts.append(await stream.exactly(size + 2))


async def _read_message(stream: _Stream, *, reply_to: bytes | None = None) -> _Message | None:
    """One request (reply_to None) or the reply to the request line `reply_to`; None when
    the peer closed cleanly between messages."""
    if not stream.buffer and not await stream.fill():
        return None
    head = await stream.until(b"\r\n\r\n")
    first, headers = _parse_head(head)
    close = headers.get("connection", "").lower() == "close"
    if reply_to is not None:
        status = int(first.split()[1])
        if reply_to.startswith(b"HEAD ") or status < 200 or status in (204, 304):
            return _Message(head, head, headers, close)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(stream)
    elif "content-length" in headers:
        body = await stream.exactly(int(headers["content-length"]))
    elif reply_to is not None:  # a reply framed by the server's close
        body, close = await stream.rest(), True
    else:
        body = b""
    return _Message(head + body, head, headers, close)


def _reply(status: int, headers: Mapping[str, str], body: bytes) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    fields = {"Content-Type": "text/plain", **headers, "Content-Length": str(len(body))}
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Upstream:
    """One client connection's keep-alive connection to the real server."""

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None) -> None:
        self.address = address
        self.tls = tls
        self.stream: _Stream | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: _Message) -> _Message:
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.writer is None:
                reader, self.writer = await asyncio.open_connection(*self.address, ssl=self.tls)
                self.stream = _Stream(reader)
            assert self.stream is not None
            try:
                self.writer.write(request.raw)
                await self.writer.drain()
                reply = await _read_message(self.stream, reply_to=request.head)
                if reply is None:
                    raise _Ended
            except (_Ended, OSError):
                self.close()
                if reused and attempt == 1:  # the server dropped an idle connection: once more
                    continue
                raise
            if reply.close:
                self.close()
            return reply
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = self.stream = None


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """A proxy on 127.0.0.1:`port` in front of `upstream`; set `fault` at any time.

    A context manager (or `start()`/`stop()`). `open_connections` counts client connections
    open now (a witness that an abandoned call's connection was closed); `answering` those
    of them with a request still being answered (a client's idle kept-alive connections are
    open but not answering); `connections` counts those ever opened (a witness of keep-alive
    reuse); `requests` counts requests seen, `faulted` those the fault applied to (a
    witness that a matched request arrived, free of races with other requests).
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        server_ssl: ssl.SSLContext | None = None,
        upstream_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream = upstream
        self.server_ssl = server_ssl
        self.upstream_ssl = upstream_ssl
        self.fault = PASS
        self.port = 0
        self.open_connections = 0
        self.answering = 0
        self.connections = 0
        self.requests = 0
        self.faulted = 0
        #: Each request's first line, as the client sent it ("GET /v1/p/stacks?limit=200 ...").
        self.request_lines: list[str] = []
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.server_ssl else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._main, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"the fault proxy did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as error:  # reported by start(), not lost in a thread
            self._error = error
            self._ready.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.server_ssl)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.open_connections += 1
        self.connections += 1
        client = _Stream(reader)
        upstream = _Upstream(self.upstream, self.upstream_ssl)
        try:
            while (request := await _read_message(client)) is not None:
                self.requests += 1
                self.request_lines.append(request.head.split(b"\r\n", 1)[0].decode("latin-1"))
                fault = self.fault
                if fault.match is not None and fault.match not in request.raw:
                    fault = PASS
                if fault.kind != "pass":
                    self.faulted += 1
                self.answering += 1
                try:
                    if not await self._answer(fault, request, client, writer, upstream):
                        break
                finally:
                    self.answering -= 1
        except (_Ended, OSError, asyncio.CancelledError):  # OSError: ssl's errors too
            pass
        finally:
            upstream.close()
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
            self.open_connections -= 1
            self._tasks.discard(task)

    async def _answer(
        self,
        fault: Fault,
        request: _Message,
        client: _Stream,
        writer: asyncio.StreamWriter,
        upstream: _Upstream,
    ) -> bool:
        """Answer one request as `fault` says; False when the client connection ends."""
        if fault.kind == "close":
            return False
        if fault.kind == "hang":
            await client.closed()
            return False
        if fault.kind == "status":
            writer.write(_reply(fault.status, fault.headers, fault.body))
            await writer.drain()
            return not request.close
        if fault.kind == "garbage":
            writer.write(
                _reply(200, {"Content-Type": "text/html", **fault.headers}, fault.body or GARBAGE)
            )
            await writer.drain()
            return not request.close
        if fault.kind == "delay":  # the request reaches the server even if the client gave up
            await asyncio.sleep(fault.delay)
        if fault.kind == "rewrite":  # the head only: a body's Content-Length stays true
            head = request.head.replace(fault.find, fault.instead)
            request = replace(request, raw=head + request.raw[len(request.head) :], head=head)
        reply = await upstream.exchange(request)
        if fault.kind == "gateway":  # the server acted; the client gets the gateway's page
            page = fault.body or GATEWAY_PAGE
            writer.write(_reply(fault.status, {"Content-Type": "text/html"}, page))
            await writer.drain()
            return not request.close
        if fault.kind in ("truncate", "reset"):
            writer.write(reply.raw[: fault.keep])
            await writer.drain()
            if fault.kind == "reset":
                _reset(writer)
            return False
        if fault.kind in ("drip", "drip_body", "drip_head"):
            slow = {"drip": reply.raw, "drip_body": reply.raw[len(reply.head) :]}.get(
                fault.kind, reply.head
            )
            if fault.kind == "drip_body":
                writer.write(reply.head)
            dripped = await self._drip(slow, fault.interval, client, writer)
            if fault.kind == "drip_head" and dripped:
                writer.write(reply.raw[len(reply.head) :])
                await writer.drain()
            return dripped and not reply.close
        writer.write(reply.raw)
        await writer.drain()
        return not (reply.close or request.close)

    async def _drip(
        self, data: bytes, interval: float, client: _Stream, writer: asyncio.StreamWriter
    ) -> bool:
        """Send `data` a byte at a time; False if the client left first."""

        async def drip() -> None:
            for index in range(len(data)):
                writer.write(data[index : index + 1])
                await writer.drain()
                await asyncio.sleep(interval)

        sending = asyncio.ensure_future(drip())
        leaving = asyncio.ensure_future(client.closed())
        try:
            await asyncio.wait({sending, leaving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, leaving):
                task.cancel()
            await asyncio.gather(sending, leaving, return_exceptions=True)
        return not sending.cancelled() and sending.exception() is None
