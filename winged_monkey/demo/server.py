"""A real moto server (EC2, STS, IAM, ...) on 127.0.0.1 and a free port, in a daemon thread.

A small WSGI middleware records every request's AWS action, region and access
key id, so a test can check on the server's side what a client really sent
(for example: a read-only account sent no mutating call).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
# AWS verbs that change something; anything else (Describe*, Get*, List*) only reads.
_READ_PREFIXES = ("Describe", "Get", "List")
#: The demo's public addresses: TEST-NET-3 (RFC 5737), kept for documentation, where no
#: machine answers. moto's own (54.214.x.x) are AWS's: `e` (ssh) on a demo instance sent
#: the user's ssh, and the names of their keys, to a stranger's server.
DEMO_ADDRESSES = ipaddress.IPv4Network("203.0.113.0/24")


@contextlib.contextmanager
def documentation_addresses() -> Iterator[None]:
    """While inside, the instances moto (in this process) creates get public addresses from
    DEMO_ADDRESSES, one after another, instead of moto's random ones."""
    import importlib

    # Where moto's network interfaces call it (imported there by name).
    interfaces: Any = importlib.import_module("moto.ec2.models.elastic_network_interfaces")
    hosts = itertools.cycle(DEMO_ADDRESSES.hosts())
    original = interfaces.random_public_ip
    interfaces.random_public_ip = lambda: str(next(hosts))
    try:
        yield
    finally:
        interfaces.random_public_ip = original


@contextlib.contextmanager
def launched_ago(ago: timedelta) -> Iterator[None]:
    """While inside, the instances moto (in this process) launches say they were launched
    `ago` before now: the demo's made-up history (history.py) happened to its instances
    before the demo started, and none of them has an event from before its launch."""
    import importlib

    instances: Any = importlib.import_module("moto.ec2.models.instances")
    original = instances.Instance.__init__

    def launched_earlier(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.launch_time -= ago

    instances.Instance.__init__ = launched_earlier
    try:
        yield
    finally:
        instances.Instance.__init__ = original


@dataclass(frozen=True)
class Call:
    """One request the server received."""

    action: str | None
    service: str | None
    region: str | None
    access_key: str | None
    method: str
    path: str

    @property
    def mutating(self) -> bool:
        return self.action is not None and not self.action.startswith(_READ_PREFIXES)


class _Recorder:
    """WSGI middleware: note the call, hand the request (body intact) to moto."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith("/moto-api"):
            body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            with self.lock:
                self.calls.append(_describe(environ, body, path))
        return self.app(environ, start_response)


def _read_body(environ: Environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        return bytes(stream.read(length))
    if environ.get("wsgi.input_terminated"):  # chunked: the server marks the end
        return bytes(stream.read())
    return b""


def _describe(environ: Environ, body: bytes, path: str) -> Call:
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    action: str | None = (query.get("Action") or [""])[0] or None
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if action is None and body and "x-www-form-urlencoded" in content_type:
        form = parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or [""])[0] or None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if action is None and target:  # JSON protocols name the action in a header
        action = str(target).rsplit(".", 1)[-1]
    match = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    return Call(
        action=action,
        service=match.group(3) if match else None,
        region=match.group(2) if match else None,
        access_key=match.group(1) if match else None,
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=path,
    )


class MotoServer:
    """`with MotoServer() as server:` ... `server.url`; `reset()` between tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, fd: int | None = None) -> None:
        """`fd`: serve on this listening socket (bound by whoever passed it) instead."""
        self.host = host
        self._wanted_port = port
        self._fd = fd
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._recorder: _Recorder | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> MotoServer:
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._recorder = _Recorder(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host,
            self._wanted_port,
            self._recorder,
            threaded=True,
            request_handler=QuietHandler,
            fd=self._fd,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"moto-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("MotoServer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- state -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource in every account and region."""
        self._post("/moto-api/reset")

    def seed(self, n: int) -> None:
        """Make moto's generated ids and addresses deterministic from here on."""
        self._post(f"/moto-api/seed?a={int(n)}")

    @property
    def calls(self) -> list[Call]:
        if self._recorder is None:
            return []
        with self._recorder.lock:
            return list(self._recorder.calls)

    def clear_calls(self) -> None:
        if self._recorder is not None:
            with self._recorder.lock:
                self._recorder.calls.clear()

    def _post(self, path: str) -> Any:
        # http.client directly: loopback must not go through a configured HTTP proxy.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"moto {path}: HTTP {response.status}")
        return json.loads(body or b"null")
