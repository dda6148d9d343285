"""The wizard's key pair and network step at 80x24 (moto): no key pair is said, not
skipped; a subnet takes one line; only the chosen zone's subnets are offered."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.conftest import Cloud
from tests.ui.conftest import Live
from tests.ui.on_screen import text_of
from tests.ui.test_launch_wizard import SIZE, open_wizard, option_ids, shop, step, type_into

__all__ = ["shop"]  # the fixture


async def test_access_step_says_no_key_pair_and_offers_the_zones_subnets_on_one_line(
    shop: Live, cloud: Cloud
) -> None:
    zones = {
        s["SubnetId"]: s["AvailabilityZone"] for s in cloud.ec2().describe_subnets()["Subnets"]
    }
    assert len(set(zones.values())) > 1  # moto's default VPC: a subnet per zone
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await type_into(pilot, "t3.small")
        await pilot.press("enter", "enter")  # dev, its ranked size
        assert step(wizard) == "location"
        await pilot.press("down", "down", "enter")  # (default), us-east-1a, us-east-1b
        assert step(wizard) == "access"
        assert wizard.choices.location is not None
        chosen = wizard.choices.location.name

        text = text_of(wizard)
        assert "none on dev: the instances get no ssh key" in text
        offered = option_ids(wizard, "#wizard-networks")[1:]  # after "(the default)"
        assert offered
        assert {zones[s] for s in offered} == {chosen}
        networks = wizard.query_one("#wizard-networks", OptionList)
        assert networks.virtual_size.height == networks.option_count  # one line each
        prompt = str(networks.get_option_at_index(1).prompt)
        assert prompt.count(offered[0]) == 1  # its id once

        await pilot.press("down", "enter")
        assert wizard.choices.network is not None
        assert wizard.choices.network.id == offered[0]
        assert step(wizard) == "name"
