"""Keystone application credentials and a per-account CA bundle, against the real Keystone.

The same stack as test_openstack.py (Neutron is its stub; nothing here needs it). For
TLS, a TLS front made by the test (tests/openstack/tlsproxy.py) sits before the real
Keystone, with a CA the test creates: the certificates are real, the stack is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import libcloud.security
import pytest

from tests.certs import locked_copy
from tests.openstack.conftest import AppCredential, OpenStack, keystone_token
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    boot,
    close,
    driver_settings,
    listed,
    make_portal,
    passwords,
    refresh,
)
from tests.openstack.tlsproxy import TLSProxy
from winged_monkey.errors import ConfigError
from winged_monkey.plugins import load
from winged_monkey.user.config import AccountConfig, Credentials

pytestmark = pytest.mark.timeout(420)
APPCRED_SECRET = "WM_TEST_APPCRED_SECRET"


def appcred_account(stack: OpenStack, ident: str) -> AccountConfig:
    """As a user writes it: the credential's id is the key, its secret comes from elsewhere."""
    return AccountConfig(
        name="os-appcred",
        provider="openstack",
        driver={
            "ex_force_auth_url": stack.auth_url,
            "ex_force_auth_version": "3.x_appcred",
            "ex_force_service_region": "RegionOne",
        },
        credentials=Credentials(key=ident, keyring=False, secret_env=APPCRED_SECRET),
        timeout=20,
    )


def test_an_application_credential_sees_its_project(
    openstack: OpenStack,
    appcred: AppCredential,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    boot(openstack, "alpha", "by-appcred")
    boot(openstack, "beta", "not-mine")
    monkeypatch.setenv(APPCRED_SECRET, appcred.secret)
    portal = make_portal(tmp_path, appcred_account(openstack, appcred.id))
    try:
        assert set(listed(portal, "os-appcred")) == {"by-appcred"}
    finally:
        close(portal)


def test_a_revoked_application_credential_is_refused_by_name(
    openstack: OpenStack,
    appcred: AppCredential,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token, user_id = keystone_token(openstack, "alpha")
    reply = httpx.delete(
        f"{openstack.auth_url}/v3/users/{user_id}/application_credentials/{appcred.id}",
        headers={"X-Auth-Token": token},
        timeout=30,
    )
    assert reply.status_code == 204
    monkeypatch.setenv(APPCRED_SECRET, appcred.secret)
    portal = make_portal(tmp_path, appcred_account(openstack, appcred.id))
    try:
        status = refresh(portal)["os-appcred"]
    finally:
        close(portal)
    assert status.phase == "failed"
    assert status.error is not None
    assert status.error == (
        f"credentials refused by Keystone: Could not find Application Credential: "
        f"{appcred.id}.; check the key (user name or application credential id) and the "
        "secret (wm accounts set-secret os-appcred)"
    )
    assert appcred.secret not in status.error


# -- a CA bundle per account ---------------------------------------------------------


@pytest.fixture
def tls_keystone(openstack: OpenStack, tmp_path: Path) -> Iterator[TLSProxy]:
    with TLSProxy(tmp_path / "tls", openstack.state["ports"]["keystone"]) as proxy:
        yield proxy


def tls_account(stack: OpenStack, proxy: TLSProxy, name: str, **settings: Any) -> AccountConfig:
    base = account(stack, name, "alpha", **settings)
    return base.model_copy(
        update={
            "driver": {
                **driver_settings(stack, "alpha"),
                "ex_force_auth_url": f"https://127.0.0.1:{proxy.port}",
            }
        }
    )


def test_each_account_trusts_its_own_ca_bundle(
    openstack: OpenStack, tls_keystone: TLSProxy, tmp_path: Path
) -> None:
    """Three accounts on one TLS Keystone, polled together: the right bundle works, a
    wrong one and none (the system's store) are refused, and libcloud's global is kept."""
    boot(openstack, "alpha", "over-tls")
    before = libcloud.security.CA_CERTS_PATH
    keystone = f"127.0.0.1:{tls_keystone.port}"
    portal = make_portal(
        tmp_path,
        tls_account(openstack, tls_keystone, "right-ca", ca_bundle=str(tls_keystone.ca)),
        tls_account(openstack, tls_keystone, "wrong-ca", ca_bundle=str(tls_keystone.other_ca)),
        tls_account(openstack, tls_keystone, "no-ca"),
    )
    try:
        statuses = refresh(portal)
        rows = {i.name for i in portal.instances() if i.account == "right-ca"}
    finally:
        close(portal)
    assert statuses["right-ca"].phase == "ok", statuses["right-ca"].error
    assert rows == {"over-tls"}
    for name in ("wrong-ca", "no-ca"):
        error = statuses[name].error
        assert statuses[name].phase == "failed"
        assert error is not None
        assert error.startswith(
            f"TLS: the certificate of Keystone (identity, {keystone}) is signed by an unknown "
            "authority"
        ), error
        assert "ca_bundle" in error, error
    assert before == libcloud.security.CA_CERTS_PATH  # the global is untouched


def test_a_missing_ca_bundle_is_a_config_error_naming_the_account(openstack: OpenStack) -> None:
    broken = account(openstack, "os-alpha", "alpha", ca_bundle="/nonexistent/ca.pem")
    with pytest.raises(ConfigError) as refused:
        load("libcloud")(broken, None)  # type: ignore[arg-type]
    assert refused.value.account == "os-alpha"
    assert refused.value.message == "ca_bundle /nonexistent/ca.pem: no such file"


# -- a client certificate per account (mutual TLS) ----------------------------------------


@pytest.fixture
def mtls_keystone(openstack: OpenStack, tmp_path: Path) -> Iterator[TLSProxy]:
    """A TLS Keystone that asks each client for a certificate its own client CA signed."""
    keystone = openstack.state["ports"]["keystone"]
    with TLSProxy(tmp_path / "mtls", keystone, client_certificates=True) as proxy:
        yield proxy


def test_each_account_presents_its_own_client_certificate(
    openstack: OpenStack, mtls_keystone: TLSProxy, tmp_path: Path
) -> None:
    """Four accounts on one Keystone that wants a client certificate, polled together: a
    certificate and its key (two files or one) log in and list; one the Keystone's CA did
    not sign and none at all are refused, each saying so and what to set."""
    boot(openstack, "alpha", "over-mtls")
    proxy = mtls_keystone
    keystone = f"127.0.0.1:{proxy.port}"
    one_file = tmp_path / "cert-and-key.pem"  # as requests and keystoneauth take it too
    one_file.write_text(proxy.client_cert.read_text() + proxy.client_key.read_text())
    ca = str(proxy.ca)
    portal = make_portal(
        tmp_path,
        tls_account(
            openstack, proxy, "two-files", ca_bundle=ca,
            client_cert=str(proxy.client_cert), client_key=str(proxy.client_key),
        ),
        tls_account(openstack, proxy, "one-file", ca_bundle=ca, client_cert=str(one_file)),
        tls_account(
            openstack, proxy, "stranger", ca_bundle=ca,
            client_cert=str(proxy.stranger_cert), client_key=str(proxy.stranger_key),
        ),
        tls_account(openstack, proxy, "no-cert", ca_bundle=ca),
    )  # fmt: skip
    try:
        statuses = refresh(portal)
        rows = {(i.account, i.name) for i in portal.instances()}
    finally:
        close(portal)
    for name in ("two-files", "one-file"):
        assert statuses[name].phase == "ok", statuses[name].error
    assert rows == {("two-files", "over-mtls"), ("one-file", "over-mtls")}
    assert statuses["stranger"].phase == statuses["no-cert"].phase == "failed"
    assert statuses["stranger"].error == (
        f"TLS: Keystone (identity, {keystone}) refused the client certificate "
        f"{proxy.stranger_cert} (not signed by a CA it trusts); ask the server's admins for "
        "one it accepts"
    )
    assert statuses["no-cert"].error == (
        f"TLS: Keystone (identity, {keystone}) asks for a client certificate: set client_cert "
        "and client_key (clouds.yaml: cert and key) for account no-cert"
    )


def test_a_wrong_client_certificate_is_a_config_error_naming_the_account(
    openstack: OpenStack,
    mtls_keystone: TLSProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked when the account is built, like ca_bundle: a missing file (`~` expanded),
    a certificate without its key, a key that is not its own, a key alone, a key with a
    passphrase."""
    monkeypatch.setenv("HOME", "/nonexistent")
    proxy = mtls_keystone
    cert, key = str(proxy.client_cert), str(proxy.client_key)
    locked = locked_copy(proxy.client_key, tmp_path / "locked.key")
    cases = [
        ({"client_cert": "~/cert.pem"}, "client_cert /nonexistent/cert.pem: no such file"),
        (
            {"client_cert": cert, "client_key": "/nonexistent/key.pem"},
            "client_key /nonexistent/key.pem: no such file",
        ),
        (
            {"client_cert": cert},
            f"client_cert {cert}: no certificate and key in it; name the key's file with "
            "client_key",
        ),
        (
            {"client_cert": cert, "client_key": str(proxy.stranger_key)},
            f"client_cert {cert}: client_key {proxy.stranger_key} is not this certificate's key",
        ),
        (
            {"client_key": key},
            f"client_key {key} without client_cert: name the certificate it goes with",
        ),
        (  # would be asked for on the terminal at the first request, under the TUI
            {"client_cert": cert, "client_key": str(locked)},
            f"client_cert {cert}: its key has a passphrase; keystoneauth and libcloud take "
            "only a plain key",
        ),
    ]
    for settings, said in cases:
        broken = account(openstack, "os-alpha", "alpha", **settings)
        with pytest.raises(ConfigError) as refused:
            load("libcloud")(broken, None)  # type: ignore[arg-type]
        assert refused.value.account == "os-alpha"
        assert refused.value.message == said
