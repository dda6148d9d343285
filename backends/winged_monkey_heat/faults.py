"""A request that got no answer, in the portal's words: one rule for Heat's and Keystone's
requests (a timeout, a refused certificate, a reply cut short, no connection)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from winged_monkey import faultwords
from winged_monkey.errors import AnswerLostError, UnreachableError, WMError


def where(url: str) -> str:
    """host:port of a URL, for messages (a URL itself may carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def transport_error(
    exc: httpx.TransportError,
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
            f"no answer from {peer} within {timeout:g} s", account=account
        )
    known = faultwords.connection_fault(exc, where=peer, remedy=remedy)
    if known is not None:
        return known
    if isinstance(exc, httpx.ConnectError):
        text = f"cannot connect to {peer} ({faultwords.os_reason(exc)})"
    else:
        text = f"connection to {peer} failed ({faultwords.os_reason(exc)})"
    return UnreachableError(text, account=account)
