"""An async client of the aggregator's API over httpx: a bearer token, TLS as configured,
the account's timeout on each phase of a request, and every failure as a WMError naming the
account.

A whole request is bounded by the portal's deadline alone (`Accounts.within`). A second
bound of the same length here would cancel the request a second time while httpcore is
closing its connection after the first, and a connection whose close is cancelled is never
closed (encode/httpx#3782): on a slow link, a socket leaked per poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from winged_monkey import faultwords
from winged_monkey.account import AccountConfig, Secrets, shown_secret_env
from winged_monkey.errors import ConfigError, CredentialError
from winged_monkey.httppool import LoopPool
from winged_monkey.tls import client_context, client_pair
from winged_monkey.wire import API_PREFIX, INTENT_HEADER, Link
from winged_monkey_aggregator.errors import NO_ANSWER, not_the_api, reply_error, transport_error
from winged_monkey_aggregator.rows import elements
from winged_monkey_aggregator.settings import read_settings

USER_AGENT = "winged-monkey-aggregator/0.1"
T = TypeVar("T")
R = TypeVar("R")


def path(*parts: str) -> str:
    """An API path with each part quoted as one segment (ids may hold anything)."""
    return API_PREFIX + "".join("/" + quote(p, safe="") for p in parts)


#: Paths every `wm serve` answers, the first a poll or a check asks for: a 404 there is a
#: url that points elsewhere (a path added, a reverse proxy's prefix left out), not a thing
#: the aggregator lacks.
_EVERY_SERVER_HAS = frozenset(
    path(name) for name in ("whoami", "instances", "deployments", "provider-accounts")
)

_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(shape: type[T]) -> TypeAdapter[T]:
    """Built once per shape (building one costs more than a small validation)."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return _ADAPTERS[shape]


def _send_again(method: str, exc: httpx.TransportError) -> bool:
    """Whether a failed request goes once more: writing it failed (the server had closed
    the connection: a broken pipe, so nothing was read), or a GET's connection was closed
    or reset before any answer (a read may be asked twice; an action may have been done,
    and the caller says so: unknown)."""
    if isinstance(exc, httpx.WriteError):
        return True
    return method == "GET" and (faultwords.closed_before_reply(exc) or faultwords.was_reset(exc))


def bearer_token(account: AccountConfig, secrets: Secrets) -> str:
    """The account's token, read as Heat reads its own: the variable token_env names, else
    the account's secret (keyring, secret_env, secret_command, a prompt). A token put in
    credentials.key (or key_env), which nothing reads, is said so when there is no other."""
    token = (secrets.token or "").strip() or (secrets.secret or "").strip()
    if token:
        return token
    creds = account.credentials
    unset = creds.token_env if creds.token_env and secrets.secret is None else None
    store = (
        f"store it with `wm accounts set-secret {account.name}`"
        if creds.keyring
        else "name secret_env or secret_command (this account reads no keyring)"
    )
    if creds.key is not None or creds.key_env:
        where = "credentials.key" if creds.key is not None else "key_env"
        read = f"token_env {shown_secret_env(unset)} (not set), " if unset else ""
        raise CredentialError(
            f"no token found: the aggregator reads no {where} (the token is not a key id); "
            f"it reads {read}the keyring, secret_env or secret_command: {store}, and remove "
            f"{where}",
            account=account.name,
        )
    if unset:
        raise CredentialError(
            f"no token found: export {shown_secret_env(unset)}, the variable token_env names, "
            f"before running wm (or {store})",
            account=account.name,
        )
    return secrets.require_secret().strip()


def renewal(account: AccountConfig, secrets: Secrets) -> str:
    """How to put a new token where this account read the one it sent (said when the server
    refuses it): `set-secret` stores in a keyring that an env or command account never reads."""
    creds = account.credentials
    if (secrets.token or "").strip() and creds.token_env:
        return f"export it as {creds.token_env} (the variable token_env names)"
    if secrets.source.startswith("env ") and creds.secret_env:
        return f"export it as {creds.secret_env} (the variable secret_env names)"
    if secrets.source == "secret_command":
        return "have secret_command print it"
    return f"store it with `wm accounts set-secret {account.name}`"


class AggregatorClient:
    """Requests to one aggregator as one token's holder."""

    #: The transport every new connection pool uses; None is the network. Tests that inject
    #: faults a real server will not produce (garbage, stalls, 5xx) put a MockTransport here.
    transport: ClassVar[httpx.AsyncBaseTransport | None] = None

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        self.account = account.name
        self.settings = read_settings(account)
        self.timeout = account.timeout
        # Checked now, like ca_bundle: a wrong file is a config error, not a failed handshake.
        client = client_pair(
            self.settings.client_cert,
            self.settings.client_key,
            account=account.name,
            plain_only="the aggregator backend takes only a plain key",
        )
        bundle = self.settings.ca_bundle
        self._verify = client_context(
            self.settings.verify, bundle, account=account.name, client=client
        )
        #: What a failed handshake's words name: the bundle, the certificate, the settings.
        self.remedy = faultwords.TlsRemedy(
            account.name,
            None if bundle is None else str(bundle),
            "verify = false",
            client_cert=None if client is None else client.cert,
            client_setting="client_cert and client_key",
        )
        # The token lives in this header dict only: never in a message, a log or a repr.
        self._headers = {
            "Authorization": f"Bearer {bearer_token(account, secrets)}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        #: Where a refused token's successor goes, for the 401's words.
        self.renew = renewal(account, secrets)
        parts = urlsplit(self.settings.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.where = f"{parts.hostname}:{port}"
        self._prefix = parts.path.rstrip("/")
        self._pool = LoopPool(self._new_client)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.settings.url,
            headers=self._headers,
            timeout=self.timeout,
            verify=self._verify,
            transport=self.transport,
            # A redirect is a misconfigured url; never carry the token elsewhere.
            follow_redirects=False,
        )

    def _http(self) -> httpx.AsyncClient:
        return self._pool.get()

    async def get(self, url: str, shape: type[T], params: dict[str, Any] | None = None) -> T:
        reply = await self._send("GET", url, params=params)
        return self._decode(reply, shape)

    async def get_rows(self, url: str, shape: type[T], then: Callable[[T], R]) -> list[R]:
        """A listing: each element read as `shape`, then passed through `then`, in a worker
        thread, row by row (see rows.py), so a large one never stops the event loop."""
        reply = await self._send("GET", url)
        return await asyncio.to_thread(self._rows, reply, shape, then)

    async def send(
        self,
        method: str,
        url: str,
        shape: type[T],
        body: BaseModel | None = None,
        *,
        intent: str | None = None,
    ) -> T:
        """`intent`: the key of the local intent this request carries out (INTENT_HEADER)."""
        content = None if body is None else body.model_dump_json(exclude_none=True)
        reply = await self._send(method, url, content=content, intent=intent)
        return self._decode(reply, shape)

    async def follow(self, link: Link, shape: type[T], *, intent: str | None = None) -> T:
        """Run a link the server offered (its href is a path from the server's root)."""
        return await self.send(link.method, self._relative(link.href), shape, intent=intent)

    async def read(self, href: str, shape: type[T]) -> T:
        """GET a path the server gave (a 202's outcome_href), query included."""
        return await self.get(self._relative(href), shape)

    def _relative(self, href: str) -> str:
        """A path from the server's root as one from the url (a reverse proxy's prefix)."""
        if self._prefix and href.startswith(self._prefix + "/"):
            return href[len(self._prefix) :]
        return href

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        content: str | None = None,
        intent: str | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if intent is not None:  # a header is ASCII: the key is percent-encoded
            headers[INTENT_HEADER] = quote(intent, safe=":/@")
        try:
            try:
                reply = await self._http().request(
                    method, url, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                if not _send_again(method, exc):
                    raise
                # Most likely a kept-alive connection the server closed just as this request
                # went out (its idle timeout ran out then): once more, on a new connection.
                reply = await self._http().request(
                    method, url, params=params, content=content, headers=headers
                )
        except NO_ANSWER as exc:
            raise transport_error(
                exc,
                account=self.account,
                where=self.where,
                timeout=self.timeout,
                remedy=self.remedy,
            ) from None
        if reply.status_code == 404 and url in _EVERY_SERVER_HAS:
            raise ConfigError(
                f"no wm serve at {self.settings.url} (404 on {reply.request.url.path}): check "
                f"the account's url (the server's address, without {API_PREFIX})",
                account=self.account,
            )
        if reply.status_code >= 400:
            raise reply_error(reply, account=self.account, where=self.where, renew=self.renew)
        if reply.status_code >= 300:
            raise not_the_api(reply, account=self.account, where=self.where)
        return reply

    def _decode(self, reply: httpx.Response, shape: type[T]) -> T:
        try:
            found = _adapter(shape).validate_json(reply.content)
        except (ValidationError, ValueError):
            raise not_the_api(reply, account=self.account, where=self.where) from None
        return found

    def _rows(self, reply: httpx.Response, shape: type[T], then: Callable[[T], R]) -> list[R]:
        adapter = _adapter(shape)
        # Each element is converted as soon as it is read, so what it was read from is freed
        # row by row: freeing 10,000 decoded rows at once is one long hold of the GIL.
        try:
            return [then(adapter.validate_python(e)) for e in elements(reply.content.decode())]
        except (ValidationError, ValueError):  # UnicodeDecodeError is a ValueError
            raise not_the_api(reply, account=self.account, where=self.where) from None

    async def close(self) -> None:
        await self._pool.close()
