"""OpenStack (Nova, through Keystone) as a libcloud family.

What Nova gives that the base does not ask of every driver: one server by id, the task
in flight and the fault text (openstackcompat.py), flavor and image names for the rows,
the console log, and for the catalog its visible images, networks and /limits. A failed
call says whether Keystone or Nova failed, and Keystone's refusal in its own words.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node, NodeDriver

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.actions import refusal as state_refusal
from winged_monkey.backend import Capability, command_ref
from winged_monkey.catalog import CatalogItem, Choice, LaunchRequest, Quota, Size
from winged_monkey.errors import (
    BackendError,
    CredentialError,
    InvalidRequest,
    RefusedAsRead,
    WMError,
)
from winged_monkey.models import Instance, InstanceState
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud import cloudsyaml, console, drivers, openstackcompat, sizes
from winged_monkey_libcloud.backend import Known, LibcloudBackend
from winged_monkey_libcloud.errors import translate


class OpenStackBackend(LibcloudBackend):
    """One OpenStack project's servers."""

    READS: ClassVar[frozenset[Capability]] = frozenset({Capability.CONSOLE})

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self._names = openstackcompat.Names()  # flavor and image names
        self._cloud: cloudsyaml.Cloud | None = None  # a clouds.yaml cloud, once read

    def driver_class(self) -> type[NodeDriver]:
        return _concrete(super().driver_class(), self.account)

    def driver_kwargs(self) -> dict[str, Any]:
        if cloudsyaml.cloud_name(self.account) is None:
            return super().driver_kwargs()
        self._cloud = cloudsyaml.resolve(self.account)
        return drivers.built(
            self.account, self.driver_cls, _cloud_kwargs(self.account, self.secrets, self._cloud)
        )

    async def check(self) -> str:
        said = await super().check()
        cloud = self._cloud  # as the last driver was built from it
        if cloud is None:
            return said
        region = cloud.driver.get("ex_force_service_region")
        tls = "" if cloud.verify else "; TLS NOT VERIFIED (clouds.yaml: verify: false)"
        notes = "".join(f"; {note}" for note in cloud.notes)
        return (
            f"{said}; cloud {cloud.name!r}" + (f", region {region}" if region else "") + tls + notes
        )

    async def console_output(self, instance: Instance) -> str:
        def read(driver: NodeDriver) -> str:
            try:
                return console.nova_output(driver, instance.id)
            except BaseHTTPError as exc:
                if exc.code != 409:
                    raise
                # Nova's "Instance <id> is not ready": a server on no host (one the
                # scheduler placed nowhere, a shelved one) has no console to read.
                fault = instance.extra.get("fault")
                why = f"{instance.raw_state}: {fault}" if fault else instance.raw_state
                raise BackendError(
                    f"{instance.name} has no console log to read: Nova says it is not "
                    f"ready ({why})",
                    account=self.account.name,
                ) from None

        return await self._call(read)

    def _failure(self, driver: NodeDriver | None, exc: Exception) -> WMError:
        if driver is None:
            return super()._failure(driver, exc)
        refused = openstackcompat.keystone_refusal(driver, exc, self.secrets)
        if refused is not None:
            return refused
        cloud = self._cloud  # a clouds.yaml cloud's Keystone is in the file, not the account
        settings = self.account.driver if cloud is None else cloud.driver
        where = openstackcompat.where(driver, settings, exc) or self._where()
        return translate(exc, provider=self.provider, where=where, secrets=self.secrets)

    # -- listing and actions ----------------------------------------------------

    def _list(self, driver: NodeDriver) -> list[Instance]:
        nodes = openstackcompat.fill_faults(driver, driver.list_nodes())
        return [self._convert(driver, node) for node in self._names.named(driver, nodes)]

    def _get(self, driver: NodeDriver, instance_id: str) -> Instance | None:
        # One server, not the whole list; None once Nova forgets it.
        server = openstackcompat.get_server(driver, instance_id)
        if server is None:
            return None
        (server,) = self._names.named(driver, [server])
        return self._convert(driver, server)

    def _convert(self, driver: NodeDriver, node: Node, known: Known | None = None) -> Instance:
        # Nova's task state and fault text; libcloud keeps neither usable.
        known = openstackcompat.node_state(node)
        node = openstackcompat.public_ipv6(openstackcompat.with_fault_text(node))
        return super()._convert(driver, node, known)

    def lacks(self, action: Action) -> str | None:
        if action is Action.POWEROFF:  # Nova has no stop that skips the guest: none needed
            return (
                "Nova has no power-off of its own, and needs none: its stop asks the guest "
                "to shut down, then powers the server off if it has not within Nova's "
                "shutdown_timeout (60 s by default): wm stop"
            )
        return None

    def refusal(self, action: Action, instance: Instance) -> str | None:
        # Each state here Nova refuses all but delete in ("Cannot 'stop' instance ...
        # while it is in vm_state resized"), its words naming the id and not what to do.
        # A command that names the id comes last: a toast at 80 columns is 36 cells wide,
        # a uuid 36 characters, so the id takes a line of its own, and any words after it
        # (its closing parenthesis first) were cut from it onto the next lines.
        if action is Action.DESTROY:
            return None
        if instance.raw_state == "resized":  # a resize awaiting confirmation (VERIFY_RESIZE)
            return (
                f"{instance.name} is resized and Nova awaits its confirmation: confirm the "
                f"resize (or revert it) first, then {action}: openstack server resize "
                f"confirm {instance.id}"
            )
        if instance.raw_state.partition("/")[0] == "building":
            return _building(action, instance)
        if action is Action.STOP and instance.state is InstanceState.SUSPENDED:
            # Nova's stop refuses a suspended or paused server (409 "Cannot 'stop' instance
            # ... while it is in vm_state suspended"), where vSphere and libvirt power off.
            return f"{instance.name} is suspended, not stopped: start resumes it, then stop"
        if instance.raw_state == "rescued":  # booted from a rescue image in its place
            return (
                f"{instance.name} is in rescue mode, where Nova refuses {action}; unrescue "
                "it first, which boots it from its own disk again: openstack server "
                f"unrescue {instance.id}"
            )
        if instance.raw_state == "error" and instance.extra.get("hostId") == "":
            # No compute host holds it (the scheduler placed it nowhere): Nova answers
            # "Instance <id> is not ready" to a stop, and refuses the rest by its state.
            fault = str(instance.extra.get("fault") or "").rstrip(". ")
            why = f"Nova: {fault}" if fault else "Nova placed it nowhere"
            return (
                f"{instance.name} is on no host ({why}): it never ran, so it cannot be "
                f"{action.past}; destroy it and launch again"
            )
        if action is Action.REBOOT and instance.raw_state == "error":
            # Nova takes a HARD reboot of a server in ERROR (its way to recover one) and
            # refuses a soft one by its state: the portal's "reboot needs it running" left
            # out that reset is that hard reboot. Named by the action and the command, not
            # by a key: these words reach the CLI too, and the TUI's keys can be remapped.
            # The command last (a toast's width).
            return (
                f"{instance.name} is in error, where Nova takes no soft reboot; its hard "
                f"reboot, a reset, may recover it: wm reset {command_ref(instance)}"
            )
        vm_state, _, task = instance.raw_state.partition("/")
        if vm_state == "error" and task in _HARD_REBOOT_TASKS:
            return _hard_reboot_under_way(action, instance, task)
        return None

    def _node(self, driver: NodeDriver, instance: Instance) -> Node:
        # No GET before each POST: a server deleted since is Nova's 404 to the action (_act).
        return self._id_only(driver, instance)

    def _act(self, driver: NodeDriver, action: Action, instance: Instance) -> None:
        # A paused or shelved server starts by Nova's own verb (unpause, unshelve).
        wake = openstackcompat.WAKE.get(instance.raw_state)
        try:
            if wake is not None and action in (Action.START, Action.RESUME):
                ex: Any = driver
                self._accepted(
                    ex._post_simple_node_action(self._node(driver, instance), wake),
                    action,
                    instance,
                )
            else:
                super()._act(driver, action, instance)
        except BaseHTTPError as exc:
            if exc.code == 409 and "is locked" in str(exc.message):
                # Nova's words name the server's id alone, and not what to do.
                raise BackendError(
                    f"{instance.name} is locked, so Nova refuses every action on it; unlock "
                    "it first (one an admin locked, only an admin unlocks): openstack server "
                    f"unlock {instance.id}",
                    account=self.account.name,
                ) from None
            if exc.code in (404, 409):
                raise self._refused(driver, action, instance, exc) from None
            raise

    def _refused(
        self, driver: NodeDriver, action: Action, instance: Instance, exc: BaseHTTPError
    ) -> BackendError:
        """Nova's 404 or 409 to an action, said from the server as read right after it.

        The row the action was sent from may be old (an account whose last poll failed, or
        `wm stop ACCOUNT/ID`, which lists nothing): nothing refused it by its state. Nova's
        409 says "Instance <id> is not ready" (no host holds it yet, or ever) or "Cannot
        'reboot' instance <id> while it is in vm_state building", and a server the
        scheduler has not placed yet answers 404 "could not be found", as a deleted one
        does: only a read of the server tells which, and in what state it is.
        """
        try:
            now = self._get(driver, instance.id)
        except Exception:  # any failure of the read: its state is unknown
            said = _nova_words(exc, instance)
            return BackendError(
                f"Nova refused the {action} ({said}), and {instance.name} "
                "could not be read just after: its state is unknown; wm ls --account "
                f"{self.account.name} shows it once Nova answers",
                account=self.account.name,
            )
        if now is None:
            gone = self._gone(instance)  # read: Nova no longer knows it
            return RefusedAsRead(gone.message, account=self.account.name)
        return RefusedAsRead(
            f"Nova refused the {action}: {self._why(action, now, exc)}",
            account=self.account.name,
        )

    def _why(self, action: Action, now: Instance, exc: BaseHTTPError) -> str:
        """Why Nova refused `action`, from the server as just read (`now`), and what to do."""
        said = self.refusal(action, now)
        if said is not None:
            return said
        if "/" in now.raw_state:  # a task in flight: Nova takes no other action meanwhile
            return (
                f"{now.name} is busy with a Nova task (Nova: {now.raw_state}), and Nova "
                "takes no other action meanwhile: wait until it ends, then try again"
            )
        said = state_refusal(action, now)
        if said is not None:
            return said
        # Read just after, nothing in its state refuses it: a task ended meanwhile.
        return (
            f"{_nova_words(exc, now)}; read just after, {now.name} is {now.raw_state}: "
            f"{action} it again"
        )

    # -- catalog ----------------------------------------------------------------

    def _offers(self, *, read_only: bool) -> frozenset[Capability]:
        return offer.offered(offer.CAPABILITIES, read_only=read_only)

    def _images(self, driver: NodeDriver, notes: list[str]) -> list[CatalogItem]:
        return [offer.item(self.account, self.provider, i) for i in driver.list_images()]

    def _networks(self, driver: NodeDriver, notes: list[str]) -> list[Choice]:
        ex: Any = driver
        return offer.part(
            notes,
            "networks",
            lambda: [Choice(id=str(n.id), name=str(n.name or n.id)) for n in ex.ex_list_networks()],
        )

    def _quotas(self, driver: NodeDriver, sizes: list[Size], notes: list[str]) -> list[Quota]:
        return offer.part(notes, "quota", lambda: _nova_quotas(driver))

    def _locations(self, driver: NodeDriver) -> list[Choice]:
        # libcloud's list_locations is a placeholder (one location, "0"), which Nova
        # refuses as a zone: its availability zones are asked of Nova itself.
        connection: Any = driver.connection
        zones = connection.request("/os-availability-zone").object.get("availabilityZoneInfo")
        return [
            Choice(id=str(z["zoneName"]), name=str(z["zoneName"]))
            for z in zones or []
            if z.get("zoneName") and (z.get("zoneState") or {}).get("available")
        ]

    def _search(self, driver: NodeDriver, query: str) -> list[CatalogItem]:
        # Nova has no filter on a name's part: the visible images are filtered here.
        wanted = query.lower()
        found = [
            i
            for i in driver.list_images()
            if wanted in str(i.name or "").lower()
            or wanted in str((i.extra or {}).get("description") or "").lower()
        ]
        newest = offer.newest_first(found, "created")
        return [offer.item(self.account, self.provider, i, public=True) for i in newest]

    def _launch(self, driver: NodeDriver, request: LaunchRequest) -> list[str]:
        from libcloud.compute.drivers.openstack import OpenStackNetwork

        wanted = str(request.size)
        flavors = sizes.list_sizes(driver)
        flavor = next((f for f in flavors if wanted in (str(f.id), f.name)), None)
        if flavor is None:
            known = ", ".join(sorted(str(f.name) for f in flavors)[:12])
            raise InvalidRequest(
                f"no flavor {wanted!r} here (known: {known})", account=self.account.name
            )
        kwargs: dict[str, Any] = {"size": flavor, "image": offer.image_ref(driver, request.item)}
        if request.key_pair:
            kwargs["ex_keyname"] = request.key_pair
        if request.network:
            network = OpenStackNetwork(request.network, None, None, driver)  # type: ignore[no-untyped-call]
            kwargs["networks"] = [network]
        if request.location:
            kwargs["ex_availability_zone"] = request.location
        # libcloud's Nova call has no min_count: one call per instance, each named
        return [str(driver.create_node(name=n, **kwargs).id) for n in request.instance_names()]


#: Nova's task states of a hard reboot (nova/compute/task_states.py: hard_reboot_states).
_HARD_REBOOT_TASKS = frozenset({"rebooting_hard", "reboot_pending_hard", "reboot_started_hard"})


def _hard_reboot_under_way(action: Action, instance: Instance, task: str) -> str | None:
    """Why Nova takes no `action` on a server in ERROR whose hard reboot is still under way
    (`error/rebooting_hard`: most often the reboot sent to recover it); None when it does.

    Nova's API takes a delete, and a hard reboot again while the task is still
    rebooting_hard (task_states.ALLOW_REBOOT): a compute host that lost or never ran the
    request leaves the task there, and the hard reboot sent again is how one goes on. Once
    the host has begun it (reboot_pending_hard, reboot_started_hard) nothing but a delete
    until it ends. Everything else needs no task in flight (stop, soft reboot, suspend) or
    another vm_state (start, resume)."""
    if action is Action.DESTROY or (action is Action.RESET and task == "rebooting_hard"):
        return None
    said = (
        f"{instance.name} is in error with a hard reboot under way (Nova: "
        f"{instance.raw_state}), and Nova takes no {action} until it ends"
    )
    if task != "rebooting_hard":  # on its host already: only waiting ends it
        return f"{said}: wait until it ends"
    return (
        f"{said}: wait for it; if it never ends, send the hard reboot again: wm reset "
        f"{command_ref(instance)}"
    )


def _building(action: Action, instance: Instance) -> str:
    """Why Nova takes no action but delete on a server it is still building: its vm_state
    building allows delete alone (one not placed yet answers 404, one no host has taken up
    409 "is not ready", the others 409 "vm_state building")."""
    placing = instance.raw_state == "building/scheduling"
    doing = "being placed on a host" if placing else "being built"
    if action in (Action.START, Action.RESUME):
        return (
            f"{instance.name} is still {doing} (Nova: {instance.raw_state}): it runs once "
            f"Nova has built it, with nothing to {action}"
        )
    return (
        f"{instance.name} is still {doing} (Nova: {instance.raw_state}), and Nova "
        f"{action}s no server before it has booted: wait until it runs, then {action} it "
        "(or destroy it now)"
    )


def _nova_words(exc: BaseHTTPError, instance: Instance) -> str:
    """Nova's own words for a refusal, without libcloud's status line ("409 Conflict") and
    with the server's name where they say its id ("Cannot 'reboot' instance web while it
    is in vm_state building")."""
    text = " ".join(str(exc.message).split())
    try:
        status = f"{exc.code} {HTTPStatus(exc.code).phrase} "
    except ValueError:  # a status no RFC names
        status = f"{exc.code} "
    text = text.removeprefix(status).replace(instance.id, instance.name)[:300]
    return text.rstrip(". ") or f"HTTP {exc.code}"


def _nova_quotas(driver: Any) -> list[Quota]:
    """Nova's absolute limits (GET /limits): instances, cores, RAM; -1 is unlimited."""
    absolute = driver.connection.request("/limits").object["limits"]["absolute"]
    pairs = (
        ("instances", "maxTotalInstances", "totalInstancesUsed"),
        ("vcpus", "maxTotalCores", "totalCoresUsed"),
        ("ram_mb", "maxTotalRAMSize", "totalRAMUsed"),
    )
    return [
        Quota(
            resource=name,
            limit=offer.as_int(absolute.get(lim)),
            used=offer.as_int(absolute.get(use)),
        )
        for name, lim, use in pairs
        if lim in absolute
    ]


def _concrete(cls: type[NodeDriver], account: AccountConfig) -> type[NodeDriver]:
    """The class a factory driver really builds, so its methods can be inspected.

    libcloud's OpenStackNodeDriver picks its class by `api_version` in `__new__`; the
    factory itself has neither suspend nor resume, nor the soft and hard reboots.
    """
    select: Any = getattr(cls, "__new__", None)
    if select is None or select is object.__new__:
        return cls
    try:
        built: object = select(cls, "probe", api_version=account.driver.get("api_version", "1.1"))
    except (NotImplementedError, TypeError):  # an unknown api_version: the driver says so later
        return cls
    return type(built) if isinstance(built, cls) else cls


def _cloud_kwargs(
    account: AccountConfig, secrets: Secrets, cloud: cloudsyaml.Cloud
) -> dict[str, Any]:
    """A clouds.yaml cloud's arguments; a secret the portal found (keyring, secret_env,
    ...) wins over the file's."""
    secret = secrets.secret or cloud.secret
    if secret is None:
        raise CredentialError(
            f"clouds.yaml: cloud {cloud.name!r} has no password or secret (clouds.yaml, "
            f"secure.yaml); store one with `wm accounts set-secret {account.name}` or name "
            "secret_env or secret_command in the account's [accounts.credentials]",
            account=account.name,
        )
    kwargs: dict[str, Any] = {"key": secrets.key or cloud.key, "secret": secret, **cloud.driver}
    kwargs["timeout"] = account.timeout
    return kwargs
