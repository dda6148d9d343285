"""A CA bundle and a client certificate for one account's libcloud connections, without
touching libcloud's globals.

libcloud reads its trust store from `libcloud.security.CA_CERTS_PATH`, one value for the
whole process: setting it for one account would change every other account's. Each
libcloud `Connection` builds its HTTP connection from its own `conn_class`, and
OpenStack's identity connection copies that class from its parent, so one class per
bundle and client certificate, set on the driver's connection, pins them for that
account's compute and Keystone requests alike (as keystoneauth presents clouds.yaml's
`cert` and `key` on every request).
"""

from __future__ import annotations

import ssl
import warnings
from functools import cache
from pathlib import Path
from typing import Any, Literal

from libcloud.http import LibcloudConnection
from urllib3.exceptions import InsecureRequestWarning

from winged_monkey.account import AccountConfig
from winged_monkey.errors import ConfigError
from winged_monkey.tls import ClientCert, client_pair
from winged_monkey_libcloud.settings import read_settings


def ca_bundle(account: AccountConfig) -> str | Literal[False] | None:
    """The account's `ca_bundle` (a PEM file of the CAs to trust), checked now so that a
    wrong path is a config error naming the account, not a TLS failure later; False when
    the account's clouds.yaml cloud turns verification off (`verify: false`, `insecure`)."""
    settings = read_settings(account)
    value = settings.ca_bundle
    if value is None and settings.cloud is not None:
        from winged_monkey_libcloud import cloudsyaml  # only accounts that name a cloud read it

        cloud = cloudsyaml.resolve(account)
        if not cloud.verify:  # as openstacksdk: no verification, its cacert unused
            return False
        if cloud.ca_bundle is not None:  # the cloud's cacert
            return checked(account, cloud.ca_bundle, name="clouds.yaml cacert")
    return None if value is None else checked(account, str(value))


def checked(account: AccountConfig, value: str, where: str = "", name: str = "ca_bundle") -> str:
    """The bundle's path, once it is known to be a readable PEM CA bundle; `where` (said
    after the reason) names a bundle that is not the account's own, `name` the setting."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{name} {path}: no such file{where}", account=account.name)
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ConfigError(
            f"{name} {path}: not a readable PEM CA bundle ({reason}){where}",
            account=account.name,
        ) from None
    return str(path)


def client_certificate(account: AccountConfig) -> ClientCert | None:
    """The account's `client_cert` and `client_key`, else its clouds.yaml cloud's `cert`
    and `key`, checked now: a wrong path is a config error naming the account."""
    settings = read_settings(account)
    cert, key = settings.client_cert, settings.client_key
    names = ("client_cert", "client_key")
    if cert is None and key is None and settings.cloud is not None:
        from winged_monkey_libcloud import cloudsyaml  # only accounts that name a cloud read it

        cloud = cloudsyaml.resolve(account)
        cert, key = cloud.client_cert, cloud.client_key
        names = ("clouds.yaml cert", "clouds.yaml key")
    return client_pair(
        cert,
        key,
        account=account.name,
        names=names,
        plain_only="keystoneauth and libcloud take only a plain key",
    )


@cache
def connection_class(
    bundle: str | Literal[False] | None, client: ClientCert | None = None
) -> type[LibcloudConnection]:
    """A LibcloudConnection that verifies against `bundle` whatever the globals say (None:
    libcloud's own store), or not at all (False: the account's choice, said by `wm accounts
    test`, not by urllib3 on stderr at each request, which would tear the TUI's screen);
    and presents `client`, if any, to a server that asks for a certificate."""
    if bundle is False:
        warnings.filterwarnings("ignore", category=InsecureRequestWarning)

    class PinnedConnection(LibcloudConnection):
        ca_bundle = bundle or None  # for the error's words: what was checked, what presented
        client_cert = None if client is None else client.cert

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
            session: Any = self.session
            if client is not None:  # requests sends it on each of the session's requests
                session.cert = client.cert if client.key is None else (client.cert, client.key)

        def _setup_verify(self) -> None:
            if bundle is None:
                super()._setup_verify()  # type: ignore[no-untyped-call]
            else:
                self.verify = bundle is not False

        def _setup_ca_cert(self, **kwargs: Any) -> None:
            if bundle is None:
                super()._setup_ca_cert(**kwargs)  # type: ignore[no-untyped-call]
            else:
                self.ca_cert = bundle or None

    PinnedConnection.__name__ = PinnedConnection.__qualname__ = "PinnedConnection"
    return PinnedConnection


def pin(driver: Any, bundle: str | Literal[False] | None, client: ClientCert | None = None) -> None:
    """Make the driver's connections (and the ones they spawn) trust `bundle` (False:
    verify nothing) and present `client`."""
    connection: Any = getattr(driver, "connection", None)
    if (bundle is not None or client is not None) and hasattr(connection, "conn_class"):
        connection.conn_class = connection_class(bundle, client)
        connection.connect()  # the driver made its first HTTP connection in its __init__
