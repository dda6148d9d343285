"""A TLS front for a plain-HTTP server on loopback, with a CA made for the test.

The test OpenStack serves Keystone over HTTP; a deployment puts TLS in front of it
(a proxy or the web server). This does the same with the standard library: it accepts
TLS on its own port and pipes the bytes to the real server, so what the client verifies
is a real certificate chain and what answers is the real Keystone. With
`client_certificates=True` it also asks each client for a certificate signed by a CA of
its own (mutual TLS), as a cloud that wants one does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.certs import client_certificate, make_ca, server_certificate


class TLSProxy:
    """`with TLSProxy(folder, upstream_port) as proxy:` TLS on proxy.port, signed by
    proxy.ca (a PEM file); proxy.other_ca is a CA that signed nothing here.

    With `client_certificates=True` a client must present a certificate signed by the
    proxy's client CA: proxy.client_cert and proxy.client_key are one (separate PEM
    files), proxy.stranger_cert and proxy.stranger_key one signed by other_ca, refused."""

    def __init__(self, folder: Path, upstream_port: int, *, client_certificates: bool = False):
        folder.mkdir(parents=True, exist_ok=True)
        self.ca, ca_key, ca_cert = make_ca(folder, "wm-test-ca")
        self.other_ca, other_key, other_cert = make_ca(folder, "wm-other-ca")
        cert, key = server_certificate(folder, ca_key, ca_cert)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        if client_certificates:
            client_ca, client_ca_key, client_ca_cert = make_ca(folder, "wm-client-ca")
            self.client_cert, self.client_key = client_certificate(
                folder, client_ca_key, client_ca_cert, "wm-client"
            )
            self.stranger_cert, self.stranger_key = client_certificate(
                folder, other_key, other_cert, "wm-stranger"
            )
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(client_ca)
        self.upstream = upstream_port
        self.connections = 0  # TLS sessions made: a client that used this front
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        secured = self._context.wrap_socket(client, server_side=True, do_handshake_on_connect=False)
        try:
            secured.do_handshake()
        except (ssl.SSLError, OSError):  # a certificate refused, by the client or by us
            _close_after_alert(secured)
            return
        self.connections += 1
        upstream = socket.create_connection(("127.0.0.1", self.upstream))
        back = threading.Thread(target=_pipe, args=(upstream, secured), daemon=True)
        back.start()
        _pipe(secured, upstream)
        back.join(timeout=30)
        secured.close()
        upstream.close()


def _close_after_alert(client: ssl.SSLSocket) -> None:
    """Close once the client has read the alert: closing with its first request still
    unread would reset the connection, and the client might see the reset, not the alert."""
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_WR)  # plain TCP from here: the TLS session failed
        client.settimeout(10)
        while client.recv(65536):
            pass
    client.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
