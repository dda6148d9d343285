"""What goes wrong talking to Heat or Keystone, one rule for both: a request that got no
answer (a timeout, a refused certificate, a reply cut short, no connection) in the
portal's words, and the text of an error answer."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx

from winged_monkey import faultwords
from winged_monkey.errors import AnswerLostError, UnreachableError, WMError

#: What a request to Heat or Keystone may raise for want of an answer. httpcore makes a
#: TLS error an httpx error only in the handshake; a server's alert read after it (TLS
#: 1.3's "certificate required", a client certificate refused) comes out as ssl.SSLError.
NO_ANSWER = (httpx.TransportError, ssl.SSLError)


def where(url: str) -> str:
    """host:port of a URL, for messages (a URL itself may carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def transport_error(
    exc: httpx.TransportError | ssl.SSLError,
    *,
    peer: str,
    timeout: float,
    remedy: faultwords.TlsRemedy,
    may_have_acted: bool = True,
) -> WMError:
    """What went wrong talking to `peer` ("Heat at host:port"): a timeout after connecting
    loses the answer (the request may have been carried out, unless `may_have_acted` is
    False: a token asked for); otherwise a fault faultwords names, or no connection."""
    account = remedy.account
    if isinstance(exc, httpx.TimeoutException):
        lost = may_have_acted and not isinstance(exc, httpx.ConnectTimeout)
        return (AnswerLostError if lost else UnreachableError)(
            f"no answer from {peer} within {timeout:g} s: {faultwords.ONLY_SLOW}", account=account
        )
    known = faultwords.connection_fault(exc, where=peer, remedy=remedy)
    if known is not None:
        return known
    if isinstance(exc, httpx.ConnectError):
        text = f"cannot connect to {peer} ({faultwords.os_reason(exc)})"
    else:
        text = f"connection to {peer} failed ({faultwords.os_reason(exc)})"
    return UnreachableError(text, account=account)


def error_text(reply: httpx.Response) -> str:
    """An OpenStack error body's `error.message` (Heat's `explanation` or `title` failing
    that); else the answer's first line, cut."""
    try:
        data = reply.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if not isinstance(error, dict):
            error = {}
        message = str(error.get("message") or data.get("explanation") or "").strip()
        if message:
            return message
        title = data.get("title")
        if title:
            return str(title)
    text = reply.text.strip().splitlines()
    return text[0][:200] if text else reply.reason_phrase or f"HTTP {reply.status_code}"
