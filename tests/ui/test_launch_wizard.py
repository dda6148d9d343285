"""The launch wizard at 80x24, keyboard only, against the real moto demo cloud.

`l` on a catalog item -> account (ranked) -> size -> location -> key pair/network ->
name and count -> summary -> enter launches; the new instances are followed until they
run, in the instances view. boto3 and moto's own call log are the witnesses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.conftest import AMI, Cloud
from tests.faultproxy import Fault, FaultProxy
from tests.ui.conftest import Live, finish_workers, settle, wait_for
from tests.ui.on_screen import shows, text_of
from tests.ui.test_catalog import open_catalog, running_count, shop_of, with_images
from winged_monkey.catalog import ParameterConstraint, TemplateForm, TemplateParameter
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.screens.launch_plan import slug
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.catalog_text import hourly, monthly
from winged_monkey.ui.widgets.param_form import ParamForm
from winged_monkey.user.config import AccountConfig, Config

SIZE = (80, 24)


@pytest.fixture
def shop(moto: MotoServer, demo_config: Config, tmp_path: Path) -> Live:
    """The demo fleet, each account offering the demo AMI."""
    return shop_of(moto, with_images(demo_config), tmp_path)


async def open_wizard(pilot: Pilot[Any], row: int = 0) -> LaunchWizard:
    screen = await open_catalog(pilot)
    screen.table.move_cursor(row=row)
    await pilot.press("l")
    await wait_for(pilot, lambda: shows(pilot.app, LaunchWizard), "the wizard")
    wizard = pilot.app.screen
    assert isinstance(wizard, LaunchWizard)
    await pilot.pause()
    return wizard


def step(wizard: LaunchWizard) -> str:
    """The step on screen (a function: mypy would narrow the attribute across presses)."""
    return wizard.step


def option_ids(wizard: LaunchWizard, selector: str) -> list[str]:
    options = wizard.query_one(selector, OptionList)
    return [str(options.get_option_at_index(n).id) for n in range(options.option_count)]


def highlighted(wizard: LaunchWizard, selector: str) -> str:
    options = wizard.query_one(selector, OptionList)
    assert options.highlighted is not None
    return str(options.get_option_at_index(options.highlighted).id)


async def type_into(pilot: Pilot[Any], text: str) -> None:
    """Replace the focused field's text, as a user would: home, delete to the end, type."""
    await pilot.press("home", "ctrl+k", *text)


async def to_summary(pilot: Pilot[Any], wizard: LaunchWizard, name: str, count: int) -> None:
    """From the account step (dev chosen with t3.small) through the defaults."""
    await type_into(pilot, "t3.small")
    await pilot.press("enter")
    assert step(wizard) == "size"
    await pilot.press("enter")
    assert step(wizard) == "location"
    await pilot.press("enter")
    assert step(wizard) == "access"
    while step(wizard) == "access":
        await pilot.press("enter")
    assert step(wizard) == "name"
    await type_into(pilot, name)
    await pilot.press("enter")
    await type_into(pilot, str(count))
    await pilot.press("enter")
    assert step(wizard) == "summary"


async def test_wizard_launches_instances_that_run_in_the_instances_view(
    shop: Live, cloud: Cloud
) -> None:
    ec2 = cloud.ec2()
    ec2.create_key_pair(KeyName="laptop")
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        assert step(wizard) == "account"
        await type_into(pilot, "t3.small")
        await pilot.pause()
        # Ranked by the price of t3.small: eu-west-1 costs more than us-east-1.
        ranked = option_ids(wizard, "#wizard-accounts")
        assert ranked[-1] == "dev-eu"
        assert set(ranked[:2]) == {"dev", "prod"}
        catalog = wizard.catalogs["dev"]
        (small,) = [s for s in catalog.sizes if s.id == "t3.small"]
        eu_small = next(s for s in wizard.catalogs["dev-eu"].sizes if s.id == "t3.small")
        assert small.price_hourly is not None
        assert eu_small.price_hourly is not None
        assert small.price_hourly < eu_small.price_hourly
        options = wizard.account_options()
        assert all(o.reason.startswith("t3.small (2 vCPU, 2 GB) at $") for o in options)
        assert "instances left" in options[0].reason  # and why: the quota left

        await pilot.press("enter")  # the first: dev
        assert step(wizard) == "size"
        assert wizard.choices.account == "dev"
        assert highlighted(wizard, "#wizard-sizes") == "t3.small"  # the ranked size
        await pilot.press("enter")
        assert step(wizard) == "location"
        await pilot.press("down", "down", "enter")  # (default), us-east-1a, us-east-1b
        assert wizard.choices.location is not None
        assert wizard.choices.location.name == "us-east-1b"
        assert step(wizard) == "access"
        assert option_ids(wizard, "#wizard-keys") == ["", "laptop"]
        await pilot.press("down", "enter")  # laptop; then the networks list
        assert wizard.choices.key_pair is not None
        assert wizard.choices.key_pair.id == "laptop"
        await pilot.press("enter")  # the default network
        assert step(wizard) == "name"
        await type_into(pilot, "wiz-box")
        await pilot.press("enter")
        await type_into(pilot, "2")
        await pilot.press("enter")
        assert step(wizard) == "summary"
        summary = text_of(wizard)
        assert "wiz-box-1 … wiz-box-2  x 2" in summary
        assert f"{hourly(small.price_hourly, 2)}  ≈ {monthly(small.price_hourly, 2)}" in summary
        used = running_count(cloud)
        assert f"instances {used} → {used + 2} of 20" in summary
        assert "us-east-1b" in summary
        assert "laptop" in summary

        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the wizard closes")
        await wait_for(
            pilot,
            lambda: (
                [i.state for i in shop.portal.instances() if i.name.startswith("wiz-box-")]
                == [InstanceState.RUNNING] * 2
            ),
            "both new instances running",
        )
        await pilot.press("colon", *"instances", "enter")
        await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
        main = app.screen
        assert isinstance(main, MainScreen)
        shown = [i for i in main.table.shown if i.name.startswith("wiz-box-")]
        assert sorted(i.name for i in shown) == ["wiz-box-1", "wiz-box-2"]
        assert [i.state for i in shown] == [InstanceState.RUNNING] * 2
        await settle(pilot)

    names = ["wiz-box-1", "wiz-box-2"]
    reply = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": names}])
    made = [i for r in reply["Reservations"] for i in r["Instances"]]
    assert len(made) == 2
    assert {i["InstanceType"] for i in made} == {"t3.small"}
    assert {i["Placement"]["AvailabilityZone"] for i in made} == {"us-east-1b"}
    assert {i["KeyName"] for i in made} == {"laptop"}
    assert {i["ImageId"] for i in made} == {AMI}
    launches = [e for e in shop.portal.store.events() if e.kind == "launch"]
    (intent,) = [e for e in launches if e.outcome == "requested"]  # one launch of 2
    outcomes = [e for e in launches if e is not intent]
    assert len(outcomes) == 2
    assert {(e.outcome, e.cause) for e in outcomes} == {("ok", intent.key)}


async def test_a_launch_over_quota_is_stopped_before_any_call(
    moto: MotoServer, demo_config: Config, tmp_path: Path, cloud: Cloud
) -> None:
    # dev: 3 running and a limit of 4 (one left); prod: 3 running, a limit of 3 (none).
    limited = with_images(
        demo_config, dev={"limits": {"instances": 4}}, prod={"limits": {"instances": 3}}
    )
    tight = shop_of(moto, limited, tmp_path)
    app = tight.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await type_into(pilot, "t3.small")
        await pilot.pause()
        options = {o.account: o for o in wizard.account_options()}
        assert options["prod"].blocked == (
            "launching 1 x t3.small needs 1 instances; 0 of 3 remain"
        )
        assert option_ids(wizard, "#wizard-accounts")[-1] == "prod"  # after the launchable
        # Choosing prod anyway says why and stays.
        wizard.query_one("#wizard-accounts", OptionList).focus()
        wizard.query_one("#wizard-accounts", OptionList).highlighted = option_ids(
            wizard, "#wizard-accounts"
        ).index("prod")
        await pilot.press("enter")
        assert step(wizard) == "account"
        assert "prod: launching 1 x t3.small needs 1 instances; 0 of 3 remain" in text_of(wizard)

        await pilot.press("home", "enter")  # the top one: dev, with one instance left
        assert wizard.choices.account == "dev"
        await pilot.press("escape")
        assert step(wizard) == "account"
        wizard.query_one("#wizard-spec", Input).focus()
        await to_summary(pilot, wizard, "too-many", 2)
        stop = "launching 2 x t3.small needs 2 instances; 1 of 4 remain"
        assert f"Stopped before any call: {stop}" in text_of(wizard)

        moto.clear_calls()
        before = running_count(cloud)
        await pilot.press("enter")
        await pilot.pause()
        await finish_workers(app)
        assert app.screen is wizard
        assert step(wizard) == "summary"
        assert not [c for c in moto.calls if c.mutating]  # no RunInstances, nothing else
        assert running_count(cloud) == before
        assert not [e for e in tight.portal.store.events() if e.kind == "launch"]

        # One fits: escape back to the count, make it 1, and the summary lets it go.
        await pilot.press("escape")
        assert step(wizard) == "name"
        wizard.query_one("#wizard-count", Input).focus()
        await type_into(pilot, "1")
        await pilot.press("enter")
        assert "Stopped before any call" not in text_of(wizard)


async def test_escape_goes_back_one_step_and_closes_from_the_first(shop: Live) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await pilot.press("enter", "enter")  # any size: the cheapest account, its size
        assert step(wizard) == "location"
        chosen = wizard.choices.size
        await pilot.press("escape")
        assert step(wizard) == "size"
        assert highlighted(wizard, "#wizard-sizes") == (chosen.id if chosen else "")
        await pilot.press("escape")
        assert step(wizard) == "account"
        await pilot.press("escape")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
        assert not [e for e in shop.portal.store.events() if e.kind == "launch"]


async def test_a_name_and_count_typed_survive_escape_back_and_on_again(shop: Live) -> None:
    """Typed, not yet entered: escape to the step before and enter again shows them."""
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await pilot.press("enter", "enter", "enter")  # account, size, location
        while step(wizard) == "access":
            await pilot.press("enter")
        assert step(wizard) == "name"
        await type_into(pilot, "nightly")
        await pilot.press("tab")
        await type_into(pilot, "3")
        await pilot.press("escape")
        assert step(wizard) == "access"
        while step(wizard) == "access":
            await pilot.press("enter")
        assert step(wizard) == "name"
        assert wizard.query_one("#wizard-name", Input).value == "nightly"
        assert wizard.query_one("#wizard-count", Input).value == "3"
        await pilot.press("enter", "enter")
        assert step(wizard) == "summary"
        assert "nightly-1 … nightly-3  x 3" in text_of(wizard)


# -- the parameter form of a template --------------------------------------------------------

FORM = TemplateForm(
    account="heat",
    template="web-db.yaml",
    description="A web server and its database",
    parameters=(
        TemplateParameter(
            name="flavor",
            type="string",
            default="m1.small",
            description="Size of both servers",
            constraints=(
                ParameterConstraint(kind="allowed_values", values=("m1.small", "m1.large")),
            ),
        ),
        TemplateParameter(
            name="web_count",
            type="number",
            default="1",
            constraints=(ParameterConstraint(kind="range", min=1, max=4),),
        ),
        TemplateParameter(
            name="db_password",
            type="string",
            hidden=True,
            description="The database's admin password",
            constraints=(ParameterConstraint(kind="length", min=8, max=64),),
        ),
    ),
)


class FormApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ParamForm(FORM, id="form")


async def test_template_form_shows_types_defaults_constraints_and_masks_hidden() -> None:
    app = FormApp()
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(ParamForm)
        flavor, count, password = form.inputs
        assert (flavor.value, count.value, password.value) == ("m1.small", "1", "")
        assert password.password
        assert not flavor.password
        text = text_of(app.screen)
        assert "flavor  string  default m1.small  · one of m1.small, m1.large" in text
        assert "web_count  number  default 1  · 1..4" in text
        assert "db_password  string  hidden  · 8..64 characters" in text
        assert "The database's admin password" in text

        password.focus()
        await pilot.press(*"short")
        count.value = "9"
        assert form.check() == {"web_count": "1..4", "db_password": "8..64 characters"}
        text = text_of(app.screen)
        assert "✗ 1..4" in text
        assert "✗ 8..64 characters" in text
        assert "short" not in text  # a hidden value never on screen

        count.value = "2"
        password.value = "long-enough-secret"
        assert form.check() == {}
        assert form.to_send() == {"web_count": "2", "db_password": "long-enough-secret"}

        # The cloud's own rejection: in full at the top, and on the field it names.
        form.show_cloud_error('Parameter "flavor" is invalid: flavor m1.tiny not found')
        await pilot.pause()
        text = text_of(app.screen)
        assert 'Parameter "flavor" is invalid: flavor m1.tiny not found' in text
        assert "✗ rejected by the cloud" in text
        assert app.focused is flavor


def test_the_default_name_comes_from_the_item_name() -> None:
    assert slug("ubuntu-trusty-14.04-amd64-server-20170727") == "ubuntu-trusty-14-04"
    assert slug("Web + DB") == "web-db"
    assert slug("///") == "instance"


async def test_a_launch_whose_answer_is_lost_says_it_may_exist_not_refused(
    moto: MotoServer,
    demo_config: Config,
    tmp_path: Path,
    cloud: Cloud,
    fault_proxy: Callable[[int], FaultProxy],
) -> None:
    """dev's RunInstances reaches moto, which creates the instance, and the reply is cut
    short: the wizard said "Launch refused" and "Refused: nothing was created", inviting a
    second launch; it says the instance may exist and where to look."""
    proxy = fault_proxy(moto.port)
    dev = {"endpoint": {"host": "127.0.0.1", "port": proxy.port, "secure": False}}
    lossy = shop_of(moto, with_images(demo_config, dev=dev), tmp_path)
    app = lossy.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await to_summary(pilot, wizard, "lost-1", 1)
        proxy.fault = Fault("truncate", keep=400, match=b"RunInstances")
        before = running_count(cloud)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "No answer: it may exist" in text_of(wizard), "said")
        shown = text_of(wizard)
        assert "the cloud may have created it" in shown
        assert "Refused" not in shown
        assert running_count(cloud) == before + 1  # the witness: it does exist
        await finish_workers(app)


async def test_a_size_of_another_cpu_than_the_image_is_refused_on_the_size_step(
    moto: MotoServer, demo_config: Config, tmp_path: Path
) -> None:
    """An arm64 AMI (moto's Amazon Linux for Graviton): the account step picks a Graviton
    type; an x86 type picked on the size step (EC2 refuses it) is dimmed, and choosing it
    says why and stays there; an arm64 one goes on."""
    arm = "ami-0e9271c829888680e"
    accounts = tuple(
        AccountConfig.model_validate({**a.model_dump(), "images": [arm]})
        for a in demo_config.accounts
        if a.name == "dev"
    )
    live = shop_of(moto, demo_config.model_copy(update={"accounts": accounts}), tmp_path)
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        assert wizard.item.arch == "arm64"
        await pilot.press("enter")
        assert step(wizard) == "size"
        assert wizard.choices.size is not None
        assert wizard.choices.size.arch == "arm64"
        sizes = wizard.query_one("#wizard-sizes", OptionList)
        sizes.highlighted = option_ids(wizard, "#wizard-sizes").index("t3.micro")
        await pilot.press("enter")
        assert step(wizard) == "size"
        assert "is an arm64 image and t3.micro an x86_64 size: pick an arm64 size" in text_of(
            wizard
        )
        sizes.highlighted = option_ids(wizard, "#wizard-sizes").index("t4g.micro")
        await pilot.press("enter")
        assert step(wizard) != "size"
        assert wizard.choices.size.id == "t4g.micro"
