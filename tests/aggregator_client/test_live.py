"""The aggregator backend end to end against the real `wm serve` process over moto:
rows beside a direct account, actions per role, events into the local log, refused
tokens, rate limits, the catalog and a launch. moto itself is the witness of the cloud."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.aggregator.server import RunningAggregator, two_pool_aggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.conftest import Cloud
from winged_monkey.account import AccountConfig, Credentials
from winged_monkey.actions import Action
from winged_monkey.catalog import LaunchRequest
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import EventSource, Instance
from winged_monkey.user.credentials import Secrets
from winged_monkey_aggregator import AggregatorBackend
from winged_monkey_aggregator.errors import Forbidden

DIRECT_REGION = "ap-southeast-2"  # moto shares one account: a region of its own


def rows(portal: Portal, account: str) -> dict[str, Instance]:
    return {i.name: i for i in portal.instances() if i.account == account}


def team_portal(
    portals: Portals, cloud: Cloud, team: RunningAggregator, token: str, **extra: object
) -> Portal:
    cloud.launch(cloud.ec2(DIRECT_REGION), "direct-web")
    return portals(
        cloud.account("direct", region=DIRECT_REGION),
        aggregator_account("team", team.url, token, cloud.monkeypatch, **extra),
    )


async def test_every_pools_rows_beside_a_direct_account(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    portal = team_portal(portals, cloud, team, team.mint("vera", "viewer"))
    updates = await refresh(portal)
    assert updates["direct"].status.phase == "ok"
    assert updates["team"].status.phase == "ok", updates["team"].status.error
    assert list(rows(portal, "direct")) == ["direct-web"]
    listed = sorted(
        (i.id, i.name, str(i.state), i.where, i.kind)
        for i in portal.instances()
        if i.account == "team"
    )
    ids = team.ids
    assert listed == sorted(
        [
            (
                f"team-a/{ids['team-a', 'web']}",
                "web",
                "running",
                "ec2/team-a:us-east-1",
                "instance",
            ),
            (
                f"team-a/{ids['team-a', 'batch']}",
                "batch",
                "stopped",
                "ec2/team-a:us-east-1",
                "instance",
            ),
            (
                f"team-b/{ids['team-b', 'web']}",
                "web",
                "running",
                "ec2/team-b:eu-west-1",
                "instance",
            ),
            (
                f"team-b/{ids['team-b', 'batch']}",
                "batch",
                "stopped",
                "ec2/team-b:eu-west-1",
                "instance",
            ),
        ]
    )
    # The same row found by its local key (account/remote-account/id), as the CLI takes it.
    web = f"team/team-a/{ids['team-a', 'web']}"
    assert [i.key for i in portal.find(web)] == [web]


async def test_a_viewer_is_offered_no_action_and_the_cloud_stays(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    portal = team_portal(portals, cloud, team, team.mint("vera", "viewer", pool="alpha"))
    await refresh(portal)
    listed = rows(portal, "team")
    assert sorted(listed) == ["batch", "web"]  # pool alpha only: team-a
    web, batch = listed["web"], listed["batch"]
    said = "web: your token on the aggregator is a viewer's (read only); ask the team admin "
    assert portal.refusal(Action.STOP, web) == said + "for an operator's to stop"
    assert portal.refusal(Action.REBOOT, web) == said + "for an operator's to reboot"
    assert portal.refusal(Action.START, batch) == (
        "batch: your token on the aggregator is a viewer's (read only); ask the team admin "
        "for an operator's to start"
    )
    # The state says first when the action makes no sense anyway.
    assert portal.refusal(Action.START, web) == "web is already running"
    with pytest.raises(ActionNotAllowed):
        async for _ in portal.run_action(Action.STOP, web):
            pass
    # Even asked directly, the backend sends nothing the server did not offer.
    backend = AggregatorBackend(
        portal.account_config("team"), Secrets(account="team", secret="unused")
    )
    with pytest.raises(ActionNotAllowed) as caught:
        await backend.act(Action.STOP, web)
    assert str(caught.value) == "team: the aggregator offers no stop on web now"
    await backend.close()
    assert team.cloud_state("team-a", "web") == "running"
    # The direct account's own rows are not affected by the aggregator's roles.
    direct = rows(portal, "direct")["direct-web"]
    assert portal.refusal(Action.STOP, direct) is None


async def test_an_operator_stops_and_the_row_follows_to_stopped(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    portal = team_portal(portals, cloud, team, team.mint("olga", "operator", pool="alpha"))
    await refresh(portal)
    web = rows(portal, "team")["web"]
    assert sorted(web.extra["links"]) == ["poweroff", "reboot", "stop"]
    assert portal.refusal(Action.STOP, web) is None
    assert portal.refusal(Action.DESTROY, web) == (
        "the aggregator offers no destroy on web now to your role (operator)"
    )
    updates = [u async for u in portal.run_action(Action.STOP, web)]
    assert (updates[-1].phase, str(updates[-1].instance.state)) == ("done", "stopped")
    assert updates[-1].message == "web stopped"
    assert team.cloud_state("team-a", "web") == "stopped"
    await refresh(portal)
    stopped = rows(portal, "team")["web"]
    assert str(stopped.state) == "stopped"
    assert sorted(stopped.extra["links"]) == ["start"]
    # Offered no reboot now: the state says why, not the role (which could reboot it running).
    assert portal.refusal(Action.REBOOT, stopped) == "web is stopped; reboot needs it running"


async def test_an_operator_powers_off_through_the_aggregator(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    """The server links a poweroff on a row whose account has one (EC2: a forced stop),
    and the client relays it: no poweroff reached a served account before (no route, no
    link, and wm had no such action)."""
    portal = team_portal(portals, cloud, team, team.mint("olga", "operator", pool="alpha"))
    await refresh(portal)
    web = rows(portal, "team")["web"]
    assert portal.refusal(Action.POWEROFF, web) is None
    updates = [u async for u in portal.run_action(Action.POWEROFF, web)]
    assert (updates[-1].phase, updates[-1].message) == ("done", "web powered off")
    assert team.cloud_state("team-a", "web") == "stopped"
    await refresh(portal)
    stopped = rows(portal, "team")["web"]
    assert "poweroff" not in stopped.extra["links"]
    assert portal.refusal(Action.POWEROFF, stopped) == "web is already stopped"


async def test_the_aggregators_events_enter_the_local_log_once(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    portal = team_portal(portals, cloud, team, team.mint("olga", "operator", pool="alpha"))
    await refresh(portal)
    web = rows(portal, "team")["web"]
    async for _ in portal.run_action(Action.STOP, web):
        pass
    target = f"team-a/{team.ids['team-a', 'web']}"

    def theirs() -> list[tuple[str, str | None, str | None]]:
        found = portal.store.events(account="team", sources=[EventSource.NATIVE])
        return [(e.kind, e.user, e.outcome) for e in found if e.target == target]

    async def olga_stopped_web() -> bool:
        await refresh(portal)
        return ("stop", "olga", "ok") in theirs()

    await until("the aggregator's own record of olga's stop", olga_stopped_web)
    assert ("stop", "olga", "requested") in theirs()
    assert portal.native_events_error("team") is None
    native = portal.store.events(account="team", sources=[EventSource.NATIVE])
    assert all(e.key.startswith("aggregator:team:") for e in native)
    assert not [e for e in native if e.account != "team"]
    # A second wm on the same log reads the stream from its start: nothing twice.
    again = portals(*portal.config.accounts, name="wm")
    await refresh(again)
    native = again.store.events(account="team", sources=[EventSource.NATIVE])
    contents = [(e.at, e.kind, e.target, e.user, e.outcome, e.detail) for e in native]
    assert len(contents) == len(set(contents))
    assert ("stop", "olga", "ok") in theirs()


async def test_refused_tokens_say_why_and_what_to_do(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    monkeypatch = cloud.monkeypatch
    tokens = {
        "expired": team.expired("eve", "operator"),
        "revoked": team.mint("rob", "operator", revoked=True),
        "garbled": team.mint("gus", "operator")[:-3] + "xyz",
    }
    portal = portals(
        cloud.account("direct", region=DIRECT_REGION),
        *(aggregator_account(n, team.url, t, monkeypatch) for n, t in tokens.items()),
    )
    updates = await refresh(portal)
    assert updates["direct"].status.phase == "ok"
    where = team.url.removeprefix("http://")
    why = {
        "expired": "your token has expired",
        "revoked": "your token was revoked",
        "garbled": "it does not know your token (mistyped, or not one of its own)",
    }
    for name in tokens:
        # The account reads its token from secret_env (no keyring): the new one goes there;
        # `wm accounts set-secret` stores in a keyring this account never reads.
        var = "WM_AGG_" + name.upper()
        assert updates[name].status.error == (
            f"the aggregator at {where} refused the token: {why[name]}. Ask the team admin "
            f"for a new token and export it as {var} (the variable secret_env names)"
        )
        assert tokens[name] not in str(updates[name].status.error)


async def test_a_refused_token_from_token_env_says_to_export_the_new_one_there(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    """`wm ls` over an account whose token_env holds an expired token said to store the new
    one with `wm accounts set-secret`, which token_env, read first, would go on hiding."""
    cloud.monkeypatch.setenv("TEAM_TOKEN", team.expired("eve", "operator"))
    account = AccountConfig.model_validate(
        {
            "name": "team",
            "backend": "aggregator",
            "url": team.url,
            "credentials": Credentials(keyring=False, token_env="TEAM_TOKEN"),
        }
    )
    error = (await refresh(portals(account)))["team"].status.error or ""
    assert error.endswith(
        "your token has expired. Ask the team admin for a new token and export it as "
        "TEAM_TOKEN (the variable token_env names)"
    ), error
    assert "set-secret" not in error


async def test_a_rate_limited_token_is_told(
    moto: MotoServer, cloud: Cloud, portals: Portals, tmp_path: Path
) -> None:
    with two_pool_aggregator(moto, tmp_path / "slow", serve="rate = 0.05\nburst = 2") as team:
        portal = portals(aggregator_account("team", team.url, team.mint(), cloud.monkeypatch))
        updates = await refresh(portal)
    error = updates["team"].status.error or ""
    where = re.escape(team.url.removeprefix("http://"))
    assert re.fullmatch(
        rf"the aggregator at {where} is limiting this token's requests \(retry after \d+ s\); "
        "the next poll tries again",
        error,
    ), error


async def test_catalog_and_a_launch_followed_until_running(
    team: RunningAggregator, cloud: Cloud
) -> None:
    ec2 = team.ec2("team-a")
    image = ec2.create_image(InstanceId=team.ids["team-a", "web"], Name="golden-web")["ImageId"]
    account = aggregator_account("team", team.url, None, cloud.monkeypatch)
    token = team.mint("olga", "operator", pool="alpha")
    backend = AggregatorBackend(account, Secrets(account="team", secret=token))
    try:
        catalog = await backend.catalog()
        assert catalog.account == "team"
        golden = [i for i in catalog.items if i.name == "golden-web"]
        assert [(i.kind, i.id, i.account) for i in golden] == [
            ("deployable", f"alpha/team-a:image:{image}", "team")
        ]
        assert "team-a in pool alpha" in golden[0].description
        assert "t3.micro" in {s.id for s in catalog.sizes}
        assert not [i for i in catalog.items if "team-b" in i.description]  # not its pool
        ids = await backend.launch(
            LaunchRequest(item=golden[0].id, kind="deployable", name="new-web", size="t3.micro")
        )
        assert len(ids) == 1
        assert ids[0].startswith("team-a/i-")

        async def running() -> bool:
            row = await backend.get_instance(ids[0])
            assert row is not None, "the launched row vanished"
            return str(row.state) == "running"

        await until("the new instance running", running)
        witness = ec2.describe_instances(InstanceIds=[ids[0].split("/", 1)[1]])
        tags = witness["Reservations"][0]["Instances"][0].get("Tags", [])
        assert {"Key": "Name", "Value": "new-web"} in tags
    finally:
        await backend.close()


async def test_check_says_who_the_token_is(
    team: RunningAggregator, cloud: Cloud, portals: Portals
) -> None:
    portal = portals(
        aggregator_account(
            "team", team.url, team.mint("vera", "viewer", pool="alpha"), cloud.monkeypatch
        )
    )
    line = await portal.check("team")
    where = re.escape(team.url.removeprefix("http://"))
    assert re.fullmatch(
        rf"aggregator at {where} as vera \(viewer, alpha; token expires "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\): reachable, 2 instances, 0 deployments",
        line,
    ), line


async def test_a_launch_outside_the_tokens_pool_is_forbidden_and_says_so(
    team: RunningAggregator, cloud: Cloud
) -> None:
    account = aggregator_account("team", team.url, None, cloud.monkeypatch)
    token = team.mint("olga", "operator", pool="alpha")
    backend = AggregatorBackend(account, Secrets(account="team", secret=token))
    before = len(team.ec2("team-b").describe_instances()["Reservations"])
    try:
        with pytest.raises(Forbidden) as caught:
            await backend.launch(
                LaunchRequest(item="beta/team-b:image:ami-1e749f67", kind="deployable", name="x")
            )
    finally:
        await backend.close()
    where = team.url.removeprefix("http://")
    assert str(caught.value) == (
        f"team: the aggregator at {where} does not allow this to your token (this token is for "
        "pool 'alpha', not 'beta'); ask the team admin for a token with the role or pool it needs"
    )
    assert len(team.ec2("team-b").describe_instances()["Reservations"]) == before
