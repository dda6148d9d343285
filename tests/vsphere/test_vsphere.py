"""The vSphere backend through the portal, against a real vcsim on loopback, TLS verified.

Every power action is checked by a witness: a separate pyvmomi session that
does not use the backend's code. Each test gets a fresh simulator (ready in
well under a second), so actions never leak from one test into another.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyVmomi import vmodl

from tests.vsphere.vcsim import CA, OTHER_CA, USER, Vcsim, Witness
from winged_monkey import plugins
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import ConfigError, WMError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials, Endpoint
from winged_monkey_vsphere import VSphereBackend, fastcollect, inventory

S = InstanceState
SECRET_VAR = "WM_TEST_VSPHERE_SECRET"


def account(
    sim: Vcsim,
    monkeypatch: pytest.MonkeyPatch,
    *,
    password: str | None = None,
    name: str = "lab",
    **settings: Any,
) -> AccountConfig:
    """A vSphere account as a user writes it: the password in an env var, TLS with a CA."""
    monkeypatch.setenv(SECRET_VAR, password if password is not None else sim.password)
    settings.setdefault("ca_bundle", str(CA))
    return AccountConfig(
        name=name,
        backend="vsphere",
        endpoint=Endpoint(host="127.0.0.1", port=sim.port),
        credentials=Credentials(key=USER, keyring=False, secret_env=SECRET_VAR),
        timeout=20,
        **settings,
    )


def make_portal(tmp_path: Path, *accounts: AccountConfig) -> Portal:
    config = Config(accounts=accounts, action_poll_interval=0.05, action_timeout=15)
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


@pytest.fixture
def portal(sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    portal = make_portal(tmp_path, account(sim, monkeypatch))
    yield portal
    asyncio.run(portal.close())
    portal.store.close()


def refresh(portal: Portal) -> list[str | None]:
    """Poll every account; the errors of the ones that failed."""

    async def run() -> list[str | None]:
        return [u.status.error async for u in portal.refresh() if u.status.phase == "failed"]

    return asyncio.run(run())


def listed(portal: Portal) -> dict[str, Instance]:
    assert refresh(portal) == []
    return {i.name: i for i in portal.instances()}


def act(portal: Portal, action: Action, instance: Instance) -> ActionUpdate:
    async def run() -> ActionUpdate:
        last: ActionUpdate | None = None
        async for update in portal.run_action(action, instance):
            last = update
        assert last is not None
        return last

    return asyncio.run(run())


# -- listing -----------------------------------------------------------------------


def test_the_plugin_is_found_by_its_entry_point() -> None:
    assert plugins.load("vsphere") is VSphereBackend
    assert {
        Capability.LIST,
        Capability.START,
        Capability.STOP,
        Capability.REBOOT,
        Capability.SUSPEND,
        Capability.RESUME,
        Capability.RESET,
        Capability.CATALOG,
        Capability.LAUNCH,
    } <= VSphereBackend.CAPABILITIES


def test_lists_the_default_inventory_with_instance_uuids(portal: Portal, witness: Witness) -> None:
    found = listed(portal)
    assert sorted(found) == ["DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_H0_VM0", "DC0_H0_VM1"]
    for name, instance in found.items():
        vm = witness.vm(name)
        assert instance.id == vm.config.instanceUuid  # stable, unlike the moref
        assert instance.extra["moref"] == vm._moId
        assert (instance.state, instance.raw_state) == (S.RUNNING, "poweredOn")
        assert instance.provider == "vsphere"
        assert instance.region == "DC0"
        assert instance.extra["folder"] == "vm"
        assert (
            instance.size
            == f"{vm.summary.config.numCpu} vCPU / {vm.summary.config.memorySizeMB} MB"
        )
        assert instance.extra["host"] == vm.runtime.host.name
    assert found["DC0_C0_RP0_VM0"].extra["cluster"] == "DC0_C0"
    assert "cluster" not in found["DC0_H0_VM0"].extra  # a standalone host
    # vcsim runs no VMware Tools: stop and reboot say they will be hard ones.
    assert found["DC0_H0_VM0"].extra["stop_method"] == "power off (no VMware Tools)"
    assert found["DC0_H0_VM0"].extra["reboot_method"] == "reset (no VMware Tools)"


def test_power_states_are_mapped(portal: Portal, witness: Witness) -> None:
    witness.run(witness.vm("DC0_H0_VM0").PowerOffVM_Task())
    witness.run(witness.vm("DC0_H0_VM1").SuspendVM_Task())
    found = listed(portal)
    assert (found["DC0_H0_VM0"].state, found["DC0_H0_VM0"].raw_state) == (S.STOPPED, "poweredOff")
    assert (found["DC0_H0_VM1"].state, found["DC0_H0_VM1"].raw_state) == (S.SUSPENDED, "suspended")


def test_templates_are_kept_apart_from_instances(
    sim: Vcsim, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = witness.vm("DC0_H0_VM1")
    witness.run(vm.PowerOffVM_Task())
    vm.MarkAsTemplate()
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    try:
        names = {i.name for i in asyncio.run(backend.list_instances())}
        assert "DC0_H0_VM1" not in names
        assert len(names) == 3
        assert [(t.name, t.id, t.datacenter) for t in backend.templates] == [
            ("DC0_H0_VM1", vm.config.instanceUuid, "DC0")
        ]
    finally:
        asyncio.run(backend.close())


def test_folders_make_the_location(portal: Portal, witness: Witness) -> None:
    datacenter = witness.content.rootFolder.childEntity[0]
    team = datacenter.vmFolder.CreateFolder("team-a").CreateFolder("web")
    witness.run(team.MoveIntoFolder_Task([witness.vm("DC0_H0_VM0")]))
    vm = listed(portal)["DC0_H0_VM0"]
    assert (vm.region, vm.extra["folder"]) == ("DC0", "vm/team-a/web")


def test_lists_500_vms_in_one_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Vcsim(tmp_path / "big", vms=250) as big:
        backend = VSphereBackend(account(big, monkeypatch), _secrets(big))
        try:
            asyncio.run(backend.list_instances())  # log in, create the view
            posts: list[str] = []
            original = http.client.HTTPConnection.request

            def counting(
                self: http.client.HTTPConnection, method: str, url: str, *a: Any, **k: Any
            ) -> None:
                posts.append(f"{method} {url}")
                original(self, method, url, *a, **k)

            monkeypatch.setattr(http.client.HTTPConnection, "request", counting)
            instances = asyncio.run(backend.list_instances())
            monkeypatch.undo()
        finally:
            asyncio.run(backend.close())
    assert posts == ["POST /sdk"]
    assert len(instances) == 500
    assert len({i.id for i in instances}) == 500
    assert {i.region for i in instances} == {"DC0"}


def test_the_fast_reader_agrees_with_pyvmomi(sim: Vcsim, witness: Witness) -> None:
    """The listing's own reply reader and pyvmomi's deserializer give the same records."""
    witness.run(witness.vm("DC0_H0_VM1").SuspendVM_Task())
    content = witness.content
    view = content.viewManager.CreateContainerView(content.rootFolder, inventory.VIEW_TYPES, True)
    specs = [inventory.view_filter(view)]
    fast = fastcollect.retrieve(content.propertyCollector, specs)
    slow = [fastcollect.record(c) for c in content.propertyCollector.RetrieveContents(specs)]
    assert len(fast) == 15
    assert sorted(fast, key=repr) == sorted(slow, key=repr)


def test_the_fast_reader_raises_pyvmomis_typed_faults(sim: Vcsim, witness: Witness) -> None:
    vm = witness.vm("DC0_H0_VM0")
    witness.run(vm.PowerOffVM_Task())
    witness.run(vm.Destroy_Task())
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):
        fastcollect.retrieve(witness.content.propertyCollector, [inventory.vm_filter(vm)])


# -- actions -----------------------------------------------------------------------


def test_stop_start_reboot_destroy(portal: Portal, witness: Witness) -> None:
    vm = listed(portal)["DC0_H0_VM0"]

    done = act(portal, Action.STOP, vm)
    assert (done.phase, done.instance.state) == ("done", S.STOPPED), done.message
    assert witness.power("DC0_H0_VM0") == "poweredOff"
    assert "VmPoweredOffEvent" in witness.events("DC0_H0_VM0")  # a power off: no Tools

    done = act(portal, Action.START, listed(portal)["DC0_H0_VM0"])
    assert (done.phase, done.instance.state) == ("done", S.RUNNING), done.message
    assert witness.power("DC0_H0_VM0") == "poweredOn"

    before = witness.vm("DC0_H0_VM0").summary.runtime.bootTime
    done = act(portal, Action.REBOOT, listed(portal)["DC0_H0_VM0"])
    assert (done.phase, done.instance.state) == ("done", S.RUNNING), done.message
    assert witness.power("DC0_H0_VM0") == "poweredOn"
    assert witness.vm("DC0_H0_VM0").summary.runtime.bootTime > before  # a reset boots again
    assert witness.events("DC0_H0_VM0").count("VmPoweredOnEvent") >= 2

    done = act(portal, Action.DESTROY, listed(portal)["DC0_H0_VM0"])
    assert (done.phase, done.instance.state) == ("done", S.TERMINATED), done.message
    assert "DC0_H0_VM0" not in witness.vms()
    assert "DC0_H0_VM0" not in listed(portal)


def test_a_power_task_seen_to_its_end_is_not_followed(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power task ends when the VM is in its new state: the backend reads the VM then,
    and that reading is the outcome, with no look after the call. A guest shutdown has
    no task to wait for: it is followed as before."""
    rows = listed(portal)
    backend = asyncio.run(portal.accounts.backend("lab"))
    looks: list[str] = []
    real = backend.get_instance

    async def get_instance(instance_id: str) -> Instance | None:
        looks.append(instance_id)
        return await real(instance_id)

    monkeypatch.setattr(backend, "get_instance", get_instance)

    async def run(action: Action, instance: Instance) -> list[ActionUpdate]:
        return [update async for update in portal.run_action(action, instance)]

    vm = rows["DC0_H0_VM0"]
    updates = asyncio.run(run(Action.STOP, vm))
    assert [u.phase for u in updates] == ["requested", "done"], updates[-1].message
    assert updates[-1].instance.state is S.STOPPED
    assert looks == []
    assert witness.power("DC0_H0_VM0") == "poweredOff"
    outcome = next(e for e in portal.store.events(target=vm.id) if e.outcome == "ok")
    assert (outcome.new_state, outcome.detail) == (
        "stopped",
        "DC0_H0_VM0 stopped (observed as the call ended)",
    )

    monkeypatch.setattr(inventory, "TOOLS_RUNNING", "guestToolsNotRunning")  # as if Tools ran
    other = rows["DC0_H0_VM1"]
    updates = asyncio.run(run(Action.STOP, other))
    assert updates[-1].phase == "done", updates[-1].message
    assert set(looks) == {other.id}  # followed: ShutdownGuest has no task to wait for
    assert witness.power("DC0_H0_VM1") == "poweredOff"


def test_suspend_then_start_resumes(portal: Portal, witness: Witness) -> None:
    vm = listed(portal)["DC0_H0_VM0"]
    done = act(portal, Action.SUSPEND, vm)
    assert (done.phase, done.instance.state) == ("done", S.SUSPENDED), done.message
    assert witness.power("DC0_H0_VM0") == "suspended"
    assert "VmSuspendedEvent" in witness.events("DC0_H0_VM0")
    suspended = listed(portal)["DC0_H0_VM0"]
    assert (suspended.state, suspended.raw_state) == (S.SUSPENDED, "suspended")

    assert portal.effective(Action.START, suspended) is Action.RESUME
    done = act(portal, Action.START, suspended)
    assert (done.phase, done.instance.state) == ("done", S.RUNNING), done.message
    assert done.action is Action.RESUME
    assert witness.power("DC0_H0_VM0") == "poweredOn"


def test_reset_is_a_hard_reset_even_when_tools_run(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "TOOLS_RUNNING", "guestToolsNotRunning")  # as if Tools ran
    vm = listed(portal)["DC0_H0_VM1"]
    before = witness.vm("DC0_H0_VM1").summary.runtime.bootTime
    offs = witness.events("DC0_H0_VM1").count("VmPoweredOffEvent")
    done = act(portal, Action.RESET, vm)
    assert (done.phase, done.instance.state) == ("done", S.RUNNING), done.message
    assert witness.vm("DC0_H0_VM1").summary.runtime.bootTime > before
    # vcsim records a reset as a power cycle; a guest reboot (which vcsim lacks) would fail.
    events = witness.events("DC0_H0_VM1")
    assert events.count("VmPoweredOffEvent") == offs + 1
    assert "VmGuestRebootEvent" not in events


def test_suspend_refused_by_vsphere_is_explained(portal: Portal, witness: Witness) -> None:
    vm = listed(portal)["DC0_H0_VM0"]  # running, as far as the portal knows
    witness.run(witness.vm("DC0_H0_VM0").SuspendVM_Task())  # someone else suspends it
    done = act(portal, Action.SUSPEND, vm)
    assert done.phase == "failed"
    assert done.message == "vSphere refused suspend DC0_H0_VM0: the VM is already suspended"
    assert witness.power("DC0_H0_VM0") == "suspended"


def test_destroy_powers_off_first(portal: Portal, witness: Witness) -> None:
    vm = listed(portal)["DC0_C0_RP0_VM1"]
    assert vm.state is S.RUNNING
    done = act(portal, Action.DESTROY, vm)
    assert done.phase == "done", done.message
    assert "DC0_C0_RP0_VM1" not in witness.vms()


def test_guest_shutdown_when_tools_run(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vcsim never runs VMware Tools; make the backend read its "not running" as running
    # to drive the real ShutdownGuest call.
    monkeypatch.setattr(inventory, "TOOLS_RUNNING", "guestToolsNotRunning")
    vm = listed(portal)["DC0_H0_VM1"]
    assert vm.extra["stop_method"] == "guest shutdown (VMware Tools)"
    done = act(portal, Action.STOP, vm)
    assert done.phase == "done", done.message
    assert witness.power("DC0_H0_VM1") == "poweredOff"
    assert "VmGuestShutdownEvent" in witness.events("DC0_H0_VM1")


def test_a_guest_call_the_server_lacks_is_explained(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vcsim 0.24.2 has no RebootGuest; a real ESXi without Tools answers ToolsUnavailable.
    monkeypatch.setattr(inventory, "TOOLS_RUNNING", "guestToolsNotRunning")
    vm = listed(portal)["DC0_H0_VM1"]
    done = act(portal, Action.REBOOT, vm)
    assert done.phase == "failed"
    assert done.message.startswith(
        f"vSphere at 127.0.0.1:{portal_port(portal)} answered reboot DC0_H0_VM1: "
    )
    assert done.message.endswith("does not implement: RebootGuest")
    assert witness.power("DC0_H0_VM1") == "poweredOn"


def test_an_action_refused_in_the_current_power_state_is_explained(
    portal: Portal, witness: Witness
) -> None:
    vm = listed(portal)["DC0_H0_VM0"]  # running, as far as the portal knows
    witness.run(witness.vm("DC0_H0_VM0").PowerOffVM_Task())  # someone else stops it
    done = act(portal, Action.STOP, vm)
    assert done.phase == "failed"
    assert done.message == "vSphere refused stop DC0_H0_VM0: the VM is already powered off"
    assert witness.power("DC0_H0_VM0") == "poweredOff"

    stopped = listed(portal)["DC0_H0_VM0"]
    witness.run(witness.vm("DC0_H0_VM0").PowerOnVM_Task())
    done = act(portal, Action.START, stopped)
    assert done.phase == "failed"
    assert done.message == "vSphere refused start DC0_H0_VM0: the VM is already powered on"


def test_the_portal_refuses_what_the_state_it_knows_forbids(portal: Portal) -> None:
    vm = listed(portal)["DC0_H0_VM0"]
    with pytest.raises(WMError, match="already running"):
        act(portal, Action.START, vm)


def test_read_only_account_offers_no_actions(sim: Vcsim, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = VSphereBackend(account(sim, monkeypatch, read_only=True), _secrets(sim))
    # Its catalog is still shown (reading it changes nothing); launching is refused.
    assert backend.capabilities == frozenset({Capability.LIST, Capability.CATALOG})


def test_threads_share_one_session(
    sim: Vcsim, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))

    async def many() -> list[int]:
        first = await backend.list_instances()
        lists = [backend.list_instances() for _ in range(6)]
        gets = [backend.get_instance(i.id) for i in first]
        done = await asyncio.gather(*lists, *gets)
        return [len(d) if isinstance(d, list) else int(d is not None) for d in done]

    try:
        assert asyncio.run(many()) == [4] * 6 + [1] * 4
        users = [s.userName for s in witness.content.sessionManager.sessionList]
        assert users.count(USER) == 2  # the witness and the backend: one login each
    finally:
        asyncio.run(backend.close())
    users = [s.userName for s in witness.content.sessionManager.sessionList]
    assert users.count(USER) == 1  # close() logged out


def test_an_expired_session_logs_in_again(
    sim: Vcsim, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    try:
        assert len(asyncio.run(backend.list_instances())) == 4
        mine = backend._connect().content.sessionManager.currentSession.key
        witness.content.sessionManager.TerminateSession([mine])
        assert len(asyncio.run(backend.list_instances())) == 4
        assert backend._connect().content.sessionManager.currentSession.key != mine
    finally:
        asyncio.run(backend.close())


# -- failures ----------------------------------------------------------------------


def test_wrong_password_names_the_account_not_the_password(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-password-123"
    portal = make_portal(tmp_path, account(sim, monkeypatch, password=wrong))
    try:
        errors = refresh(portal)
        assert errors == [
            f"vSphere at 127.0.0.1:{sim.port} refused the login of user 'wm' (wrong user name "
            "or password); check it with `wm accounts set-secret lab`"
        ]
        with pytest.raises(WMError) as raised:
            asyncio.run(portal.check("lab"))
        assert str(raised.value).startswith("lab: vSphere at")
        assert type(raised.value).__name__ == "AuthError"
        assert wrong not in str(raised.value)
        assert raised.value.__cause__ is None  # raised `from None`: no traceback chain
        assert raised.value.__suppress_context__
    finally:
        asyncio.run(portal.close())
        portal.store.close()


def test_tls_with_the_wrong_ca_is_refused_clearly(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = make_portal(tmp_path, account(sim, monkeypatch, ca_bundle=str(OTHER_CA)))
    try:
        [error] = refresh(portal)
        assert error is not None
        assert error.startswith(
            f"TLS: the certificate of 127.0.0.1:{sim.port} is signed by an unknown authority"
        ), error
        assert str(OTHER_CA) in error
        assert sim.password not in error
    finally:
        asyncio.run(portal.close())
        portal.store.close()


def test_without_a_ca_bundle_the_system_store_is_used_never_no_verification(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = account(sim, monkeypatch)
    settings = {k: v for k, v in plain.model_dump().items() if k != "ca_bundle"}
    backend = VSphereBackend(AccountConfig(**settings), _secrets(sim))
    with pytest.raises(WMError, match=r"unknown authority .*set ca_bundle = "):
        asyncio.run(backend.list_instances())


def test_insecure_is_an_explicit_choice_and_says_so(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(
        account(sim, monkeypatch, ca_bundle=str(OTHER_CA), insecure=True), _secrets(sim)
    )
    try:
        line = asyncio.run(backend.check())
    finally:
        asyncio.run(backend.close())
    assert "TLS NOT VERIFIED (insecure = true)" in line
    assert "4 VMs" in line


def test_a_missing_ca_bundle_or_unknown_key_is_a_config_error(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=re.escape(f"ca_bundle {missing}: no such file")):
        VSphereBackend(account(sim, monkeypatch, ca_bundle=str(missing)), _secrets(sim))
    with pytest.raises(ConfigError, match=r"cabundle.*known keys: ca_bundle, insecure"):
        VSphereBackend(account(sim, monkeypatch, cabundle="x"), _secrets(sim))


def test_a_stopped_server_is_unreachable_not_a_traceback(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    sim.stop()
    with pytest.raises(WMError, match="connection refused") as raised:
        asyncio.run(backend.list_instances())
    assert type(raised.value).__name__ == "UnreachableError"


def test_a_server_that_never_answers_times_out(sim: Vcsim, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:  # accepts TCP connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = account(sim, monkeypatch).model_copy(
            update={
                "endpoint": Endpoint(host="127.0.0.1", port=silent.getsockname()[1]),
                "timeout": 1.0,
            }
        )
        backend = VSphereBackend(config, _secrets(sim))
        started = time.monotonic()
        with pytest.raises(WMError, match="in time") as raised:
            asyncio.run(backend.list_instances())
    assert time.monotonic() - started < 5
    # Sent, never answered: an action's outcome would be unknown, not failed.
    assert type(raised.value).__name__ == "AnswerLostError"


def test_something_else_on_the_port_is_not_vsphere(
    sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = account(sim, monkeypatch).model_copy(
        update={"endpoint": Endpoint(host="127.0.0.1", port=sim.port, path="/elsewhere")}
    )
    with pytest.raises(WMError, match="does not answer like vSphere"):
        asyncio.run(VSphereBackend(config, _secrets(sim)).list_instances())


def portal_port(portal: Portal) -> int | None:
    endpoint = portal.account_config("lab").endpoint
    return endpoint.port if endpoint else None


def _secrets(sim: Vcsim) -> Any:
    from winged_monkey.user.credentials import Secrets

    return Secrets(account="lab", key=USER, secret=sim.password, source="test")
