"""The vSphere backend: a vCenter or ESXi as one portal account, through pyvmomi.

One login per account: pyvmomi's SOAP stub keeps a locked connection pool, so
the account's lane threads (`Backend.run_blocking`) share the session; connecting and
re-logging in happen under this backend's own lock. A listing is one
PropertyCollector round trip over a ContainerView created once per session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pyVmomi import vim, vmodl

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.errors import ActionNotAllowed, BackendError, UnreachableError, WMError
from winged_monkey.models import Instance, InstanceState
from winged_monkey_vsphere import fastcollect, inventory
from winged_monkey_vsphere.errors import translate
from winged_monkey_vsphere.inventory import Listing, Place, Template
from winged_monkey_vsphere.session import Session, logout, open_session, session_gone
from winged_monkey_vsphere.settings import Target, VSphereSettings

if TYPE_CHECKING:  # the catalog is read by a catalog or a launch, not by a listing or an action
    from winged_monkey.catalog import AccountCatalog, LaunchRequest
    from winged_monkey_vsphere import catalog as offer

T = TypeVar("T")
log = logging.getLogger(__name__)

MUTATING = frozenset(
    {
        Capability.START,
        Capability.STOP,
        Capability.REBOOT,
        Capability.DESTROY,
        Capability.SUSPEND,
        Capability.RESUME,
        Capability.RESET,
        Capability.POWEROFF,
        Capability.LAUNCH,
    }
)
TASK_POLL_MAX = 1.0  # seconds between reads of a running task, at most
#: How long a launch waits for a clone to be refused at once (a taken name) before it
#: returns and the portal follows the clone.
CLONE_SETTLE_S = 1.0


@dataclass(frozen=True)
class _Clone:
    task: str  # the CloneVM_Task's moref
    name: str
    doing: str  # "clone vm-60 as web-1", for a fault's message


class VSphereBackend(Backend):
    """One vCenter or ESXi endpoint (user = credentials key, password = the secret)."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.LIST, Capability.CATALOG} | MUTATING
    )
    SETTINGS = VSphereSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.target = Target(account)
        self._context = self.target.ssl_context()  # a bad ca_bundle is a config error now
        self._lock = threading.Lock()
        self._session: Session | None = None
        self._morefs: dict[str, str] = {}
        self._places: dict[str, Place] = {}
        #: Launches under way: the instance uuid given to the clone -> its task.
        self._cloning: dict[str, _Clone] = {}
        #: Templates seen by the last listing: not instances; the catalog's raw material.
        self.templates: tuple[Template, ...] = ()
        #: Whether the last call had its answer (not abandoned at the deadline, not lost):
        #: leaving logs out only from a vCenter that answers, never waiting on a hung one.
        self._answering = True

    # -- the portal's calls ------------------------------------------------------

    async def list_instances(self) -> list[Instance]:
        return await self._call(self._list)

    async def get_instance(self, instance_id: str) -> Instance | None:
        return await self._call(lambda session: self._get(session, instance_id))

    async def act(self, action: Action, instance: Instance) -> Instance | None:
        self.ensure_writable()
        doing = f"{action} {instance.name}"
        return await self._call(lambda session: self._act(session, action, instance), doing=doing)

    async def catalog(self) -> AccountCatalog:
        return await self._call(self._catalog)

    async def launch(self, request: LaunchRequest) -> list[str]:
        self.ensure_writable()
        doing = f"clone {request.item} as {request.name}"
        return await self._call(lambda session: self._launch(session, request), doing=doing)

    async def check(self) -> str:
        instances = await self.list_instances()
        session = self._session
        about = session.content.about.fullName if session is not None else "vSphere"
        tls = (
            "TLS verified"
            if self.target.verified
            else "TLS NOT VERIFIED (insecure = true)"
            if self.target.secure
            else "no TLS"
        )
        count = len(instances)
        return (
            f"{about} at {self.target.where} ({tls}): reachable, {count} "
            f"VM{'s' if count != 1 else ''}, {len(self.templates)} template"
            f"{'s' if len(self.templates) != 1 else ''} "
            f"(credentials from {self.secrets.source})"
        )

    def not_an_instance(self, ref: str) -> str | None:
        with self._lock:
            templates = self.templates
        found = next((t for t in templates if ref in (t.name, t.id, t.moref)), None)
        if found is None:
            return None
        account = self.account.name
        return (
            f"{found.name} ({found.moref}) is a VM template in account {account}: a template "
            f"is never powered on; `wm launch {found.moref} --account {account} --size "
            f"template --name NEW` clones it into a VM (or convert it to a VM in vSphere)"
        )

    async def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        try:
            # A vCenter that did not answer the last call is not asked (its session expires
            # there by itself); the lane refuses when it is full of stuck calls: skip it.
            if session is not None and self._answering:
                with contextlib.suppress(UnreachableError):
                    await self.run_blocking(lambda: logout(session))
        finally:
            self.lane.close()  # wakes a call still stuck on this account's sockets

    # -- in the lane's threads -----------------------------------------------------

    async def _call(self, work: Callable[[Session], T], *, doing: str | None = None) -> T:
        try:
            found = await self.run_blocking(lambda: self._run(work, doing))
        except UnreachableError:  # no connection, its own socket timeout, an answer lost
            self._answering = False
            raise
        except WMError:  # the vCenter's own refusal: it answers
            self._answering = True
            raise
        except asyncio.CancelledError:
            self._answering = False
            # The abandon shut down the pool's idle sockets too; pyvmomi drops them only
            # once the abandoned call wakes, so a call before that would take a dead one.
            session = self._session
            if session is not None:
                # Dropping may meet a connection in mid-exchange (http.client's
                # ResponseNotReady): it must never replace the cancellation, which the
                # engine reads as the deadline.
                with contextlib.suppress(Exception):
                    session.stub.DropConnections()
            raise
        self._answering = True
        return found

    def _run(self, work: Callable[[Session], T], doing: str | None) -> T:
        try:
            session = self._connect()
            try:
                return work(session)
            except (vim.fault.NotAuthenticated, vmodl.fault.ManagedObjectNotFound) as exc:
                if not session_gone(exc, session):
                    raise
                # The session expired (vCenter drops idle ones; vcsim drops its view with
                # it): log in again, once.
                return work(self._connect(stale=session))
        except Exception as exc:
            bundle = self.target.settings.ca_bundle
            raise translate(
                exc,
                where=self.target.where,
                secrets=self.secrets,
                ca_bundle=str(bundle) if bundle else None,
                doing=doing,
            ) from None

    def _connect(self, stale: Session | None = None) -> Session:
        with self._lock:
            if self._session is not None and self._session is not stale:
                return self._session
            self._session = None
            user = self.secrets.require_key()
            password = self.secrets.require_secret()
            self._session = open_session(self.target, self._context, user, password, stale)
            return self._session

    def _list(self, session: Session) -> list[Instance]:
        records = fastcollect.retrieve(
            session.content.propertyCollector, [inventory.view_filter(session.view)]
        )
        listing = inventory.convert(
            records, account=self.account.name, price_hourly=self.account.price_hourly
        )
        self._remember(listing)
        return listing.instances

    def _inventory(self, session: Session) -> offer.Inventory:
        from winged_monkey_vsphere import catalog as offer

        records = fastcollect.retrieve(
            session.content.propertyCollector, [offer.catalog_filter(session.view)]
        )
        return offer.read(records)

    def _catalog(self, session: Session) -> AccountCatalog:
        from winged_monkey_vsphere import catalog as offer

        return offer.to_catalog(
            self._inventory(session),
            account=self.account.name,
            price_hourly=self.account.price_hourly,
        )

    def _launch(self, session: Session, request: LaunchRequest) -> list[str]:
        """Start one clone of the template per `count`, powered on; their instance ids.

        Each clone is given its instance uuid up front, so the id is known before the
        copy ends (a full clone can take minutes): the portal follows it through
        `get_instance`, which reads the task until the VM exists. A refusal vSphere
        gives at once (a taken name, a bad pool) is the launch's own error.
        """
        from winged_monkey_vsphere import catalog as offer

        where = offer.place(self._inventory(session), request, self.account.name)
        stub = session.stub
        template = vim.VirtualMachine(where.template, stub)
        folder = vim.Folder(where.folder, stub)
        location = vim.vm.RelocateSpec(
            pool=vim.ResourcePool(where.pool, stub),
            host=vim.HostSystem(where.host, stub) if where.host else None,
        )
        names = (
            [request.name]
            if request.count == 1
            else [f"{request.name}-{n}" for n in range(1, request.count + 1)]
        )
        ids: list[str] = []
        for name in names:
            ident = str(uuid.uuid4())
            spec = vim.vm.CloneSpec(
                location=location,
                config=vim.vm.ConfigSpec(instanceUuid=ident),
                powerOn=True,
                template=False,
            )
            task = template.CloneVM_Task(folder=folder, name=name, spec=spec)
            doing = f"clone {where.template} as {name}"
            with self._lock:
                self._cloning[ident] = _Clone(task=task._moId, name=name, doing=doing)
            ids.append(ident)
            try:
                self._wait(session, task, time.monotonic() + CLONE_SETTLE_S, settle=True)
            except Exception as exc:
                with self._lock:
                    self._cloning.pop(ident, None)
                ids.pop()
                if not ids:
                    raise
                # Some clones are under way: say so, or they would surface unexplained.
                bundle = self.target.settings.ca_bundle
                error = translate(
                    exc,
                    where=self.target.where,
                    secrets=self.secrets,
                    ca_bundle=str(bundle) if bundle else None,
                    doing=doing,
                )
                error.message = (
                    f"{', '.join(names[: len(ids)])} launched, then {error.message}; "
                    f"the remaining {len(names) - len(ids)} were not started"
                )
                raise error from None
            log.info("launch %s: %s (task %s, instance uuid %s)", name, doing, task._moId, ident)
        return ids

    def _cloned(self, session: Session, instance_id: str, clone: _Clone) -> Instance | None:
        """The launch's row while its clone runs or after it failed; None once the VM exists."""
        task = vim.Task(clone.task, session.stub)
        try:
            info = self._read(session, task, ("info.state", "info.error", "info.progress"))
        except vmodl.fault.ManagedObjectNotFound:  # vCenter forgets finished tasks
            info = {"info.state": "success"}
        state = str(info.get("info.state", ""))
        if state == "success":
            with self._lock:
                self._cloning.pop(instance_id, None)
            return None
        row = Instance(
            account=self.account.name,
            id=instance_id,
            name=clone.name,
            state=InstanceState.PENDING,
            raw_state="cloning",
            provider="vsphere",
            extra={"task": clone.task},
        )
        if state != "error":
            progress = info.get("info.progress")
            raw = f"cloning {progress}%" if progress is not None else "cloning"
            return row.model_copy(update={"raw_state": raw})
        with self._lock:
            self._cloning.pop(instance_id, None)
        error = info.get("info.error")
        bundle = self.target.settings.ca_bundle
        fault = translate(
            error if isinstance(error, BaseException) else BackendError("the clone failed"),
            where=self.target.where,
            secrets=self.secrets,
            ca_bundle=str(bundle) if bundle else None,
            doing=clone.doing,
        ).message
        return row.model_copy(
            update={
                "state": InstanceState.ERROR,
                "raw_state": "clone failed",
                "extra": {"fault": fault},
            }
        )

    def _remember(self, listing: Listing) -> None:
        with self._lock:
            self._morefs = listing.morefs
            self._places = listing.places
            self.templates = tuple(listing.templates)

    def _vm(self, session: Session, instance_id: str) -> vim.VirtualMachine | None:
        """The VM's managed object, from the last listing or the search index."""
        with self._lock:
            ident = self._morefs.get(instance_id)
        if ident is not None:
            return vim.VirtualMachine(ident, session.stub)
        found = session.content.searchIndex.FindByUuid(None, instance_id, True, True)
        return found if isinstance(found, vim.VirtualMachine) else None

    def _get(self, session: Session, instance_id: str) -> Instance | None:
        with self._lock:
            clone = self._cloning.get(instance_id)
        if clone is not None:
            row = self._cloned(session, instance_id, clone)
            if row is not None:
                return row
        vm = self._vm(session, instance_id)
        if vm is None:
            return None
        if clone is not None:
            fresh = self._read(session, vm, ("runtime.powerState",))
            if fresh.get("runtime.powerState") == "poweredOff":
                # vcsim ignores CloneSpec.powerOn (vCenter powers the clone on in its task).
                vm.PowerOnVM_Task()
        try:
            contents = session.content.propertyCollector.RetrieveContents([inventory.vm_filter(vm)])
        except vmodl.fault.ManagedObjectNotFound:
            return None
        with self._lock:
            places = dict(self._places)
        listing = inventory.convert(
            [fastcollect.record(content) for content in contents],
            account=self.account.name,
            price_hourly=self.account.price_hourly,
            known_places=places,
        )
        return next((i for i in listing.instances if i.id == instance_id), None)

    def _act(self, session: Session, action: Action, instance: Instance) -> Instance | None:
        """Run `action`; the VM as read once its task succeeded (the portal need not follow
        it), or None where no task tells the end (a guest shutdown or reboot, which the
        portal follows) or nothing is left to read (a destroy)."""
        vm = self._vm(session, instance.id)
        if vm is None:
            raise BackendError(
                f"{instance.name} no longer exists in vSphere at {self.target.where}",
                account=self.account.name,
            )
        fresh = self._read(session, vm, ("runtime.powerState", "guest.toolsRunningStatus"))
        power = str(fresh.get("runtime.powerState", ""))
        tools = fresh.get("guest.toolsRunningStatus") == inventory.TOOLS_RUNNING
        graceful = tools and power == "poweredOn"
        deadline = time.monotonic() + self.account.timeout
        name = instance.name
        if action in (Action.START, Action.RESUME):  # a suspended VM resumes on power on
            self._wait(session, vm.PowerOnVM_Task(), deadline)
        elif action is Action.STOP:
            if graceful:
                log.info("stop %s: guest shutdown (VMware Tools running)", name)
                vm.ShutdownGuest()  # no task: the portal follows the VM to poweredOff
                return None
            log.info("stop %s: power off (VMware Tools not running)", name)
            self._wait(session, vm.PowerOffVM_Task(), deadline)
        elif action is Action.REBOOT:
            if graceful:
                log.info("reboot %s: guest reboot (VMware Tools running)", name)
                vm.RebootGuest()
                return None
            log.info("reboot %s: reset (VMware Tools not running)", name)
            self._wait(session, vm.ResetVM_Task(), deadline)
        elif action is Action.RESET:  # a hard reset: the guest is not asked, Tools or not
            self._wait(session, vm.ResetVM_Task(), deadline)
        elif action is Action.POWEROFF:  # a hard stop: the guest is not asked, Tools or not
            self._wait(session, vm.PowerOffVM_Task(), deadline)
        elif action is Action.SUSPEND:
            self._wait(session, vm.SuspendVM_Task(), deadline)
        elif action is Action.DESTROY:
            if power != "poweredOff":
                self._wait(session, vm.PowerOffVM_Task(), deadline)
            self._wait(session, vm.Destroy_Task(), deadline)
            with self._lock:
                self._morefs.pop(instance.id, None)
            return None
        else:  # pragma: no cover (a new Action needs a decision here)
            raise ActionNotAllowed(f"vSphere backend cannot {action}", account=self.account.name)
        try:
            return self._get(session, instance.id)
        except Exception as exc:  # the action is done; a failed read only means a follow
            log.debug("read after %s %s: %s", action, name, type(exc).__name__)
            return None

    @staticmethod
    def _read(session: Session, obj: Any, paths: tuple[str, ...]) -> dict[str, Any]:
        """Some properties of one object in one round trip."""
        spec = inventory.PC.FilterSpec(
            objectSet=[inventory.PC.ObjectSpec(obj=obj, skip=False)],
            propSet=[inventory.PC.PropertySpec(type=type(obj), pathSet=list(paths))],
        )
        contents = session.content.propertyCollector.RetrieveContents([spec])
        return inventory.properties(contents[0]) if contents else {}

    def _wait(self, session: Session, task: Any, deadline: float, *, settle: bool = False) -> None:
        """Follow a task to its end; its fault is raised as the call's. `settle`: only until
        the deadline, for a fast refusal; a task still running then is left to run."""
        delay = 0.01
        while True:
            info = self._read(session, task, ("info.state", "info.error", "info.descriptionId"))
            state = str(info.get("info.state", ""))
            if state == "success":
                return
            if state == "error":
                error = info.get("info.error")
                if isinstance(error, BaseException):
                    raise error
                raise BackendError(
                    f"vSphere task {info.get('info.descriptionId', '')} failed",
                    account=self.account.name,
                )
            if time.monotonic() > deadline:
                if settle:
                    return
                raise BackendError(
                    f"vSphere task {info.get('info.descriptionId', '')} still {state} after "
                    f"{self.account.timeout:g} s",
                    account=self.account.name,
                )
            time.sleep(delay)
            delay = min(delay * 2, TASK_POLL_MAX)
