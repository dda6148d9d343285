"""The vSphere backend through the portal, against a real vcsim on loopback, TLS verified:
what a user reads when the connection fails (login, TLS, config, an unreachable,
silent or foreign server).

Each test gets a fresh simulator (ready in well under a second).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

import pytest

from tests.vsphere.accounts import _secrets, account, make_portal, refresh
from tests.vsphere.vcsim import OTHER_CA, Vcsim
from winged_monkey.errors import ConfigError, WMError
from winged_monkey.user.config import AccountConfig, Endpoint
from winged_monkey_vsphere import VSphereBackend


def test_wrong_password_names_the_account_not_the_password(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-password-123"
    portal = make_portal(tmp_path, account(sim, monkeypatch, password=wrong))
    try:
        errors = refresh(portal)
        assert errors == [
            f"vSphere at 127.0.0.1:{sim.port} refused the login of user 'wm' (wrong user name "
            "or password); check it with `wm accounts set-secret lab`"
        ]
        with pytest.raises(WMError) as raised:
            asyncio.run(portal.check("lab"))
        assert str(raised.value).startswith("lab: vSphere at")
        assert type(raised.value).__name__ == "AuthError"
        assert wrong not in str(raised.value)
        assert raised.value.__cause__ is None  # raised `from None`: no traceback chain
        assert raised.value.__suppress_context__
    finally:
        asyncio.run(portal.close())
        portal.store.close()


def test_tls_with_the_wrong_ca_is_refused_clearly(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = make_portal(tmp_path, account(sim, monkeypatch, ca_bundle=str(OTHER_CA)))
    try:
        [error] = refresh(portal)
        assert error is not None
        assert error.startswith(
            f"TLS: the certificate of 127.0.0.1:{sim.port} is signed by an unknown authority"
        ), error
        assert str(OTHER_CA) in error
        assert sim.password not in error
    finally:
        asyncio.run(portal.close())
        portal.store.close()


def test_without_a_ca_bundle_the_system_store_is_used_never_no_verification(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = account(sim, monkeypatch)
    settings = {k: v for k, v in plain.model_dump().items() if k != "ca_bundle"}
    backend = VSphereBackend(AccountConfig(**settings), _secrets(sim))
    with pytest.raises(WMError, match=r"unknown authority .*set ca_bundle = "):
        asyncio.run(backend.list_instances())


def test_insecure_is_an_explicit_choice_and_says_so(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(
        account(sim, monkeypatch, ca_bundle=str(OTHER_CA), insecure=True), _secrets(sim)
    )
    try:
        line = asyncio.run(backend.check())
    finally:
        asyncio.run(backend.close())
    assert "TLS NOT VERIFIED (insecure = true)" in line
    assert "4 VMs" in line


def test_a_missing_ca_bundle_or_unknown_key_is_a_config_error(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=re.escape(f"ca_bundle {missing}: no such file")):
        VSphereBackend(account(sim, monkeypatch, ca_bundle=str(missing)), _secrets(sim))
    with pytest.raises(ConfigError, match=r"cabundle.*known keys: ca_bundle, insecure"):
        VSphereBackend(account(sim, monkeypatch, cabundle="x"), _secrets(sim))


def test_a_stopped_server_is_unreachable_not_a_traceback(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    sim.stop()
    with pytest.raises(WMError, match="connection refused") as raised:
        asyncio.run(backend.list_instances())
    assert type(raised.value).__name__ == "UnreachableError"


def test_a_server_that_never_answers_times_out(sim: Vcsim, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:  # accepts TCP connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = account(sim, monkeypatch).model_copy(
            update={
                "endpoint": Endpoint(host="127.0.0.1", port=silent.getsockname()[1]),
                "timeout": 1.0,
            }
        )
        backend = VSphereBackend(config, _secrets(sim))
        started = time.monotonic()
        with pytest.raises(WMError, match="in time") as raised:
            asyncio.run(backend.list_instances())
    assert time.monotonic() - started < 5
    # Sent, never answered: an action's outcome would be unknown, not failed.
    assert type(raised.value).__name__ == "AnswerLostError"


def test_something_else_on_the_port_is_not_vsphere(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = account(sim, monkeypatch).model_copy(
        update={"endpoint": Endpoint(host="127.0.0.1", port=sim.port, path="/elsewhere")}
    )
    with pytest.raises(WMError, match="does not answer like vSphere"):
        asyncio.run(VSphereBackend(config, _secrets(sim)).list_instances())
