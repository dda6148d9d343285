"""libcloud's and requests' exceptions as the portal's typed errors, with messages for people.

A message never quotes a request URL (EC2 temporary credentials travel in the
query string) and every secret the account holds is masked as a last resort.
"""

from __future__ import annotations

import socket
import ssl

import requests
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError, LibcloudError, MalformedResponseError

from winged_monkey.credentials import Secrets
from winged_monkey.errors import AuthError, BackendError, UnreachableError, WMError


def translate(exc: BaseException, *, provider: str, where: str, secrets: Secrets) -> WMError:
    """The WMError to raise for `exc`, raised by a call to `provider` at `where` (host:port)."""
    account = secrets.account
    if isinstance(exc, WMError):
        return exc
    if isinstance(exc, InvalidCredsError):
        reason = _text(getattr(exc, "value", None) or exc)
        error: WMError = AuthError(
            f"credentials refused by {provider}: {reason}; check the key/secret "
            f"(wm accounts set-secret {account})",
            account=account,
        )
    elif isinstance(exc, requests.exceptions.SSLError | ssl.SSLError):
        error = UnreachableError(
            f"TLS handshake with {where} failed (certificate or protocol); check the "
            "endpoint's `secure` setting and the server's certificate",
            account=account,
        )
    elif isinstance(exc, requests.exceptions.Timeout | socket.timeout | TimeoutError):
        error = UnreachableError(f"no answer from {where} in time (timeout)", account=account)
    elif isinstance(exc, requests.exceptions.ConnectionError | ConnectionError | OSError):
        error = UnreachableError(
            f"cannot reach {where}: {_connection_reason(exc)}", account=account
        )
    elif isinstance(exc, MalformedResponseError):
        error = BackendError(
            f"{provider} at {where} sent an answer that is not what its API returns "
            "(wrong endpoint or a proxy in the way?)",
            account=account,
        )
    elif isinstance(exc, BaseHTTPError):
        reason = _text(exc.message) or f"HTTP {exc.code}"
        error = BackendError(f"{provider} refused: {reason}", account=account)
    elif isinstance(exc, LibcloudError):
        error = BackendError(f"{provider}: {_text(exc.value)}", account=account)
    else:
        error = BackendError(f"{provider}: {type(exc).__name__}: {_text(exc)}", account=account)
    error.message = mask(error.message, secrets)
    return error


def _connection_reason(exc: BaseException) -> str:
    """Why a connection failed, from the exception chain, without quoting the URL."""
    seen: BaseException | None = exc
    chain: list[BaseException] = []
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
        if seen is None and chain[-1].args and isinstance(chain[-1].args[0], BaseException):
            seen = chain[-1].args[0]
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return "connection refused (nothing listens there; is the endpoint right?)"
        if isinstance(item, socket.gaierror):
            return "host name not found (DNS)"
        if isinstance(item, ConnectionResetError):
            return "connection reset by the server"
    text = " ".join(str(item) for item in chain)
    if "refused" in text:
        return "connection refused (nothing listens there; is the endpoint right?)"
    if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text:
        return "host name not found (DNS)"
    return "connection failed"


def _text(value: object) -> str:
    return " ".join(str(value).split())[:500]


def mask(message: str, secrets: Secrets) -> str:
    """Replace every secret value the account holds, should a provider ever echo one."""
    for value in (secrets.secret, secrets.token):
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return message
