"""Every fault in words a user can act on: throttling with its Retry-After, a server's error
with its status and text, a reply cut short, a TLS refusal with its cause and the setting
that fixes it, and an action on an account that did not answer.

EC2 faults come from the fault proxy in front of the real moto; TLS refusals from a real
HTTPS server on 127.0.0.1 whose certificate is signed by an unknown CA, expired, or made
for another host, met by each backend's own client (libcloud, Heat, aggregator, vSphere).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import http.server
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.certs import make_ca, server_certificate
from tests.conftest import DEV_KEY, DEV_SECRET, Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey import faultwords, plugins
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import ServerError, ThrottledError, UnreachableError, WMError
from winged_monkey.user.config import AccountConfig, Credentials, Endpoint
from winged_monkey.user.credentials import Secrets
from winged_monkey_libcloud import LibcloudBackend

EC2_THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    b"<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
    b"</Error></Errors><RequestID>1</RequestID></Response>"
)
PROXY = Callable[[int], FaultProxy]


def fail(backend: Any) -> WMError:
    """The error the backend's listing raises (and close it)."""

    async def run() -> WMError:
        try:
            await backend.list_instances()
        except WMError as exc:
            return exc
        finally:
            await backend.close()
        raise AssertionError("the listing succeeded through a fault")

    return asyncio.run(run())


def ec2_backend(cloud: Cloud, port: int) -> LibcloudBackend:
    secrets = Secrets(account="dev", key=DEV_KEY, secret=DEV_SECRET, source="env")
    return LibcloudBackend(cloud.account("dev", port=port), secrets)


# -- EC2 through the fault proxy ---------------------------------------------------------


def test_ec2_throttling_keeps_retry_after(cloud: Cloud, fault_proxy: PROXY) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("status", status=429, headers={"Retry-After": "7"}, body=b"slow down")
    error = fail(ec2_backend(cloud, proxy.port))
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7
    assert str(error) == "dev: EC2 is throttling requests (HTTP 429); the next poll waits 7 s"


def test_ec2_throttling_code_and_an_http_date(cloud: Cloud, fault_proxy: PROXY) -> None:
    proxy = fault_proxy(cloud.server.port)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=60)
    proxy.fault = Fault(
        "status",
        status=503,
        headers={"Retry-After": email.utils.format_datetime(later, usegmt=True)},
        body=EC2_THROTTLED,
    )
    error = fail(ec2_backend(cloud, proxy.port))
    assert isinstance(error, ThrottledError)
    assert error.retry_after is not None
    assert 30 < error.retry_after <= 61
    assert error.message.startswith(
        "EC2 is throttling requests (HTTP 503, RequestLimitExceeded); the next poll waits "
    )


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (500, b"database unavailable", "answered HTTP 500 (Internal Server Error): database "),
        (503, b"", "answered HTTP 503 (Service Unavailable)"),
        (
            504,
            b"timed out: GET /?Action=DescribeInstances&X-Amz-Security-Token=tok",
            "answered HTTP 504 (Gateway Timeout): timed out: GET /?…",
        ),
        (502, b"<html><body>Bad Gateway</body></html>", "answered HTTP 502 (Bad Gateway)"),
    ],
)
def test_ec2_server_errors_keep_status_and_text(
    cloud: Cloud, fault_proxy: PROXY, status: int, body: bytes, words: str
) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("status", status=status, body=body)
    error = fail(ec2_backend(cloud, proxy.port))
    assert isinstance(error, ServerError)
    assert error.status == status
    assert error.message.startswith(f"EC2 at 127.0.0.1:{proxy.port} {words}"), error.message
    assert "<" not in error.message  # a proxy's page is not quoted


@pytest.mark.parametrize("keep", [10, 100, 400, 2000])
def test_ec2_reply_cut_short(cloud: Cloud, fault_proxy: PROXY, keep: int) -> None:
    """Cut in the status line, in the headers, just after them, and in the body (three
    instances are several KB of XML)."""
    ec2 = cloud.ec2()
    for name in ("a", "b", "c"):
        cloud.launch(ec2, name)
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("truncate", keep=keep)
    error = fail(ec2_backend(cloud, proxy.port))
    assert str(error) == (
        f"dev: the reply from 127.0.0.1:{proxy.port} was cut short (connection closed mid-answer)"
    )
    assert DEV_SECRET not in str(error)


def test_ec2_connection_closed_before_any_answer(cloud: Cloud, fault_proxy: PROXY) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("close")
    error = fail(ec2_backend(cloud, proxy.port))
    assert isinstance(error, UnreachableError)
    assert error.message.startswith(
        f"127.0.0.1:{proxy.port} closed the connection without answering"
    )


def test_ec2_garbage_is_not_an_empty_account(cloud: Cloud, fault_proxy: PROXY) -> None:
    """A captive portal's page parses as XML: it must not read as "no instances"."""
    cloud.launch(cloud.ec2(), "web")
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("garbage")
    error = fail(ec2_backend(cloud, proxy.port))
    assert error.message == (
        f"ec2 at 127.0.0.1:{proxy.port} sent an answer that is not what its API returns "
        "(wrong endpoint or a proxy in the way?)"
    )


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert faultwords.retry_after("7") == 7
    assert faultwords.retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30
    assert faultwords.retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0
    assert faultwords.retry_after("soon") is None
    assert faultwords.retry_after(None) is None


# -- TLS: each backend's own client against a real HTTPS server ----------------------------


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HandshakeServer(http.server.ThreadingHTTPServer):
    """Shakes hands in each connection's own thread: a client that fails (or never
    finishes) its handshake cannot stall the accepting loop, nor its shutdown."""

    def __init__(self, address: tuple[str, int], handler: type[_Hello]) -> None:
        super().__init__(address, handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(5)
        try:
            secured = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused the certificate: what the tests expect
        super().finish_request(secured, client_address)


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path  # the CA that signed its certificate


@contextlib.contextmanager
def tls_server_of(kind: str, folder: Path) -> Iterator[TlsServer]:
    """An HTTPS server on 127.0.0.1 whose certificate is `kind`: signed by a CA the client
    is not given (unknown-ca), expired, or for another host name (both by a given CA)."""
    ca, ca_key, ca_cert = make_ca(folder, "wm-faults-ca")
    cert, key = server_certificate(
        folder,
        ca_key,
        ca_cert,
        expired=kind == "expired",
        host="elsewhere.test" if kind == "wrong-host" else None,
    )
    server = _HandshakeServer(("127.0.0.1", 0), _Hello)
    server.context.load_cert_chain(cert, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsServer(server.server_port, ca)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["unknown-ca", "expired", "wrong-host"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, TlsServer]]:
    kind: str = request.param
    with tls_server_of(kind, tmp_path) as server:
        yield kind, server


def tls_account(backend: str, port: int, bundle: Path | None) -> AccountConfig:
    extra: dict[str, Any] = {} if bundle is None else {"ca_bundle": str(bundle)}
    credentials = Credentials(key="user", keyring=False, secret_env="WM_TEST_TLS_SECRET")
    if backend == "libcloud":
        endpoint = Endpoint(host="127.0.0.1", port=port, secure=True)
        return AccountConfig(
            name="x", provider="ec2", region="us-east-1", endpoint=endpoint,
            credentials=credentials, timeout=10, **extra,
        )  # fmt: skip
    if backend == "heat":
        extra |= {"endpoint_url": f"https://127.0.0.1:{port}/v1", "project": "p"}
    elif backend == "aggregator":
        extra |= {"url": f"https://127.0.0.1:{port}"}
    else:
        extra |= {"endpoint": Endpoint(host="127.0.0.1", port=port, secure=True)}
    return AccountConfig.model_validate(
        {"name": "x", "backend": backend, "credentials": credentials, "timeout": 10, **extra}
    )


@pytest.mark.parametrize("backend", ["libcloud", "heat", "aggregator", "vsphere"])
def test_tls_refusals_say_why_and_what_fixes_it(
    tls_server: tuple[str, TlsServer], backend: str
) -> None:
    kind, server = tls_server
    bundle = None if kind == "unknown-ca" else server.ca  # the right CA: only the cert is wrong
    account = tls_account(backend, server.port, bundle)
    secrets = Secrets(account="x", key="user", secret="tls-test-secret", source="env")
    error = fail(plugins.load(backend)(account, secrets))
    message = str(error)
    # The peer may be named before its address ("of Heat at", "of the aggregator at").
    said = re.match(
        rf"x: TLS: the certificate of ((the )?\w+ at )?127\.0\.0\.1:{server.port} ", message
    )
    assert said or f"identity, 127.0.0.1:{server.port})" in message
    if kind == "unknown-ca":
        assert "is signed by an unknown authority (self-signed?)" in message
        assert 'set ca_bundle = "/path/ca.pem" (the CA that signed it) for account x' in message
        if backend != "libcloud":  # libcloud has no per-account way to stop verifying
            assert "insecure = true" in message or "verify = false" in message
    elif kind == "expired":
        assert "has expired" in message
        assert "ca_bundle cannot fix this" in message
    else:
        assert "is for another host name (" in message
        assert "127.0.0.1" in message
    assert "tls-test-secret" not in message


def test_a_ca_bundle_that_does_not_hold_the_signer_is_named(tmp_path: Path) -> None:
    other, _, _ = make_ca(tmp_path, "not-the-signer")
    with tls_server_of("unknown-ca", tmp_path) as server:
        account = tls_account("libcloud", server.port, other)
        error = fail(LibcloudBackend(account, Secrets(account="x", key="k", secret="s-value")))
    assert f"it is not signed by a CA in ca_bundle {other}" in error.message


# -- the CLI: an action on an account that did not answer ------------------------------------


def test_an_action_on_a_failing_account_shows_its_error(
    cloud: Cloud, fault_proxy: PROXY, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = cloud.ec2()
    web = cloud.launch(ec2, "web-faults")
    proxy = fault_proxy(cloud.server.port)
    monkeypatch.setenv("WM_TEST_FAULTS_SECRET", DEV_SECRET)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 10\n'
        f'endpoint = {{ host = "127.0.0.1", port = {proxy.port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", secret_env = "WM_TEST_FAULTS_SECRET", '
        "keyring = false }\n"
    )
    env = {"WM_CONFIG": str(config), "WM_DATA_DIR": str(tmp_path / "data")}

    def wm(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    proxy.fault = Fault("status", status=503, body=b"maintenance")
    line = f"wm: dev: EC2 at 127.0.0.1:{proxy.port} answered HTTP 503 (Service Unavailable): "
    listed = wm("ls")
    assert line + "maintenance" in listed.stderr
    for ref in (f"dev/{web}", "web-faults"):
        stopped = wm("stop", ref, "--yes")
        assert stopped.exit_code == ExitCode.FAILED, stopped.stderr
        assert line + "maintenance" in stopped.stderr
        assert "no instance matches" not in stopped.stderr or "among the accounts that " in (
            stopped.stderr
        )
    assert cloud.state_of(ec2, web) == "running"  # nothing reached the cloud
    proxy.fault = Fault("pass")
    unknown = wm("stop", "dev/i-00000000000000000", "--yes")
    assert unknown.exit_code == ExitCode.NOT_FOUND  # the account answered: a wrong id
