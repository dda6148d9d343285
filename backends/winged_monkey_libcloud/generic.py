"""Any other libcloud provider (vSphere, GCE, Azure, Rackspace, ...): what every driver has.

An instance is found in the driver's list (libcloud has no call for one node by id);
the catalog is the sizes, locations and key pairs the driver lists, and the images the
account names in config; it launches where the driver creates nodes.
"""

from __future__ import annotations

from typing import Any

from libcloud.compute.base import Node, NodeDriver

from winged_monkey.backend import Capability
from winged_monkey.catalog import CatalogItem, LaunchRequest
from winged_monkey.models import Instance
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud.backend import LibcloudBackend
from winged_monkey_libcloud.settings import configured_images


class GenericBackend(LibcloudBackend):
    """One account on a libcloud provider that has no family of its own here."""

    def _get(self, driver: NodeDriver, instance_id: str) -> Instance | None:
        return next((i for i in self._list(driver) if i.id == instance_id), None)

    def _node(self, driver: NodeDriver, instance: Instance) -> Node:
        found = [n for n in driver.list_nodes() if self._node_id(n) == instance.id]
        if not found:
            raise self._gone(instance)
        return found[0]

    def _offers(self, *, read_only: bool) -> frozenset[Capability]:
        # Known from the class alone: CATALOG where it lists sizes or images, LAUNCH
        # where it creates nodes.
        found = set()
        if offer.overrides(self.driver_cls, "list_sizes") or offer.overrides(
            self.driver_cls, "list_images"
        ):
            found.add(Capability.CATALOG)
        if offer.overrides(self.driver_cls, "create_node"):
            found.add(Capability.LAUNCH)
        return offer.offered(found, read_only=read_only)

    def _images(self, driver: NodeDriver, notes: list[str]) -> list[CatalogItem]:
        wanted = configured_images(self.account)
        return offer.images_by_id(driver, self.account, self.provider, wanted, notes)

    def _launch(self, driver: NodeDriver, request: LaunchRequest) -> list[str]:
        kwargs: dict[str, Any] = {
            "size": offer.size_ref(driver, str(request.size)),
            "image": offer.image_ref(driver, request.item),
        }
        if request.location:
            kwargs["location"] = offer.location(driver, request.location, request)
        return [str(driver.create_node(name=n, **kwargs).id) for n in request.instance_names()]
