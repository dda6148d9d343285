"""Secrets never reach a person: whatever a provider or a backend echoes, the engine masks
every secret of the account out of the messages, the event log and the log lines, once,
at its boundary with the backends (`Accounts.within`, `Secrets.mask`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey import plugins
from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import BackendError
from winged_monkey.models import AccountStatus, Instance, InstanceState

CANARY = "canary-9f3Kq27zXw"


async def poll(portal: Portal) -> dict[str, AccountStatus]:
    return {u.status.name: u.status async for u in portal.refresh(native_events=False)}


def shown(portal: Portal, caplog: pytest.LogCaptureFixture) -> str:
    """Everything a person could read: statuses, the event log, the log lines."""
    parts = [s.error or "" for s in portal.statuses()]
    parts += [f"{e.detail} {e.target_name}" for e in portal.store.events()]
    parts += [r.getMessage() for r in caplog.records]
    return "\n".join(parts)


async def test_a_provider_echoing_the_secret_in_an_error_is_masked(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = fault_proxy(cloud.server.port)
    body = (
        "<Response><Errors><Error><Code>InternalError</Code><Message>signature for "
        f"{CANARY} failed</Message></Error></Errors></Response>"
    ).encode()
    proxy.fault = Fault("status", status=500, body=body)
    portal = cloud.portal(cloud.account("echo", port=proxy.port, secret=CANARY))
    status = (await poll(portal))["echo"]
    assert status.phase == "failed"
    assert "HTTP 500" in (status.error or ""), status.error
    assert CANARY not in shown(portal, caplog)
    await portal.close()


class LeakyBackend(Backend):
    """A careless plugin: its errors quote the account's secret."""

    CAPABILITIES = frozenset({Capability.LIST, Capability.STOP})
    crash = True

    async def list_instances(self) -> list[Instance]:
        if LeakyBackend.crash:
            raise RuntimeError(f"connect with {self.secrets.secret} failed")
        row = Instance(
            account=self.account.name,
            id="i-1",
            name="web",
            state=InstanceState.RUNNING,
            raw_state="running",
            provider="leaky",
        )
        return [row]

    async def act(self, action: Action, instance: Instance) -> None:
        raise BackendError(f"refused for key {self.secrets.secret}", account=self.account.name)


@pytest.fixture
def leaky(monkeypatch: pytest.MonkeyPatch) -> type[LeakyBackend]:
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: LeakyBackend if name == "leaky" else real_load(name)
    )
    LeakyBackend.crash = True
    return LeakyBackend


async def test_a_backends_own_errors_and_bugs_are_masked_everywhere(
    cloud: Cloud, leaky: type[LeakyBackend], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    portal = cloud.portal(cloud.account("leaky", backend="leaky", secret=CANARY))
    status = (await poll(portal))["leaky"]
    assert status.phase == "failed"
    assert status.error == "unexpected RuntimeError: connect with *** failed"

    leaky.crash = False
    await poll(portal)
    (web,) = portal.instances()
    final = [u async for u in portal.run_action(Action.STOP, web)][-1]
    assert (final.phase, final.message) == ("failed", "refused for key ***")
    assert CANARY not in shown(portal, caplog)
    await portal.close()


@pytest.mark.parametrize("secret", ['pa"ss\\word', "pass\nlogin: alice", "clé-secrète"])
def test_a_secret_quoted_escaped_in_an_error_is_masked(secret: str) -> None:
    """httpx refuses a header as `Illegal header value b'...'`, a JSON body quotes it
    escaped: the secret escaped is still the secret."""
    import json

    from winged_monkey.account import Secrets

    said = (
        f"Illegal header value {('Bearer ' + secret).encode()!r}; "
        f"{secret!r}; {json.dumps({'password': secret})}; {secret}"
    )
    assert Secrets(account="a", secret=secret).mask(said) == (
        """Illegal header value b'Bearer ***'; '***'; {"password": "***"}; ***"""
    )
