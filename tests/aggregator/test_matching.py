"""Matching a pool deployable to an account, without a server: fit, quota, price, track
record, weights and priority, each case with the words an admin reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from winged_monkey.catalog import AccountCatalog, CatalogItem, Quota, Size
from winged_monkey.errors import ConfigError
from winged_monkey.models import Event, EventSource
from winged_monkey.serve.matching import TrackRecord, match, track_record
from winged_monkey.serve.pools import PoolDeployable, PoolSettings
from winged_monkey.serve.settings import load_server_config

WEB = PoolDeployable(
    name="web",
    vcpus=1,
    ram_mb=1024,
    images={"east": "ami-e", "west": "ami-w", "tokyo": "ami-t"},
    templates={"heat": "web.yaml"},
)


def catalog(
    account: str, price: float | None, *, instances_left: int | None = None
) -> AccountCatalog:
    sizes = (
        Size(id="tiny", name="tiny", vcpus=1, ram_mb=512, price_hourly=price),
        Size(id="small", name="small", vcpus=1, ram_mb=2048, price_hourly=price),
        Size(id="large", name="large", vcpus=8, ram_mb=32768, price_hourly=(price or 0) * 8),
    )
    quotas: tuple[Quota, ...] = ()
    if instances_left is not None:
        quotas = (Quota(resource="instances", limit=5, used=5 - instances_left),)
    return AccountCatalog(account=account, provider="ec2", sizes=sizes, quotas=quotas)


CATALOGS = {
    "east": catalog("east", 0.02),
    "west": catalog("west", 0.03),
    "tokyo": catalog("tokyo", 0.01, instances_left=0),
    "heat": AccountCatalog(account="heat", provider="heat"),
}


def test_the_cheapest_fitting_account_wins_and_each_other_says_why() -> None:
    found = match("synth", WEB, PoolSettings(), CATALOGS, {})

    assert [s.account for s in found.ranked] == ["east", "west", "heat", "tokyo"]
    assert found.chosen is not None
    assert found.chosen.fit.size is not None
    assert found.chosen.fit.size.id == "small"  # the cheapest of the sizes that fit 1 GB
    assert found.why().startswith("east: the best score; small (1 vCPU, 2048 MB) at $0.0200/h")
    west, heat, tokyo = found.ranked[1:]
    assert west.summary() == "score 0.50 (price +0.50)"
    assert "50% above the cheapest" in west.reasons[0]
    # An unknown price is never the cheapest: one more than the dearest known.
    assert heat.parts["price"] == pytest.approx(1.5)
    assert tokyo.summary() == (
        "passed over: quota: launching 1 x small needs 1 instances; 0 of 5 remain"
    )


def test_a_size_under_the_images_min_ram_is_not_chosen() -> None:
    """An OpenStack image that needs 1 GB (Glance's min_ram): the pool picked the 512 MB
    flavor for a deployable that asks only for a vCPU, and Nova refused the launch."""
    image = CatalogItem(
        account="east",
        kind="image",
        id="ami-e",
        name="debian",
        provider="openstack",
        min_ram_mb=1024,
    )
    one_cpu = PoolDeployable(name="web", vcpus=1, images={"east": "ami-e"})
    offered = catalog("east", 0.02).model_copy(update={"items": (image,)})
    found = match("synth", one_cpu, PoolSettings(), {"east": offered}, {})
    assert found.chosen is not None
    assert found.chosen.fit.size is not None
    assert found.chosen.fit.size.id == "small"


def test_a_failing_account_ranks_below_a_dearer_healthy_one_only_when_quality_counts() -> None:
    records = {"east": TrackRecord(launches=4, failed=3)}
    plain = match(
        "synth", WEB, PoolSettings.model_validate({"weights": {"quality": 0}}), CATALOGS, records
    )
    weighted = match(
        "synth", WEB, PoolSettings.model_validate({"weights": {"quality": 2}}), CATALOGS, records
    )

    assert plain.chosen is not None
    assert plain.chosen.account == "east"
    assert weighted.chosen is not None
    assert weighted.chosen.account == "west"
    east = next(s for s in weighted.ranked if s.account == "east")
    assert "3 of the last 4 launches failed" in east.reasons
    assert east.parts["quality"] == pytest.approx(1.5)


def test_priority_comes_before_score_and_failed_polls_and_speed_count() -> None:
    settings = PoolSettings.model_validate(
        {"priority": {"west": 1}, "weights": {"speed": 1, "polls": 1}}
    )
    records = {
        "east": TrackRecord(launches=2, median_s=120.0, polls=10, failed_polls=5),
    }
    found = match("synth", WEB, settings, CATALOGS, records)

    assert found.chosen is not None
    assert found.chosen.account == "west"
    assert found.why().startswith("west: the highest priority (1)")
    east = next(s for s in found.ranked if s.account == "east")
    assert east.parts == {"price": 0.0, "quality": 0.0, "speed": 2.0, "polls": 0.5}
    assert "5 of 10 polls failed" in east.reasons
    assert "median 120.0 s to running" in east.reasons


def test_no_account_fits_names_each_reason() -> None:
    big = WEB.model_copy(update={"vcpus": 64, "templates": {}})
    found = match(
        "synth",
        big,
        PoolSettings(),
        CATALOGS,
        {},
        errors={},
        refused={"west": "the account is read-only"},
    )

    assert found.chosen is None
    assert found.why() == (
        "no account of pool synth can launch web: east: no size fits 64 vCPUs 1 GB; "
        "tokyo: no size fits 64 vCPUs 1 GB; west: the account is read-only"
    )


def test_an_account_tried_already_is_passed_over_with_its_rejection() -> None:
    found = match("synth", WEB, PoolSettings(), CATALOGS, {}, excluded={"east": "InvalidAMIID"})
    assert found.chosen is not None
    assert found.chosen.account == "west"
    assert found.ranked[-1].summary() == "passed over: rejected this launch: InvalidAMIID"


def _launch(key: str, at: datetime, outcome: str, duration: float | None = None) -> list[Event]:
    intent = Event(
        key=key,
        at=at,
        source=EventSource.ACTION,
        kind="launch",
        account="east",
        target="i-1",
        outcome="requested",
    )
    done = intent.model_copy(
        update={
            "key": f"{key}:outcome",
            "at": at + timedelta(seconds=1),
            "outcome": outcome,
            "cause": key,
            "duration": duration,
        }
    )
    return [done, intent]


def test_the_track_record_counts_settled_launches_newest_first() -> None:
    now = datetime.now(UTC)
    events: list[Event] = []
    for index, (outcome, took) in enumerate(
        [("ok", 4.0), ("failed", None), ("ok", 2.0), ("ok", 10.0), ("unknown", None)]
    ):
        events = _launch(f"action:{index}", now + timedelta(minutes=index), outcome, took) + events
    # The server's own request record: no outcome is linked to it, so it is not a launch.
    events.append(events[-1].model_copy(update={"key": "request:x", "cause": None}))

    record = track_record(events, recent=20, polls=8, failed_polls=2)
    assert (record.launches, record.failed, record.median_s) == (4, 1, 4.0)
    assert record.words() == [
        "1 of the last 4 launches failed",
        "median 4.0 s to running",
        "2 of 8 polls failed",
    ]
    assert track_record(events, recent=2).launches == 2  # the newest two only


def test_the_config_names_its_mistakes() -> None:
    with pytest.raises(ValidationError, match="names no account"):
        PoolDeployable(name="web")
    with pytest.raises(ValidationError, match="pricee"):
        PoolSettings.model_validate({"weights": {"pricee": 1}})
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        PoolSettings.model_validate({"weights": {"price": -1}})
    settings = PoolSettings.model_validate({"deployables": [WEB.model_dump()]})
    assert settings.problems("synth", ["east", "west"]) == [
        "deployable 'web' names 'tokyo', not an account of pool 'synth'",
        "deployable 'web' names 'heat', not an account of pool 'synth'",
    ]


@pytest.mark.parametrize(
    ("section", "words"),
    [
        (
            "[serve.pools.synth]\nweights = { quality = -1 }\n",
            "field serve.pools.synth.weights.quality: must be at least 0",
        ),
        (
            "[serve.pools.synth]\nweights = { pricee = 1 }\n",
            "unknown key 'serve.pools.synth.weights.pricee' "
            "(did you mean 'serve.pools.synth.weights.price'?)",
        ),
        (
            "[serve.pools.synth]\nwindow_hour = 2\n",
            "unknown key 'serve.pools.synth.window_hour' "
            "(did you mean 'serve.pools.synth.window_hours'?)",
        ),
        (
            '[[serve.pools]]\nname = "synth"\n',
            "field serve.pools: must be a table, not a list: write [serve.pools.NAME] for each, "
            "not [[serve.pools]]",
        ),
        (
            '[[serve.pools.synth.deployables]]\nname = "web"\nimages = { nowhere = "ami-1" }\n',
            "[serve.pools.synth] deployable 'web' names 'nowhere', not an account of pool 'synth'",
        ),
        (
            "[serve.pools.elsewhere]\npriority = { east = 1 }\n",
            "[serve.pools.elsewhere] no account is in pool 'elsewhere'; priority names 'east'",
        ),
    ],
)
def test_the_server_config_is_checked_at_start(tmp_path: Path, section: str, words: str) -> None:
    path = tmp_path / "server.toml"
    path.write_text(
        '[serve]\n\n[[accounts]]\nname = "east"\nprovider = "ec2"\npool = "synth"\n\n' + section,
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_server_config(path)
    assert words in str(caught.value)
