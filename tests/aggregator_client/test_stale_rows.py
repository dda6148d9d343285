"""A `wm serve` account that stops answering keeps its last rows on the server; a client must
not take them as seen now. Real `wm serve` over moto, one account behind the fault proxy:
the server marks those rows stale with when they were listed, the client dims them and says
why, its strip counts them, and `wm ls` (live or --cached) says so and exits 1; the other
account stays current."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.aggregator.server import (
    FLAKY,
    AggregatorProcess,
    Role,
    RunningAggregator,
    account_toml,
    flaky_aggregator,
    server_env,
    two_pool_aggregator,
)
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.aggregator_client.test_cli import wm
from tests.conftest import wait_until
from tests.faultproxy import PASS, Fault, FaultProxy
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import Event, EventSource, InstanceState


@pytest.fixture
def flaky(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    proxy = fault_proxy(moto_server.port)
    with flaky_aggregator(moto_server, tmp_path / "agg", proxy) as running:
        yield running, proxy


def _rows(client: httpx.Client) -> list[dict[str, object]]:
    reply = client.get("/api/v1/instances")
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, object]] = reply.json()
    return rows


def assert_last_seen(table: str, failing: str, *, cached: bool = False) -> None:
    """The rows of `failing` in `wm ls`'s table read `◌ last seen STATE N ago`; the
    others' states are current ones (`▶ running`), but in a cached table, where none is."""
    lines = table.split("\n\n")[0].splitlines()[1:]
    theirs = [line for line in lines if f"team/{failing}" in line.split()]
    others = [line for line in lines if line not in theirs]
    assert len(theirs) == 2, table
    assert others, table
    for line in theirs:
        assert re.match(r"◌ last seen (running|stopped) \d+[smhdw] ago  ", line), table
    for line in others:
        if cached:
            assert line.startswith("◌ last seen "), table
            continue
        assert not line.startswith("◌"), table
        assert "last seen" not in line, table


def _phase(client: httpx.Client, account: str) -> object:
    accounts = {a["id"]: a for a in client.get("/api/v1/provider-accounts").json()}
    return accounts[account]["status"]["phase"]


async def test_rows_of_a_failing_server_account_are_told_as_last_seen(
    flaky: tuple[RunningAggregator, FaultProxy],
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    agg, proxy = flaky
    token = agg.mint("vera", "viewer")
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: {r["account"] for r in _rows(admin)} >= {FLAKY}, timeout=20)
        assert all(r["stale"] is None for r in _rows(admin))  # every account answered
        proxy.fault = Fault("status", status=503)  # the cloud behind team-flaky fails now
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
        rows = _rows(admin)

    # The server keeps the last rows, marked with why and since when.
    flaky_rows = [r for r in rows if r["account"] == FLAKY]
    assert {r["name"] for r in flaky_rows} == {"web", "batch"}
    for row in flaky_rows:
        assert row["stale"], row
        assert row["observed_at"], row
    assert all(r["stale"] is None for r in rows if r["account"] != FLAKY)

    # The client: the rows as last seen, with the reason; the others current.
    portal = portals(aggregator_account("team", agg.url, token, monkeypatch))
    update = (await refresh(portal))["team"]
    assert update.status.phase == "ok"
    assert update.status.stale == 2
    listed = {(i.id.split("/")[0], i.name): i for i in portal.instances()}
    web = listed[FLAKY, "web"]
    assert web.state is InstanceState.RUNNING  # the state last seen, not a guess
    assert web.stale is not None
    assert web.stale.startswith(f"the aggregator cannot list {FLAKY}: ")
    assert "as last listed" in web.stale
    assert listed["team-a", "web"].stale is None

    # `wm ls`: the rows, a line on stderr per account and reason, and exit 1.
    result = await asyncio.to_thread(wm, tmp_path, agg.url, token, "ls")  # it runs its own loop
    assert result.exit_code == 1, result.output
    said = f"wm: team: 2 rows are as last seen, not now: the aggregator cannot list {FLAKY}"
    assert said in result.stderr
    # On stdout alone (a pipe, a watch pane) those rows read as last seen, with the age of
    # the server's observation, never as current; team-a's read as they are now.
    assert_last_seen(result.stdout, FLAKY)
    # `wm ls --cached` (a status line's source): the same rows from the store, the same words.
    cached = await asyncio.to_thread(wm, tmp_path, agg.url, token, "ls", "--cached", "--json")
    assert cached.exit_code == 1, cached.output
    assert said in cached.stderr
    for row in json.loads(cached.stdout)["instances"]:  # when each was observed, if stale
        assert (row["observed_at"] is not None) == (row["source_account"] == FLAKY), row
    table = await asyncio.to_thread(wm, tmp_path, agg.url, token, "ls", "--cached")
    assert_last_seen(table.stdout, FLAKY, cached=True)
    # The account's age says its oldest row too, and how many are as last seen.
    (ages,) = [line for line in table.stdout.split("\n\n")[1].splitlines() if "team" in line]
    assert re.search(r"; oldest row \d+[smhdw]  +\d+ \(2 as last seen\)$", ages), ages

    # The account answers again: its rows are current again, on the server and the client.
    proxy.fault = PASS
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "ok", timeout=20)
    update = (await refresh(portal))["team"]
    assert update.status.stale == 0
    assert all(i.stale is None for i in portal.instances())


async def test_a_stop_on_an_account_the_server_cannot_list_ends_unknown(
    flaky: tuple[RunningAggregator, FaultProxy],
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server keeps answering with the row as last listed (running): that is not the
    instance seen, so the follow ends as unknown, saying why, not 'still running' after the
    whole action timeout."""
    from winged_monkey.actions import Action

    agg, proxy = flaky
    portal = portals(aggregator_account("team", agg.url, agg.mint("olga", "operator"), monkeypatch))
    await refresh(portal)
    web = next(i for i in portal.instances() if i.id.startswith(f"{FLAKY}/") and i.name == "web")
    proxy.fault = Fault("hang")  # the cloud behind team-flaky stops answering
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
    await refresh(portal)
    updates = [u async for u in portal.run_action(Action.STOP, portal.instance(web.key) or web)]

    last = updates[-1]
    assert last.phase == "unknown", [(u.phase, u.message) for u in updates]
    assert f"the aggregator cannot list {FLAKY}" in last.message
    assert "the cloud may have acted" in last.message
    assert not any(u.phase == "progress" for u in updates)  # no state reported as seen


@pytest.fixture
def never_listed(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[RunningAggregator]:
    """The server's FLAKY account fails from its first poll: the server has no rows of it."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("status", status=503)
    toml = account_toml(FLAKY, "us-east-1", "gamma", proxy.port).replace(
        "timeout = 10", "timeout = 3"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=toml
    ) as running:
        yield running


async def test_an_account_the_server_never_listed_is_said_not_left_out_in_silence(
    never_listed: RunningAggregator,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    agg = never_listed
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
        assert not [r for r in _rows(admin) if r["account"] == FLAKY]
    token = agg.mint("vera", "viewer")

    portal = portals(aggregator_account("team", agg.url, token, monkeypatch))
    status = (await refresh(portal))["team"].status
    assert status.phase == "ok"  # the server's other accounts listed
    (said,) = (u.line for u in status.unlisted)
    assert said.startswith(f"the aggregator cannot list {FLAKY}: "), said

    result = await asyncio.to_thread(wm, tmp_path, agg.url, token, "ls")
    assert result.exit_code == 1, result.output  # a script must not take it as all there is
    assert f"wm: team: not listed: the aggregator cannot list {FLAKY}: " in result.stderr
    assert "web" in result.stdout  # team-a's rows all the same


async def test_rows_a_restarted_server_holds_none_of_are_kept_as_last_seen_not_vanished(
    moto_server: MotoServer,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The client listed FLAKY's rows through one server; a new server (a restart without
    its cache, a new replica) cannot list FLAKY and holds no rows of it. The client logged
    each row `vanished`, and settled a destroy whose answer was lost as done."""
    toml = account_toml(FLAKY, "us-east-1", "gamma", moto_server.port)
    with two_pool_aggregator(
        moto_server, tmp_path / "one", serve="rate = 1000\nburst = 1000", accounts=toml
    ) as first:
        with first.client(first.mint("ada", "admin")) as admin:
            wait_until(lambda: any(r["account"] == FLAKY for r in _rows(admin)), timeout=20)
        portal = portals(aggregator_account("team", first.url, first.mint("ada"), monkeypatch))
        listed = (await refresh(portal))["team"].instances or ()
        seen = {i.name for i in listed if i.source_account == FLAKY}
        assert seen == {"web", "batch"}, listed
        # A stop of FLAKY's web an hour ago whose answer never came, its intent left open.
        web = next(i for i in listed if i.source_account == FLAKY and i.name == "web")
        asked = datetime.now(UTC) - timedelta(hours=1)
        intent = Event(
            key=f"action:team:{web.id}:stop:{asked.timestamp():.6f}",
            at=asked,
            source=EventSource.ACTION,
            kind="stop",
            account="team",
            target=web.id,
            target_name="web",
            old_state=str(web.state),
            outcome="requested",
        )
        portal.store.append_events([intent])

    refused = toml.replace("images = ", "imagse = ")  # the new server refuses its table
    with two_pool_aggregator(
        moto_server, tmp_path / "two", serve="rate = 1000\nburst = 1000", accounts=refused
    ) as second:
        portal = portals(aggregator_account("team", second.url, second.mint("ada"), monkeypatch))
        update = (await refresh(portal))["team"]

    kept = [i for i in update.instances or () if i.source_account == FLAKY]
    assert {i.name for i in kept} == seen
    for row in kept:
        assert (row.stale or "").startswith(
            f"the aggregator cannot list {FLAKY}: the server's config refuses"
        ), row.stale
        assert (row.stale or "").endswith("(as last listed here)")
    # (moto is seeded anew for the second server: team-a's and team-b's rows did change)
    gone = [e for e in update.events if e.kind == "vanished"]
    assert not [e for e in gone if e.target.startswith(f"{FLAKY}/")], gone
    assert update.status.unlisted == ()  # said on each row instead
    # Not settled by a row nobody saw now: before, "failed: observed running" an hour on.
    assert [e.key for e in portal.store.open_intents("team")] == [intent.key]
    assert update.status.stale == len(kept)


@contextmanager
def relaying(
    upstream: RunningAggregator, workdir: Path, name: str = "upstream", role: Role = "viewer"
) -> Iterator[RunningAggregator]:
    """A second `wm serve` whose one account, `name` (pool "relay"), is the aggregator
    `upstream`, as `role` there."""
    workdir.mkdir(parents=True)
    config = workdir / "config.toml"
    config.write_text(
        f'[serve]\npoll_interval = 0.5\ntokens = "{workdir / "tokens.sqlite3"}"\n'
        "rate = 1000\nburst = 1000\n\n"
        f'[[accounts]]\nname = "{name}"\nbackend = "aggregator"\npool = "relay"\n'
        f'url = "{upstream.url}"\n'
        'credentials = { keyring = false, secret_env = "WM_UPSTREAM_TOKEN" }\n',
        encoding="utf-8",
    )
    env = server_env(workdir, {"WM_UPSTREAM_TOKEN": upstream.mint("relay", role)})
    with AggregatorProcess(workdir, config, env) as process:
        yield RunningAggregator(process, workdir / "tokens.sqlite3", upstream.moto)


def test_a_relayed_row_kept_as_last_seen_says_when_its_source_listed_it(
    flaky: tuple[RunningAggregator, FaultProxy], tmp_path: Path
) -> None:
    """A server relaying another's row kept as last seen serves that row's own observation
    time, not its own listing's: the state is as of then, however often it relays it; and
    which of its server's accounts could not be listed (`stale_account`), with that
    server's words, so a client of it says them once: it said "cannot list upstream: the
    aggregator cannot list team-flaky: ... (as last listed ...) (as last listed ...)"."""
    agg, proxy = flaky
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: {r["account"] for r in _rows(admin)} >= {FLAKY}, timeout=20)
        proxy.fault = Fault("status", status=503)  # the cloud behind team-flaky fails now
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
        source = {r["id"]: r for r in _rows(admin) if r["account"] == FLAKY}
        theirs = {a["id"]: a for a in admin.get("/api/v1/provider-accounts").json()}[FLAKY]

    with relaying(agg, tmp_path / "relay") as relay, relay.client(relay.mint("vera")) as client:
        wait_until(lambda: _phase(client, "upstream") == "ok", timeout=20)
        accounts = {a["id"]: a for a in client.get("/api/v1/provider-accounts").json()}
        listing = client.get("/api/v1/instances")
        rows = [r for r in listing.json() if str(r["id"]).startswith(f"{FLAKY}/")]
        narrowed = client.get("/api/v1/instances", params={"account": f"upstream/{FLAKY}"})
        listed = wm(tmp_path, relay.url, relay.mint("wendy"), "ls")

    relayed = str(accounts["upstream"]["status"]["fetched_at"])
    assert {str(r["id"]).partition("/")[2] for r in rows} == set(source)
    for row in rows:
        kept = source[str(row["id"]).partition("/")[2]]
        assert (row["stale"], row["stale_account"]) == (kept["stale"], FLAKY), (row, kept)
        assert _when(row["observed_at"]) == _when(kept["observed_at"]), (row, kept)
        assert _when(row["observed_at"]) < _when(relayed), (row, relayed)
    # Named as a direct account whose rows are as last seen is: neither the header nor the
    # accounts said it, so a script counted these rows as current.
    assert listing.headers["X-WM-Stale"] == f"upstream/{FLAKY}"
    assert "X-WM-Not-Listed" not in listing.headers
    # The id /provider-accounts lists, as a filter: its rows, said as last seen.
    assert narrowed.status_code == 200, narrowed.text
    assert sorted(r["id"] for r in narrowed.json()) == sorted(r["id"] for r in rows)
    assert narrowed.headers["X-WM-Stale"] == f"upstream/{FLAKY}"
    assert sorted(accounts) == ["upstream", f"upstream/{FLAKY}"]
    status = accounts[f"upstream/{FLAKY}"]["status"]
    assert (accounts[f"upstream/{FLAKY}"]["pool"], status["phase"]) == ("relay", "stale")
    assert status["error"] == theirs["status"]["error"], status  # its server's words
    oldest = min(_when(r["observed_at"]) for r in rows)
    assert _when(status["fetched_at"]) == oldest, status
    # What its server says of it: it had no region and no quota.
    relayed_account = accounts[f"upstream/{FLAKY}"]
    assert relayed_account["region"] == theirs["region"] == "us-east-1", relayed_account
    assert relayed_account["quotas"] == theirs["quotas"], (relayed_account, theirs)
    # `wm ls` over the relay: whose rows, and why, said once.
    assert listed.exit_code == 1, listed.output
    (said,) = [line for line in listed.stderr.splitlines() if "as last seen, not now" in line]
    assert said.startswith(
        "wm: team: 2 rows are as last seen, not now: the aggregator cannot list "
        f"upstream/{FLAKY}: {theirs['status']['error']} (as last listed "
    ), said
    assert said.count("the aggregator cannot list") == 1, said
    assert said.count("as last listed") == 1, said


def test_a_row_kept_as_last_seen_reads_once_through_three_servers(
    flaky: tuple[RunningAggregator, FaultProxy], tmp_path: Path
) -> None:
    """agg (FLAKY failing) <- relay ("upstream") <- outer ("mid") <- wm: each server names
    the account its rows are about one level further down, in the first one's words, and
    `wm ls` says them once: 'cannot list mid/upstream/team-flaky: EC2 ... (as last
    listed ...)'."""
    agg, proxy = flaky
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: {r["account"] for r in _rows(admin)} >= {FLAKY}, timeout=20)
        proxy.fault = Fault("status", status=503)  # the cloud behind team-flaky fails now
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
        theirs = {a["id"]: a for a in admin.get("/api/v1/provider-accounts").json()}[FLAKY]

    with (
        relaying(agg, tmp_path / "relay") as relay,
        relaying(relay, tmp_path / "outer", "mid") as outer,
        outer.client(outer.mint("vera")) as client,
    ):
        mine = f"upstream/{FLAKY}/"
        wait_until(lambda: any(str(r["id"]).startswith(mine) for r in _rows(client)), timeout=30)
        accounts = {a["id"]: a for a in client.get("/api/v1/provider-accounts").json()}
        listing = client.get("/api/v1/instances")
        listed = wm(tmp_path, outer.url, outer.mint("wendy"), "ls")

    behind = f"upstream/{FLAKY}"
    rows = [r for r in listing.json() if str(r["id"]).startswith(f"{behind}/")]
    assert len(rows) == 2, listing.json()
    for row in rows:
        assert (row["account"], row["stale_account"]) == ("mid", behind), row
        assert row["stale"] == theirs["status"]["error"], row
    assert listing.headers["X-WM-Stale"] == f"mid/{behind}"
    relayed = accounts[f"mid/{behind}"]
    assert (relayed["status"]["phase"], relayed["region"]) == ("stale", "us-east-1"), relayed
    assert relayed["status"]["error"] == theirs["status"]["error"], relayed
    assert relayed["quotas"] == theirs["quotas"], relayed
    assert listed.exit_code == 1, listed.output
    (said,) = [line for line in listed.stderr.splitlines() if "as last seen, not now" in line]
    assert said.startswith(
        "wm: team: 2 rows are as last seen, not now: the aggregator cannot list "
        f"mid/{behind}: {theirs['status']['error']} (as last listed "
    ), said
    assert said.count("the aggregator cannot list") == 1, said
    assert said.count("as last listed") == 1, said


def _when(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


def test_a_relay_names_the_accounts_its_upstream_cannot_list(
    never_listed: RunningAggregator, tmp_path: Path
) -> None:
    """A server whose account is another server relays the accounts that one lacks, in
    X-WM-Not-Listed: its listing read as all there is (no header), and ?complete=true
    answered 200 without FLAKY's rows."""
    agg = never_listed
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
    with relaying(agg, tmp_path / "relay") as relay, relay.client(relay.mint("vera")) as client:
        wait_until(lambda: _phase(client, "upstream") == "ok", timeout=20)
        for params in ({}, {"account": "upstream"}, {"pool": "relay"}):
            reply = client.get("/api/v1/instances", params=params)
            assert reply.status_code == 200, (params, reply.text)
            assert reply.headers["X-WM-Not-Listed"] == f"upstream/{FLAKY}", params
            assert {str(r["id"]).partition("/")[0] for r in reply.json()} == {
                "team-a",
                "team-b",
            }
        whole = client.get("/api/v1/instances", params={"complete": "true"})
    assert whole.status_code == 503, whole.text
    error = whole.json()["error"]
    assert error["code"] == "not_listed"
    assert error["message"].startswith(
        f"the instances of upstream/{FLAKY} are unknown, not none: upstream: the aggregator "
        f"cannot list {FLAKY}: "
    ), error["message"]


def test_a_client_of_a_relay_says_the_accounts_its_upstream_cannot_list(
    never_listed: RunningAggregator, tmp_path: Path
) -> None:
    """The relay's accounts named only `upstream` (ok), so `wm ls` through it printed the
    upstream's other rows and exited 0, as if FLAKY had nothing on it. Now the relay names
    upstream/FLAKY among its accounts, failed with why, and `wm` says it is not listed."""
    agg = never_listed
    with agg.client(agg.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
        source = {a["id"]: a for a in admin.get("/api/v1/provider-accounts").json()}[FLAKY]
    with relaying(agg, tmp_path / "relay") as relay:
        token = relay.mint("vera")
        with relay.client(token) as client:
            wait_until(lambda: _phase(client, "upstream") == "ok", timeout=20)
            accounts = {a["id"]: a for a in client.get("/api/v1/provider-accounts").json()}
            # A script walking those ids into ?account= gets what a direct account's gives.
            narrowed = client.get("/api/v1/instances", params={"account": f"upstream/{FLAKY}"})
            team_a = client.get("/api/v1/instances", params={"account": "upstream/team-a"})
            nobody = client.get("/api/v1/instances", params={"account": "upstream/team-z"})
        listed = wm(tmp_path, relay.url, token, "ls")
        cached = wm(tmp_path, relay.url, token, "ls", "--cached")
    assert sorted(accounts) == ["upstream", f"upstream/{FLAKY}"]
    relayed = accounts[f"upstream/{FLAKY}"]
    assert (relayed["pool"], relayed["status"]["phase"]) == ("relay", "failed")
    # Its server's words as they were said to the relay, not the relay's about them; and
    # where it is, as its server says (the entry had no region).
    assert relayed["status"]["error"] == source["status"]["error"]
    assert (relayed["region"], relayed["quotas"]) == (source["region"], source["quotas"])
    assert relayed["region"] == "us-east-1"

    # ?account=upstream/FLAKY: unknown, not none, as a direct account that failed (a 404
    # said to ask for account=upstream, of an id /provider-accounts had just listed).
    assert narrowed.status_code == 503, narrowed.text
    assert narrowed.json()["error"]["message"].startswith(
        f"the instances of upstream/{FLAKY} are unknown, not none: upstream: the aggregator "
        f"cannot list {FLAKY}: "
    ), narrowed.text
    assert team_a.status_code == 200, team_a.text  # the rows of one account behind it
    assert {str(r["id"]).partition("/")[0] for r in team_a.json()} == {"team-a"}
    assert {r["account"] for r in team_a.json()} == {"upstream"}
    assert "X-WM-Not-Listed" not in team_a.headers
    assert nobody.status_code == 404, nobody.text

    # `wm` through the relay: said once, in the upstream's words (it read "cannot list
    # upstream/FLAKY: the aggregator cannot list FLAKY: ..."), and from the cache too.
    assert listed.exit_code == 1, listed.output
    said = f"wm: team: not listed: the aggregator cannot list upstream/{FLAKY}: "
    assert f"{said}{source['status']['error']}" in listed.stderr, listed.stderr
    assert listed.stderr.count("the aggregator cannot list") == 1, listed.stderr
    assert "web" in listed.stdout  # the upstream's other accounts' rows all the same
    assert cached.exit_code == 1, cached.output  # `wm ls --cached` exited 0, saying nothing
    assert f"{said}{source['status']['error']}" in cached.stderr, cached.stderr


@pytest.fixture
def never_answered(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[RunningAggregator]:
    """The server's FLAKY account does not answer its first poll for a minute: not listed
    yet (loading), not failed."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("hang")
    toml = account_toml(FLAKY, "us-east-1", "gamma", proxy.port).replace(
        "timeout = 10", "timeout = 60"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=toml
    ) as running:
        yield running


def test_a_relay_says_an_account_its_upstream_has_not_listed_yet_as_such(
    never_answered: RunningAggregator, tmp_path: Path
) -> None:
    """The relay said every account its upstream lacked as failed, so one the upstream had
    not listed yet read `failed` (and `wm` said "cannot list upstream/FLAKY: None")."""
    agg = never_answered
    with agg.client(agg.mint("ada", "admin")) as admin:
        assert _phase(admin, FLAKY) == "loading"
    with relaying(agg, tmp_path / "relay") as relay:
        token = relay.mint("vera")
        with relay.client(token) as client:
            wait_until(lambda: _phase(client, "upstream") == "ok", timeout=20)
            accounts = {a["id"]: a for a in client.get("/api/v1/provider-accounts").json()}
        listed = wm(tmp_path, relay.url, token, "ls")
    status = accounts[f"upstream/{FLAKY}"]["status"]
    assert (status["phase"], status["error"]) == ("loading", None), status
    assert listed.exit_code == 1, listed.output
    said = f"wm: team: not listed: the aggregator has not listed upstream/{FLAKY} yet\n"
    assert said in listed.stderr, listed.stderr
