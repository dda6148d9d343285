"""Every bundled backend keeps the rule the engine, the TUI and `wm serve` rely on: its
class's CAPABILITIES say what its accounts may do before any is built, and a built account
only narrows that. Heat said the opposite of its catalog (added once built), and
`wm catalog`, the TUI's catalog and `wm serve`'s pools passed over its templates.

The backends are built without a network call (none is made building them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clouds_files import no_network
from winged_monkey import plugins
from winged_monkey.backend import Capability
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.credentials import CredentialResolver

SECRET = "WM_TEST_CONTRACT_SECRET"  # a variable's name
KEYED = {"key": "alice", "secret_env": SECRET, "keyring": False}
ACCOUNTS: dict[str, dict[str, Any]] = {
    "ec2": {"provider": "ec2", "region": "us-east-1", "credentials": KEYED},
    "openstack": {
        "provider": "openstack",
        "driver": {
            "ex_force_auth_url": "https://keystone.example:5000",
            "ex_force_auth_version": "3.x_password",
            "ex_tenant_name": "web",
        },
        "credentials": KEYED,
    },
    "libvirt": {
        "provider": "libvirt",
        "driver": {"uri": "qemu+tcp://kvm.example/system"},
        "credentials": {"key": "wm", "keyring": False},
    },
    "vsphere": {"backend": "vsphere", "endpoint": {"host": "vc.example"}, "credentials": KEYED},
    "aggregator": {
        "backend": "aggregator",
        "url": "https://wm.example:8780",
        "credentials": {"secret_env": SECRET, "keyring": False},
    },
    "heat": {"backend": "heat", "endpoint_url": "https://heat.example:8004/v1", "project": "p"},
    "heat with templates": {
        "backend": "heat",
        "endpoint_url": "https://heat.example:8004/v1",
        "project": "p",
        "templates": "TEMPLATES",
    },
}


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_a_built_account_claims_nothing_its_class_did_not(
    kind: str, read_only: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET, "s3cret")
    no_network(monkeypatch, f"building a {kind} backend")
    settings = {k: str(tmp_path) if v == "TEMPLATES" else v for k, v in ACCOUNTS[kind].items()}
    account = AccountConfig.model_validate({"name": "a", "read_only": read_only, **settings})
    cls = plugins.load(account.backend)
    built = cls(account, CredentialResolver().resolve(account))
    assert built.capabilities <= cls.CAPABILITIES, built.capabilities - cls.CAPABILITIES
    assert Capability.LIST in built.capabilities
    if kind.startswith("heat"):
        assert (Capability.CATALOG in built.capabilities) == (kind == "heat with templates")
