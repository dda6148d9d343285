"""Addresses in the instance table at 80x24: an IPv6 address is shortened in its cell
(whole in the details), so one IPv6-only instance does not push other columns off."""

from __future__ import annotations

from datetime import timedelta

from tests.ui.conftest import FIXED_NOW, FLEET, cached_app, fixed_instances, settle
from tests.ui.on_screen import main_of
from tests.ui.test_narrow_views import drawn
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountSnapshot

V6 = "2600:1f18:4a3c:9e00:1b2c:3d4e:9c1e:42a7"


async def test_an_ipv6_only_instance_leaves_age_and_size_in_sight(cached_portal: Portal) -> None:
    """Whole, the address made the public IP column 39 cells wide, and an 80-column screen
    lost the age and size columns for every row."""
    region, names = FLEET["dev"]
    dev = fixed_instances("dev", names, region, 1)
    v6 = dev[0].model_copy(update={"id": "i-0v6", "name": "v6-only", "public_ips": (V6,)})
    cached_portal.store.save_snapshot(
        AccountSnapshot(
            account="dev", fetched_at=FIXED_NOW - timedelta(hours=2), instances=(*dev, v6)
        )
    )
    app = cached_app(cached_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = drawn(main_of(app).table)
        assert {"age", "size"} <= set(lines[0].split()), lines[0]
        (row,) = [line for line in lines if "v6-only" in line]
        assert "2600:1f18:…:9c1e:42a7" in row
