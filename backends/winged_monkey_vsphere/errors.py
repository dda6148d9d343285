"""pyvmomi's faults and the transport's exceptions as the portal's typed errors.

Messages are for people: they name the account and the endpoint, never the
password or the session cookie, and never carry a traceback.
"""

from __future__ import annotations

import http.client
import socket
import ssl

from pyVmomi import vim, vmodl

from winged_monkey.credentials import Secrets
from winged_monkey.errors import (
    ActionNotAllowed,
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
    elif isinstance(exc, ssl.SSLCertVerificationError):
        trust = f"the CA bundle {ca_bundle}" if ca_bundle else "the system's trusted CAs"
        error = UnreachableError(
            f"TLS certificate of {where} is not trusted ({exc.verify_message}); it was checked "
            f"against {trust}: set the account's ca_bundle to the CA that signed vCenter's "
            "certificate",
            account=account,
        )
    elif isinstance(exc, ssl.SSLError):
        error = UnreachableError(
            f"TLS handshake with {where} failed ({exc.reason or 'protocol error'}); is it a "
            "vSphere HTTPS endpoint, and is the endpoint's `secure` setting right?",
            account=account,
        )
    elif isinstance(exc, socket.timeout | TimeoutError):
        error = UnreachableError(f"no answer from {where} in time (timeout)", account=account)
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
    error.message = mask(error.message, secrets)
    return error


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


def mask(message: str, secrets: Secrets) -> str:
    """Replace the account's secret, should a server ever echo it."""
    for value in (secrets.secret, secrets.token):
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return message
