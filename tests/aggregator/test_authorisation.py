"""Who may do what: every endpoint x role x own/other pool x missing/expired/revoked/garbled
token, with the status each gets and, where nothing may change, moto's word that nothing did.

The tokens here are scoped to pool "alpha" (account team-a); team-b is the other pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.aggregator.server import KEY, RunningAggregator
from tests.conftest import wait_until

V1 = "/api/v1"
SEEDED = {"web": "running", "batch": "stopped"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {account}, {web}, {batch}, {pool} are filled in per pool
    body: dict[str, Any] | None = None

    def send(self, client: httpx.Client, agg: RunningAggregator, account: str) -> httpx.Response:
        pool = "alpha" if account == "team-a" else "beta"
        path = self.path.format(
            account=account,
            web=agg.ids[account, "web"],
            batch=agg.ids[account, "batch"],
            pool=pool,
        )
        body = None
        if self.body is not None and "deployable" in self.body:
            body = {**self.body, "deployable": self.body["deployable"].format(account=account)}
        elif self.body is not None:
            body = dict(self.body)
        return client.request(self.method, path, json=body)


READS = [
    Call("GET", f"{V1}/whoami"),
    Call("GET", f"{V1}/providers"),
    Call("GET", f"{V1}/provider-accounts"),
    Call("GET", f"{V1}/pools"),
    Call("GET", f"{V1}/catalogs"),
    Call("GET", f"{V1}/instances"),
    Call("GET", f"{V1}/deployments"),
    Call("GET", f"{V1}/events"),
    Call("GET", f"{V1}/instances/{{account}}/{{web}}"),
]
STOP = Call("POST", f"{V1}/instances/{{account}}/{{web}}/stop")
REBOOT = Call("POST", f"{V1}/instances/{{account}}/{{web}}/reboot")
START = Call("POST", f"{V1}/instances/{{account}}/{{batch}}/start")
DESTROY = Call("DELETE", f"{V1}/instances/{{account}}/{{web}}")
LAUNCH = Call(
    "POST",
    f"{V1}/pools/{{pool}}/launches",
    {"deployable": "{account}:image:ami-1e749f67", "name": "intruder", "size": "t3.micro"},
)
MUTATIONS = [STOP, REBOOT, START, DESTROY, LAUNCH]
TOKEN_ADMIN = [
    Call("GET", f"{V1}/tokens"),
    Call("POST", f"{V1}/tokens", {"user": "new", "role": "admin"}),
    Call("DELETE", f"{V1}/tokens/00000000"),
]


def assert_error(reply: httpx.Response, status: int, code: str | None = None) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


def assert_cloud_untouched(agg: RunningAggregator) -> None:
    """After at least one more poll of both accounts, moto saw no mutating call and every
    seeded instance is still as seeded (a refused request spawned nothing)."""
    wait_until(
        lambda: (
            {c.region for c in agg.moto.calls if c.action == "DescribeInstances"}
            >= {"us-east-1", "eu-west-1"}
        )
    )
    mutating = [c.action for c in agg.moto.calls if c.mutating and c.access_key == KEY]
    assert mutating == []
    for account in ("team-a", "team-b"):
        for name, state in SEEDED.items():
            assert agg.cloud_state(account, name) == state


def bad_tokens(agg: RunningAggregator) -> dict[str, tuple[dict[str, str], str]]:
    """Kind -> (headers, the error code the server must answer with)."""
    good = agg.mint("mallory", "admin")
    return {
        "none": ({}, "unauthorized"),
        "garbled": ({"Authorization": "Bearer wm_0000_not-a-token"}, "unauthorized"),
        "tampered": ({"Authorization": f"Bearer {good[:-2]}xx"}, "unauthorized"),
        "basic": ({"Authorization": f"Basic {good}"}, "unauthorized"),
        "expired": ({"Authorization": f"Bearer {agg.expired()}"}, "token_expired"),
        "revoked": (
            {"Authorization": f"Bearer {agg.mint('eve', 'admin', revoked=True)}"},
            "token_revoked",
        ),
    }


@pytest.mark.parametrize("kind", ["none", "garbled", "tampered", "basic", "expired", "revoked"])
def test_no_valid_token_gets_401_everywhere_and_changes_nothing(
    aggregator: RunningAggregator, kind: str
) -> None:
    headers, code = bad_tokens(aggregator)[kind]
    aggregator.moto.clear_calls()
    with httpx.Client(base_url=aggregator.url, headers=headers, trust_env=False) as client:
        for call in [*READS, *MUTATIONS, *TOKEN_ADMIN]:
            for account in ("team-a", "team-b"):
                reply = call.send(client, aggregator, account)
                assert_error(reply, 401, code)
                assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert_cloud_untouched(aggregator)


def test_the_openapi_document_needs_no_token(aggregator: RunningAggregator) -> None:
    with aggregator.client() as client:
        document = client.get(f"{V1}/openapi.json").json()
    assert "/api/v1/instances" in document["paths"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_reads_of_own_pool_only(aggregator: RunningAggregator, role: Any) -> None:
    token = aggregator.mint("rita", role, pool="alpha")
    with aggregator.client(token) as client:
        for call in READS:
            assert call.send(client, aggregator, "team-a").status_code == 200, call
        other_web = aggregator.ids["team-b", "web"]
        assert_error(client.get(f"{V1}/instances/team-b/{other_web}"), 403, "forbidden")
        assert_error(client.get(f"{V1}/instances", params={"pool": "beta"}), 403, "forbidden")
        assert_error(client.get(f"{V1}/events", params={"account": "team-b"}), 403)
        listed = client.get(f"{V1}/instances").json()
        assert {r["account"] for r in listed} == {"team-a"}
        assert [p["id"] for p in client.get(f"{V1}/pools").json()] == ["alpha"]
        accounts = client.get(f"{V1}/provider-accounts").json()
        assert [(a["id"], a["pool"], a["status"]["phase"]) for a in accounts] == [
            ("team-a", "alpha", "ok")
        ]
        assert [c["pool"] for c in client.get(f"{V1}/catalogs").json()] == ["alpha"]
        assert {e["account"] for e in client.get(f"{V1}/events").json()["events"]} <= {"team-a"}
        assert client.get(f"{V1}/whoami").json()["role"] == role


def test_an_unscoped_token_sees_every_pool(aggregator: RunningAggregator) -> None:
    with aggregator.client(aggregator.mint("una", "viewer")) as client:
        listed = client.get(f"{V1}/instances").json()
        pools = [p["id"] for p in client.get(f"{V1}/pools").json()]
    assert {(r["account"], r["pool"]) for r in listed} == {("team-a", "alpha"), ("team-b", "beta")}
    assert pools == ["alpha", "beta"]


#: (role, own pool?) -> the mutations refused with 403 (everything else is allowed).
DENIED = [
    ("viewer", "team-a", MUTATIONS),
    ("operator", "team-a", [DESTROY]),
    ("viewer", "team-b", MUTATIONS),
    ("operator", "team-b", MUTATIONS),
    ("admin", "team-b", MUTATIONS),
]


@pytest.mark.parametrize(
    ("role", "account", "call"),
    [(role, account, call) for role, account, calls in DENIED for call in calls],
    ids=lambda v: v.method + v.path.rsplit("/", 1)[-1] if isinstance(v, Call) else str(v),
)
def test_refused_mutations_change_nothing(
    aggregator: RunningAggregator, role: Any, account: str, call: Call
) -> None:
    token = aggregator.mint("rob", role, pool="alpha")
    aggregator.moto.clear_calls()
    with aggregator.client(token) as client:
        assert_error(call.send(client, aggregator, account), 403, "forbidden")
    assert_cloud_untouched(aggregator)


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_links_offer_what_role_and_state_allow(aggregator: RunningAggregator, role: Any) -> None:
    token = aggregator.mint("lin", role, pool="alpha")
    with aggregator.client(token) as client:
        rows = {r["name"]: r for r in client.get(f"{V1}/instances").json()}
    expected = {
        "viewer": ({}, {}),
        "operator": ({"stop", "reboot", "poweroff"}, {"start"}),
        "admin": ({"stop", "reboot", "poweroff", "destroy"}, {"start", "destroy"}),
    }[role]
    assert set(rows["web"]["links"]) == set(expected[0])
    assert set(rows["batch"]["links"]) == set(expected[1])
    if role == "admin":
        assert rows["web"]["links"]["destroy"] == {"method": "DELETE", "href": rows["web"]["href"]}


def test_an_action_the_state_refuses_is_409(aggregator: RunningAggregator) -> None:
    token = aggregator.mint("otto409", "operator", pool="alpha")
    aggregator.moto.clear_calls()
    with aggregator.client(token) as client:
        batch = aggregator.ids["team-a", "batch"]
        reply = client.post(f"{V1}/instances/team-a/{batch}/stop")
        assert_error(reply, 409, "conflict")
        assert "already stopped" in reply.json()["error"]["message"]
        page = client.get(f"{V1}/events", params={"target": batch}).json()
    # The attempt is in the log, with who made it and why it was refused.
    mine = [e for e in page["events"] if e["user"] == "otto409"]
    assert [(e["kind"], e["outcome"]) for e in mine] == [("stop", "refused")]
    assert "already stopped" in mine[0]["detail"]
    assert_cloud_untouched(aggregator)


def test_a_revoked_token_stops_working_at_once(aggregator: RunningAggregator) -> None:
    from winged_monkey.serve.tokens import TokenStore

    token = aggregator.mint("tess", "viewer")
    with aggregator.client(token) as client:
        assert client.get(f"{V1}/whoami").status_code == 200
        store = TokenStore(aggregator.tokens_path)
        try:
            (record,) = [r for r in store.list() if r.user == "tess"]
            assert store.revoke(record.id)
        finally:
            store.close()
        assert_error(client.get(f"{V1}/whoami"), 401, "token_revoked")
