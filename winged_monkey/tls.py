"""TLS verification for the backends that speak HTTP themselves (Heat, the aggregator),
and the client certificate an account presents (mutual TLS), checked here for all backends.

httpx builds its SSL context when a client is made, reading the whole default CA bundle
(certifi's 140-odd certificates: 20-50 ms here) even for a plain http:// endpoint that
never shakes hands. The default trust here is read at the first TLS handshake instead,
the way requests does it per connection; an explicit CA bundle is read at once, so a bad
path is a config error before any request.
"""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from winged_monkey.errors import ConfigError

if TYPE_CHECKING:
    import socket


class DeferredTrust(ssl.SSLContext):
    """A verifying client context (hostname checked, certificate required) whose trust
    anchors are httpx's defaults, loaded on the first handshake: `SSL_CERT_FILE` or
    `SSL_CERT_DIR` when set, else certifi's bundle."""

    _loaded: bool
    _lock: threading.Lock

    def __new__(cls) -> DeferredTrust:
        # PROTOCOL_TLS_CLIENT's defaults are create_default_context's: CERT_REQUIRED,
        # check_hostname, and Python's choice of versions and ciphers.
        context = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        context._loaded = False
        context._lock = threading.Lock()
        return context

    @property
    def loaded(self) -> bool:
        """Whether the trust anchors have been read (the first handshake did it)."""
        return self._loaded

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            if cafile := os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=cafile)
            elif capath := os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=capath)
            else:
                import certifi  # httpx's own dependency, and its default bundle

                self.load_verify_locations(cafile=certifi.where())
            self._loaded = True

    # asyncio (and so anyio and httpx) wraps a memory BIO; blocking code wraps a socket.
    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        self._load()
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        self._load()
        return super().wrap_socket(
            sock,
            server_side,
            do_handshake_on_connect,
            suppress_ragged_eofs,
            server_hostname,
            session,
        )


@dataclass(frozen=True)
class ClientCert:
    """A client certificate to present (mutual TLS): its PEM file, and its key's file
    unless the certificate's file holds the key too (as requests and openstacksdk allow)."""

    cert: str
    key: str | None = None


def client_pair(
    cert: str | None,
    key: str | None,
    *,
    account: str,
    plain_only: str,
    names: tuple[str, str] = ("client_cert", "client_key"),
) -> ClientCert | None:
    """An account's certificate and key (`names`: the settings they came from, for the
    words), checked now so that a wrong one is a config error naming the account, not a
    failed handshake later; None when neither is set. `plain_only` says who cannot take a
    key with a passphrase ("keystoneauth and libcloud take only a plain key")."""
    if cert is None:
        if key is not None:
            raise ConfigError(
                f"{names[1]} {key} without {names[0]}: name the certificate it goes with",
                account=account,
            )
        return None
    cert_path = Path(cert).expanduser()
    key_path = None if key is None else Path(key).expanduser()
    for name, path in zip(names, (cert_path, key_path), strict=True):
        if path is None:
            continue
        if not path.is_file():
            raise ConfigError(f"{name} {path}: no such file", account=account)
        try:  # OpenSSL's own error would not say which of the two files it was
            path.open("rb").close()
        except OSError as exc:
            said = (exc.strerror or type(exc).__name__).lower()
            raise ConfigError(f"{name} {path}: cannot read ({said})", account=account) from None
    asked: list[bool] = []

    def passphrase() -> bytes:  # OpenSSL would ask on the terminal, under the TUI
        asked.append(True)
        return b""

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(
            cert_path, key_path, password=passphrase
        )
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None)
        if asked:
            why = f"its key has a passphrase; {plain_only}"
        elif reason == "KEY_VALUES_MISMATCH":
            why = f"{names[1]} {key_path} is not this certificate's key"
        elif key_path is None:
            why = f"no certificate and key in it; name the key's file with {names[1]}"
        else:
            why = f"not a PEM certificate and key ({reason or type(exc).__name__})"
        raise ConfigError(f"{names[0]} {cert_path}: {why}", account=account) from None
    return ClientCert(str(cert_path), None if key_path is None else str(key_path))


def client_context(
    verify: bool,
    ca_bundle: str | Path | None,
    *,
    account: str,
    client: ClientCert | None = None,
    name: str = "ca_bundle",
) -> ssl.SSLContext:
    """What httpx's `verify` takes for an account: trust only `ca_bundle` (a PEM file or a
    hashed directory) when set, no verification when `verify` is false (a lab), else the
    default trust, deferred to the first handshake; and `client` (from `client_pair`)
    presented to a server that asks for a certificate. `name`: the setting the bundle
    came from, for the words."""
    context = _trust(verify, ca_bundle, account=account, name=name)
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


def _trust(
    verify: bool, ca_bundle: str | Path | None, *, account: str, name: str
) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle is None:
        return DeferredTrust()
    bundle = Path(ca_bundle).expanduser()
    try:
        if bundle.is_dir():
            return ssl.create_default_context(capath=str(bundle))
        return ssl.create_default_context(cafile=str(bundle))
    except FileNotFoundError:
        raise ConfigError(f"{name} {bundle}: no such file", account=account) from None
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"{name} {bundle}: not a readable PEM CA bundle ({why})", account=account
        ) from None
