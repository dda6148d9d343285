"""A small async client for Heat's v1 API over httpx, with Heat's errors as the portal's.

Only a direct endpoint for now (standalone Heat, or a cloud whose orchestration URL
and token are known): `{endpoint_url}/{project}/...` with `X-Auth-Project` and
`X-Auth-Token`. Keystone v3 (catalog lookup, token refresh) is to come.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from winged_monkey.config import AccountConfig
from winged_monkey.credentials import Secrets
from winged_monkey.errors import (
    AuthError,
    BackendError,
    ConfigError,
    InvalidRequest,
    NotFoundError,
    UnreachableError,
    WMError,
)

USER_AGENT = "winged-monkey-heat/0.1"
#: Standalone Heat ignores the token; real clouds need one. Sent when none is configured.
NO_TOKEN = "none"  # noqa: S105 (a placeholder, not a secret)


class ConflictError(BackendError):
    """Heat answered 409: a duplicate name, or an action the stack's state does not allow."""

    title = "Conflict"


class TemplateError(InvalidRequest):
    """Heat answered 400: the template, its parameters or the request is not valid."""

    title = "Invalid template or request"


class HeatSettings(BaseModel):
    """The Heat-specific keys of an account (extra keys in its `[[accounts]]` table)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    endpoint_url: str = Field(
        description="Heat's v1 URL without the project, e.g. http://127.0.0.1:8004/v1."
    )
    project: str = Field(min_length=1, description="Project (tenant) id the stacks belong to.")
    verify: bool | str = Field(True, description="Verify TLS; or a CA bundle path.")

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


def read_settings(account: AccountConfig) -> HeatSettings:
    data = dict(account.settings)
    if "endpoint_url" not in data and account.endpoint is not None:
        ep = account.endpoint
        scheme = "https" if ep.secure else "http"
        port = f":{ep.port}" if ep.port else ""
        data["endpoint_url"] = f"{scheme}://{ep.host}{port}/{ep.path.strip('/') or 'v1'}"
    try:
        return HeatSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"Heat account needs endpoint_url and project ({problems})", account=account.name
        ) from None


class HeatClient:
    """Requests to one project of one Heat; every failure becomes a WMError."""

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        self.account = account.name
        self.settings = read_settings(account)
        self.timeout = account.timeout
        self._token = secrets.token or secrets.secret or NO_TOKEN
        parts = urlsplit(self.settings.endpoint_url)
        self.where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        """One connection pool per event loop (a CLI may run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=f"{self.settings.endpoint_url}/{self.settings.project}",
                headers={
                    "X-Auth-Project": self.settings.project,
                    "X-Auth-Token": self._token,
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                timeout=self.timeout,
                verify=self.settings.verify,
                follow_redirects=True,  # GET /stacks/{id} answers 302 to /stacks/{name}/{id}
            )
            self._loop = loop
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty body); raises WMError subclasses."""
        content = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            reply = await self._http().request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.ConnectError as exc:
            raise UnreachableError(
                f"cannot connect to Heat at {self.where} ({_reason(exc)})", account=self.account
            ) from None
        except httpx.TimeoutException:
            raise UnreachableError(
                f"no answer from Heat at {self.where} within {self.timeout:g} s",
                account=self.account,
            ) from None
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"connection to Heat at {self.where} failed ({_reason(exc)})",
                account=self.account,
            ) from None
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

    def _error(self, reply: httpx.Response) -> WMError:
        """Heat's explanation (never its traceback) in the portal's error type."""
        code = reply.status_code
        message = heat_message(reply)
        if code == 409:
            return ConflictError(message, account=self.account)
        if code == 404:
            return NotFoundError(message, account=self.account)
        if code == 400:
            return TemplateError(message, account=self.account)
        if code in (401, 403):
            return AuthError(
                f"Heat refused project {self.settings.project} ({code}): {message}",
                account=self.account,
            )
        return BackendError(f"Heat failed ({code}): {message}", account=self.account)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(RuntimeError):  # its event loop is gone: nothing to release
                await client.aclose()


def heat_message(reply: httpx.Response) -> str:
    """`error.message` or `explanation` from Heat's error body; a short text otherwise."""
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


def _reason(exc: httpx.TransportError) -> str:
    """The underlying OS error if there is one ("All connection attempts failed" says little)."""
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
    return text[:200] or type(exc).__name__
