"""The Catalog view (`:catalog`) at 80x24 against the real moto demo cloud.

Each demo account names the same Ubuntu AMI in its config (`images = [...]`), so the
item is offered by every account; sizes and prices are libcloud's bundled EC2 data,
quota is what moto reports. boto3 is the witness where the cloud's own answer matters.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import AMI, Cloud
from tests.ui.conftest import CLOSED_PORT, Live, ec2_account, live_portal, settle, wait_for
from tests.ui.on_screen import Notes, shows, text_of
from winged_monkey.demo.server import MotoServer
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.widgets.catalog_text import hourly, monthly
from winged_monkey.user.config import AccountConfig, Config

SIZE = (80, 24)


def moto_amis() -> Path:
    """The public AMIs moto ships (its resources/amis.json.gz)."""
    import moto.ec2

    return Path(moto.ec2.__file__).parent / "resources" / "amis.json.gz"


DEMO_ACCOUNTS = ["dev", "dev-eu", "prod"]


def with_images(config: Config, **settings: dict[str, Any]) -> Config:
    """Every account names the demo AMI; `settings` adds per-account keys (limits=...)."""
    accounts = tuple(
        AccountConfig.model_validate(
            {**a.model_dump(), "images": [AMI], **settings.get(a.name.replace("-", "_"), {})}
        )
        for a in config.accounts
    )
    return config.model_copy(update={"accounts": accounts})


def shop_of(moto: MotoServer, config: Config, tmp_path: Path, *extra: AccountConfig) -> Live:
    portal = live_portal(config, tmp_path, *extra)
    return Live(moto, portal.config, portal)


def shop_with_one_down(
    moto: MotoServer, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> WMApp:
    """The app over `config`'s accounts offering the demo AMI, and first an account whose
    cloud is down."""
    monkeypatch.setenv("WM_UI_TEST_SECRET", "x")
    down = ec2_account("down", CLOSED_PORT, images=[AMI])
    return shop_of(moto, with_images(config), tmp_path, down).app()


@pytest.fixture
def shop(moto: MotoServer, demo_config: Config, tmp_path: Path) -> Live:
    """The demo fleet, each account offering the demo AMI."""
    return shop_of(moto, with_images(demo_config), tmp_path)


async def open_catalog(pilot: Pilot[Any]) -> CatalogScreen:
    """`:catalog`, then wait until every account's catalog (or its failure) is in."""
    await settle(pilot)
    await pilot.press("colon", *"catalog", "enter")
    await wait_for(pilot, lambda: shows(pilot.app, CatalogScreen), "the catalog")
    screen = pilot.app.screen
    assert isinstance(screen, CatalogScreen)
    await wait_for(pilot, lambda: bool(screen.rows) and not screen.pending, "every catalog")
    await pilot.pause()
    return screen


def detail_text(screen: CatalogScreen) -> str:
    return text_of(screen)


def running_count(cloud: Cloud, region: str = "us-east-1") -> int:
    reply = cloud.ec2(region).describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
    )
    return sum(len(r["Instances"]) for r in reply["Reservations"])


async def test_items_listed_with_the_accounts_that_offer_them(shop: Live, cloud: Cloud) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        rows = [(r.account, r.item.id if r.item else None) for r in screen.rows]
        assert rows == [("dev", AMI), ("dev-eu", AMI), ("prod", AMI)]
        # One group: the item's name is on its first row only.
        first, second = (screen.table.get_row_at(n) for n in (0, 1))
        assert first[0].plain.startswith("…/ubuntu-trusty-14.04")  # its folders cut first
        assert second[0].plain == ""
        assert "1 item · 3 of 3 accounts" in (screen.sub_title or "")

        text = detail_text(screen)
        assert "Canonical, Ubuntu" in text  # the image's own description
        assert "provider: ec2" in text
        assert "needs: an x86_64 size" in text  # the AMI's own CPU
        assert "dev  ec2 · us-east-1" in text
        # The cheapest size with its libcloud price, and the quota moto reports.
        catalog = screen.catalogs["dev"]
        cheapest = min(
            (s for s in catalog.sizes if s.price_hourly is not None),
            key=lambda s: s.price_hourly or 0,
        )
        assert f"{cheapest.name} " in text
        assert hourly(cheapest.price_hourly) in text
        assert f"instances {running_count(cloud)} of 20 used" in text

        # The other account's details follow the cursor.
        await pilot.press("down")
        assert "dev-eu  ec2 · eu-west-1" in detail_text(screen)


async def test_a_failing_account_is_a_row_with_its_reason(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_UI_TEST_SECRET", "x")
    down = ec2_account("down", CLOSED_PORT, images=[AMI])
    shop = shop_of(moto, with_images(demo_config), tmp_path, down)
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        (failed,) = [r for r in screen.rows if r.account == "down"]
        assert failed.error
        assert failed.item is None
        assert {r.account for r in screen.rows if r.item} == set(DEMO_ACCOUNTS)
        assert "1 failed" in (screen.sub_title or "")
        screen.table.move_cursor(row=screen.rows.index(failed))
        await pilot.pause()
        assert "down:" in detail_text(screen)
        # No launch from a row without an item.
        assert screen.check_action("launch", ()) is None


async def test_a_failing_account_shows_above_another_accounts_many_images(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its row came after every item: below an account's images (here 20, thousands on a
    real one) it was out of sight at 80x24, and the header cut its '1 failed' to '1 fa…'."""
    monkeypatch.setenv("WM_UI_TEST_SECRET", "x")
    many = [a["ami_id"] for a in json.loads(gzip.decompress(moto_amis().read_bytes()))][:20]
    (dev,) = [a for a in demo_config.accounts if a.name == "dev"]
    config = demo_config.model_copy(
        update={"accounts": (AccountConfig.model_validate({**dev.model_dump(), "images": many}),)}
    )
    shop = shop_of(moto, config, tmp_path, ec2_account("down", CLOSED_PORT, images=[AMI]))
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        assert len([r for r in screen.rows if r.item]) == 20
        assert screen.rows[0].account == "down"
        assert screen.rows[0].error
        assert (screen.sub_title or "").startswith("catalog · 1 failed · ")


async def test_a_search_of_a_failing_account_names_it(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/` on an account whose cloud is down said 'cannot reach 127.0.0.1:9: ...' under
    the title 'Search', naming no account."""
    notes = Notes()
    app = shop_with_one_down(moto, demo_config, tmp_path, monkeypatch)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await open_catalog(pilot)
        assert screen.rows[0].account == "down"
        await pilot.press("home", "slash", *"ubuntu", "enter")
        await wait_for(pilot, lambda: bool(notes.find("cannot reach")), "the search's failure")
        (said,) = notes.find("cannot reach")
        assert said.message.startswith("down: cannot reach 127.0.0.1:9")


async def test_what_the_provider_would_not_give_is_said(
    moto: MotoServer, demo_config: Config, tmp_path: Path
) -> None:
    gone = "ami-0000000000000dead"
    shop = shop_of(moto, with_images(demo_config, dev={"images": [AMI, gone]}), tmp_path)
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        assert [r.item.id for r in screen.rows if r.account == "dev" and r.item] == [AMI]
        await pilot.press("tab")  # to the details, to scroll down to the notes
        await pilot.press("end")
        assert f"⚠ image {gone} named in config: not found" in detail_text(screen)


async def test_slash_searches_public_images_of_the_account_under_the_cursor(
    shop: Live,
) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        await pilot.press("down")  # dev-eu
        await pilot.press("slash")
        assert screen.search_input.display
        assert "dev-eu" in str(screen.search_input.placeholder)
        await pilot.press(*"amzn-ami", "enter")
        await wait_for(pilot, lambda: bool(screen.found.get("dev-eu")), "search results")
        await pilot.pause()
        found = screen.found["dev-eu"]
        assert found
        assert all("amzn-ami" in i.name for i in found.values())
        public = [r for r in screen.rows if r.item is not None and r.item.public]
        assert public
        assert {r.account for r in public} == {"dev-eu"}
        # The cursor is on the first match, marked as public in the table and details.
        assert screen.cursor_row is not None
        assert screen.cursor_row.item in found.values()
        assert "public" in detail_text(screen)
        assert not screen.search_input.display


async def test_images_whose_names_begin_alike_read_apart_at_80_columns(shop: Live) -> None:
    """Canonical names every image `ubuntu/images/hvm-ssd/…`: cut at its end, the item
    column showed the same 24 characters for each release; it shows the last part."""
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        await pilot.press("slash", *"ubuntu/images/hvm-ssd", "enter")
        await wait_for(pilot, lambda: bool(screen.found.get("dev")), "search results")
        await pilot.pause()
        names = {r.item.name for r in screen.rows if r.item is not None}
        assert len(names) >= 2  # the demo's trusty image, and what the search found
        assert all(n.startswith("ubuntu/images/hvm-ssd/ubuntu-") for n in names), names
        table = screen.table
        shown = [str(table.get_row_at(n)[0]).strip() for n in range(table.row_count)]
        cells = [c for c in shown if c.startswith("…/ubuntu-")]
        assert len(set(cells)) == len(names), shown  # one per image, each its own
        assert any(c.startswith("…/ubuntu-xenial-16.04") for c in cells), shown
        assert all(len(c) <= 24 for c in cells), shown


async def test_a_search_matching_more_than_it_shows_says_so(shop: Live, cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    for n in range(60):
        image = ec2.register_image(Name=f"nightly-{n:02d}", RootDeviceName="/dev/xvda")
        ec2.modify_image_attribute(
            ImageId=image["ImageId"], LaunchPermission={"Add": [{"Group": "all"}]}
        )
    notes = Notes()
    app = shop.app()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        screen = await open_catalog(pilot)
        await pilot.press("slash", *"nightly", "enter")
        await wait_for(pilot, lambda: bool(screen.found.get("dev")), "search results")
        await pilot.pause()
        assert len(screen.found["dev"]) == 50
        (said,) = notes.find("public images match")
        assert said.message == (
            "dev: more than 50 public images match 'nightly', the newest 50 found shown: "
            "search for more of the name (ubuntu-noble-24.04-arm64)"
        )
        await pilot.press("slash", *"nightly-07", "enter")
        await wait_for(pilot, lambda: len(notes.find("match")) == 2, "the second search")
        assert notes.find("match")[-1].message == "1 public image of dev matches “nightly-07”"


async def test_reload_reads_the_quota_again(shop: Live, cloud: Cloud) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_catalog(pilot)
        before = running_count(cloud)
        assert f"instances {before} of 20 used" in detail_text(screen)
        cloud.launch(cloud.ec2(), "elsewhere")
        await pilot.press("R")
        await wait_for(
            pilot,
            lambda: f"instances {before + 1} of 20 used" in detail_text(screen),
            "the new quota use",
        )


def test_unknown_prices_read_as_unknown_never_free() -> None:
    assert hourly(None) == "?"
    assert monthly(None) == "?"
    assert hourly(0.0104) == "$0.0104/h"
    assert monthly(0.0104, 2) == "$15.18/mo"  # 730 hours, as AWS counts a month


async def test_catalog_is_in_the_view_switcher(shop: Live) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"cat", "enter")
        await wait_for(pilot, lambda: app.view == "catalog", "the catalog view")
        assert isinstance(app.screen, CatalogScreen)
