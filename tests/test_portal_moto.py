"""The portal over the libcloud backend against a real moto EC2 server.

boto3 is the independent witness: every state the portal claims is checked
against a fresh DescribeInstances from the server, and the server's own record
of requests shows what a client really sent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AMI, Cloud, wait_until
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.engine.portal import AccountUpdate, ActionUpdate, Portal
from winged_monkey.errors import ActionNotAllowed, AuthError
from winged_monkey.models import EventSource, InstanceState
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey_libcloud import LibcloudBackend


async def refresh(portal: Portal) -> dict[str, AccountUpdate]:
    """Run one refresh; the last update of each account."""
    last: dict[str, AccountUpdate] = {}
    async for update in portal.refresh():
        last[update.status.name] = update
    return last


async def run(portal: Portal, action: Action, key: str) -> list[ActionUpdate]:
    instance = portal.instance(key)
    assert instance is not None, key
    return [update async for update in portal.run_action(action, instance)]


async def test_accounts_and_regions_are_listed_together_and_isolated(cloud: Cloud) -> None:
    dev, dev_eu = cloud.ec2("us-east-1"), cloud.ec2("eu-west-1")
    prod_creds = cloud.assume_role()
    prod = cloud.ec2("us-east-1", prod_creds["key"], prod_creds["secret"], prod_creds["token"])
    ids = {
        "dev": {cloud.launch(dev, "web"), cloud.launch(dev, "db", state="stopped")},
        "dev-eu": {cloud.launch(dev_eu, "eu-web")},
        "prod": {cloud.launch(prod, "prod-web")},
    }
    portal = cloud.portal(
        cloud.account("dev"),
        cloud.account("dev-eu", region="eu-west-1"),
        cloud.account(
            "prod", key=prod_creds["key"], secret=prod_creds["secret"], token=prod_creds["token"]
        ),
    )

    updates = await refresh(portal)

    assert {name: u.status.phase for name, u in updates.items()} == dict.fromkeys(ids, "ok")
    for name, expected in ids.items():
        assert {i.id for i in portal.instances() if i.account == name} == expected
    by_name = {i.name: i for i in portal.instances()}
    assert by_name["eu-web"].region == "eu-west-1"
    assert by_name["db"].state is InstanceState.STOPPED
    assert by_name["web"].state is InstanceState.RUNNING
    assert by_name["prod-web"].key == f"prod/{next(iter(ids['prod']))}"
    # The server saw prod's calls signed with the temporary key, in its own account.
    assert any(c.access_key == prod_creds["key"] for c in cloud.server.calls)
    await portal.close()


@pytest.mark.parametrize(
    ("action", "start", "witnessed"),
    [
        (Action.START, "stopped", "running"),
        (Action.STOP, "running", "stopped"),
        (Action.REBOOT, "running", "running"),
        (Action.DESTROY, "running", "terminated"),
    ],
)
async def test_each_action_changes_what_the_server_reports(
    cloud: Cloud, action: Action, start: str, witnessed: str
) -> None:
    ec2 = cloud.ec2()
    target = cloud.launch(ec2, "box", state=start)
    bystander = cloud.launch(ec2, "other", state=start)
    portal = cloud.portal(cloud.account("dev"))
    await refresh(portal)
    cloud.server.clear_calls()

    updates = await run(portal, action, f"dev/{target}")

    assert updates[0].phase == "requested"
    assert updates[-1].phase == "done", updates[-1].message
    assert cloud.state_of(ec2, target) == witnessed
    assert cloud.state_of(ec2, bystander) == start  # only the chosen instance moved
    sent = [c.action for c in cloud.server.calls if c.mutating]
    assert sent == [
        {
            Action.START: "StartInstances",
            Action.STOP: "StopInstances",
            Action.REBOOT: "RebootInstances",
            Action.DESTROY: "TerminateInstances",
        }[action]
    ]
    logged = [e for e in portal.store.events() if e.source is EventSource.ACTION]
    # Newest first: the outcome, linked to the intent recorded before the call.
    assert [(e.kind, e.target, e.outcome, e.user) for e in logged] == [
        (str(action), target, "ok", "tester"),
        (str(action), target, "requested", "tester"),
    ]
    assert logged[0].cause == logged[1].key
    await portal.close()


async def test_a_read_only_account_sends_no_mutating_call(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    running = cloud.launch(ec2, "precious")
    cloud.server.clear_calls()
    audit_key = "AKIATESTAUDIT0000001"  # moto puts an unknown key in the default account
    account = cloud.account("audit", key=audit_key, read_only=True)
    portal = cloud.portal(account)
    await refresh(portal)
    instance = portal.instance(f"audit/{running}")
    assert instance is not None

    # Reading only: the listing, the catalog with its quota (no launch), the console.
    assert portal.capabilities("audit") == {
        Capability.LIST,
        Capability.CATALOG,
        Capability.QUOTAS,
        Capability.CONSOLE,
    }
    for action in Action:
        assert portal.refusal(action, instance) == "account audit is read-only"
        with pytest.raises(ActionNotAllowed):
            await anext(aiter(portal.run_action(action, instance)))
    # Even a caller that skips the portal's checks is refused by the backend itself.
    backend = LibcloudBackend(account, CredentialResolver().resolve(account))
    with pytest.raises(ActionNotAllowed, match="read-only"):
        await backend.act(Action.DESTROY, instance)

    calls = cloud.server.calls
    assert any(c.action == "DescribeInstances" and c.access_key == audit_key for c in calls)
    assert {c.access_key for c in calls} == {audit_key}
    assert [c.action for c in calls if c.mutating] == []
    assert cloud.state_of(ec2, running) == "running"
    await portal.close()


async def test_dead_and_silent_endpoints_fail_only_their_own_account(cloud: Cloud) -> None:
    cloud.launch(cloud.ec2(), "alive")
    dead_port = free_port()  # nothing listens there: connection refused
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever answers
        portal = cloud.portal(
            cloud.account("good"),
            cloud.account("dead", port=dead_port, timeout=5),
            cloud.account("silent", port=silent.getsockname()[1], timeout=0.5),
        )
        order: list[str] = []
        started = time.monotonic()
        async for update in portal.refresh():
            if update.status.phase != "loading":
                order.append(update.status.name)
        elapsed = time.monotonic() - started

    good, dead, silent_status = (portal.status(n) for n in ("good", "dead", "silent"))
    assert good.phase == "ok"
    assert [i.name for i in portal.instances()] == ["alive"]
    assert dead.phase == "failed"
    assert dead.error is not None
    assert f"127.0.0.1:{dead_port}" in dead.error
    assert "refused" in dead.error
    assert silent_status.phase == "failed"
    assert silent_status.error is not None
    assert "timeout" in silent_status.error
    assert order[-1] == "silent"  # the others did not wait for the slow one
    assert elapsed < 4
    await portal.close()


#: The access key of iam_moto's user whose policy allows listing instances and nothing else.
LISTER: dict[str, str] = {}


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[tuple[str, int, str, str]]:
    """A separate moto process that enforces IAM after its first six calls, which create
    alice, her access key and an ec2:* policy, and lister, hers and a policy that allows
    ec2:DescribeInstances alone. Yields (host, port, key id, secret) of alice; lister's
    key is in LISTER."""
    import boto3

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "6"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                assert process.poll() is None, "moto server exited"
                return False
            return True

        wait_until(listening, timeout=30, step=0.05)
        iam = boto3.client(
            "iam",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="alice")
        key = iam.create_access_key(UserName="alice")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="alice", PolicyName="ec2", PolicyDocument=json.dumps(policy))
        iam.create_user(UserName="lister")
        lister = iam.create_access_key(UserName="lister")["AccessKey"]
        LISTER.update(key=lister["AccessKeyId"], secret=lister["SecretAccessKey"])
        least = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="lister", PolicyName="ls", PolicyDocument=json.dumps(least))
        yield "127.0.0.1", port, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_wrong_secret_is_refused_with_a_message_naming_the_account(
    cloud: Cloud, iam_moto: tuple[str, int, str, str]
) -> None:
    _host, port, key, secret = iam_moto
    wrong = "not-the-secret-" + secret[:4]
    portal = cloud.portal(
        cloud.account("alice", key=key, secret=secret, port=port),
        cloud.account("mallory", key=key, secret=wrong, port=port),
    )

    await refresh(portal)

    assert portal.status("alice").phase == "ok"
    refused = portal.status("mallory")
    assert refused.phase == "failed"
    assert refused.error is not None
    assert "credentials refused by ec2" in refused.error
    assert "AuthFailure" in refused.error
    assert "wm accounts set-secret mallory" in refused.error
    assert wrong not in refused.error
    assert secret not in refused.error

    # The same failure, as the CLI's `wm accounts check` would show it.
    account = portal.account_config("mallory")
    backend = LibcloudBackend(account, CredentialResolver().resolve(account))
    with pytest.raises(AuthError) as caught:
        await backend.check()
    assert str(caught.value).startswith("mallory: credentials refused by ec2")
    await portal.close()


async def test_prices_come_from_libcloud_data_and_unknown_stays_unknown(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    micro = cloud.launch(ec2, "micro", type="t3.micro")
    odd = cloud.launch(ec2, "odd", type="x9.notreal")
    portal = cloud.portal(cloud.account("dev"))

    await refresh(portal)

    priced = portal.instance(f"dev/{micro}")
    unpriced = portal.instance(f"dev/{odd}")
    assert priced is not None
    assert unpriced is not None
    assert priced.size == "t3.micro"
    assert priced.price_hourly is not None
    assert 0 < priced.price_hourly < 1
    assert unpriced.size == "x9.notreal"
    assert unpriced.price_hourly is None
    await portal.close()


async def test_a_state_change_between_refreshes_is_logged(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    box = cloud.launch(ec2, "box")
    portal = cloud.portal(cloud.account("dev"))
    await refresh(portal)
    ec2.stop_instances(InstanceIds=[box])  # someone else, outside the portal
    late = cloud.launch(ec2, "late")

    second = await refresh(portal)

    events = portal.store.events(account="dev")
    changes = {(e.kind, e.target, e.old_state, e.new_state) for e in events}
    assert ("state", box, "running", "stopped") in changes
    assert ("appeared", late, None, "running") in changes
    assert {e.key for e in second["dev"].events} == {e.key for e in events}
    await refresh(portal)  # nothing changed: nothing new is logged
    assert len(portal.store.events(account="dev")) == len(events)
    await portal.close()


async def test_the_cache_shows_before_live_data(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ids = {cloud.launch(ec2, "one"), cloud.launch(ec2, "two", state="stopped")}
    first = cloud.portal(cloud.account("dev"))
    await refresh(first)
    await first.close()
    cloud.server.clear_calls()

    second = cloud.portal(cloud.account("dev"))  # a new process, the same store file
    cached = second.load_cache()

    assert [u.status.phase for u in cached] == ["stale"]
    assert cached[0].instances is not None
    assert {i.id for i in cached[0].instances} == ids
    assert second.status("dev").phase == "stale"
    assert {i.id for i in second.instances()} == ids
    assert cloud.server.calls == []  # all of it from the store, before any cloud answers


async def test_an_action_on_a_vanished_instance_explains_the_providers_reason(
    cloud: Cloud,
) -> None:
    ec2 = cloud.ec2()
    box = cloud.launch(ec2, "box")
    portal = cloud.portal(cloud.account("dev"))
    await refresh(portal)
    ghost = portal.instance(f"dev/{box}")
    assert ghost is not None
    ghost = ghost.model_copy(update={"id": "i-0123456789abcdef0"})

    updates = [u async for u in portal.run_action(Action.STOP, ghost)]

    assert updates[-1].phase == "failed"
    assert "InvalidInstanceID.NotFound" in updates[-1].message
    assert "i-0123456789abcdef0" in updates[-1].message
    assert cloud.state_of(ec2, box) == "running"
    await portal.close()


async def test_get_instance_follows_one_instance_and_none_when_unknown(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    box = cloud.launch(ec2, "box")
    account = cloud.account("dev")
    backend = LibcloudBackend(account, CredentialResolver().resolve(account))
    cloud.server.clear_calls()

    found = await backend.get_instance(box)
    missing = await backend.get_instance("i-0123456789abcdef0")

    assert found is not None
    assert (found.name, found.state) == ("box", InstanceState.RUNNING)
    assert missing is None
    describe = [c for c in cloud.server.calls if c.action == "DescribeInstances"]
    assert len(describe) == 2  # one filtered call each, not a full listing walk
    assert found.image == AMI
    await backend.close()


async def test_a_policy_that_allows_listing_instances_alone_lists_them(
    cloud: Cloud, iam_moto: tuple[str, int, str, str]
) -> None:
    """Least privilege: ec2:DescribeInstances and nothing else. Each listing also asked
    DescribeAddresses (libcloud's list_nodes does, for elastic IPs on other interfaces),
    and its refusal failed the whole account; the instances' own public addresses stand."""
    _host, port, key, secret = iam_moto
    ec2 = cloud.ec2(key=key, secret=secret, url=f"http://127.0.0.1:{port}")
    web = cloud.launch(ec2, "web")
    portal = cloud.portal(
        cloud.account("least", key=LISTER["key"], secret=LISTER["secret"], port=port)
    )
    await refresh(portal)
    status = portal.status("least")
    assert status.phase == "ok", status.error
    row = portal.instance(f"least/{web}")
    assert row is not None
    assert row.public_ips  # the instance's own, from DescribeInstances
    await portal.close()
