"""The catalog and launches on OpenStack through libcloud, against the real Keystone, Glance
and Nova (fake virt) the suite starts: flavors, images, key pairs and Nova's own limits;
launches followed until active; Nova's quota stopping a launch before any call.

Nova's own record (admin HTTP) is the witness. Neutron is a stub: no networks here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import wait_until
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import account, close, libcloud_driver, make_portal
from tests.openstack.helpers import passwords as passwords  # autouse: the secrets
from winged_monkey.catalog import AccountCatalog, LaunchRequest
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import InvalidRequest
from winged_monkey.models import InstanceState

pytestmark = pytest.mark.timeout(420)


def catalog_of(portal: Portal, name: str) -> AccountCatalog:
    return asyncio.run(portal.catalog(name))


def launch(portal: Portal, name: str, request: LaunchRequest) -> list[ActionUpdate]:
    async def run() -> list[ActionUpdate]:
        return [u async for u in portal.launch(name, request)]

    return asyncio.run(run())


def servers(stack: OpenStack) -> list[dict[str, object]]:
    reply = stack.nova("GET", "/servers/detail", params={"all_tenants": "1"})
    reply.raise_for_status()
    found: list[dict[str, object]] = reply.json()["servers"]
    return found


def test_catalog_has_flavors_images_key_pairs_and_novas_limits(
    openstack: OpenStack, tmp_path: Path
) -> None:
    libcloud_driver(openstack, "alpha").create_key_pair("alice-laptop")
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        found = catalog_of(portal, "os-alpha")
    finally:
        close(portal)
    flavors = {s.name: s for s in found.sizes}
    assert {"m1.tiny", "m1.small", "m1.huge"} <= set(flavors)
    assert flavors["m1.huge"].vcpus == 32
    assert flavors["m1.tiny"].price_hourly is None  # Nova publishes no prices
    assert openstack.state["image_id"] in {i.id for i in found.items}
    assert "cirros-fake" in {i.name for i in found.items}
    assert [k.name for k in found.key_pairs] == ["alice-laptop"]
    quotas = {str(q.resource): q for q in found.quotas}
    assert (quotas["instances"].limit, quotas["instances"].used) == (10, 0)
    assert (quotas["vcpus"].limit, quotas["vcpus"].used) == (20, 0)
    assert found.provider == "openstack"


@pytest.fixture
def glance_images(openstack: OpenStack) -> Iterator[Callable[..., dict[str, Any]]]:
    """Make a public Glance image by name, with any other Glance fields (Glance's record);
    deleted afterwards."""
    url = f"http://127.0.0.1:{openstack.state['ports']['glance']}/v2/images"
    headers = {"X-Auth-Token": openstack.admin_token()}
    made: list[str] = []

    def make(name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "disk_format": "raw", "container_format": "bare", **fields}
        reply = httpx.post(url, json={**body, "visibility": "public"}, headers=headers, timeout=30)
        reply.raise_for_status()
        image: dict[str, Any] = reply.json()
        made.append(image["id"])
        # Nova lists an image once it has data (Glance's "active"), as the lab's own.
        upload = {**headers, "Content-Type": "application/octet-stream"}
        httpx.put(
            f"{url}/{image['id']}/file", content=b"\0" * 65536, headers=upload, timeout=30
        ).raise_for_status()
        return image

    yield make
    for ident in made:
        httpx.delete(f"{url}/{ident}", headers=headers, timeout=30)


def test_a_search_shows_the_newest_images_first(
    openstack: OpenStack, tmp_path: Path, glance_images: Callable[..., dict[str, Any]]
) -> None:
    """By name, a series' oldest build came first. Glance dates an image to the second:
    the second one is made a second later."""
    older = glance_images("nightly-a")
    wait_until(
        lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S") > older["created_at"][:19],
        timeout=5,
    )
    newer = glance_images("nightly-b")
    assert newer["created_at"] > older["created_at"]
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        found = asyncio.run(portal.search_images("os-alpha", "nightly"))
        (first,) = asyncio.run(portal.search_images("os-alpha", "nightly", limit=1))
    finally:
        close(portal)
    assert [i.name for i in found] == ["nightly-b", "nightly-a"]
    assert first.name == "nightly-b"


def test_launch_two_servers_followed_until_active(openstack: OpenStack, tmp_path: Path) -> None:
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha", price_hourly=0.02))
    request = LaunchRequest(item=openstack.state["image_id"], name="web", size="m1.tiny", count=2)
    try:
        updates = launch(portal, "os-alpha", request)
    finally:
        close(portal)
    finals = [u for u in updates if u.finished]
    assert {u.phase for u in finals} == {"done"}
    assert {u.instance.state for u in finals} == {InstanceState.RUNNING}
    on_nova = {str(s["id"]): s for s in servers(openstack)}
    assert set(on_nova) == {u.instance.id for u in finals}
    assert sorted(str(s["name"]) for s in on_nova.values()) == ["web-1", "web-2"]
    assert {s["status"] for s in on_nova.values()} == {"ACTIVE"}


def test_novas_core_limit_stops_a_launch_before_any_call(
    openstack: OpenStack, tmp_path: Path
) -> None:
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    request = LaunchRequest(item=openstack.state["image_id"], name="big", size="m1.huge")
    try:
        with pytest.raises(InvalidRequest) as caught:
            launch(portal, "os-alpha", request)
    finally:
        close(portal)
    assert str(caught.value).startswith(
        "os-alpha: launching 1 x m1.huge needs 32 vCPUs; 20 of 20 remain"
    )
    assert servers(openstack) == []


def test_a_bad_image_or_flavor_gives_a_reason(openstack: OpenStack, tmp_path: Path) -> None:
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    missing_image = LaunchRequest(
        item="00000000-0000-0000-0000-000000000000", name="x", size="m1.tiny"
    )
    missing_flavor = LaunchRequest(item=openstack.state["image_id"], name="x", size="m9.none")
    try:
        with pytest.raises(InvalidRequest) as image_error:
            launch(portal, "os-alpha", missing_image)
        with pytest.raises(InvalidRequest) as flavor_error:
            launch(portal, "os-alpha", missing_flavor)
    finally:
        close(portal)
    assert image_error.value.message.startswith("openstack refused the launch:")
    assert "Can not find requested image" in image_error.value.message  # Nova's words
    assert flavor_error.value.message.startswith("no flavor 'm9.none' here (known: m1.huge")
    assert servers(openstack) == []


def test_flavors_are_read_without_libcloud_parsing_its_price_file_for_each(
    openstack: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libcloud has no prices for OpenStack, and asked each flavor's price by reading its
    whole pricing file (4.5 MB) without keeping the answer: 0.2 s of CPU for this Nova's
    flavors at each catalog, seconds for a cloud with a hundred. The file is read once."""
    from libcloud import pricing

    from winged_monkey_libcloud import sizes

    pricing.invalidate_module_pricing_cache("compute", "openstack")
    sizes._priced.cache_clear()
    reads: list[str] = []
    path_of = pricing.get_pricing_file_path

    def counted(**kwargs: Any) -> str:
        reads.append("read")
        return str(path_of(**kwargs))

    monkeypatch.setattr(pricing, "get_pricing_file_path", counted)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        first, again = catalog_of(portal, "os-alpha"), catalog_of(portal, "os-alpha")
    finally:
        close(portal)
    assert len(first.sizes) >= 5
    assert again.sizes == first.sizes
    assert all(s.price_hourly is None for s in first.sizes)  # unknown, as before
    assert len(reads) <= 1, f"libcloud's pricing file was read {len(reads)} times"


@pytest.fixture
def big_image(glance_images: Callable[..., dict[str, Any]]) -> str:
    """A public image that needs 1 GB of RAM and a 10 GB disk (Glance's min_ram and
    min_disk, as a real distribution image says): Nova refuses it on m1.tiny."""
    return str(glance_images("debian-12-big", min_ram=1024, min_disk=10)["id"])


def test_a_flavor_under_the_images_min_ram_or_min_disk_is_refused_before_any_call(
    openstack: OpenStack, tmp_path: Path, big_image: str
) -> None:
    """Nova refuses a flavor with less RAM or disk than the image's min_ram and min_disk
    ('Flavor's memory is too small for requested image.'); the catalog says what the
    image needs, a ranking picks a flavor that runs it, and a launch on one that cannot
    stops before any call, in wm's words."""
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    tiny_ram = LaunchRequest(item=big_image, name="big", size="m1.tiny")
    try:
        found = catalog_of(portal, "os-alpha")
        ranked, _ = asyncio.run(portal.where("1cpu", item=big_image))
        with pytest.raises(InvalidRequest) as caught:
            launch(portal, "os-alpha", tiny_ram)
    finally:
        close(portal)
    assert [(r.account, r.size.name if r.size else None) for r in ranked] == [
        ("os-alpha", "m1.small")
    ]
    assert str(caught.value) == (
        f"os-alpha: m1.tiny has 512 MB of RAM and debian-12-big ({big_image}) needs 1 GB "
        "(its min_ram): pick a larger size"
    )
    assert servers(openstack) == []
    (image,) = [i for i in found.items if i.id == big_image]
    assert (image.min_ram_mb, image.min_disk_gb) == (1024, 10)
    assert image.needs[0] == "a size of at least 1 GB RAM and 10 GB disk"  # wm catalog's NEEDS


def test_locations_are_novas_availability_zones_and_a_launch_lands_in_one(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """libcloud's OpenStack list_locations is a placeholder (one location named '0'): the
    catalog showed 'locations: 0' and the wizard offered it, which Nova refuses as an
    availability zone. The zones are Nova's own (os-availability-zone), and one picked
    from the catalog is where the server runs."""
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        found = catalog_of(portal, "os-alpha")
        (zone,) = found.locations
        request = LaunchRequest(
            item=openstack.state["image_id"], name="zoned", size="m1.tiny", location=zone.id
        )
        final = launch(portal, "os-alpha", request)[-1]
    finally:
        close(portal)
    assert (zone.id, zone.name) == ("nova", "nova")  # the lab's one zone, as Nova lists it
    assert final.phase == "done"
    (server,) = servers(openstack)
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
