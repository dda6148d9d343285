"""The libcloud backend: any libcloud compute provider as one portal account."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node, NodeDriver
from libcloud.compute.types import NodeState

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import ACTION_CAPABILITY, Backend, Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchRequest
from winged_monkey.errors import ActionNotAllowed, BackendError, ConfigError, UnreachableError
from winged_monkey.models import Instance, InstanceState
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud import console, drivers, libvirtcompat, openstackcompat, tls
from winged_monkey_libcloud.convert import ec2_prices, to_instance
from winged_monkey_libcloud.errors import translate
from winged_monkey_libcloud.settings import LibcloudSettings

T = TypeVar("T")

# EC2 answers "no such instance" with one of these codes instead of an empty list.
_EC2_GONE = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


class LibcloudBackend(Backend):
    """One account on any libcloud compute provider (EC2, OpenStack, libvirt, ...).

    libcloud blocks and its connections are not thread-safe, so every call runs in the
    account's lane (`Backend.run_blocking`: a thread of its own, abandoned at the deadline)
    with a driver no other call is using. Drivers are kept between calls (idle ones are
    reused from the next call's thread), so a poll reuses the last poll's connection.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST, Capability.CONSOLE} | drivers.MUTATING | offer.CAPABILITIES
    )
    SETTINGS = LibcloudSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.provider = drivers.resolve_provider(account)
        self._ec2 = drivers.is_ec2(self.provider)
        self._libvirt = drivers.is_libvirt(self.provider)
        self._openstack = drivers.is_openstack(self.provider)
        self._cls = drivers.driver_class(account, self.provider)
        self._ca_bundle = tls.ca_bundle(account)  # a wrong path is a config error now
        self._lock = threading.Lock()
        self._drivers: list[NodeDriver] = []  # every driver built, for close()
        self._idle: list[NodeDriver] = []  # drivers no call is using now
        self._prices: dict[str, float | None] | None = None
        self._names = openstackcompat.Names()  # flavor and image names (OpenStack)
        self._host: str | None = None  # host:port of the provider, once a driver exists

    @property
    def capabilities(self) -> frozenset[Capability]:
        return (
            drivers.capabilities(self._cls, read_only=self.account.read_only)
            | offer.capabilities(self._cls, self.provider, read_only=self.account.read_only)
            # A read: read-only accounts keep it. EC2's and Nova's APIs have one.
            | ({Capability.CONSOLE} if self._ec2 or self._openstack else set())
        )

    # -- calls -----------------------------------------------------------------

    async def list_instances(self) -> list[Instance]:
        return await self._call(self._list)

    async def get_instance(self, instance_id: str) -> Instance | None:
        return await self._call(lambda driver: self._get(driver, instance_id))

    async def act(self, action: Action, instance: Instance) -> None:
        self.ensure_writable()
        if ACTION_CAPABILITY[action] not in self.capabilities:
            raise ActionNotAllowed(
                f"libcloud's {self.provider} driver cannot {action}", account=self.account.name
            )
        await self._call(lambda driver: self._act(driver, action, instance))

    async def console_output(self, instance: Instance) -> str:
        if self._ec2:
            return await self._call(lambda driver: console.ec2_output(driver, instance.id))
        if self._openstack:
            return await self._call(lambda driver: console.nova_output(driver, instance.id))
        raise ActionNotAllowed(
            f"no console output through libcloud's {self.provider} driver",
            account=self.account.name,
        )

    async def catalog(self) -> AccountCatalog:
        return await self._call(lambda driver: offer.build(driver, self.account, self.provider))

    async def search_images(self, query: str, limit: int = 50) -> list[CatalogItem]:
        return await self._call(
            lambda driver: offer.search(driver, self.account, self.provider, query, limit)
        )

    async def launch(self, request: LaunchRequest) -> list[str]:
        if Capability.LAUNCH not in self.capabilities:
            raise ActionNotAllowed(
                f"account {self.account.name} cannot launch (read-only, or libcloud's "
                f"{self.provider} driver has no create_node)",
                account=self.account.name,
            )
        return await self._call(
            lambda driver: offer.launch(driver, self.account, self.provider, request)
        )

    async def check(self) -> str:
        count = len(await self.list_instances())
        region = self.account.region or ""
        return (
            f"{self.provider} {region} at {self._where()}: reachable, {count} "
            f"instance{'s' if count != 1 else ''} (credentials from {self.secrets.source})"
        ).replace("  ", " ")

    async def close(self) -> None:
        with self._lock:
            built, self._drivers, self._idle = self._drivers, [], []
        try:
            for driver in built:
                if self._libvirt:  # a virConnect: closing the last one resets the test driver
                    virconnect: Any = driver.connection
                    # Refused when the lane is full of stuck calls: the exit frees it then.
                    with contextlib.suppress(UnreachableError):
                        await self.run_blocking(virconnect.close)
                    continue
                session = getattr(getattr(driver.connection, "connection", None), "session", None)
                if session is not None:
                    session.close()
        finally:
            self.lane.close()  # wakes a call still stuck on this account's sockets

    # -- in the lane's thread ---------------------------------------------------

    async def _call(self, work: Callable[[NodeDriver], T]) -> T:
        return await self.run_blocking(lambda: self._run(work))

    def _run(self, work: Callable[[NodeDriver], T]) -> T:
        driver: NodeDriver | None = None
        try:
            driver = self._driver()
            return work(driver)
        except Exception as exc:
            where = self._where()
            if self._openstack and driver is not None:
                where = openstackcompat.where(driver, self.account.driver, exc) or where
                refused = openstackcompat.keystone_refusal(driver, exc, self.secrets)
                if refused is not None:
                    raise refused from None
            raise translate(
                exc, provider=self.provider, where=where, secrets=self.secrets
            ) from None
        finally:
            # Back to the idle ones, even after a failure or an abandon: a connection that
            # broke is dropped by the HTTP pool and the next call opens a new one.
            if driver is not None:
                with self._lock:
                    if driver in self._drivers:  # not closed meanwhile
                        self._idle.append(driver)

    def _driver(self) -> NodeDriver:
        with self._lock:
            driver = self._idle.pop() if self._idle else None
        if driver is None:
            kwargs = drivers.driver_kwargs(self.account, self.secrets, self.provider, self._cls)
            try:
                driver = self._cls(**kwargs)
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"libcloud's {self.provider} driver refused the settings: {exc}",
                    account=self.account.name,
                ) from None
            if self.account.endpoint is not None and hasattr(driver, "path"):
                driver.path = self.account.endpoint.path
            tls.pin(driver, self._ca_bundle)
            connection: Any = getattr(driver, "connection", None)
            if getattr(connection, "host", None):
                self._host = f"{connection.host}:{getattr(connection, 'port', 443)}"
            with self._lock:
                self._drivers.append(driver)
        return driver

    def _list(self, driver: NodeDriver) -> list[Instance]:
        nodes = driver.list_nodes()
        if self._openstack:
            nodes = self._names.named(driver, openstackcompat.fill_faults(driver, nodes))
        states = libvirtcompat.domain_states(driver.connection) if self._libvirt else {}
        return [self._convert(driver, node, states) for node in nodes]

    def _node_id(self, node: Node) -> str:
        return libvirtcompat.node_uuid(node) if self._libvirt else str(node.id)

    def _get(self, driver: NodeDriver, instance_id: str) -> Instance | None:
        if self._ec2:
            try:
                nodes = driver.list_nodes(ex_node_ids=[instance_id])
            except BaseHTTPError as exc:
                if any(code in str(exc.message) for code in _EC2_GONE):
                    return None
                raise
            for node in nodes:
                if str(node.id) == instance_id:
                    return self._convert(driver, node, {})
            return None
        if self._openstack:  # one server, not the whole list; None once Nova forgets it
            server = openstackcompat.get_server(driver, instance_id)
            if server is None:
                return None
            (server,) = self._names.named(driver, [server])
            return self._convert(driver, server, {})
        return next((i for i in self._list(driver) if i.id == instance_id), None)

    def _act(self, driver: NodeDriver, action: Action, instance: Instance) -> None:
        if self._ec2:
            # EC2 calls need only the id: skip a DescribeInstances round trip.
            node = Node(
                id=instance.id,
                name=instance.name,
                state=NodeState.UNKNOWN,
                public_ips=[],
                private_ips=[],
                driver=driver,
            )
        elif self._libvirt and action in (Action.DESTROY, Action.RESET):
            libvirtcompat.act(driver.connection, action, instance.id)
            return
        elif self._openstack:
            found_node = openstackcompat.get_server(driver, instance.id)
            if found_node is None:
                raise BackendError(
                    f"{instance.name} no longer exists at {self.provider}",
                    account=self.account.name,
                )
            node = found_node
        else:
            found = [n for n in driver.list_nodes() if self._node_id(n) == instance.id]
            if not found:
                raise BackendError(
                    f"{instance.name} no longer exists at {self.provider}",
                    account=self.account.name,
                )
            node = found[0]
        method = drivers.method(type(driver), ACTION_CAPABILITY[action])
        if method is None:  # declared by class, so only a driver swapped underneath gets here
            raise ActionNotAllowed(
                f"libcloud's {self.provider} driver cannot {action}", account=self.account.name
            )
        accepted = getattr(driver, method)(node)
        # EC2's booleans only echo the state in the reply (and moto leaves some out);
        # the portal follows the instance to its target state either way.
        if accepted is False and not self._ec2:
            raise BackendError(
                f"{self.provider} did not accept {action} for {instance.name}",
                account=self.account.name,
            )

    def _convert(
        self, driver: NodeDriver, node: Node, states: dict[str, tuple[InstanceState, str]]
    ) -> Instance:
        region = getattr(driver, "region_name", None) or self.account.region
        ident = self._node_id(node)
        known = states.get(ident)
        if self._openstack:  # Nova's task state and fault text; libcloud keeps neither usable
            known = openstackcompat.node_state(node)
            node = openstackcompat.with_fault_text(node)
        return to_instance(
            node,
            ident=ident,
            known_state=known,
            account=self.account.name,
            provider=self.provider,
            region=region,
            ec2=self._ec2,
            prices=self._ec2_prices(driver) if self._ec2 else {},
            flat_price=self.account.price_hourly,
        )

    def _ec2_prices(self, driver: NodeDriver) -> dict[str, float | None]:
        """Prices from libcloud's bundled data (no API call), computed once per backend."""
        if self._prices is None:
            try:
                prices = ec2_prices(driver.list_sizes())
            except (KeyError, ValueError):  # a region libcloud has no data for
                prices = {}
            with self._lock:
                self._prices = prices
        return self._prices

    def _where(self) -> str:
        endpoint = self.account.endpoint
        if endpoint is not None:
            port = endpoint.port or (443 if endpoint.secure else 80)
            return f"{endpoint.host}:{port}"
        return self._host or self.provider
