"""The libcloud backend: any libcloud compute provider as one portal account.

libcloud gives each provider family its own driver class, and so does this backend: the
base here holds what every family shares (the account's lane and its drivers, listing,
actions, the catalog's frame, error mapping); a family class overrides only what its API
does differently (ec2.py, openstack.py, libvirt.py; generic.py for every other provider).
`LibcloudBackend(account, secrets)`, the plugin's entry point, builds the account's family.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from libcloud.compute.base import Node, NodeDriver, NodeSize
from libcloud.compute.types import NodeState

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import ACTION_CAPABILITY, Backend, Capability
from winged_monkey.errors import (
    ActionNotAllowed,
    BackendError,
    ConfigError,
    InvalidRequest,
    WMError,
)
from winged_monkey.models import Instance, InstanceState
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud import drivers, providers, sizes, tls
from winged_monkey_libcloud.convert import to_instance
from winged_monkey_libcloud.errors import translate
from winged_monkey_libcloud.settings import LibcloudSettings, own_limits

# The catalog's models: imported where a catalog is built, not by a listing or an action.
if TYPE_CHECKING:
    from winged_monkey.catalog import (
        AccountCatalog,
        CatalogItem,
        Choice,
        LaunchRequest,
        Quota,
        Size,
    )

T = TypeVar("T")
Known = tuple[InstanceState, str]  # a state read from the provider itself, and its word

#: Where a launch of a kind other than an image goes instead.
_ELSEWHERE = {
    "deployable": "launch a deployable through the aggregator account whose catalog lists it",
    "template": "launch a template as an app (`wm app launch`) on a Heat account",
}


class LibcloudBackend(Backend):
    """One account on any libcloud compute provider (EC2, OpenStack, libvirt, ...).

    libcloud blocks and its connections are not thread-safe, so every call runs in the
    account's lane (`Backend.run_blocking`: a thread of its own, abandoned at the deadline)
    with a driver no other call is using. Drivers are kept between calls (idle ones are
    reused from the next call's thread), so a poll reuses the last poll's connection.

    A family implements `_get`, `_node`, `_offers`, `_images` and `_launch` (families.py
    has one for every provider) and overrides the rest only where its API differs.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST, Capability.CONSOLE, Capability.POWEROFF}
        | drivers.MUTATING
        | offer.CAPABILITIES
    )
    SETTINGS = LibcloudSettings
    #: Reads the family adds to what its driver class implements (read-only accounts keep them).
    READS: ClassVar[frozenset[Capability]] = frozenset()
    #: Actions the family carries out itself, beyond its driver class (not on read-only ones).
    OWN_ACTIONS: ClassVar[frozenset[Capability]] = frozenset()

    def __new__(cls, account: AccountConfig, secrets: Secrets) -> LibcloudBackend:
        chosen: type[LibcloudBackend] = cls
        if cls is LibcloudBackend:  # the entry point: the provider names the family
            from winged_monkey_libcloud.families import family

            chosen = family(providers.resolve_provider(account))
        built: LibcloudBackend = object.__new__(chosen)
        return built

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.provider = providers.resolve_provider(account)
        self.driver_cls = self.driver_class()
        drivers.check_keys(account, self.provider, self.driver_cls)  # a typo, now
        self.check_required()  # an argument the driver requires left out, now
        self._ca_bundle = tls.ca_bundle(account)  # a wrong path is a config error now
        self._client_cert = tls.client_certificate(account)  # the same
        self._lock = threading.Lock()
        self._drivers: list[NodeDriver] = []  # every driver built, for close()
        self._idle: list[NodeDriver] = []  # drivers no call is using now
        self._host: str | None = None  # host:port of the provider, once a driver exists

    @property
    def capabilities(self) -> frozenset[Capability]:
        read_only = self.account.read_only
        return (
            drivers.capabilities(self.driver_cls, read_only=read_only)
            | self._offers(read_only=read_only)
            | self.READS
            | (frozenset() if read_only else self.OWN_ACTIONS)
        )

    # -- how the family builds its driver (no network call) ----------------------

    def driver_class(self) -> type[NodeDriver]:
        return drivers.load(self.account, self.provider)

    def check_required(self) -> None:
        """Refuses, in the config's words, an account leaving out what the driver needs."""
        drivers.check_required(self.account, self.provider, self.driver_cls)

    def driver_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the driver: credentials, region, endpoint, timeout, extras."""
        return drivers.driver_kwargs(self.account, self.secrets, self.driver_cls)

    # -- calls -----------------------------------------------------------------

    async def list_instances(self) -> list[Instance]:
        return await self._call(self._list)

    async def get_instance(self, instance_id: str) -> Instance | None:
        return await self._call(lambda driver: self._get(driver, instance_id))

    async def act(self, action: Action, instance: Instance) -> None:
        self.ensure_writable()
        if ACTION_CAPABILITY[action] not in self.capabilities:
            raise ActionNotAllowed(
                self.lacks(action) or f"libcloud's {self.provider} driver cannot {action}",
                account=self.account.name,
            )
        await self._call(lambda driver: self._act(driver, action, instance))

    async def console_output(self, instance: Instance) -> str:
        raise ActionNotAllowed(
            f"no console output through libcloud's {self.provider} driver",
            account=self.account.name,
        )

    async def catalog(self) -> AccountCatalog:
        return await self._call(self._catalog)

    async def search_images(self, query: str, limit: int = 50) -> list[CatalogItem]:
        def search(driver: NodeDriver) -> list[CatalogItem]:
            return self._search(driver, query)[:limit]

        return await self._call(search)

    async def launch(self, request: LaunchRequest) -> list[str]:
        if request.kind != "image":  # the item would be taken for an image id and sent
            raise InvalidRequest(
                f"{request.item!r} is a {request.kind}, and a libcloud account launches "
                f"images only; {_ELSEWHERE.get(request.kind, 'pick an image')} "
                f"(`wm catalog {self.account.name}` lists this account's images)",
                account=self.account.name,
            )
        if Capability.LAUNCH not in self.capabilities:
            raise ActionNotAllowed(
                f"account {self.account.name} cannot launch (read-only, or libcloud's "
                f"{self.provider} driver has no create_node)",
                account=self.account.name,
            )
        return await self._call(
            lambda driver: offer.launch(
                self.account, self.provider, request, lambda: self._launch(driver, request)
            )
        )

    async def check(self) -> str:
        count = len(await self.list_instances())
        region = self.account.region or ""
        source = self.secrets.source
        # A libvirtd with auth_tcp = "none" needs none: "credentials from none" read as a fault.
        creds = "no credentials" if source == "none" else f"credentials from {source}"
        return (
            f"{self.provider} {region} at {self._where()}: reachable, {count} "
            f"instance{'s' if count != 1 else ''} ({creds})"
        ).replace("  ", " ")

    async def close(self) -> None:
        with self._lock:
            built, self._drivers, self._idle = self._drivers, [], []
        try:
            for driver in built:
                await self._release(driver)
        finally:
            self.lane.close()  # wakes a call still stuck on this account's sockets

    async def _release(self, driver: NodeDriver) -> None:
        session = getattr(getattr(driver.connection, "connection", None), "session", None)
        if session is not None:
            session.close()

    # -- in the lane's thread ---------------------------------------------------

    async def _call(self, work: Callable[[NodeDriver], T]) -> T:
        return await self.run_blocking(lambda: self._run(work))

    def _run(self, work: Callable[[NodeDriver], T]) -> T:
        driver: NodeDriver | None = None
        try:
            driver = self._driver()
            try:
                return work(driver)
            finally:
                self._learn_host(driver)
        except Exception as exc:
            raise self._failure(driver, exc) from None
        finally:
            # Back to the idle ones, even after a failure or an abandon: a connection that
            # broke is dropped by the HTTP pool and the next call opens a new one.
            if driver is not None:
                with self._lock:
                    if driver in self._drivers:  # not closed meanwhile
                        self._idle.append(driver)

    def _failure(self, driver: NodeDriver | None, exc: Exception) -> WMError:
        """The portal's error for a call that raised `exc` (driver: None if none was built)."""
        return translate(exc, provider=self.provider, where=self._where(), secrets=self.secrets)

    def _driver(self) -> NodeDriver:
        with self._lock:
            driver = self._idle.pop() if self._idle else None
        if driver is None:
            kwargs = self.driver_kwargs()
            try:
                driver = self.driver_cls(**kwargs)
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    drivers.refusal(self.provider, exc), account=self.account.name
                ) from None
            if self.account.endpoint is not None and hasattr(driver, "path"):
                driver.path = self.account.endpoint.path
            tls.pin(driver, self._ca_bundle, self._client_cert)
            self._learn_host(driver)
            with self._lock:
                self._drivers.append(driver)
        return driver

    # -- listing ----------------------------------------------------------------

    def _list(self, driver: NodeDriver) -> list[Instance]:
        return [self._convert(driver, node) for node in driver.list_nodes()]

    def _get(self, driver: NodeDriver, instance_id: str) -> Instance | None:
        """One instance, None once the provider no longer knows it."""
        raise NotImplementedError

    def _node_id(self, node: Node) -> str:
        return str(node.id)

    def _convert(self, driver: NodeDriver, node: Node, known: Known | None = None) -> Instance:
        region = getattr(driver, "region_name", None) or self.account.region
        return to_instance(
            node,
            ident=self._node_id(node),
            known_state=known,
            account=self.account.name,
            provider=self.provider,
            region=region,
            prices=self._prices(driver),
            flat_price=self.account.price_hourly,
        )

    def _prices(self, driver: NodeDriver) -> Mapping[str, float | None]:
        """Hourly price by size, where the provider publishes one."""
        return {}

    # -- actions ----------------------------------------------------------------

    def _act(self, driver: NodeDriver, action: Action, instance: Instance) -> None:
        node = self._node(driver, instance)
        method = drivers.method(type(driver), ACTION_CAPABILITY[action])
        if method is None:  # declared by class, so only a driver swapped underneath gets here
            raise ActionNotAllowed(
                f"libcloud's {self.provider} driver cannot {action}", account=self.account.name
            )
        self._accepted(getattr(driver, method)(node), action, instance)

    def _node(self, driver: NodeDriver, instance: Instance) -> Node:
        """The libcloud Node an action is sent to."""
        raise NotImplementedError

    @staticmethod
    def _id_only(driver: NodeDriver, instance: Instance) -> Node:
        """A Node holding the instance's id and name alone: all a provider needs whose
        actions name the id (EC2, Nova), with no round trip to read the rest."""
        return Node(
            id=instance.id,
            name=instance.name,
            state=NodeState.UNKNOWN,
            public_ips=[],
            private_ips=[],
            driver=driver,
        )

    def _accepted(self, reply: object, action: Action, instance: Instance) -> None:
        if reply is False:
            raise BackendError(
                f"{self.provider} did not accept {action} for {instance.name}",
                account=self.account.name,
            )

    def _gone(self, instance: Instance) -> BackendError:
        return BackendError(
            f"{instance.name} no longer exists at {self.provider}", account=self.account.name
        )

    # -- catalog ----------------------------------------------------------------

    def _catalog(self, driver: NodeDriver) -> AccountCatalog:
        """The account's catalog; a part the provider refuses (key pairs, subnets) is left
        out with a note rather than failing the whole catalog."""
        from winged_monkey.catalog import AccountCatalog

        notes: list[str] = []
        region = getattr(driver, "region_name", None) or self.account.region
        sizes = self._sizes(driver, notes)
        items = self._images(driver, notes)
        networks = self._networks(driver, notes)
        quotas = self._quotas(driver, sizes, notes)
        locations = offer.part(notes, "locations", lambda: self._locations(driver))
        key_pairs = offer.key_pairs(driver, notes)
        return AccountCatalog(
            account=self.account.name,
            provider=self.provider,
            region=region,
            items=tuple(items),
            sizes=tuple(sizes),
            locations=tuple(locations),
            key_pairs=tuple(key_pairs),
            networks=tuple(networks),
            quotas=tuple(offer.with_own_limits(quotas, own_limits(self.account))),
            notes=tuple(notes),
            # A family with a search overrides `_search` (EC2, OpenStack); the others have none.
            searchable=type(self)._search is not LibcloudBackend._search,
        )

    def _sizes(self, driver: NodeDriver, notes: list[str]) -> list[Size]:
        try:
            found = sizes.list_sizes(driver)
        except (KeyError, ValueError):  # a region libcloud has no bundled data for
            found = []
        return self._priced(driver, found)

    def _priced(self, driver: NodeDriver, found: list[NodeSize]) -> list[Size]:
        """The portal's sizes, each with the account's flat rate or the provider's price."""
        prices, flat = self._prices(driver), self.account.price_hourly
        offered = [
            self._size(s, flat if flat is not None else prices.get(str(s.id))) for s in found
        ]
        return sorted(offered, key=lambda s: (s.vcpus or 0, s.ram_mb or 0, s.id))

    def _offers(self, *, read_only: bool) -> frozenset[Capability]:
        """Which of CATALOG, QUOTAS and LAUNCH this account offers."""
        raise NotImplementedError

    def _size(self, size: NodeSize, price: float | None) -> Size:
        return offer.size(size, price)

    def _images(self, driver: NodeDriver, notes: list[str]) -> list[CatalogItem]:
        """The images the account offers (never a public cloud's whole list)."""
        raise NotImplementedError

    def _networks(self, driver: NodeDriver, notes: list[str]) -> list[Choice]:
        return []

    def _quotas(self, driver: NodeDriver, sizes: list[Size], notes: list[str]) -> list[Quota]:
        return []

    def _locations(self, driver: NodeDriver) -> list[Choice]:
        from winged_monkey.catalog import Choice

        return [
            Choice(id=str(loc.id), name=str(loc.name or loc.id)) for loc in driver.list_locations()
        ]

    def _search(self, driver: NodeDriver, query: str) -> list[CatalogItem]:
        """Public images whose name or description contains `query`, the ones to show first
        first (newest, where the provider dates them: catalog.newest_first)."""
        return []

    def _launch(self, driver: NodeDriver, request: LaunchRequest) -> list[str]:
        """Create the instances; their ids."""
        raise NotImplementedError

    def _learn_host(self, driver: NodeDriver) -> None:
        """Where the driver's connection points now: OpenStack's moves from its default to
        the service catalog's address at the first call."""
        connection: Any = getattr(driver, "connection", None)
        if getattr(connection, "host", None):
            self._host = f"{connection.host}:{getattr(connection, 'port', 443)}"

    def _where(self) -> str:
        endpoint = self.account.endpoint
        if endpoint is not None:
            port = endpoint.port or (443 if endpoint.secure else 80)
            return f"{endpoint.host}:{port}"
        return self._host or self.provider
