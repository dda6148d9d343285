"""An account with no secret anywhere asks for one in a dialog; the answer stays in memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.ui.conftest import wait_for
from tests.ui.on_screen import shows
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.secret import SecretScreen
from winged_monkey.user.config import AccountConfig, Config
from winged_monkey.user.credentials import CredentialResolver

CANARY = "typed-Secret-31337"


def no_secret_account(port: int, timeout: float = 20.0, **credentials: object) -> AccountConfig:
    return AccountConfig.model_validate(
        {
            "name": "asks",
            "timeout": timeout,
            "provider": "ec2",
            "region": "us-east-1",
            "endpoint": {"host": "127.0.0.1", "port": port, "secure": False},
            # The in-memory test keyring is empty and no env var or command is named.
            "credentials": {"key": "AKIAASKS", **credentials},
        }
    )


def make_app(
    moto: MotoServer, tmp_path: Path, timeout: float = 20.0, **credentials: object
) -> tuple[WMApp, Store]:
    account = no_secret_account(moto.port, timeout, **credentials)
    config = Config(accounts=(account,), refresh_interval=3600)
    store = Store.open(tmp_path / "wm.sqlite3")
    resolver = CredentialResolver()
    app = WMApp(Portal(config, store, resolver=resolver), config)
    resolver.prompt = app.ask_secret  # as `wm` wires it
    return app, store


async def test_the_dialog_names_the_account_and_the_answer_is_used(
    moto: MotoServer, tmp_path: Path
) -> None:
    app, store = make_app(moto, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        assert "Secret for asks" in str(app.screen.query_one("Static").render())
        await pilot.press(*CANARY, "enter")
        await wait_for(pilot, lambda: app.portal.status("asks").phase == "ok", "asks listed")
        assert not isinstance(app.screen, SecretScreen)
    store.close()
    assert CANARY.encode() not in (tmp_path / "wm.sqlite3").read_bytes()


async def test_the_time_a_person_takes_to_answer_is_not_the_accounts_timeout(
    moto: MotoServer, tmp_path: Path
) -> None:
    app, store = make_app(moto, tmp_path, timeout=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        await pilot.pause(3.0)  # a person reading the dialog: three times the timeout
        assert app.portal.status("asks").phase != "failed", app.portal.status("asks").error
        await pilot.press(*CANARY, "enter")
        await wait_for(pilot, lambda: app.portal.status("asks").phase == "ok", "asks listed")
    store.close()


async def test_escape_leaves_the_account_failed_with_what_to_do(
    moto: MotoServer, tmp_path: Path
) -> None:
    app, store = make_app(moto, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.portal.status("asks").phase == "failed", "asks failed")
        error = app.portal.status("asks").error or ""
        assert "no secret found" in error
        assert "wm accounts set-secret asks" in error
    store.close()


async def test_without_a_keyring_the_dialog_names_what_can_hold_the_secret(
    moto: MotoServer, tmp_path: Path
) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())  # type: ignore[no-untyped-call]
    app, store = make_app(moto, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        hint = str(app.screen.query_one(".hint", Static).render())
        assert 'secret_env = "WM_SECRET_ASKS"' in hint
        assert "set-secret" not in hint
        await pilot.press("escape")
    store.close()


async def test_an_unset_secret_env_is_the_hint_not_another_variable(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account names its variable and it is not exported: the dialog says to export it
    (it proposed setting secret_env to another name, as if none were configured)."""
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    app, store = make_app(moto, tmp_path, secret_env="NOPE_SECRET", keyring=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        hint = str(app.screen.query_one(".hint", Static).render())
        assert "export NOPE_SECRET" in hint, hint
        assert "WM_SECRET_ASKS" not in hint
        await pilot.press("escape")
    store.close()


async def test_an_account_that_reads_no_keyring_is_not_told_set_secret(
    moto: MotoServer, tmp_path: Path
) -> None:
    """keyring = false: `wm accounts set-secret` would store a secret the account never reads."""
    app, store = make_app(moto, tmp_path, keyring=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        hint = str(app.screen.query_one(".hint", Static).render())
        assert "set-secret" not in hint, hint
        assert "secret_command" in hint
        await pilot.press("escape")
    store.close()
