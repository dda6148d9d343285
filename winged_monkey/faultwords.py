"""Words for the faults every HTTP backend meets (throttling, a server's error, a reply cut
short, a certificate refused), so that EC2, Heat, the aggregator and vSphere say them alike.

Each backend finds the facts (status, headers, the provider's text, the exception chain);
this module turns them into one message naming the account and, where one exists, the
setting that fixes it. Nothing here quotes a URL: request URLs may carry credentials.
"""

from __future__ import annotations

import datetime
import http.client
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from winged_monkey.errors import (
    GATEWAY_LOST,
    AnswerLostError,
    GatewayLostError,
    ServerError,
    ThrottledError,
    UnreachableError,
)

#: What a person can do about a call that got no answer in time (after the facts).
ONLY_SLOW = "raise the account's `timeout` if the cloud is only slow"

#: Providers' own codes for "too many requests", whatever HTTP status carries them
#: (EC2 sends RequestLimitExceeded with 503, other AWS APIs Throttling with 400).
THROTTLING_CODES = frozenset(
    {
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "OverLimit",
        "RateLimitExceeded",
    }
)

#: Longest piece of a provider's own text put into a message.
MAX_QUOTED = 300

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code).
_UNKNOWN_CA = frozenset({2, 18, 19, 20, 21})
_EXPIRED = 10
_NOT_YET_VALID = 9
_NAME_MISMATCH = frozenset({62, 63, 64})

#: OpenSSL's reasons for an alert the server sent about the client's certificate (mutual
#: TLS): the client verifies the server's itself, so these can only be about its own.
_CLIENT_CERT_ALERTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "none reached it",
    "TLSV1_ALERT_UNKNOWN_CA": "not signed by a CA it trusts",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "revoked",
    "SSLV3_ALERT_BAD_CERTIFICATE": "a bad certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "not accepted",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "not a kind it accepts",
}


#: A URL's query (`?Action=...&X-Amz-Security-Token=...`), which may carry credentials.
_QUERY = re.compile(r"\?[^\s?]*=\S*")


def quoted(text: object) -> str:
    """One line of printable text, cut: a provider's words, never its markup, escapes, or
    a query string it echoed (a proxy's error page may quote the request line)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    flat = _QUERY.sub("?…", flat)
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…"


def chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what caused it: __cause__, __context__, and the exceptions urllib3 and
    requests keep in `.reason` or their first argument."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for nxt in (
            item.__cause__,
            item.__context__,
            getattr(item, "reason", None),
            *(a for a in item.args if isinstance(a, BaseException)),
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def retry_after(value: str | None, *, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date; None when
    absent or unreadable (a date in the past is 0)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # only for the rare HTTP-date form

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        seconds = (when - (now or datetime.datetime.now(datetime.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value whatever the case of its name (libcloud lowercases, httpx does not care)."""
    if not headers:
        return None
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), None)


def throttling_code(text: str) -> str | None:
    """The provider's throttling code if its error text names one."""
    return next((code for code in sorted(THROTTLING_CODES) if code in text), None)


def throttled(
    service: str,
    *,
    status: int | None,
    headers: Mapping[str, str] | None,
    account: str | None,
    code: str | None = None,
) -> ThrottledError:
    """ "EC2 is throttling requests (HTTP 429); the next poll waits 7 s"."""
    wait = retry_after(header(headers, "Retry-After"))
    what = ", ".join(p for p in (f"HTTP {status}" if status else "", code or "") if p)
    then = (
        f"the next poll waits {max(wait, 1):.0f} s"
        if wait is not None
        else "the next poll tries again"
    )
    return ThrottledError(
        f"{service} is throttling requests ({what}); {then}", account=account, retry_after=wait
    )


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "no standard name"


def server_error(
    service: str, *, where: str, status: int, text: str | None, account: str | None
) -> ServerError:
    """ "EC2 at 127.0.0.1:8000 answered HTTP 503 (Service Unavailable): <its own words>"
    (a proxy's HTML page, or words that only repeat the status, are left out)."""
    said = quoted(text or "")
    if said.startswith("<") or said in (
        "",
        f"HTTP {status}",
        f"{status} {phrase(status)}",
        phrase(status),
    ):
        said = ""
    # A gateway's 502 or 504 passed the request on: what it asked may have happened.
    kind = GatewayLostError if status in GATEWAY_LOST else ServerError
    return kind(
        f"{service} at {where} answered HTTP {status} ({phrase(status)})"
        + (f": {said}" if said else ""),
        account=account,
        status=status,
    )


def cut_short(where: str, *, account: str | None) -> AnswerLostError:
    return AnswerLostError(
        f"the reply from {where} was cut short (connection closed mid-answer)", account=account
    )


def closed_without_answer(where: str, *, account: str | None) -> AnswerLostError:
    return AnswerLostError(
        f"{where} closed the connection without answering (a proxy or load balancer in the "
        "way, or the server restarting?)",
        account=account,
    )


def reset_without_answer(where: str, *, account: str | None) -> AnswerLostError:
    return AnswerLostError(
        f"the connection to {where} was reset before its whole answer came (a firewall, proxy or "
        "load balancer in the way, or the server restarting?)",
        account=account,
    )


def is_cut_short(exc: BaseException) -> bool:
    """Whether the connection closed in the middle of a reply (not before it began)."""
    for item in chain(exc):
        name = type(item).__name__
        if name == "RemoteProtocolError":  # httpx's: mid-body, or before any reply at all
            if "complete message body" in str(item) or "incomplete" in str(item):
                return True
            if _h11_partial(item):
                return True
            continue
        if isinstance(item, http.client.IncompleteRead) or name in (
            "IncompleteRead",  # urllib3's
            "ChunkedEncodingError",  # requests'
        ):
            return True
        if isinstance(item, http.client.BadStatusLine) and not isinstance(
            item, http.client.RemoteDisconnected
        ):
            return True  # a status line that stops half-way
    return False


def _h11_partial(exc: BaseException) -> bool:
    """Whether httpcore's "Server disconnected without sending a response" came after part
    of a reply's head: h11 keeps the bytes it could not parse yet, which the exception's
    frames still hold."""
    trace = exc.__traceback__
    while trace is not None:
        state = getattr(trace.tb_frame.f_locals.get("self"), "_h11_state", None)
        trailing = getattr(state, "trailing_data", None)
        if isinstance(trailing, tuple) and trailing and trailing[0]:
            return True
        trace = trace.tb_next
    return False


def closed_before_reply(exc: BaseException) -> bool:
    """Whether the server closed the connection without sending a byte of a reply."""
    if is_cut_short(exc):
        return False
    for item in chain(exc):
        if isinstance(item, http.client.RemoteDisconnected):
            return True
        if type(item).__name__ == "RemoteProtocolError" and "without sending a response" in str(
            item
        ):
            return True
    return False


def was_reset(exc: BaseException) -> bool:
    """Whether the connection was reset (a TCP RST) before a whole reply came: the request
    may have reached the server, which may have acted on it (a stop carried out)."""
    return not is_cut_short(exc) and any(isinstance(i, ConnectionResetError) for i in chain(exc))


@dataclass(frozen=True)
class TlsRemedy:
    """What an account can set about a certificate it does not trust."""

    account: str | None
    ca_bundle: str | None = None  # the bundle in use, if one is set
    opt_out: str | None = None  # the backend's way to stop verifying ("verify = false")
    client_cert: str | None = None  # the client certificate presented, if one is set
    client_setting: str | None = None  # the backend's way to present one, if it has one


def certificate_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error in `exc`'s chain, if a TLS failure is what happened."""
    found: ssl.SSLError | None = None
    for item in chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return item
        if isinstance(item, ssl.SSLError) and found is None:
            found = item
    return found


def tls_failure(error: ssl.SSLError, *, where: str, remedy: TlsRemedy) -> UnreachableError:
    """The handshake's failure with its cause and the setting that fixes it."""
    account = remedy.account
    if error.reason in _CLIENT_CERT_ALERTS:
        return _client_cert_refused(error, where=where, remedy=remedy)
    if not isinstance(error, ssl.SSLCertVerificationError):
        why = quoted(error.reason or error.strerror or type(error).__name__)
        return UnreachableError(
            f"TLS handshake with {where} failed ({why}); is it an HTTPS endpoint (the "
            "endpoint's `secure` setting) and does it speak a TLS version this host accepts?",
            account=account,
        )
    code = error.verify_code
    detail = quoted(error.verify_message or error.reason or "not verified")
    last_resort = (
        f" ({remedy.opt_out} turns verification off: a lab only)" if remedy.opt_out else ""
    )
    if code in _UNKNOWN_CA:
        if remedy.ca_bundle:
            fix = (
                f"it is not signed by a CA in ca_bundle {remedy.ca_bundle}: put the CA that "
                "signed it in that file"
            )
        else:
            fix = f'set ca_bundle = "/path/ca.pem" (the CA that signed it) for account {account}'
        text = (
            f"TLS: the certificate of {where} is signed by an unknown authority "
            f"(self-signed?): {detail}; {fix}{last_resort}"
        )
    elif code == _EXPIRED:
        text = (
            f"TLS: the certificate of {where} has expired; the server needs a new one "
            "(or this host's clock is wrong); ca_bundle cannot fix this"
        )
    elif code == _NOT_YET_VALID:
        text = (
            f"TLS: the certificate of {where} is not valid yet; check this host's clock "
            "and the server's"
        )
    elif code in _NAME_MISMATCH:
        text = (
            f"TLS: the certificate of {where} is for another host name ({detail}); address "
            "the server by a name its certificate holds, or give it a certificate for this one"
        )
    else:
        text = f"TLS: the certificate of {where} was refused: {detail}{last_resort}"
    return UnreachableError(text, account=account)


def _client_cert_refused(error: ssl.SSLError, *, where: str, remedy: TlsRemedy) -> UnreachableError:
    """The server's alert about the client certificate: none was presented, or this one
    is not one it accepts."""
    account = remedy.account
    if remedy.client_cert is None:
        fix = (
            f"set {remedy.client_setting} for account {account}"
            if remedy.client_setting
            else f"account {account} cannot present one"
        )
        return UnreachableError(
            f"TLS: {where} asks for a client certificate: {fix}", account=account
        )
    why = _CLIENT_CERT_ALERTS[str(error.reason)]
    return UnreachableError(
        f"TLS: {where} refused the client certificate {remedy.client_cert} ({why}); "
        "ask the server's admins for one it accepts",
        account=account,
    )


def connection_fault(
    exc: BaseException, *, where: str, remedy: TlsRemedy
) -> UnreachableError | AnswerLostError | None:
    """A refused certificate (with its cause and the setting that fixes it), a reply cut
    short, or a connection closed before any answer; None for the other faults."""
    tls = certificate_error(exc)
    if tls is not None:
        return tls_failure(tls, where=where, remedy=remedy)
    if is_cut_short(exc):
        return cut_short(where, account=remedy.account)
    if closed_before_reply(exc):
        return closed_without_answer(where, account=remedy.account)
    if was_reset(exc):
        return reset_without_answer(where, account=remedy.account)
    return None


def os_reason(exc: BaseException) -> str:
    """Why a connection failed, from the OS error under it if there is one (an HTTP
    library's "All connection attempts failed" says little)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip()
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return quoted(text[:200]) or type(exc).__name__
