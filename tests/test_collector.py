"""A large account's poll does not stop wm for full garbage collections.

CPython collects its oldest generation (every object alive) whenever what survived the
younger ones grew by a quarter, and a listing of thousands of instances makes objects that
live: at 15,000 EC2 instances one poll froze the TUI for up to 1.6 s at a time, 14 s in
all, every thread waiting on the collector. The console script collects it less often
(winged_monkey.cli.entry.collect_less_often); these tests count the collections, not time.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import AMI, Cloud
from winged_monkey.cli.entry import FULL_COLLECTION_AFTER, collect_less_often

FLEET = 3000
REGION = "ap-southeast-2"  # a region of its own: the other tests' listings stay small


def _full_collections_in_a_poll(cloud: Cloud) -> int:
    portal = cloud.portal(cloud.account("big", region=REGION, timeout=120))
    counted: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            counted.append(1)

    async def poll() -> int:
        gc.callbacks.append(count)
        try:
            async for update in portal.refresh(native_events=False):
                if not update.status.refreshing:
                    assert update.status.phase == "ok", update.status.error
                    assert update.status.count == FLEET
        finally:
            gc.callbacks.remove(count)
            await portal.close()
        return len(counted)

    return asyncio.run(poll())


@pytest.fixture
def thresholds() -> Iterator[None]:
    kept = gc.get_threshold()
    yield
    gc.set_threshold(*kept)


@pytest.fixture
def big_fleet(cloud: Cloud) -> Cloud:
    ec2 = cloud.ec2(region=REGION)
    for _ in range(FLEET // 1000):
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1000, MaxCount=1000)
    return cloud


def test_a_poll_of_thousands_of_instances_runs_no_full_collection(
    big_fleet: Cloud, thresholds: None
) -> None:
    collect_less_often()
    gc.collect()  # counts from nothing, as a new wm process does, not from earlier tests
    assert _full_collections_in_a_poll(big_fleet) == 0  # CPython's default: 3 here


def test_the_console_script_collects_the_oldest_generation_less_often() -> None:
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.get_threshold()[2]))\n"
        "sys.argv = ['wm', '--version']\n"
        "from winged_monkey.cli.entry import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == str(FULL_COLLECTION_AFTER), done
