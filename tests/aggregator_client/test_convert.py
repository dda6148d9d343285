"""The aggregator's shapes as the portal's (pure functions, no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from winged_monkey.catalog import AccountCatalog, CatalogItem, Quota, Size
from winged_monkey.models import Event, EventSource, InstanceState
from winged_monkey.wire import CatalogOut, DeployableOut, Link, ResourceOut
from winged_monkey_aggregator import convert

AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_a_deployment_is_an_app_row_with_its_members_and_links() -> None:
    row = ResourceOut(
        id="stk-1",
        account="heat-lab",
        pool="lab",
        kind="app",
        name="shop",
        state=InstanceState.SUSPENDED,
        raw_state="SUSPEND_COMPLETE",
        provider="heat",
        members=3,
        href="/api/v1/deployments/heat-lab/stk-1",
        links={"start": Link(method="POST", href="/api/v1/deployments/heat-lab/stk-1/start")},
        extra={"kind": "not this one", "updated_at": "2026-01-02T03:04:00Z"},
    )
    app = convert.instance("team", row)
    assert (app.account, app.id, app.key) == ("team", "heat-lab/stk-1", "team/heat-lab/stk-1")
    assert (app.kind, app.members, app.where) == ("app", 3, "heat/heat-lab")
    assert app.extra["updated_at"] == "2026-01-02T03:04:00Z"  # the server's extra is kept
    assert convert.links(app) == row.links
    assert convert.split_id(app.id) == ("heat-lab", "stk-1")


def test_an_event_keeps_who_and_gets_a_local_key_and_target() -> None:
    remote = Event(
        key="action:team-a:i-1:stop:1767323040.000000",
        at=AT,
        source=EventSource.ACTION,
        kind="stop",
        account="team-a",
        target="i-1",
        target_name="web",
        outcome="ok",
        user="olga",
    )
    local = convert.event("team", remote)
    assert local.key == "aggregator:team:action:team-a:i-1:stop:1767323040.000000"
    assert (local.account, local.target, local.source) == ("team", "team-a/i-1", "native")
    assert (local.user, local.outcome, local.at, local.target_name) == ("olga", "ok", AT, "web")


def test_catalogs_merge_into_one_account_with_pool_scoped_ids() -> None:
    def account(name: str, used: int) -> AccountCatalog:
        return AccountCatalog(
            account=name,
            provider="ec2",
            sizes=(Size(id="t3.micro", name="t3.micro", price_hourly=0.0104),),
            quotas=(Quota(resource="instances", limit=20, used=used),),
        )

    image = CatalogItem(account="team-a", kind="image", id="ami-1", name="golden", provider="ec2")
    pools = [
        CatalogOut(
            id="alpha",
            pool="alpha",
            deployables=(DeployableOut(id="team-a:image:ami-1", item=image),),
            accounts=(account("team-a", 5),),
        ),
        # team-a again through a second pool: its quota counts once.
        CatalogOut(id="beta", pool="beta", accounts=(account("team-a", 5), account("team-b", 2))),
    ]
    merged = convert.catalog("team", pools)
    assert [(i.account, i.kind, i.id, i.name) for i in merged.items] == [
        ("team", "deployable", "alpha/team-a:image:ami-1", "golden")
    ]
    assert merged.items[0].description == "team-a in pool alpha"
    assert [s.id for s in merged.sizes] == ["t3.micro"]
    assert merged.quotas == (Quota(resource="instances", limit=40, used=7),)


def test_an_account_whose_catalog_the_server_could_not_read_is_a_note() -> None:
    """The server says which of a pool's accounts it has no catalog for and why (a cloud
    that has not answered yet, a refusal): `wm catalog` and the catalog view showed the
    pool's other items and not a word about the missing account's."""
    pools = [
        CatalogOut(
            id="alpha",
            pool="alpha",
            errors={"team-hung": "its cloud has not answered yet; ask again"},
        ),
        CatalogOut(id="beta", pool="beta"),
    ]
    merged = convert.catalog("team", pools)
    assert merged.notes == (
        "team-hung (pool alpha): no catalog: its cloud has not answered yet; ask again",
    )
