"""The vSphere account the tests use ("lab" on a vcsim, as a user writes it), a portal
over it, and the calls that drive the portal: shared by the vSphere test modules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.vsphere.vcsim import CA, USER, Vcsim
from winged_monkey.actions import Action
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.models import Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials, Endpoint

SECRET_VAR = "WM_TEST_VSPHERE_SECRET"


def account(
    sim: Vcsim,
    monkeypatch: pytest.MonkeyPatch,
    *,
    password: str | None = None,
    name: str = "lab",
    **settings: Any,
) -> AccountConfig:
    """A vSphere account as a user writes it: the password in an env var, TLS with a CA."""
    monkeypatch.setenv(SECRET_VAR, password if password is not None else sim.password)
    settings.setdefault("ca_bundle", str(CA))
    return AccountConfig(
        name=name,
        backend="vsphere",
        endpoint=Endpoint(host="127.0.0.1", port=sim.port),
        credentials=Credentials(key=USER, keyring=False, secret_env=SECRET_VAR),
        timeout=20,
        **settings,
    )


def write_config(sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account as a user writes it, in the file WM_CONFIG names (tests/conftest.py)."""
    monkeypatch.setenv(SECRET_VAR, sim.password)
    (tmp_path / "config.toml").write_text(
        "action_poll_interval = 0.05\n"
        '[[accounts]]\nname = "lab"\nbackend = "vsphere"\ntimeout = 20\nprice_hourly = 0.02\n'
        f'ca_bundle = "{CA}"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {sim.port} }}\n'
        f'credentials = {{ key = "{USER}", secret_env = "{SECRET_VAR}", keyring = false }}\n',
        encoding="utf-8",
    )


def make_portal(tmp_path: Path, *accounts: AccountConfig) -> Portal:
    config = Config(accounts=accounts, action_poll_interval=0.05, action_timeout=15)
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


def refresh(portal: Portal) -> list[str | None]:
    """Poll every account; the errors of the ones that failed."""

    async def run() -> list[str | None]:
        return [u.status.error async for u in portal.refresh() if u.status.phase == "failed"]

    return asyncio.run(run())


def listed(portal: Portal) -> dict[str, Instance]:
    assert refresh(portal) == []
    return {i.name: i for i in portal.instances()}


def act(portal: Portal, action: Action, instance: Instance) -> ActionUpdate:
    async def run() -> ActionUpdate:
        last: ActionUpdate | None = None
        async for update in portal.run_action(action, instance):
            last = update
        assert last is not None
        return last

    return asyncio.run(run())


def portal_port(portal: Portal) -> int | None:
    endpoint = portal.account_config("lab").endpoint
    return endpoint.port if endpoint else None


def _secrets(sim: Vcsim) -> Any:
    from winged_monkey.user.credentials import Secrets

    return Secrets(account="lab", key=USER, secret=sim.password, source="test")
