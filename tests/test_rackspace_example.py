"""Rackspace has no simulator here: check only that the README's account builds its driver
offline (no call is made), so the documented example is at least well-formed."""

from __future__ import annotations

from winged_monkey.backend import Capability
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import Secrets
from winged_monkey_libcloud import LibcloudBackend


def test_the_documented_rackspace_account_builds_a_rackspace_driver() -> None:
    account = AccountConfig(
        name="rackspace-dfw",
        provider="rackspace",
        region="dfw",
        credentials=Credentials(key="my-user", secret_env="RACKSPACE_API_KEY"),
    )
    secrets = Secrets(account=account.name, key="my-user", secret="api-key")
    backend = LibcloudBackend(account, secrets)
    driver = backend.driver_cls(**backend.driver_kwargs())
    assert type(driver).__name__ == "RackspaceNodeDriver"
    assert Capability.STOP in backend.capabilities
