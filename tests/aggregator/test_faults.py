"""A dead cloud account, a flood of requests, bad requests: the server says why, in its
one error shape, keeps serving the others, and never lets a credential out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.aggregator.server import (
    KEY,
    SECRET,
    RunningAggregator,
    account_toml,
    two_pool_aggregator,
)
from tests.processes import free_port
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import Event, EventSource
from winged_monkey.store.sqlite import Store

V1 = "/api/v1"


@pytest.fixture(scope="module")
def with_dead_account(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningAggregator]:
    """The two accounts plus "team-c" in pool "gamma", whose endpoint nothing listens on,
    and "team-d" whose secret is in no variable."""
    dead = account_toml("team-c", "us-west-2", "gamma", free_port())
    nosecret = account_toml("team-d", "us-west-2", "gamma", moto_server.port).replace(
        "WM_AGG_TEST_SECRET", "WM_AGG_TEST_NO_SUCH_VARIABLE"
    )
    workdir = tmp_path_factory.mktemp("faults")
    with two_pool_aggregator(
        moto_server, workdir, serve="rate = 1000\nburst = 1000", accounts=dead + nosecret
    ) as running:
        yield running


def test_a_dead_account_shows_why_and_the_others_still_answer(
    with_dead_account: RunningAggregator,
) -> None:
    agg = with_dead_account
    with agg.client(agg.mint("ada", "admin")) as client:
        accounts = {a["id"]: a for a in client.get(f"{V1}/provider-accounts").json()}
        assert accounts["team-a"]["status"]["phase"] == "ok"
        assert accounts["team-b"]["status"]["phase"] == "ok"
        assert accounts["team-c"]["status"]["phase"] == "failed"
        assert accounts["team-c"]["status"]["error"]
        assert accounts["team-d"]["status"]["phase"] == "failed"
        assert "WM_AGG_TEST_NO_SUCH_VARIABLE" in accounts["team-d"]["status"]["error"]
        listed = client.get(f"{V1}/instances").json()
        assert {r["account"] for r in listed} == {"team-a", "team-b"}
        assert client.get(f"{V1}/instances", params={"pool": "gamma"}).status_code == 503
        catalogs = {c["pool"]: c for c in client.get(f"{V1}/catalogs").json()}
        assert set(catalogs["gamma"]["errors"]) == {"team-c", "team-d"}
        assert catalogs["alpha"]["errors"] == {}


def test_a_listing_of_accounts_never_listed_says_unknown_not_none(
    with_dead_account: RunningAggregator,
) -> None:
    """A status line's `curl '.../instances?account=team-c' | jq length` read 0 machines on
    an account the server has never reached; it is told the rows are unknown, and why."""
    agg = with_dead_account
    with agg.client(agg.mint("ada", "viewer")) as client:
        one = client.get(f"{V1}/instances", params={"account": "team-c"})
        pool = client.get(f"{V1}/deployments", params={"pool": "gamma"})
        known = client.get(f"{V1}/instances", params={"account": "team-a"})
        everything = client.get(f"{V1}/instances")
    assert one.status_code == 503, one.text
    assert one.headers["Retry-After"] == "1"
    error = one.json()["error"]
    assert error["code"] == "not_listed"
    assert error["message"].startswith(
        "the instances of team-c are unknown, not none: the aggregator cannot list team-c: "
        "cannot reach 127.0.0.1:"
    )
    assert error["message"].endswith(
        "ask again later (/api/v1/provider-accounts says when each account was last listed)"
    )
    assert pool.status_code == 503
    message = pool.json()["error"]["message"]
    assert message.startswith("the deployments of pool gamma are unknown, not none: ")
    assert "cannot list team-d: " in message
    assert "WM_AGG_TEST_NO_SUCH_VARIABLE" in message
    assert known.status_code == 200
    assert len(known.json()) == 2
    assert everything.status_code == 200
    assert len(everything.json()) == 4


def test_a_whole_listing_names_the_accounts_whose_rows_it_lacks(
    with_dead_account: RunningAggregator,
) -> None:
    """`curl .../instances | jq length` in a status line read 4 machines, nothing saying
    that team-c and team-d, never listed, may hold 40: the listing names them in a header,
    and `?complete=true` asks for every account's rows or a 503 that says why."""
    agg = with_dead_account
    with agg.client(agg.mint("ada", "viewer")) as client:
        everything = client.get(f"{V1}/instances")
        apps = client.get(f"{V1}/deployments")
        revalidated = client.get(
            f"{V1}/instances", headers={"If-None-Match": everything.headers["ETag"]}
        )
        head = client.head(f"{V1}/instances")
        known = client.get(f"{V1}/instances", params={"pool": "alpha"})
        complete = client.get(f"{V1}/instances", params={"complete": "true"})
        complete_known = client.get(f"{V1}/instances", params={"pool": "alpha", "complete": "1"})
    assert everything.status_code == 200
    assert len(everything.json()) == 4  # the body stays the known rows (existing clients)
    assert everything.headers["X-WM-Not-Listed"] == "team-c, team-d"
    assert "X-WM-Stale" not in everything.headers
    assert apps.headers["X-WM-Not-Listed"] == "team-c, team-d"
    assert revalidated.status_code == 304
    assert revalidated.headers["X-WM-Not-Listed"] == "team-c, team-d"
    assert head.headers["X-WM-Not-Listed"] == "team-c, team-d"  # curl -I says it too
    assert known.status_code == 200
    assert "X-WM-Not-Listed" not in known.headers
    assert complete.status_code == 503, complete.text
    assert complete.headers["Retry-After"] == "1"
    error = complete.json()["error"]
    assert error["code"] == "not_listed"
    assert error["message"].startswith(
        "the instances of team-c, team-d are unknown, not none: the aggregator cannot list team-c: "
    )
    assert "cannot list team-d: " in error["message"]
    assert complete_known.status_code == 200
    assert len(complete_known.json()) == 2


def test_no_response_carries_a_cloud_credential(with_dead_account: RunningAggregator) -> None:
    agg = with_dead_account
    paths = [
        "whoami",
        "providers",
        "provider-accounts",
        "pools",
        "catalogs",
        "instances",
        "deployments",
        "events",
        "openapi.json",
        f"instances/team-a/{agg.ids['team-a', 'web']}",
    ]
    with agg.client(agg.mint("ada", "admin")) as client:
        for path in paths:
            reply = client.get(f"{V1}/{path}")
            assert reply.status_code == 200, path
            assert SECRET not in reply.text, path
            assert KEY not in reply.text, path


def test_requests_past_the_rate_are_429_per_token(moto_server: MotoServer, tmp_path: Path) -> None:
    with two_pool_aggregator(moto_server, tmp_path / "agg", serve="rate = 0.01\nburst = 3") as agg:
        busy, calm = agg.mint("busy"), agg.mint("calm")
        with agg.client(busy) as client:
            statuses = [client.get(f"{V1}/whoami").status_code for _ in range(4)]
            limited = client.get(f"{V1}/whoami")
        assert statuses == [200, 200, 200, 429]
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        with agg.client(calm) as client:
            assert client.get(f"{V1}/whoami").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/nowhere", None, 404, "not_found"),
        ("GET", f"{V1}/instances/team-a/i-000000000000", None, 404, "not_found"),
        ("GET", f"{V1}/instances/team-z/i-1", None, 404, "not_found"),
        ("PUT", f"{V1}/instances", None, 405, "method_not_allowed"),
        ("POST", f"{V1}/instances/team-a/i-1/explode", None, 422, "invalid"),
        ("GET", f"{V1}/events?limit=0", None, 422, "invalid"),
        ("POST", f"{V1}/pools/alpha/launches", b"{not json", 422, "invalid"),
        ("POST", f"{V1}/pools/alpha/launches", {"name": "x"}, 422, "invalid"),
        (
            "POST",
            f"{V1}/pools/nowhere/launches",
            {"deployable": "a:image:b", "name": "x"},
            404,
            None,
        ),
        ("POST", f"{V1}/pools/alpha/launches", {"deployable": "garbage", "name": "x"}, 404, None),
    ],
)
def test_bad_requests_get_the_one_error_shape(
    aggregator: RunningAggregator,
    method: str,
    path: str,
    body: object,
    status: int,
    code: str,
) -> None:
    with aggregator.client(aggregator.mint("bob", "admin")) as client:
        if isinstance(body, bytes):
            reply = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
        else:
            reply = client.request(method, path, json=body)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code


def test_events_page_by_seq_within_the_token_pools(aggregator: RunningAggregator) -> None:
    """Events written to the server's log come back oldest first, a page at a time, only
    those of the token's pools, filtered by target and time."""
    at = datetime(2030, 1, 1, tzinfo=UTC)
    made = [
        Event(
            key=f"test:{n}",
            at=at + timedelta(minutes=n),
            source=EventSource.NATIVE,
            kind="note",
            account="team-a" if n != 2 else "team-b",
            target=f"t{n % 2}",
        )
        for n in range(5)
    ]
    store = Store.open(aggregator.store_path)
    try:
        start = store.last_seq()
        store.append_events(made)
    finally:
        store.close()
    with aggregator.client(aggregator.mint("eva", "viewer", pool="alpha")) as client:

        def page(**params: str | int) -> dict[str, Any]:
            reply = client.get(f"{V1}/events", params={"after": start, **params})
            assert reply.status_code == 200, reply.text
            result: dict[str, Any] = reply.json()
            return result

        first = page(limit=2)
        second = page(limit=2, after=first["next"])
        rest = page(after=second["next"])
        keys = [e["key"] for p in (first, second, rest) for e in p["events"]]
        assert keys == ["test:0", "test:1", "test:3", "test:4"]  # test:2 is team-b's
        assert page(after=rest["next"]) == {"events": [], "next": rest["next"]}
        assert [e["key"] for e in page(target="t1")["events"]] == ["test:1", "test:3"]
        since = (at + timedelta(minutes=3)).isoformat()
        assert [e["key"] for e in page(since=since)["events"]] == ["test:3", "test:4"]
        until = (at + timedelta(minutes=1)).isoformat()
        assert [e["key"] for e in page(until=until)["events"]] == ["test:0"]
