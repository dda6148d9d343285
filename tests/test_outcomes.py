"""Honest outcomes of actions, with the real moto as the witness of what reached the cloud:
a stop whose answer never came is unknown until a poll sees it stopped; a process killed
mid-action leaves its intent, settled by the next process; a follow that never saw the
instance says so; a backend that crashes is recorded with its error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cloud, wait_until
from tests.faultproxy import PASS, Fault, FaultProxy
from winged_monkey import plugins
from winged_monkey.actions import Action
from winged_monkey.engine.operations import ActionUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Event, EventSource, Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config
from winged_monkey_libcloud.ec2 import EC2Backend

TIMEOUT = 2.0


def portal_of(cloud: Cloud, *accounts: AccountConfig, store: Path, **settings: float) -> Portal:
    """A portal like `cloud.portal`, with the action settings a test needs."""
    config = Config(
        accounts=accounts,
        **{
            "refresh_interval": 1,
            "busy_refresh_interval": 0.1,
            "action_poll_interval": 0.05,
            "action_timeout": 20,
            **settings,
        },
    )
    opened = Store.open(store)
    cloud.stores.append(opened)
    return Portal(config, opened, user="tester")


async def listed(portal: Portal, name: str) -> dict[str, Instance]:
    """One poll of `name`: its instances by name (its status must be ok)."""
    async for update in portal.refresh([name], native_events=False):
        if update.instances is not None:
            return {i.name: i for i in update.instances}
    raise AssertionError(f"{name}: {portal.status(name).error}")


async def act(portal: Portal, action: Action, instance: Instance) -> list[ActionUpdate]:
    return [update async for update in portal.run_action(action, instance)]


def action_events(store: Store, target: str) -> list[Event]:
    """The target's action events, oldest first."""
    found = store.events(target=target, sources={EventSource.ACTION})
    return sorted(found, key=lambda e: e.at)


@pytest.fixture
def web(cloud: Cloud) -> str:
    """A running instance "web" on moto; its id."""
    return cloud.launch(cloud.ec2(), "web")


async def test_a_stop_that_reached_the_cloud_after_the_deadline_is_unknown_then_observed(
    cloud: Cloud, web: str, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("slow", port=proxy.port, timeout=TIMEOUT)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3")
    instance = (await listed(portal, "slow"))["web"]
    # The request reaches moto, but only after the client gave up on it.
    proxy.fault = Fault("delay", delay=TIMEOUT + 2, match=b"StopInstances")
    updates = await act(portal, Action.STOP, instance)

    final = updates[-1]
    assert final.phase == "unknown", final
    # The portal's deadline and libcloud's socket timeout are both TIMEOUT: whichever ends
    # the call first says so, each as no answer in time.
    assert any(
        said in final.message
        for said in (
            f"no answer within {TIMEOUT:g} s (timeout)",
            f"no answer from 127.0.0.1:{proxy.port} in time (timeout)",
        )
    ), final.message
    wait_until(lambda: cloud.state_of(cloud.ec2(), web) == "stopped", timeout=TIMEOUT + 10)

    # A later poll sees it stopped, and says which request it settles.
    proxy.fault = PASS
    assert (await listed(portal, "slow"))["web"].state == "stopped"
    events = action_events(portal.store, web)
    outcomes = [(e.outcome, e.cause) for e in events]
    intent = events[0].key
    assert outcomes == [("requested", None), ("unknown", intent), ("ok", intent)], outcomes
    assert (events[-1].detail or "").startswith("observed stopped "), events[-1].detail
    assert "after the request" in (events[-1].detail or "")
    assert not portal.store.open_intents("slow")
    await portal.close()


async def test_a_stop_whose_answer_was_cut_short_is_unknown_not_failed(
    cloud: Cloud, web: str, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """The request reached moto, which stopped the instance; only its answer was lost."""
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("cut", port=proxy.port, timeout=5)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3")
    instance = (await listed(portal, "cut"))["web"]
    proxy.fault = Fault("truncate", keep=40, match=b"StopInstances")
    final = (await act(portal, Action.STOP, instance))[-1]

    assert final.phase == "unknown", final
    assert "cut short" in final.message
    assert cloud.state_of(cloud.ec2(), web) == "stopped"  # the witness: it did happen
    proxy.fault = PASS
    await listed(portal, "cut")
    outcomes = [e.outcome for e in action_events(portal.store, web)]
    assert outcomes == ["requested", "unknown", "ok"], outcomes
    await portal.close()


#: Runs one stop through a portal and waits for it; the test kills it mid-action.
ACTING = """
import asyncio, json, sys
from pathlib import Path
from winged_monkey.actions import Action
from winged_monkey.user.config import AccountConfig, Config
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store

async def main(account_json, store, target):
    account = AccountConfig.model_validate_json(account_json)
    portal = Portal(Config(accounts=(account,), action_timeout=60), Store.open(Path(store)),
                    user="killed")
    async for update in portal.refresh(native_events=False):
        for instance in update.instances or ():
            if instance.id == target:
                print("listed", flush=True)
                async for step in portal.run_action(Action.STOP, instance):
                    print(step.phase, flush=True)

asyncio.run(main(*json.loads(sys.argv[1])))
"""


@pytest.fixture
def acting(tmp_path: Path) -> Iterator[Callable[[list[str]], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(args: list[str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", ACTING, json.dumps(args)],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


async def test_a_process_killed_mid_action_leaves_its_intent_and_the_next_one_settles_it(
    cloud: Cloud,
    web: str,
    fault_proxy: Callable[[int], FaultProxy],
    tmp_path: Path,
    acting: Callable[[list[str]], subprocess.Popen[str]],
) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("delay", delay=3, match=b"StopInstances")
    path = tmp_path / "wm.sqlite3"
    store = Store.open(path)
    cloud.stores.append(store)
    account = cloud.account("dev", port=proxy.port, timeout=30)
    process = acting([account.model_dump_json(), str(path), web])

    assert process.stdout is not None
    assert process.stdout.readline() == "listed\n", process.communicate()

    def sent() -> bool:
        """The intent is in the store and the stop request is held by the proxy.

        Counted as the proxy's faulted requests, not as requests since "listed" was read:
        the child sends its stop at once, so on a loaded machine that count already held it
        and turned true only when the follow settled, leaving no window to kill in.
        """
        assert process.poll() is None, process.communicate()
        intents = [e.outcome for e in action_events(store, web)]
        return intents == ["requested"] and proxy.faulted > 0

    wait_until(sent, timeout=30)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL
    intent = action_events(store, web)
    assert [(e.kind, e.outcome, e.user) for e in intent] == [("stop", "requested", "killed")]
    assert [e.key for e in store.open_intents("dev")] == [intent[0].key]

    # The delayed request reached the cloud after all (moto is the witness)...
    wait_until(lambda: cloud.state_of(cloud.ec2(), web) == "stopped", timeout=15)
    # ... and a new process on the same store settles the intent at its first poll.
    portal = portal_of(cloud, cloud.account("dev"), store=path)
    assert (await listed(portal, "dev"))["web"].state == "stopped"
    events = action_events(store, web)
    assert [(e.outcome, e.cause) for e in events] == [
        ("requested", None),
        ("ok", intent[0].key),
    ]
    assert (events[-1].detail or "").startswith("observed stopped ")
    assert not store.open_intents("dev")
    await portal.close()


async def test_a_follow_whose_looks_all_fail_is_unknown_never_an_assumed_state(
    cloud: Cloud, web: str, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("dev", port=proxy.port, timeout=1)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3", action_timeout=3)
    instance = (await listed(portal, "dev"))["web"]
    # The stop goes through; every look at the instance after it hangs.
    proxy.fault = Fault("hang", match=b"DescribeInstances")
    updates = await act(portal, Action.STOP, instance)

    assert cloud.state_of(cloud.ec2(), web) == "stopped"  # it did stop (moto says)
    phases = [u.phase for u in updates]
    assert phases == ["requested", "unknown"], [(u.phase, u.message) for u in updates]
    assert "not seen since the request" in updates[-1].message
    events = action_events(portal.store, web)
    assert [e.outcome for e in events] == ["requested", "unknown"]
    assert events[-1].new_state is None  # no state it did not see
    assert not any("still" in (e.detail or "") for e in events)

    proxy.fault = PASS  # the next poll tells
    assert (await listed(portal, "dev"))["web"].state == "stopped"
    assert [e.outcome for e in action_events(portal.store, web)][-1] == "ok"
    await portal.close()


async def test_a_follow_whose_looks_hang_says_unknown_within_the_accounts_timeout(
    cloud: Cloud, web: str, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """Five looks in a row that see nothing end a follow (MISSED_LOOKS): when each of them
    hangs, each costs the account's whole timeout, so `wm stop` said nothing after "stop
    requested" for five timeouts (100 s at the default 20 s) before it said unknown. Looks
    that have seen nothing for the account's timeout end it too: the user hears within the
    stop's own timeout and one look's."""
    timeout = 2.0
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("dev", port=proxy.port, timeout=timeout)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3", action_timeout=600)
    instance = (await listed(portal, "dev"))["web"]
    proxy.fault = Fault("hang", match=b"DescribeInstances")
    started = time.monotonic()
    updates = await act(portal, Action.STOP, instance)
    took = time.monotonic() - started
    print(f"stop with every look hanging: unknown after {took:.1f} s (timeout {timeout:g} s)")

    assert cloud.state_of(cloud.ec2(), web) == "stopped"  # it did stop (moto says)
    assert [u.phase for u in updates] == ["requested", "unknown"], updates[-1].message
    assert "not seen since the request" in updates[-1].message
    assert took < 2 * timeout + 2
    await portal.close()


class EarlyTimeoutBackend(EC2Backend):
    """EC2 through libcloud whose sockets give up at half the account's timeout, so the
    backend's own "no answer in time" comes before the engine's deadline (as it may on a
    loaded machine, where the two race)."""

    def _driver(self) -> Any:
        driver = super()._driver()
        # libcloud's HTTP session passes this timeout to every request it sends
        session: Any = getattr(driver.connection.connection, "session", None)
        session.timeout = self.account.timeout / 2
        return driver


async def test_a_stop_whose_answer_the_backend_gave_up_on_is_unknown_not_failed(
    cloud: Cloud,
    web: str,
    fault_proxy: Callable[[int], FaultProxy],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: EarlyTimeoutBackend if name == "early" else real_load(name)
    )
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("slow", port=proxy.port, timeout=2 * TIMEOUT, backend="early")
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3")
    instance = (await listed(portal, "slow"))["web"]
    proxy.fault = Fault("delay", delay=TIMEOUT + 2, match=b"StopInstances")
    updates = await act(portal, Action.STOP, instance)

    assert updates[-1].phase == "unknown", updates[-1]
    assert "in time" in updates[-1].message  # the backend's own words, kept
    wait_until(lambda: cloud.state_of(cloud.ec2(), web) == "stopped", timeout=TIMEOUT + 10)
    proxy.fault = PASS
    assert (await listed(portal, "slow"))["web"].state == "stopped"
    assert [e.outcome for e in action_events(portal.store, web)] == ["requested", "unknown", "ok"]
    await portal.close()


class CrashingBackend(EC2Backend):
    """EC2 through libcloud whose actions crash with a plain bug (not a WMError)."""

    async def act(self, action: Action, instance: Instance) -> None:
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")


@pytest.fixture
def crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `crashing` backend, found by name as a plugin is."""
    real_load = plugins.load
    monkeypatch.setattr(
        plugins, "load", lambda name: CrashingBackend if name == "crashing" else real_load(name)
    )


async def test_a_backend_that_crashes_mid_action_is_recorded_failed_with_its_error(
    cloud: Cloud, web: str, crashing: None, tmp_path: Path
) -> None:
    portal = portal_of(cloud, cloud.account("dev", backend="crashing"), store=tmp_path / "s")
    instance = (await listed(portal, "dev"))["web"]
    updates = await act(portal, Action.STOP, instance)

    final = updates[-1]
    assert final.phase == "failed"
    assert "backend: unexpected TypeError: unsupported operand" in final.message
    events = action_events(portal.store, web)
    assert [e.outcome for e in events] == ["requested", "failed"]
    assert "TypeError" in (events[-1].detail or "")
    assert events[-1].cause == events[0].key
    assert cloud.state_of(cloud.ec2(), web) == "running"  # nothing reached the cloud
    await portal.close()


async def test_an_action_on_a_row_its_account_failed_to_list_records_no_state_before_it(
    cloud: Cloud, web: str, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """The row was listed running; the account's next poll failed; someone stops it from
    the dimmed row. The log said `running →`: a state nobody saw when the stop was asked."""
    proxy = fault_proxy(cloud.server.port)
    account = cloud.account("flaky", port=proxy.port, timeout=TIMEOUT)
    portal = portal_of(cloud, account, store=tmp_path / "wm.sqlite3")
    instance = (await listed(portal, "flaky"))["web"]
    proxy.fault = Fault("status", status=503)
    async for _ in portal.refresh(["flaky"], native_events=False):
        pass
    assert portal.status("flaky").phase == "failed"
    proxy.fault = PASS
    updates = await act(portal, Action.STOP, instance)
    assert updates[-1].phase == "done", updates[-1]
    requested, *_ = action_events(portal.store, web)
    assert (requested.outcome, requested.old_state) == ("requested", None)
    await portal.close()
