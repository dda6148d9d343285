"""Heat behind mutual TLS: the real standalone Heat behind a TLS front that asks each client
for a certificate its own client CA signed, as a cloud that wants one does. An account
presents its `client_cert` and `client_key`; one without them is told what to set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.certs import locked_copy
from tests.heat.conftest import Projects, heat_account, make_portal, refresh, rows
from tests.openstack.tlsproxy import TLSProxy
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend


@pytest.fixture
def mtls_heat(heat: Projects, tmp_path: Path) -> Iterator[TLSProxy]:
    with TLSProxy(tmp_path / "mtls", heat.server.port, client_certificates=True) as proxy:
        yield proxy


async def test_only_the_account_with_its_client_certificate_lists(
    heat: Projects, mtls_heat: TLSProxy
) -> None:
    """Three accounts on one Heat that wants a client certificate, polled together: the
    one with its certificate and key lists its stack; one the Heat's CA did not sign and
    none at all fail, each saying so and what to set."""
    assert heat.wait("with-cert", heat.create("with-cert", "behind-mtls")) == "CREATE_COMPLETE"
    proxy = mtls_heat
    url, ca = f"https://127.0.0.1:{proxy.port}/v1", str(proxy.ca)

    def account(name: str, **tls: str) -> AccountConfig:
        return heat_account(name, url, heat.project(name), ca_bundle=ca, **tls)

    portal, store = make_portal(
        heat.tmp_path,
        account("with-cert", client_cert=str(proxy.client_cert), client_key=str(proxy.client_key)),
        account(
            "stranger", client_cert=str(proxy.stranger_cert), client_key=str(proxy.stranger_key)
        ),
        account("no-cert"),
    )
    heat.stores.append(store)
    try:
        updates = await refresh(portal)
    finally:
        await portal.close()
    assert list(rows(updates["with-cert"])) == ["behind-mtls"]
    assert updates["stranger"].status.phase == updates["no-cert"].status.phase == "failed"
    assert updates["stranger"].status.error == (
        f"TLS: Heat at 127.0.0.1:{proxy.port} refused the client certificate "
        f"{proxy.stranger_cert} (not signed by a CA it trusts); ask the server's admins for "
        "one it accepts"
    )
    assert updates["no-cert"].status.error == (
        f"TLS: Heat at 127.0.0.1:{proxy.port} asks for a client certificate: set client_cert "
        "and client_key for account no-cert"
    )


def test_a_wrong_client_certificate_is_a_config_error_naming_the_account(
    heat: Projects, mtls_heat: TLSProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked when the account is built, like ca_bundle: a missing file (`~` expanded),
    a key alone, a key with a passphrase (OpenSSL would ask for it under the TUI)."""
    monkeypatch.setenv("HOME", "/nonexistent")
    proxy = mtls_heat
    cert, key = str(proxy.client_cert), str(proxy.client_key)
    locked = locked_copy(proxy.client_key, tmp_path / "locked.key")
    cases = [
        ({"client_cert": "~/cert.pem"}, "client_cert /nonexistent/cert.pem: no such file"),
        (
            {"client_key": key},
            f"client_key {key} without client_cert: name the certificate it goes with",
        ),
        (
            {"client_cert": cert, "client_key": str(locked)},
            f"client_cert {cert}: its key has a passphrase; the Heat backend takes only a "
            "plain key",
        ),
    ]
    for settings, said in cases:
        account = heat_account("apps-mtls", heat.server.url, heat.project("x"), **settings)
        with pytest.raises(ConfigError) as refused:
            HeatBackend(account, Secrets(account="apps-mtls"))
        assert refused.value.account == "apps-mtls"
        assert refused.value.message == said
