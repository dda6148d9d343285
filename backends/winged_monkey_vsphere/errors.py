"""pyvmomi's faults and the transport's exceptions as the portal's typed errors.

Messages are for people: they name the account and the endpoint, never the
password or the session cookie, and never carry a traceback.
"""

from __future__ import annotations

import http.client
import re
import socket
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from pyVmomi import vim, vmodl

from winged_monkey import faultwords
from winged_monkey.account import Secrets
from winged_monkey.errors import (
    ActionNotAllowed,
    AnswerLostError,
    AuthError,
    BackendError,
    InvalidRequest,
    UnreachableError,
    WMError,
)

_POWER = {"poweredOn": "powered on", "poweredOff": "powered off", "suspended": "suspended"}


def power_words(state: object) -> str:
    return _POWER.get(str(state), str(state))


def translate(
    exc: BaseException,
    *,
    where: str,
    secrets: Secrets,
    ca_bundle: str | None = None,
    doing: str | None = None,
) -> WMError:
    """The WMError for `exc`, raised while talking to vSphere at `where` (host:port).

    `doing` names the action under way ("stop web-1"), for refusals.
    """
    account = secrets.account
    if isinstance(exc, WMError):
        return exc
    error: WMError
    if isinstance(exc, vim.fault.InvalidLogin):
        user = secrets.key or "(no user)"
        error = AuthError(
            f"vSphere at {where} refused the login of user {user!r} (wrong user name or "
            f"password); check it with `wm accounts set-secret {account}`",
            account=account,
        )
    elif isinstance(exc, vim.fault.NoPermission):
        error = AuthError(
            f"vSphere at {where} denies {doing or 'this call'} to user "
            f"{secrets.key!r}: missing privilege {getattr(exc, 'privilegeId', '') or '?'}",
            account=account,
        )
    elif isinstance(exc, vim.fault.InvalidPowerState):
        # `requestedState` is the target on some servers and the required state on others
        # (vcsim uses both): say only what is certain, the state the VM is in.
        now = power_words(exc.existingState)
        already = "already " if exc.requestedState == exc.existingState else ""
        error = ActionNotAllowed(
            f"vSphere refused {doing or 'the request'}: the VM is {already}{now}", account=account
        )
    elif isinstance(exc, vim.fault.ToolsUnavailable):
        error = ActionNotAllowed(
            f"vSphere refused {doing or 'the request'}: VMware Tools are not running in the guest",
            account=account,
        )
    elif isinstance(
        exc,
        vim.fault.DuplicateName
        | vim.fault.InvalidName
        | vim.fault.FileAlreadyExists
        | vim.fault.InsufficientResourcesFault,
    ):  # what a clone (a launch) is refused for: the request, not the server, is at fault
        error = InvalidRequest(
            f"vSphere refused {doing or 'the request'}: {_fault(exc)}", account=account
        )
    elif isinstance(exc, vim.fault.InvalidState | vim.fault.TaskInProgress):
        error = ActionNotAllowed(
            f"vSphere refused {doing or 'the request'} in the VM's current state: {_fault(exc)}",
            account=account,
        )
    elif isinstance(exc, vmodl.fault.ManagedObjectNotFound):
        missing = getattr(getattr(exc, "obj", None), "_moId", None) or "an object"
        error = BackendError(
            f"{doing}: the VM no longer exists in vSphere at {where}"
            if doing
            else f"vSphere at {where}: {missing} no longer exists",
            account=account,
        )
    elif isinstance(exc, vmodl.MethodFault):
        what = f"{doing}: " if doing else ""
        error = BackendError(f"vSphere at {where} answered {what}{_fault(exc)}", account=account)
    elif (tls := faultwords.certificate_error(exc)) is not None:
        remedy = faultwords.TlsRemedy(account, ca_bundle, "insecure = true")
        error = faultwords.tls_failure(tls, where=where, remedy=remedy)
    elif (answered := _http_fault(exc, where=where, account=account)) is not None:
        error = answered
    elif isinstance(exc, socket.timeout | TimeoutError):
        error = AnswerLostError(
            f"no answer from {where} in time (timeout): {faultwords.ONLY_SLOW}", account=account
        )
    elif isinstance(exc, ConnectionRefusedError):
        error = UnreachableError(
            f"cannot reach {where}: connection refused (nothing listens there; is the endpoint "
            "right?)",
            account=account,
        )
    elif isinstance(exc, socket.gaierror):
        error = UnreachableError(
            f"cannot reach {where}: host name not found (DNS)", account=account
        )
    elif isinstance(exc, OSError | http.client.HTTPException):
        error = UnreachableError(
            f"cannot reach {where}: {type(exc).__name__} {_text(exc)}".rstrip(), account=account
        )
    elif isinstance(exc, NotAVSphere):
        error = BackendError(
            f"{where} does not answer like vSphere (no {exc.path}/vimServiceVersions.xml); "
            "check the endpoint's host, port and path",
            account=account,
        )
    else:
        error = BackendError(f"vSphere: {type(exc).__name__}: {_text(exc)}", account=account)
    error.message = secrets.mask(error.message)
    return error


@dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    headers: dict[str, str]
    framed: bool  # a Content-Length or chunked: the end of the body was announced
    body: str


def _reply(exc: BaseException) -> _Reply | None:
    """The HTTP reply being read when `exc` was raised (pyVmomi's and negotiate's
    `resp`/`response` locals keep its status and headers; their exceptions do not). A
    reply whose status line never came (a read that timed out) is no reply."""
    found: _Reply | None = None
    trace = exc.__traceback__
    while trace is not None:
        scope = trace.tb_frame.f_locals
        for name in ("resp", "response"):
            reply = scope.get(name)
            if isinstance(reply, http.client.HTTPResponse) and reply.headers is not None:
                headers = {k.lower(): v for k, v in reply.getheaders()}
                body = scope.get("body")
                found = _Reply(
                    reply.status,
                    str(reply.reason or ""),
                    headers,
                    "content-length" in headers or bool(reply.chunked),
                    body.decode("utf-8", "replace") if isinstance(body, bytes) else "",
                )
        trace = trace.tb_next
    return found


def _http_fault(exc: BaseException, *, where: str, account: str) -> WMError | None:
    """Throttling, a server's error with its status, a reply cut short or a connection
    closed before any answer; None for anything else."""
    if faultwords.is_cut_short(exc):
        return faultwords.cut_short(where, account=account)
    if faultwords.closed_before_reply(exc):
        return faultwords.closed_without_answer(where, account=account)
    if faultwords.was_reset(exc):
        return faultwords.reset_without_answer(where, account=account)
    reply = _reply(exc)
    status = reply.status if reply is not None else 0
    if not status and isinstance(exc, http.client.HTTPException):
        stated = re.match(r"(\d{3}) ", str(exc))  # pyVmomi's "503 Service Unavailable"
        status = int(stated.group(1)) if stated else 0
    if status == 429:
        headers = reply.headers if reply is not None else None
        return faultwords.throttled("vSphere", status=status, headers=headers, account=account)
    if status >= 500 or (status >= 400 and isinstance(exc, http.client.HTTPException)):
        text = reply.body if reply is not None else ""
        return faultwords.server_error(
            "vSphere", where=where, status=status, text=text, account=account
        )
    parse_failed = isinstance(exc, ExpatError | ParseError | NotAVSphere)
    if reply is not None and status == 200 and not reply.framed and parse_failed:
        # SOAP servers announce their replies' length: one that ends unannounced and
        # unparsable was cut off by the connection closing.
        return faultwords.cut_short(where, account=account)
    return None


class NotAVSphere(Exception):
    """The endpoint answered, but not with a vSphere API version list."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _fault(exc: BaseException) -> str:
    name = type(exc).__name__.rsplit(".", 1)[-1]
    message = _text(getattr(exc, "msg", None) or "")
    return f"{name}: {message}" if message else name


def _text(value: object) -> str:
    return " ".join(str(value).split())[:400]
