"""EC2 (and what speaks its API: moto, LocalStack, Eucalyptus) as a libcloud family.

What EC2's API gives that the base does not ask of every driver: one instance by id,
actions by id alone (no DescribeInstances first), the provider's own state word, prices
from libcloud's bundled data, the console output, and for the catalog the images the
account owns, VPC subnets, the instance quota and, in a region libcloud's table lacks, the
instance types EC2 offers there (ec2catalog.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node, NodeDriver, NodeSize
from libcloud.compute.drivers.ec2 import VALID_EC2_REGIONS

from winged_monkey import aws
from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.errors import ConfigError
from winged_monkey.models import Instance
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud import drivers, ec2pages, ec2prices, tls
from winged_monkey_libcloud.backend import Known, LibcloudBackend
from winged_monkey_libcloud.ec2compat import BotocoreEC2NodeDriver, CompatEC2NodeDriver
from winged_monkey_libcloud.states import ec2_state

# The catalog (its models, ec2catalog.py) and the console are imported by the methods that
# read them: a listing or an action, what most `wm` processes do, reads neither.
if TYPE_CHECKING:
    from winged_monkey.catalog import CatalogItem, Choice, LaunchRequest, Quota, Size

# EC2 answers "no such instance" with one of these codes instead of an empty list.
_EC2_GONE = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


class EC2Backend(LibcloudBackend):
    """One EC2 account (or one on an EC2-compatible endpoint)."""

    READS: ClassVar[frozenset[Capability]] = frozenset({Capability.CONSOLE})
    #: Poweroff is StopInstances with Force=true (libcloud's stop_node sends no Force).
    OWN_ACTIONS: ClassVar[frozenset[Capability]] = frozenset({Capability.POWEROFF})

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self._price_table: Mapping[str, float | None] | None = None
        #: The account's policy refused DescribeAddresses (asked no more until restart).
        self._addresses_refused = False
        if self._ca_bundle is None and secrets.aws is not None and secrets.aws.ca_bundle:
            # botocore trusts these CAs for STS and SSO: EC2's calls trust them as well.
            self._ca_bundle = tls.checked(
                account, secrets.aws.ca_bundle, f"; {secrets.aws.ca_bundle_from}"
            )

    def driver_class(self) -> type[NodeDriver]:
        if aws.uses_botocore(self.account):
            return BotocoreEC2NodeDriver
        region = self.account.region
        if self.account.endpoint is not None or (region and region not in VALID_EC2_REGIONS):
            return CompatEC2NodeDriver  # it signs for a region newer than libcloud's table
        return super().driver_class()

    def driver_kwargs(self) -> dict[str, Any]:
        account, secrets = self.account, self.secrets
        if secrets.aws is not None:
            return drivers.built(account, self.driver_cls, _botocore_kwargs(account, secrets.aws))
        kwargs: dict[str, Any] = {"key": secrets.require_key(), "secret": secrets.require_secret()}
        if secrets.token:
            kwargs["token"] = secrets.token  # temporary (STS) credentials
        kwargs.update(drivers.placement(account))
        if account.endpoint is not None:
            kwargs["signature_version"] = "4"  # quirk 1: SigV2 is routed to S3 by moto
        if account.region and account.region not in VALID_EC2_REGIONS:
            host = _newer_region(account, account.region)
            if account.endpoint is None:
                kwargs.update(host=host, secure=True)
            kwargs["signature_version"] = "4"
        return drivers.built(account, self.driver_cls, kwargs)

    async def console_output(self, instance: Instance) -> str:
        from winged_monkey_libcloud import console

        return await self._call(lambda driver: console.ec2_output(driver, instance.id))

    # -- listing and actions ----------------------------------------------------

    def _list(self, driver: NodeDriver) -> list[Instance]:
        found: list[Instance] = []
        addresses: dict[str, list[str]] | None = None
        for nodes in ec2pages.each_page(driver):
            if nodes and addresses is None:  # none asked of an empty account, as libcloud
                addresses = self._elastic_ips(driver)
            known = addresses or {}
            # Each page converted as it comes: its XML and Nodes are freed before the next.
            found.extend(self._convert(driver, ec2pages.add_elastic_ips(n, known)) for n in nodes)
        return found

    def _get(self, driver: NodeDriver, instance_id: str) -> Instance | None:
        try:
            nodes = ec2pages.one(driver, instance_id)
        except BaseHTTPError as exc:
            if any(code in str(exc.message) for code in _EC2_GONE):
                return None
            raise
        node = next((n for n in nodes if str(n.id) == instance_id), None)
        if node is None:
            return None
        known = self._elastic_ips(driver, instance_id)
        return self._convert(driver, ec2pages.add_elastic_ips(node, known))

    def _elastic_ips(
        self, driver: NodeDriver, instance_id: str | None = None
    ) -> dict[str, list[str]]:
        """The elastic IPs (of `instance_id` alone if given); none, and never asked again, once
        the account's policy refused them: each refusal is an AccessDenied in its CloudTrail."""
        if self._addresses_refused:
            return {}
        found = ec2pages.elastic_ips(driver, instance_id)
        self._addresses_refused = found is None
        return found or {}

    def _convert(self, driver: NodeDriver, node: Node, known: Known | None = None) -> Instance:
        # EC2's own word (`stopping`, `shutting-down`) is finer than libcloud's map.
        raw = (node.extra or {}).get("status")
        known = ec2_state(node.state, str(raw) if raw else None)
        return super()._convert(driver, node, known)

    def refusal(self, action: Action, instance: Instance) -> str | None:
        # EC2 terminates through shutting-down (the portal's stopping, as a destroy's row
        # shows): "is stopping; start needs it stopped" read as if it would stop, to start.
        if instance.raw_state == "shutting-down" and action is not Action.DESTROY:
            return (
                f"{instance.name} is being terminated (EC2: shutting-down): it can no "
                f"longer be {action.past}"
            )
        return None

    def _prices(self, driver: NodeDriver) -> Mapping[str, float | None]:
        """Prices from libcloud's bundled data (no API call), each read once per backend."""
        if self._price_table is None:
            # Not list_sizes(): it parses every provider's prices and builds every type.
            prices = ec2prices.region_prices(self._region(driver))
            with self._lock:
                self._price_table = prices
        return self._price_table

    def _node(self, driver: NodeDriver, instance: Instance) -> Node:
        return self._id_only(driver, instance)  # no DescribeInstances before each action

    def _act(self, driver: NodeDriver, action: Action, instance: Instance) -> None:
        if action is not Action.POWEROFF:
            super()._act(driver, action, instance)
            return
        # EC2's forced stop: the instance is stopped without waiting for its OS to shut
        # down (AWS's answer to one stuck in `stopping`); a refusal is EC2's error.
        ec2: Any = driver  # libcloud's EC2 driver: its connection and API path
        params = {"Action": "StopInstances", "InstanceId.1": instance.id, "Force": "true"}
        ec2.connection.request(ec2.path, params=params)

    def _accepted(self, reply: object, action: Action, instance: Instance) -> None:
        # EC2's booleans only echo the state in the reply (and moto leaves some out);
        # the portal follows the instance to its target state either way.
        return

    # -- catalog ----------------------------------------------------------------

    def _offers(self, *, read_only: bool) -> frozenset[Capability]:
        return offer.offered(offer.CAPABILITIES, read_only=read_only)

    def _region(self, driver: NodeDriver) -> str:
        return str(getattr(driver, "region_name", None) or self.account.region or "")

    def _sizes(self, driver: NodeDriver, notes: list[str]) -> list[Size]:
        from winged_monkey_libcloud import ec2catalog

        region = self._region(driver)
        if ec2catalog.bundled(region):  # no API call: libcloud ships the region's types
            # libcloud's list_sizes prices each type from its cache, else parses the whole file.
            ec2prices.linux_table()
            return super()._sizes(driver, notes)
        # A region newer than libcloud's table: EC2 itself says what it offers there.
        found = self._priced(driver, ec2catalog.instance_types(driver, region, notes))
        if found and all(s.price_hourly is None for s in found):
            notes.append(ec2catalog.unpriced(region))
        return found

    def _size(self, size: NodeSize, price: float | None) -> Size:
        from winged_monkey_libcloud import ec2catalog

        # The instance type is its name; the price data names its processor.
        extra = size.extra or {}
        return offer.size(size, price, name=str(size.id), arch=ec2catalog.arch(extra))

    def _images(self, driver: NodeDriver, notes: list[str]) -> list[CatalogItem]:
        from winged_monkey_libcloud import ec2catalog

        return ec2catalog.images(driver, self.account, self.provider, notes)

    def _networks(self, driver: NodeDriver, notes: list[str]) -> list[Choice]:
        from winged_monkey_libcloud import ec2catalog

        return offer.part(notes, "subnets", lambda: ec2catalog.subnets(driver))

    def _quotas(self, driver: NodeDriver, sizes: list[Size], notes: list[str]) -> list[Quota]:
        from winged_monkey_libcloud import ec2catalog

        return offer.part(notes, "quota", lambda: ec2catalog.quotas(driver, sizes))

    def _locations(self, driver: NodeDriver) -> list[Choice]:
        from winged_monkey.catalog import Choice

        # Availability zones, passed back by name.
        return [Choice(id=str(loc.name), name=str(loc.name)) for loc in driver.list_locations()]

    def _search(self, driver: NodeDriver, query: str) -> list[CatalogItem]:
        from winged_monkey_libcloud import ec2catalog

        return ec2catalog.search(driver, self.account, self.provider, query)

    def _launch(self, driver: NodeDriver, request: LaunchRequest) -> list[str]:
        from winged_monkey_libcloud import ec2catalog

        return ec2catalog.launch(driver, request)


def _newer_region(account: AccountConfig, region: str) -> str:
    """EC2's host for a region libcloud's table lacks and botocore's endpoint data names
    (ap-southeast-3, mx-central-1, ...); any other name is a mistake, said as one."""
    host = aws.ec2_host(region)
    if host is None:
        from winged_monkey.errors import nearest_said

        close = nearest_said(region, aws.ec2_regions())
        hint = f" (did you mean {close}?)" if close else ""
        raise ConfigError(f"region {region!r} is not an EC2 region{hint}", account=account.name)
    return host


def _botocore_kwargs(account: AccountConfig, identity: aws.AwsIdentity) -> dict[str, Any]:
    """What botocore resolved: the credentials (renewed before each request by the
    driver's connection), the region and the endpoint botocore would call for it, unless
    the account names its own."""
    key, secret, token = identity.frozen()
    kwargs: dict[str, Any] = {"key": key, "secret": secret, "ex_credentials": identity}
    if token:
        kwargs["token"] = token
    kwargs["signature_version"] = "4"  # quirk 1; AWS accepts SigV4 everywhere
    kwargs["region"] = identity.region  # the account's, as botocore reads it
    endpoint = account.endpoint
    if endpoint is not None:
        kwargs.update(host=endpoint.host, secure=endpoint.secure)
        if endpoint.port is not None:
            kwargs["port"] = endpoint.port
    elif identity.endpoint_url is not None:  # botocore's, for this region
        url = urlsplit(identity.endpoint_url)
        kwargs.update(host=url.hostname, secure=url.scheme == "https")
        if url.port is not None:
            kwargs["port"] = url.port
        if url.path.strip("/"):  # an endpoint_url behind a gateway's path
            kwargs["ex_path"] = url.path
    kwargs["timeout"] = account.timeout
    return kwargs
