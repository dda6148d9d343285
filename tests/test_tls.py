"""TLS for the HTTP backends (winged_monkey.tls), against real servers on 127.0.0.1: a plain
HTTP one, and an HTTPS one whose certificate a test CA signed.

The default trust is read at the first handshake, not when a client is made: a plain
http:// endpoint never pays for it, and an https:// one is verified exactly as before.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.certs import make_ca, server_certificate
from winged_monkey.errors import ConfigError
from winged_monkey.tls import DeferredTrust, client_context


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Servers:
    http: str
    https: str
    ca: Path


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    ca, ca_key, ca_cert = make_ca(tmp_path, "wm-test-tls-ca")
    cert, key = server_certificate(tmp_path, ca_key, ca_cert)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure.socket = context.wrap_socket(secure.socket, server_side=True)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (plain, secure)]
    for thread in threads:
        thread.start()
    try:
        yield Servers(
            f"http://127.0.0.1:{plain.server_port}/",
            f"https://127.0.0.1:{secure.server_port}/",
            ca,
        )
    finally:
        for server in (plain, secure):
            server.shutdown()
            server.server_close()


async def _get(url: str, verify: ssl.SSLContext) -> httpx.Response:
    async with httpx.AsyncClient(verify=verify, timeout=10) as client:
        return await client.get(url)


async def test_plain_http_never_reads_the_default_trust(servers: Servers) -> None:
    trust = DeferredTrust()
    reply = await _get(servers.http, trust)
    assert reply.json() == {"hello": "world"}
    assert not trust.loaded
    assert trust.cert_store_stats()["x509_ca"] == 0


async def test_the_default_trust_verifies_at_the_first_handshake(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # certifi's bundle does not know the test CA: refused, as httpx's own default refuses.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    refused = DeferredTrust()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await _get(servers.https, refused)
    assert refused.loaded
    assert refused.cert_store_stats()["x509_ca"] > 100  # certifi's roots

    # httpx honours SSL_CERT_FILE for its default; so does the deferred trust.
    monkeypatch.setenv("SSL_CERT_FILE", str(servers.ca))
    trusted = DeferredTrust()
    assert not trusted.loaded
    assert (await _get(servers.https, trusted)).json() == {"hello": "world"}
    assert trusted.cert_store_stats()["x509_ca"] == 1


async def test_hostname_is_checked(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificate names 127.0.0.1 only: reached as localhost, it is refused."""
    monkeypatch.setenv("SSL_CERT_FILE", str(servers.ca))
    as_localhost = servers.https.replace("127.0.0.1", "localhost")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await _get(as_localhost, DeferredTrust())


async def test_an_account_bundle_or_no_verification(servers: Servers, tmp_path: Path) -> None:
    bundled = client_context(True, servers.ca, account="team")
    assert (await _get(servers.https, bundled)).json() == {"hello": "world"}
    folder = tmp_path / "hashed"  # a c_rehash-style directory is a bundle too
    folder.mkdir()
    assert isinstance(client_context(True, folder, account="team"), ssl.SSLContext)
    lab = client_context(False, None, account="lab")
    assert (await _get(servers.https, lab)).json() == {"hello": "world"}
    assert isinstance(client_context(True, None, account="any"), DeferredTrust)


def test_a_bad_bundle_is_a_config_error_naming_the_account(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ca_bundle .*missing.pem: no such file") as missing:
        client_context(True, tmp_path / "missing.pem", account="team")
    assert missing.value.account == "team"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="not a readable PEM CA bundle"):
        client_context(True, garbage, account="team")
