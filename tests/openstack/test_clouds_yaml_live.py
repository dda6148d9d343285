"""A `cloud = "..."` account against the real Keystone and Nova: the cloud is read by
openstacksdk's loader from shapes the OpenStack tools accept (clouds.yml, hyphenated
keys, tenant_name, a regions list, the password in secure.yaml), and logs in and lists."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.test_openstack import (  # noqa: F401 (passwords: autouse fixture)
    boot,
    close,
    listed,
    make_portal,
    passwords,
)
from winged_monkey.user.config import AccountConfig

pytestmark = pytest.mark.timeout(420)


@pytest.fixture
def clouds(openstack: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    user = openstack.user("alpha")
    path = tmp_path / "clouds.yml"
    path.write_text(
        "clouds:\n  lab:\n    identity-api-version: 3\n    regions: [RegionOne]\n"
        f"    auth:\n      auth-url: {openstack.auth_url}/v3\n      username: {user['user']}\n"
        "      tenant_name: alpha\n      user-domain-name: Default\n"
        "      project-domain-id: default\n"
    )
    secure = tmp_path / "secure.yaml"
    secure.write_text(f"clouds:\n  lab:\n    auth:\n      password: {user['password']}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure))
    yield path
    openstack.delete_all_servers()


def test_a_cloud_named_in_the_account_logs_in_and_lists(
    openstack: OpenStack, clouds: Path, tmp_path: Path
) -> None:
    boot(openstack, "alpha", "via-clouds-yml")
    account = AccountConfig.model_validate({"name": "lab", "provider": "openstack", "cloud": "lab"})
    portal = make_portal(tmp_path, account)
    try:
        assert "via-clouds-yml" in listed(portal, "lab")
    finally:
        close(portal)
