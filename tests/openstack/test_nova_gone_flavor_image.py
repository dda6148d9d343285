"""A server whose flavor or image was deleted since it booted, against the real Nova.

Nova's server record (microversion 2.1, libcloud's) has the flavor's and the image's ids
alone; the portal names them from the project's lists. A deleted flavor left its id as
the server's size (a uuid in the SIZE column) and a deleted image its id, read as if
they still existed. The witness is Nova's and Glance's own answers over plain HTTP.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    close,
    libcloud_driver,
    listed,
    make_portal,
    passwords,
)

pytestmark = pytest.mark.timeout(420)


def test_a_deleted_flavor_and_image_are_named_and_said_not_listed(
    openstack: OpenStack, tmp_path: Path
) -> None:
    admin = {"X-Auth-Token": openstack.admin_token()}
    flavor = {"name": "m1.retired", "id": "retired-1", "vcpus": 1, "ram": 256, "disk": 1}
    openstack.nova("POST", "/flavors", json={"flavor": flavor}).raise_for_status()
    glance = f"http://127.0.0.1:{openstack.state['ports']['glance']}/v2/images"
    image = httpx.post(
        glance,
        json={"name": "old-build", "disk_format": "raw", "container_format": "bare"}
        | {"visibility": "public"},
        headers=admin,
        timeout=30,
    )
    image.raise_for_status()
    image_id = image.json()["id"]
    upload = {**admin, "Content-Type": "application/octet-stream"}
    httpx.put(
        f"{glance}/{image_id}/file", content=b"\0" * 65536, headers=upload, timeout=30
    ).raise_for_status()
    driver = libcloud_driver(openstack, "alpha")
    sizes = {s.name: s for s in driver.list_sizes()}
    ident = str(
        driver.create_node(
            name="legacy", size=sizes["m1.retired"], image=driver.get_image(image_id)
        ).id
    )
    openstack.settled(ident, "active")
    openstack.nova("DELETE", "/flavors/retired-1").raise_for_status()
    httpx.delete(f"{glance}/{image_id}", headers=admin, timeout=30).raise_for_status()
    assert openstack.nova("GET", "/flavors/retired-1").status_code == 404

    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        row = listed(portal, "os-alpha")["legacy"]
    finally:
        close(portal)
    # Before: size 'retired-1', image the bare id, as if both were there to pick again.
    assert row.size == "m1.retired (not listed)"
    assert row.image == f"{image_id} (not listed)"
