"""libcloud's and requests' exceptions as the portal's typed errors, with messages for people.

A message never quotes a request URL (EC2 temporary credentials travel in the
query string) and every secret the account holds is masked as a last resort.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from libcloud.common.base import Response
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError, LibcloudError, MalformedResponseError
from libcloud.compute.base import NodeDriver

from winged_monkey import faultwords
from winged_monkey.account import Secrets
from winged_monkey.errors import (
    AuthError,
    BackendError,
    DeadlineError,
    UnreachableError,
    WMError,
)

#: How the portal names a provider in a sentence ("EC2 is throttling requests").
_DISPLAY = {"ec2": "EC2", "openstack": "OpenStack", "libvirt": "libvirt"}

#: How a libcloud account presents a client certificate (tls.py), for a server that asks.
CLIENT_SETTING = "client_cert and client_key (clouds.yaml: cert and key)"


def translate(exc: BaseException, *, provider: str, where: str, secrets: Secrets) -> WMError:
    """The WMError to raise for `exc`, raised by a call to `provider` at `where` (host:port)."""
    account = secrets.account
    if isinstance(exc, WMError):
        return exc
    if isinstance(exc, InvalidCredsError):
        reason = _text(getattr(exc, "value", None) or exc)
        remedy = (
            f"they came from {secrets.aws.source}"
            if secrets.aws is not None
            else f"check the key/secret (wm accounts set-secret {account})"
        )
        error: WMError = AuthError(
            f"credentials refused by {provider}: {reason}; {remedy}", account=account
        )
    elif (tls := faultwords.certificate_error(exc)) is not None:
        bundle, client_cert = _pinned(exc)
        fixes = faultwords.TlsRemedy(
            account, ca_bundle=bundle, client_cert=client_cert, client_setting=CLIENT_SETTING
        )
        error = faultwords.tls_failure(tls, where=where, remedy=fixes)
    elif faultwords.is_cut_short(exc):
        error = faultwords.cut_short(where, account=account)
    elif faultwords.closed_before_reply(exc):
        error = faultwords.closed_without_answer(where, account=account)
    elif faultwords.was_reset(exc):
        error = faultwords.reset_without_answer(where, account=account)
    elif isinstance(exc, requests.exceptions.Timeout | socket.timeout | TimeoutError):
        # No answer came (the socket's timeout beat the engine's deadline): like the deadline,
        # a request sent may have reached the cloud, so an action's outcome is unknown.
        error = DeadlineError(
            f"no answer from {where} in time (timeout): {faultwords.ONLY_SLOW}", account=account
        )
    elif isinstance(exc, requests.exceptions.ConnectionError | ConnectionError | OSError):
        error = UnreachableError(
            f"cannot reach {where}: {_connection_reason(exc)}", account=account
        )
    elif (
        answered := _http_fault(exc, provider=provider, where=where, account=account)
    ) is not None:
        error = answered
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
    error.message = secrets.mask(error.message)
    return error


@dataclass(frozen=True)
class _Reply:
    """What the provider answered to the call that failed, as far as it got."""

    status: int
    headers: Mapping[str, str]
    body: str
    complete: bool  # the body came whole (its Content-Length, or no length to check)


def _reply(exc: BaseException) -> _Reply | None:
    """The reply behind `exc`: libcloud's Response being parsed when it failed (its status
    and headers are lost in MalformedResponseError), else the last reply the failing
    driver's connection received (a parser that choked on an empty body)."""
    parsed: Response | None = None
    driver: NodeDriver | None = None
    trace = exc.__traceback__
    while trace is not None:
        found = trace.tb_frame.f_locals
        # A driver's method, or a function of ours handed the driver (ec2pages).
        for holder in (found.get("self"), found.get("driver")):
            if isinstance(holder, Response):
                parsed = holder
            elif isinstance(holder, NodeDriver):
                driver = holder
        trace = trace.tb_next
    if parsed is not None:
        headers = {str(k).lower(): str(v) for k, v in dict(parsed.headers or {}).items()}
        return _Reply(int(parsed.status), headers, str(parsed.body or ""), _complete(headers))
    raw: Any = getattr(
        getattr(getattr(driver, "connection", None), "connection", None), "response", None
    )
    if not isinstance(raw, requests.Response):
        return None
    headers = {k.lower(): v for k, v in raw.headers.items()}
    return _Reply(raw.status_code, headers, raw.text or "", _complete(headers, raw))


def _pinned(exc: BaseException) -> tuple[str | None, str | None]:
    """The account's ca_bundle and client certificate, read from the connection that shook
    hands (tls.py pins them on a connection class of its own), so the message can say they
    were the ones checked and presented."""
    trace = exc.__traceback__
    while trace is not None:
        holder = trace.tb_frame.f_locals.get("self")
        if type(holder).__name__ == "PinnedConnection":
            bundle, cert = getattr(holder, "ca_bundle", None), getattr(holder, "client_cert", None)
            return (
                bundle if isinstance(bundle, str) else None,
                cert if isinstance(cert, str) else None,
            )
        trace = trace.tb_next
    return None, None


def _complete(headers: Mapping[str, str], raw: requests.Response | None = None) -> bool:
    if "content-length" not in headers and "transfer-encoding" not in headers:
        return False  # the head itself was cut before its framing arrived
    if raw is not None and "content-length" in headers:
        try:
            return len(raw.content) >= int(headers["content-length"])
        except ValueError:
            return False
    return True


def _http_fault(exc: BaseException, *, provider: str, where: str, account: str) -> WMError | None:
    """Throttling, a server's error with its status and text, or a reply cut short; None
    when `exc` is none of them (the caller's wording stands)."""
    service = _DISPLAY.get(provider, provider)
    reply = _reply(exc)
    said = _text(exc.message) if isinstance(exc, BaseHTTPError) else ""
    status = int(exc.code) if isinstance(exc, BaseHTTPError) else reply.status if reply else 0
    headers = (exc.headers if isinstance(exc, BaseHTTPError) and exc.headers else None) or (
        reply.headers if reply else {}
    )
    if isinstance(exc, BaseHTTPError) or (reply is not None and status >= 400):
        code = faultwords.throttling_code(said)
        if status == 429 or code:
            return faultwords.throttled(
                service, status=status, headers=headers, account=account, code=code
            )
        if status >= 500 or not said:
            text = said or (_provider_text(reply.body) if reply else "")
            # A gateway's 502 or 504 is a lost answer: the cloud may have acted on it.
            return faultwords.server_error(
                service, where=where, status=status, text=text, account=account
            )
        return None  # a 4xx refusal with the provider's reason: "ec2 refused: ..."
    if reply is None:
        return None
    if not reply.complete or (not reply.body.strip() and not isinstance(exc, LibcloudError)):
        # A 200 whose body stopped short (or never came): nothing else makes a parser fail
        # on an API's own success reply.
        return faultwords.cut_short(where, account=account)
    return None


def _provider_text(body: str) -> str:
    """A short reason from an error body that is not the API's own (a proxy's page, plain
    text): its text without markup, or nothing."""
    if "<" in body:
        return ""  # markup: a proxy's HTML page says nothing worth quoting
    return body


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
    text = " ".join(str(item) for item in chain)
    if "refused" in text:
        return "connection refused (nothing listens there; is the endpoint right?)"
    if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text:
        return "host name not found (DNS)"
    return "connection failed"


def _text(value: object) -> str:
    return " ".join(str(value).split())[:500]
