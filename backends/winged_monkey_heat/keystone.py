"""Keystone v3 for a Heat account: a token (password or application credential) and
Heat's URL from the token's service catalog, cached until it expires or Heat refuses it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from winged_monkey import faultwords
from winged_monkey.account import Secrets
from winged_monkey.errors import AuthError, BackendError, ConfigError
from winged_monkey_heat.faults import NO_ANSWER, error_text, transport_error, where
from winged_monkey_heat.models import parse_time
from winged_monkey_heat.settings import HeatSettings

#: Re-authenticate this long before Keystone's expiry, so no request races it.
EXPIRY_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    """A token and where Heat is for it. `repr` never shows the token."""

    token: str
    heat_url: str  # with the project: {heat}/v1/{project_id}
    project_id: str
    project_name: str
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"Session(project={self.project_name!r}, heat_url={self.heat_url!r})"

    def fresh(self, now: datetime) -> bool:
        return self.expires_at is None or now + EXPIRY_MARGIN < self.expires_at


def tokens_url(auth_url: str) -> str:
    base = auth_url.rstrip("/")
    if not base.endswith("/v3"):
        base += "/v3"
    return f"{base}/auth/tokens"


class Keystone:
    """Authenticates one account against Keystone v3; keeps the session until invalidated."""

    def __init__(
        self,
        account: str,
        settings: HeatSettings,
        secrets: Secrets,
        region: str | None,
        timeout: float,
        remedy: faultwords.TlsRemedy,
    ) -> None:
        assert settings.auth_url is not None
        self.account = account
        self.remedy = remedy  # what a failed handshake's words name, as for Heat's requests
        self.region = region
        self.timeout = timeout
        self.settings = settings
        self.secrets = secrets
        self.url = tokens_url(settings.auth_url)
        self.where = where(settings.auth_url)
        self.session: Session | None = None

    def invalidate(self) -> None:
        self.session = None

    async def current(self, http: httpx.AsyncClient) -> Session:
        now = datetime.now(UTC)
        if self.session is None or not self.session.fresh(now):
            self.session = await self.authenticate(http)
        return self.session

    async def authenticate(self, http: httpx.AsyncClient) -> Session:
        timeout = self.timeout
        try:
            reply = await http.post(self.url, json=self._body(), timeout=timeout)
        except NO_ANSWER as exc:
            raise transport_error(
                exc,
                peer=f"Keystone (identity) at {self.where}",
                timeout=timeout,
                remedy=self.remedy,
                may_have_acted=False,  # a token asked for changes nothing
            ) from None
        if reply.status_code != 201:
            raise self._refused(reply)
        token = reply.headers.get("X-Subject-Token")
        try:
            body = reply.json()["token"]
        except (ValueError, KeyError, TypeError):
            body = None
        if not token or not isinstance(body, dict):
            raise BackendError(
                f"Keystone at {self.where} sent no token (is auth_url Keystone's v3 URL?)",
                account=self.account,
            )
        project = body.get("project") or {}
        return Session(
            token=token,
            heat_url=self._heat_url(body.get("catalog") or [], str(project.get("id") or "")),
            project_id=str(project.get("id") or ""),
            project_name=str(project.get("name") or self.settings.project_label),
            expires_at=parse_time(body.get("expires_at")),
        )

    # -- request and answer ------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        s = self.settings
        if s.method == "application_credential":
            credential: dict[str, Any] = {"secret": self.secrets.require_secret()}
            ident = s.application_credential_id or (
                None if s.application_credential_name else self.secrets.key
            )
            if ident:
                credential["id"] = ident
            elif s.application_credential_name:
                credential["name"] = s.application_credential_name
                credential["user"] = self._user()
            else:
                raise ConfigError(
                    "application credential auth needs application_credential_id "
                    "(or credentials.key)",
                    account=self.account,
                )
            identity = {
                "methods": ["application_credential"],
                "application_credential": credential,
            }
            return {"auth": {"identity": identity}}  # the credential fixes the project
        if s.method == "token":
            identity = {"methods": ["token"], "token": {"id": self._token()}}
        else:
            user = {**self._user(), "password": self.secrets.require_secret()}
            identity = {"methods": ["password"], "password": {"user": user}}
        if s.project_id:
            project: dict[str, Any] = {"id": s.project_id}
        else:
            project = {"name": s.project_name, "domain": self._project_domain()}
        return {"auth": {"identity": identity, "scope": {"project": project}}}

    def _user(self) -> dict[str, Any]:
        """The user as keystoneauth names it: by id (which needs no domain) if there is
        one, else by name in its domain."""
        if self.settings.user_id:
            return {"id": self.settings.user_id}
        return {"name": self._username(), "domain": self._user_domain()}

    def _username(self) -> str:
        name = self.settings.username or self.secrets.key
        if not name:
            raise ConfigError(
                "Keystone auth needs a user: set username (or user_id) or credentials.key",
                account=self.account,
            )
        return name

    def _token(self) -> str:
        token = self.secrets.token or self.secrets.secret
        if not token:
            raise ConfigError(
                "auth_type = token needs a token (credentials.token_env)", account=self.account
            )
        return token

    def _user_domain(self) -> dict[str, str]:
        s = self.settings
        return (
            {"id": s.user_domain_id}
            if s.user_domain_id
            else {"name": s.user_domain_name or "Default"}
        )

    def _project_domain(self) -> dict[str, str]:
        s = self.settings
        if s.project_domain_id:
            return {"id": s.project_domain_id}
        return {"name": s.project_domain_name or s.user_domain_name or "Default"}

    def _who(self) -> str:
        s = self.settings
        user = (
            f"user id {s.user_id}" if s.user_id else f"user {s.username or self.secrets.key or '?'}"
        )
        if s.method == "application_credential":
            if s.application_credential_id or not s.application_credential_name:
                return f"application credential {s.application_credential_id or self.secrets.key}"
            return f"application credential {s.application_credential_name} of {user}"
        return f"{user} (project {s.project_label})"

    def _refused(self, reply: httpx.Response) -> Exception:
        message = error_text(reply).rstrip(".")
        code = reply.status_code
        if code == 429:
            return faultwords.throttled(
                "Keystone", status=code, headers=reply.headers, account=self.account
            )
        if code == 401:
            hint = (
                "check its secret, and that it has not expired or been deleted"
                if self.settings.method == "application_credential"
                else "check the password, the user and project names and their domains"
            )
            return AuthError(
                f"Keystone ({self.where}) refused {self._who()}: {message}; {hint}",
                account=self.account,
            )
        if code in (400, 403, 404):
            return AuthError(
                f"Keystone ({self.where}) refused {self._who()} ({code}): {message}",
                account=self.account,
            )
        return faultwords.server_error(
            "Keystone (identity)",
            where=self.where,
            status=code,
            text=message,
            account=self.account,
        )

    def _heat_url(self, catalog: list[dict[str, Any]], project_id: str) -> str:
        s = self.settings
        if s.endpoint_url:  # an override wins over the catalog
            return f"{s.endpoint_url}/{project_id}"
        region = self.region
        found: list[str] = []
        for service in catalog:
            if service.get("type") != s.service_type:
                continue
            for endpoint in service.get("endpoints") or []:
                at = endpoint.get("region_id") or endpoint.get("region")
                found.append(f"{endpoint.get('interface')} in {at}")
                if endpoint.get("interface") == s.interface and (region is None or at == region):
                    return str(endpoint["url"]).rstrip("/")
        asked = f"interface {s.interface}" + (f", region {region}" if region else "")
        if found:
            hint = f"it has: {', '.join(sorted(found))}. Set interface/region to one of those"
        else:
            types = sorted({str(svc.get("type")) for svc in catalog})
            hint = (
                f"it lists only: {', '.join(types) or 'nothing'}. Heat may not be deployed "
                "on this cloud; ask its admins, or set endpoint_url to Heat's URL"
            )
        raise ConfigError(
            f"Keystone's catalog has no {s.service_type} (Heat) endpoint for {asked}; {hint}",
            account=self.account,
        )
