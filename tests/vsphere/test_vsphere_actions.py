"""The vSphere backend through the portal, against a real vcsim on loopback, TLS verified:
power actions, their refusals explained, and the session the threads share.

Every power action is checked by a witness: a separate pyvmomi session that
does not use the backend's code. Each test gets a fresh simulator (ready in
well under a second), so actions never leak from one test into another.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.vsphere.accounts import _secrets, account, act, listed, portal_port, write_config
from tests.vsphere.vcsim import USER, Vcsim, Witness
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import WMError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import Config
from winged_monkey_vsphere import VSphereBackend, inventory

S = InstanceState


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


def test_stop_of_a_suspended_vm_powers_it_off(portal: Portal, witness: Witness) -> None:
    """A stop on a suspended VM was refused ("DC0_H0_VM0 is suspended, not stopped: start
    resumes it, then stop"): two actions and a boot to power it off. vSphere powers a
    suspended VM off (PowerOffVM_Task): the stop is done once it is stopped, as a fresh
    listing sees it."""
    witness.run(witness.vm("DC0_H0_VM0").SuspendVM_Task())
    vm = listed(portal)["DC0_H0_VM0"]
    assert vm.state is S.SUSPENDED

    done = act(portal, Action.STOP, vm)

    assert (done.phase, done.instance.state) == ("done", S.STOPPED), done.message
    assert witness.power("DC0_H0_VM0") == "poweredOff"
    fresh = listed(portal)["DC0_H0_VM0"]
    assert (fresh.state, fresh.raw_state) == (S.STOPPED, "poweredOff")


def test_wm_stop_of_a_suspended_vm_ends_stopped(
    sim: Vcsim, witness: Witness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm stop` on a suspended VM exited 4 with "is suspended, not stopped"; it powers
    the VM off and says so, and a fresh `wm ls` lists it stopped."""
    write_config(sim, tmp_path, monkeypatch)
    witness.run(witness.vm("DC0_H0_VM0").SuspendVM_Task())
    uuid = witness.vm("DC0_H0_VM0").config.instanceUuid

    stopped = CliRunner().invoke(main, ["stop", "DC0_H0_VM0", "--yes"])
    after = CliRunner().invoke(main, ["ls", "--json"])

    assert stopped.exit_code == ExitCode.OK, stopped.output
    assert f"lab/{uuid}: ok: DC0_H0_VM0 stopped" in stopped.output, stopped.output
    assert witness.power("DC0_H0_VM0") == "poweredOff"
    rows = {i["name"]: i for i in json.loads(after.stdout)["instances"]}
    assert rows["DC0_H0_VM0"]["state"] == "stopped", after.output


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


def test_poweroff_does_not_ask_the_guest_even_when_tools_run(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With VMware Tools running a stop asks the guest (ShutdownGuest), which a hung guest
    ignores: the VM stayed on, and a second stop asked again. Poweroff is PowerOffVM_Task
    whatever Tools say: vSphere records a power-off, no guest shutdown."""
    monkeypatch.setattr(inventory, "TOOLS_RUNNING", "guestToolsNotRunning")  # as if Tools ran
    vm = listed(portal)["DC0_H0_VM1"]
    assert vm.extra["stop_method"] == "guest shutdown (VMware Tools)"

    done = act(portal, Action.POWEROFF, vm)

    assert (done.phase, done.message) == (
        "done",
        "DC0_H0_VM1 powered off (observed as the call ended)",
    )
    assert witness.power("DC0_H0_VM1") == "poweredOff"
    events = witness.events("DC0_H0_VM1")
    assert "VmPoweredOffEvent" in events
    assert "VmGuestShutdownEvent" not in events
    fresh = listed(portal)["DC0_H0_VM1"]
    assert (fresh.state, fresh.raw_state) == (S.STOPPED, "poweredOff")


def test_a_stop_that_times_out_running_names_poweroff(
    sim: Vcsim, witness: Witness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop whose guest ignores ShutdownGuest timed out 'DC0_H0_VM1 still running after
    1 s' with no next step. It names `wm poweroff`. vcsim's guest always obeys, so the
    follow of that stop is run on a VM nobody stops (the guest that ignored it)."""
    config = Config(accounts=(account(sim, monkeypatch),), action_poll_interval=0.05)
    portal = Portal(config.model_copy(update={"action_timeout": 1}), Store.memory())

    async def run() -> list[ActionUpdate]:
        try:
            async for _ in portal.refresh():
                pass
            row = next(i for i in portal.instances() if i.name == "DC0_H0_VM1")
            backend = await portal.accounts.backend("lab")
            return [u async for u in portal.operations.follow(backend, Action.STOP, row)]
        finally:
            await portal.close()

    updates = asyncio.run(run())

    assert (updates[-1].phase, updates[-1].message) == (
        "timeout",
        "DC0_H0_VM1 still running after 1 s: its guest did not shut down; wm poweroff "
        "DC0_H0_VM1 powers it off without asking the guest",
    )
    assert witness.power("DC0_H0_VM1") == "poweredOn"
