"""A small async client for Heat's v1 API over httpx, with Heat's errors as the portal's.

Two ways in: a direct endpoint (standalone Heat, or a known URL and token):
`{endpoint_url}/{project}/...` with `X-Auth-Project` and `X-Auth-Token`; or Keystone v3
(keystone.py), whose token is cached, renewed before it expires, and renewed once more
when Heat answers 401 (a token revoked or expired early).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import httpx

from winged_monkey import faultwords
from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.backend import sending
from winged_monkey.errors import (
    AnswerLostError,
    AuthError,
    BackendError,
    InvalidRequest,
    NotFoundError,
    WMError,
)
from winged_monkey.httppool import LoopPool
from winged_monkey.tls import client_context, client_pair
from winged_monkey_heat import clouds
from winged_monkey_heat.faults import NO_ANSWER, error_text, transport_error, where
from winged_monkey_heat.keystone import Keystone
from winged_monkey_heat.settings import HeatSettings, read_settings

__all__ = ["ConflictError", "HeatClient", "HeatSettings", "TemplateError", "read_settings"]

USER_AGENT = "winged-monkey-heat/0.1"
#: Standalone Heat ignores the token; real clouds need one. Sent when none is configured.
NO_TOKEN = "none"  # noqa: S105 (a placeholder, not a secret)


class ConflictError(BackendError):
    """Heat answered 409: a duplicate name, or an action the stack's state does not allow."""

    title = "Conflict"


class TemplateError(InvalidRequest):
    """Heat answered 400: the template, its parameters or the request is not valid."""

    title = "Invalid template or request"

    def __init__(self, message: str, *, account: str | None = None) -> None:
        super().__init__(message, account=account)
        #: The template parameter Heat's message names, when it names one.
        self.parameter = parameter_named(message)


def parameter_named(message: str) -> str | None:
    """The parameter Heat's validation message names ("Parameter 'x' is invalid: ...",
    'The Parameter (x) was not provided.'), or None."""
    for pattern in _PARAMETER_PATTERNS:
        found = pattern.search(message)
        if found:
            return found.group(1)
    return None


_PARAMETER_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"[Pp]arameter '([^']+)'",
        r"[Pp]arameter \(([^)]+)\)",
        r'[Pp]arameter "([^"]+)"',
        r"[Ii]nvalid parameter ([A-Za-z0-9_.-]+)",
    )
)


class HeatClient:
    """Requests to one project of one Heat; every failure becomes a WMError."""

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        self.account = account.name
        self.settings = read_settings(account)
        region = account.region
        names = {"client_cert": "client_cert", "client_key": "client_key", "ca": "ca_bundle"}
        if self.settings.cloud is not None:  # a cloud of clouds.yaml, read now
            cloud = clouds.resolve(account, self.settings.cloud)
            self.settings = read_settings(account, cloud.settings)
            if secrets.secret is None and secrets.token is None and cloud.secret is None:
                raise clouds.no_secret(account, cloud, self.settings.method)
            secrets = dataclasses.replace(secrets, secret=secrets.secret or cloud.secret)
            region = region or cloud.region
            names |= clouds.file_names(account, cloud)  # the cloud's cacert, cert, key
        self.timeout = account.timeout
        # Checked now, like ca_bundle: a wrong file is a config error, not a failed handshake.
        client = client_pair(
            self.settings.client_cert,
            self.settings.client_key,
            account=account.name,
            plain_only="the Heat backend takes only a plain key",
            names=(names["client_cert"], names["client_key"]),
        )
        verify, bundle = self.settings.tls_verify
        self._verify = client_context(
            verify, bundle, account=account.name, client=client, name=names["ca"]
        )
        #: What a failed handshake's words name: the bundle, the certificate, the settings.
        self.remedy = faultwords.TlsRemedy(
            account.name,
            bundle,
            "verify = false",
            client_cert=None if client is None else client.cert,
            client_setting="client_cert and client_key",
        )
        self.keystone = (
            Keystone(account.name, self.settings, secrets, region, account.timeout, self.remedy)
            if self.settings.keystone
            else None
        )
        self._token = secrets.token or secrets.secret or NO_TOKEN
        self.where = where(self.settings.endpoint_url or self.settings.auth_url or "")
        #: The project's name as Keystone says it (or as configured) for messages and rows.
        self.project = self.settings.project_label
        self._pool = LoopPool(self._new_client)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=self.timeout,
            verify=self._verify,
            follow_redirects=True,  # GET /stacks/{id} answers 302 to /stacks/{name}/{id}
        )

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (a CLI may run several loops in turn)."""
        return self._pool.get()

    async def _target(self) -> tuple[str, dict[str, str]]:
        """Heat's project URL and the auth headers (authenticating with Keystone if due)."""
        if self.keystone is None:
            project = self.settings.project or ""
            base = f"{self.settings.endpoint_url}/{project}"
            return base, {"X-Auth-Project": project, "X-Auth-Token": self._token}
        session = await self.keystone.current(self._http())
        self.project = session.project_name
        self.where = where(session.heat_url)
        return session.heat_url, {"X-Auth-Token": session.token}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        creates: bool = False,
    ) -> Any:
        """The decoded JSON answer (None for an empty body); raises WMError subclasses.
        `creates`: the request creates (a launch's), which `sending` tells the engine."""
        reply = await self._send(method, path, params, body, creates=creates)
        if reply.status_code == 401 and self.keystone is not None:
            # An expired or revoked token: authenticate once more, then the answer stands.
            self.keystone.invalidate()
            reply = await self._send(method, path, params, body, creates=creates)
            if reply.status_code == 401:
                raise AuthError(
                    f"Heat ({self.where}) refused a token Keystone had just issued: "
                    f"{error_text(reply)}; the cloud's Heat may not trust this Keystone",
                    account=self.account,
                )
        if reply.status_code >= 400:
            raise self._error(reply)
        if not reply.content:
            return None
        try:
            return reply.json()
        except ValueError:
            raise BackendError(
                f"Heat at {self.where} sent an answer that is not JSON (wrong endpoint_url?)",
                account=self.account,
            ) from None

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        *,
        creates: bool = False,
    ) -> httpx.Response:
        base, headers = await self._target()
        if creates:  # signed in: the request goes out now
            sending()
        content = None if body is None else json.dumps(body)
        if body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            return await self._http().request(
                method, base + path, params=params, content=content, headers=headers
            )
        except NO_ANSWER as exc:
            raise transport_error(
                exc, peer=f"Heat at {self.where}", timeout=self.timeout, remedy=self.remedy
            ) from None

    def _error(self, reply: httpx.Response) -> WMError:
        """Heat's explanation (never its traceback) in the portal's error type."""
        code = reply.status_code
        message = error_text(reply)
        said = heat_said(reply)
        throttle = faultwords.throttling_code(said)
        if code == 429 or throttle:
            return faultwords.throttled(
                "Heat", status=code, headers=reply.headers, account=self.account, code=throttle
            )
        if code == 409:
            return ConflictError(message, account=self.account)
        if code == 404:
            return NotFoundError(message, account=self.account)
        if code == 400:
            return TemplateError(message, account=self.account)
        if code in (401, 403):
            return AuthError(
                f"Heat refused project {self.project} ({code}): {said}",
                account=self.account,
            )
        failed = faultwords.server_error(
            "Heat", where=self.where, status=code, text=said, account=self.account
        )
        if isinstance(failed, AnswerLostError):  # a gateway's 502/504: Heat may have acted
            return failed
        # A plain BackendError: the backend tells Heat's own failures from the subclasses
        # by exact type (the application-credential hint on a failed create).
        return BackendError(failed.message, account=self.account)

    async def close(self) -> None:
        await self._pool.close()


def heat_said(reply: httpx.Response) -> str:
    """Heat's error type with its message ("EndpointNotFound: ..."): for the errors Heat
    does not map, the type is the only useful part (its message is withheld and its
    explanation a generic sentence). Without a type, `error_text`."""
    try:
        data = reply.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    if not isinstance(error, dict) or not isinstance(kind, str) or not kind.strip():
        return error_text(reply)
    message = faultwords.quoted(error.get("message") or "")
    return f"{faultwords.quoted(kind)}: {message}" if message else faultwords.quoted(kind)
