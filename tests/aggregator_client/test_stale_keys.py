"""The TUI offers on a row a `wm serve` keeps as last seen (its account there failing) only
the keys the server offers the token there: an operator's row has stop, not destroy. Real
`wm serve` over moto, one account behind the fault proxy, the TUI at 80x24. Before, such a
row offered every key (`D destroy` too, and `z suspend` on EC2); `D` asked 'Destroy 1
instance?' and then said 'Cannot destroy: the aggregator offers no destroy ...'."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.aggregator.server import FLAKY, RunningAggregator, flaky_aggregator
from tests.aggregator_client.conftest import aggregator_account
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from tests.ui.conftest import settle, wait_for
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.user.config import Config


@pytest.fixture
def flaky_server(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    proxy = fault_proxy(moto_server.port)
    with flaky_aggregator(moto_server, tmp_path / "agg", proxy) as running:
        yield running, proxy


async def test_an_operator_is_offered_no_destroy_on_a_row_kept_as_last_seen(
    flaky_server: tuple[RunningAggregator, FaultProxy],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agg, proxy = flaky_server
    token = agg.mint("olga", "operator")
    config = Config(
        refresh_interval=1,
        action_poll_interval=0.05,
        accounts=(aggregator_account("team", agg.url, token, monkeypatch),),
    )
    portal = Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")
    app = WMApp(portal, config, title_suffix="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        table = screen.table

        def web() -> str | None:
            rows = [i for i in table.shown if i.id.startswith(f"{FLAKY}/") and i.name == "web"]
            return rows[0].stale if rows else "not listed"

        def keys() -> set[str]:
            return {ab.binding.description for ab in screen.active_bindings.values()}

        await wait_for(pilot, lambda: web() is None, "team-flaky's web, seen now")
        proxy.fault = Fault("status", status=503)  # the cloud behind team-flaky fails now
        with agg.client(agg.mint("ada", "admin")) as admin:

            def failed() -> bool:
                accounts = admin.get("/api/v1/provider-accounts").json()
                return any(a["id"] == FLAKY and a["status"]["phase"] == "failed" for a in accounts)

            wait_until(failed, timeout=20)
        await wait_for(pilot, lambda: web() not in (None, "not listed"), "web as last seen")
        (row,) = [i for i in table.shown if i.id.startswith(f"{FLAKY}/") and i.name == "web"]
        table.select(row.key)
        await pilot.pause()
        assert "stop" in keys()  # the server offers an operator's stop there
        assert "destroy" not in keys()  # an admin's
        assert "suspend" not in keys()  # EC2's rows have none
        await pilot.press("D")  # pressed anyway: nothing is asked, nothing is sent
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
