"""The TUI at 80x24 with one account hung behind a fault proxy in front of the real moto:
the healthy account's changes still show within a few intervals, the strip says why the
slow one fails, and it recovers by itself once the fault clears."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.conftest import Cloud
from tests.faultproxy import PASS, Fault, FaultProxy
from tests.ui.conftest import wait_for
from winged_monkey.engine.inventory import AccountUpdate
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.account_strip import AccountStrip

SIZE = (80, 24)
INTERVAL = 1.0  # cloud.portal's refresh_interval
TIMEOUT = 3.0


def main_of(app: WMApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def strip_of(app: WMApp) -> str:
    return str(app.screen.query_one(AccountStrip).render())


def says_no_answer(app: WMApp) -> bool:
    """The engine's deadline and libcloud's socket timeout are both TIMEOUT: whichever
    ends the call first says so (under load either may win)."""
    strip = strip_of(app)
    return "no answer within 3 s" in strip or "no answer from 127.0.0.1:" in strip


async def test_a_hung_account_never_freezes_the_healthy_ones_and_recovers_by_itself(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    ec2 = cloud.ec2()
    web = cloud.launch(ec2, "web")
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("hang")
    portal = cloud.portal(
        cloud.account("dev", timeout=TIMEOUT),
        cloud.account("slow", port=proxy.port, timeout=TIMEOUT),
    )
    app = WMApp(portal, portal.config, title_suffix="test")
    loop = asyncio.get_running_loop()
    answered: list[float] = []  # when each of dev's polls answered

    def witness(update: AccountUpdate) -> None:
        if update.status.name == "dev" and not update.status.refreshing:
            answered.append(loop.time())

    async with app.run_test(size=SIZE) as pilot:
        main = main_of(app)
        await wait_for(pilot, lambda: main.poller is not None, "the poller")
        assert main.poller is not None
        main.poller.subscribe(witness)
        row = f"dev/{web}"

        def shown(state: InstanceState) -> bool:
            found = main.table.instance(row)
            return found is not None and found.state is state

        await wait_for(pilot, lambda: shown(InstanceState.RUNNING), "web running")
        await wait_for(pilot, lambda: says_no_answer(app), "slow's failure", within=15)
        assert "slow" in strip_of(app)

        # Stopped behind the portal's back: the screen shows it within a few intervals.
        ec2.stop_instances(InstanceIds=[web])
        stopped_at = loop.time()
        await wait_for(
            pilot, lambda: shown(InstanceState.STOPPED), "web stopped", within=4 * INTERVAL + 2
        )
        seen_after = loop.time() - stopped_at
        assert portal.status("slow").phase == "failed"
        assert says_no_answer(app)

        # The healthy account's cadence while the other hangs, as the screen's poller runs it.
        count = len(answered)
        await wait_for(pilot, lambda: len(answered) >= count + 5, "five more polls of dev")
        recent = answered[count:]
        cadence = (recent[-1] - recent[0]) / (len(recent) - 1)
        print(
            f"TUI: dev polled every {cadence:.2f} s while slow hangs; stop seen {seen_after:.2f} s"
        )
        assert cadence < 2 * INTERVAL

        # The fault clears: the slow account is ok again with no key pressed.
        proxy.fault = PASS
        await wait_for(
            pilot,
            lambda: portal.status("slow").phase == "ok",
            "slow ok again",
            within=2 * (TIMEOUT + INTERVAL) + 2,
        )
        await wait_for(pilot, lambda: "failed" not in strip_of(app), "the strip without failure")
        assert main.table.instance(f"slow/{web}") is not None
