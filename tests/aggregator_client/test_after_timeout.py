"""A stop through a `wm serve` that times out says what the server's own backend says to do
next, as a direct account's does. Real `wm serve` over a libvirt test driver holding a
domain stuck in libvirt's `shutdown` (its guest was asked and has not finished); the client
follows a stop of it (none is sent: the test driver would power it off at once) until its
action timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.aggregator.server import AggregatorProcess, RunningAggregator, server_env
from tests.aggregator_client.conftest import aggregator_account, refresh
from tests.conftest import wait_until
from tests.libvirt.test_libvirt_odd_domains import DOMAIN
from winged_monkey.actions import Action
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import Config

STUCK = "6b1b2c4e-0000-4000-8000-000000000031"
NEXT_STEP = "stop again to power it off"


@contextmanager
def libvirt_serve(workdir: Path, moto: MotoServer) -> Iterator[RunningAggregator]:
    """`wm serve` over one libvirt account, "kvm" (pool "lab"), whose domain stuck-vm is
    stuck shutting down (virDomainState 4)."""
    workdir.mkdir(parents=True)
    node = workdir / "node.xml"
    node.write_text(
        "<node>" + DOMAIN.format(name="stuck-vm", uuid=STUCK, state=4) + "</node>",
        encoding="utf-8",
    )
    config = workdir / "config.toml"
    config.write_text(
        f'[serve]\npoll_interval = 0.5\ntokens = "{workdir / "tokens.sqlite3"}"\n'
        "rate = 1000\nburst = 1000\n\n"
        '[[accounts]]\nname = "kvm"\nprovider = "libvirt"\npool = "lab"\n'
        f'driver = {{ uri = "test://{node}" }}\ncredentials = {{ keyring = false }}\n',
        encoding="utf-8",
    )
    with AggregatorProcess(workdir, config, server_env(workdir)) as process:
        yield RunningAggregator(process, workdir / "tokens.sqlite3", moto)


async def test_a_stop_through_wm_serve_that_timed_out_says_the_servers_next_step(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "stuck-vm still stopping after 1 s" and no more: the server's libvirt
    account knows the next stop powers it off, and said so to its own users only."""
    with libvirt_serve(tmp_path / "agg", moto_server) as agg:
        token = agg.mint("olga", "operator")
        with agg.client(token) as client:
            rows: list[dict[str, object]] = []

            def listed() -> bool:
                rows[:] = client.get("/api/v1/instances").json()
                return bool(rows)

            wait_until(listed, timeout=30)
        (row,) = rows
        assert (row["raw_state"], row["after_timeout"]) == ("shutdown", {"stop": NEXT_STEP})

        account = aggregator_account("team", agg.url, token, monkeypatch)
        config = Config(accounts=(account,), action_poll_interval=0.05, action_timeout=1)
        store = Store.open(tmp_path / "wm.sqlite3")
        portal = Portal(config, store, user="tester")
        try:
            await refresh(portal)
            (stuck,) = portal.instances()
            backend = await portal.accounts.backend("team")
            followed = [u async for u in portal.operations.follow(backend, Action.STOP, stuck)]
        finally:
            await portal.close()
            store.close()
    assert (followed[-1].phase, followed[-1].message) == (
        "timeout",
        f"stuck-vm still stopping after 1 s: {NEXT_STEP}",
    )
