"""The aggregator's answers and the transport's failures as the portal's typed errors.

Messages are for people: they name the account and the aggregator, say what to do,
and never carry the token, a traceback or an unbounded body.
"""

from __future__ import annotations

import ssl

import httpx
from pydantic import ValidationError

from winged_monkey import faultwords
from winged_monkey.errors import (
    AnswerLostError,
    AuthError,
    BackendError,
    InvalidRequest,
    NotFoundError,
    ServerError,
    ThrottledError,
    UnreachableError,
    WMError,
)
from winged_monkey.wire import ErrorOut

#: Longest piece of a server's own text put into a message.
MAX_QUOTED = 200
#: Longest message of the server's own ErrorOut put into one: its words say what to do
#: (a refusal's: "...; fix it with `wm app update quiet`, or destroy it"), so they are
#: said whole, within a bound.
MAX_SAID = 1000

#: What a request may raise for want of an answer. httpcore makes a TLS error an httpx
#: error only in the handshake; the server's alert read after it (TLS 1.3's "certificate
#: required", a client certificate refused) comes out as ssl.SSLError.
NO_ANSWER = (httpx.TransportError, ssl.SSLError)


class TokenRefused(AuthError):
    """401: the token is unknown, expired or revoked."""

    title = "Token refused"


class Forbidden(AuthError):
    """403: the token is good but its role or pools do not allow the request."""

    title = "Not allowed"


class Refused(BackendError):
    """409: the server will not do it now (the state there does not allow it, as its
    backend read it: Heat would refuse the app's suspend), or the account is read-only.
    Nothing was done; an action refused so is a refusal here too (Backend.act)."""

    title = "Not allowed"


class OutcomeLater(AnswerLostError):
    """504 no_answer: the server recorded the request before its cloud's answer was lost,
    and says where its outcome will be (`outcome_href`, as a 202's), once a poll settles it."""

    def __init__(self, message: str, *, account: str, outcome_href: str | None) -> None:
        super().__init__(message, account=account)
        self.outcome_href = outcome_href


class RateLimited(ThrottledError):
    """429: the aggregator limits this token's requests."""

    title = "Rate limited"


#: Why a token was refused, by the aggregator's error code.
_REFUSED = {
    "token_expired": "your token has expired",
    "token_revoked": "your token was revoked",
}


def reply_error(
    reply: httpx.Response, *, account: str, where: str, renew: str | None = None
) -> WMError:
    """The WMError for an answer with status >= 400 from the aggregator at `where`.
    `renew`: how this account takes a new token, where it read the refused one (default:
    the keyring's `wm accounts set-secret`)."""
    status = reply.status_code
    code, said = server_error(reply)
    if status == 401:
        why = _REFUSED.get(code, "it does not know your token (mistyped, or not one of its own)")
        return TokenRefused(
            f"the aggregator at {where} refused the token: {why}. Ask the team admin for a "
            f"new token and {renew or f'store it with `wm accounts set-secret {account}`'}",
            account=account,
        )
    if status == 403:
        return Forbidden(
            f"the aggregator at {where} does not allow this to your token ({said}); ask the "
            "team admin for a token with the role or pool it needs",
            account=account,
        )
    if status == 404:
        return NotFoundError(f"the aggregator has no such thing ({said})", account=account)
    if status == 429:
        wait = faultwords.retry_after(reply.headers.get("Retry-After"))
        return RateLimited(
            f"the aggregator at {where} is limiting this token's requests"
            f"{_retry_after(wait)}; the next poll tries again",
            account=account,
            retry_after=wait,
        )
    if status in (400, 422):
        return InvalidRequest(f"the aggregator refused the request: {said}", account=account)
    if status == 409:  # the state there does not allow it (yet), or the account is read-only
        return Refused(refused_words(said), account=account)
    if status == 504 and code == "no_answer":  # the cloud's answer was lost, not a refusal
        return OutcomeLater(
            f"the aggregator at {where} says: {said}",
            account=account,
            outcome_href=_outcome_href(reply),
        )
    if status >= 500:
        failed = faultwords.server_error(
            "the aggregator", where=where, status=status, text=said, account=account
        )
        if code and isinstance(failed, AnswerLostError):  # its own 502 backend_failed: refused
            return ServerError(failed.message, account=account, status=status)
        return failed  # a gateway's before it (its page, not an ErrorOut): the answer is lost
    return BackendError(f"the aggregator at {where} answered {status}: {said}", account=account)


def _retry_after(seconds: float | None) -> str:
    return "" if seconds is None else f" (retry after {max(seconds, 1):.0f} s)"


def server_error(reply: httpx.Response) -> tuple[str, str]:
    """The ErrorOut's code and message; the status line when the body is not one (a proxy's
    page, say)."""
    try:
        body = ErrorOut.model_validate_json(reply.content)
    except (ValidationError, ValueError):
        return "", f"{reply.status_code} {reply.reason_phrase}".strip()
    return body.error.code, quoted(body.error.message, MAX_SAID) or quoted(body.error.code)


def _outcome_href(reply: httpx.Response) -> str | None:
    """Where a 504 no_answer says the request's outcome will be (its body's, or Location)."""
    try:
        body = ErrorOut.model_validate_json(reply.content)
    except (ValidationError, ValueError):
        return None
    return body.outcome_href or reply.headers.get("Location")


def timed_out(*, account: str, where: str, timeout: float, sent: bool = True) -> WMError:
    """No answer in time; `sent`: the request may have reached the server (not a connect
    timeout), so what it asked for may have happened."""
    return (AnswerLostError if sent else UnreachableError)(
        f"no answer from the aggregator at {where} within {timeout:g} s: {faultwords.ONLY_SLOW}",
        account=account,
    )


def transport_error(
    exc: httpx.TransportError | ssl.SSLError,
    *,
    account: str,
    where: str,
    timeout: float,
    remedy: faultwords.TlsRemedy,
) -> WMError:
    """`remedy`: the settings a TLS failure's words name (the bundle, the certificate)."""
    if isinstance(exc, httpx.TimeoutException):
        sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        return timed_out(account=account, where=where, timeout=timeout, sent=sent)
    known = faultwords.connection_fault(exc, where=f"the aggregator at {where}", remedy=remedy)
    if known is not None:
        return known
    reason = faultwords.os_reason(exc)
    if isinstance(exc, httpx.ConnectError):
        return UnreachableError(
            f"cannot connect to the aggregator at {where} ({reason}); is `wm serve` running there?",
            account=account,
        )
    return UnreachableError(
        f"connection to the aggregator at {where} failed ({reason})", account=account
    )


def not_the_api(reply: httpx.Response, *, account: str, where: str) -> WMError:
    kind = reply.headers.get("Content-Type", "no content type").split(";")[0]
    return BackendError(
        f"{where} answered {reply.request.url.path} with something that is not the "
        f"aggregator's API (HTTP {reply.status_code}, {quoted(kind)}); check the account's url",
        account=account,
    )


def refused_words(said: str) -> str:
    """A server's refusal, in its words: its 409's message, or the detail of an outcome it
    recorded as refused (the refusal of a server behind it, already said so: it is said
    once, as one hop says it, not 'refused: the aggregator refused: ...')."""
    prefix = "the aggregator refused: "
    return said if said.startswith(prefix) else prefix + said


def quoted(text: str, limit: int = MAX_QUOTED) -> str:
    """One line of printable text, cut: a server's words, never its markup or escapes."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
