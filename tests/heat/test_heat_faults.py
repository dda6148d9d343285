"""Heat's faults in words: the fault proxy between the Heat backend and the real standalone
Heat answers 429, 5xx (Heat's own error body among them) or cuts the reply short."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest

from tests.faultproxy import PASS, Fault, FaultProxy
from tests.heat.conftest import Projects, heat_account, make_portal, refresh
from tests.heat.test_heat_cli import _resume_failed_below
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.errors import ThrottledError, WMError
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend

#: What Heat itself answers for an error it does not map (its message withheld).
ENDPOINT_NOT_FOUND = json.dumps(
    {
        "code": 500,
        "title": "Internal Server Error",
        "explanation": "The server has either erred or is incapable of performing the "
        "requested operation.",
        "error": {"type": "EndpointNotFound", "traceback": None},
    }
).encode()
WITH_MESSAGE = json.dumps(
    {
        "code": 500,
        "title": "Internal Server Error",
        "explanation": "The server has either erred or is incapable of performing the "
        "requested operation.",
        "error": {
            "type": "EndpointNotFound",
            "message": "public endpoint for compute service in RegionOne region not found",
            "traceback": None,
        },
    }
).encode()


async def listing_error(heat: Projects, proxy: FaultProxy, name: str = "lab") -> WMError:
    account = heat_account(name, f"http://127.0.0.1:{proxy.port}/v1", heat.project(name))
    backend = HeatBackend(account, Secrets(account=name))
    heat.backends.append(backend)
    with pytest.raises(WMError) as raised:
        await backend.list_instances()
    return raised.value


async def test_throttling_keeps_retry_after(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    proxy = fault_proxy(heat.server.port)
    proxy.fault = Fault("status", status=429, headers={"Retry-After": "7"}, body=b"{}")
    error = await listing_error(heat, proxy)
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7
    assert str(error) == "lab: Heat is throttling requests (HTTP 429); the next poll waits 7 s"


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (500, ENDPOINT_NOT_FOUND, "HTTP 500 (Internal Server Error): EndpointNotFound"),
        (
            500,
            WITH_MESSAGE,
            "HTTP 500 (Internal Server Error): EndpointNotFound: public endpoint for compute "
            "service in RegionOne region not found",
        ),
        (503, b"maintenance until 18:00", "HTTP 503 (Service Unavailable): maintenance until"),
        (502, b"<html>Bad Gateway</html>", "HTTP 502 (Bad Gateway)"),
    ],
)
async def test_server_errors_keep_status_and_heats_type(
    heat: Projects,
    fault_proxy: Callable[[int], FaultProxy],
    status: int,
    body: bytes,
    said: str,
) -> None:
    proxy = fault_proxy(heat.server.port)
    proxy.fault = Fault("status", status=status, body=body)
    error = await listing_error(heat, proxy)
    assert error.message.startswith(f"Heat at 127.0.0.1:{proxy.port} answered {said}"), error
    assert "has either erred" not in error.message


@pytest.mark.parametrize("keep", [10, 100, 400])
async def test_a_reply_cut_short(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], keep: int
) -> None:
    """Cut in the status line, in the headers, and in a listing of one stack."""
    assert heat.wait("lab", heat.create("lab", "one")) == "CREATE_COMPLETE"
    proxy = fault_proxy(heat.server.port)
    proxy.fault = Fault("truncate", keep=keep)
    error = await listing_error(heat, proxy)
    assert str(error) == (
        f"lab: the reply from Heat at 127.0.0.1:{proxy.port} was cut short "
        "(connection closed mid-answer)"
    )


@pytest.mark.parametrize("fault", ["refused", "cut short"])
async def test_keystones_transport_faults_read_like_heats(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], fault: str
) -> None:
    """One rule for both of an account's servers: the message names which one failed."""
    if fault == "refused":
        port = free_port()
    else:  # the proxy cuts whatever answers behind it (here Heat, where Keystone would be)
        proxy = fault_proxy(heat.server.port)
        proxy.fault = Fault("truncate", keep=10)
        port = proxy.port
    account = AccountConfig(
        name="ks",
        backend="heat",
        credentials=Credentials(keyring=False),
        auth_url=f"http://127.0.0.1:{port}/v3",
        project_name="web",
        username="u",
    )
    backend = HeatBackend(account, Secrets(account="ks", secret="pw"))
    heat.backends.append(backend)
    with pytest.raises(WMError) as raised:
        await backend.list_instances()
    keystone = f"Keystone (identity) at 127.0.0.1:{port}"
    assert str(raised.value) == (
        f"ks: cannot connect to {keystone} (connection refused)"
        if fault == "refused"
        else f"ks: the reply from {keystone} was cut short (connection closed mid-answer)"
    )
    assert "pw" not in str(raised.value)


@pytest.mark.parametrize("status", [502, 504])
async def test_an_action_a_gateway_answered_after_heat_acted_is_unknown_not_failed(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], status: int
) -> None:
    """A load balancer in front of Heat passes the suspend on and answers 502/504 in place
    of Heat's reply: Heat suspends the stack, so "failed" would be untrue; unknown, and the
    next listing tells."""
    stack = heat.create("ops", "app")
    assert heat.wait("ops", stack) == "CREATE_COMPLETE"
    proxy = fault_proxy(heat.server.port)
    account = heat_account("ops", f"http://127.0.0.1:{proxy.port}/v1", heat.project("ops"))
    portal, store = make_portal(heat.tmp_path, account)
    heat.stores.append(store)
    try:
        await refresh(portal)
        row = portal.instance(f"ops/{stack}")
        assert row is not None
        proxy.fault = Fault("gateway", status=status, match=b"suspend")
        final = [u async for u in portal.run_action(Action.STOP, row)][-1]
        assert final.phase == "unknown", final
        assert f"answered HTTP {status}" in final.message
        assert heat.wait("ops", stack) == "SUSPEND_COMPLETE"  # the witness: Heat acted
    finally:
        await portal.close()


@pytest.mark.parametrize("keep", [0, 60], ids=["before-the-answer", "in-the-head"])
async def test_an_action_whose_connection_was_reset_after_heat_acted_is_unknown_not_failed(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], keep: int
) -> None:
    """A firewall or a crashing proxy resets the connection (RST) once Heat has the suspend:
    Heat suspends the stack, so "failed: connection failed" was untrue; unknown, and the
    next listing tells."""
    stack = heat.create("rst", "app")
    assert heat.wait("rst", stack) == "CREATE_COMPLETE"
    proxy = fault_proxy(heat.server.port)
    account = heat_account("rst", f"http://127.0.0.1:{proxy.port}/v1", heat.project("rst"))
    portal, store = make_portal(heat.tmp_path, account)
    heat.stores.append(store)
    try:
        await refresh(portal)
        row = portal.instance(f"rst/{stack}")
        assert row is not None
        proxy.fault = Fault("reset", keep=keep, match=b"suspend")
        final = [u async for u in portal.run_action(Action.STOP, row)][-1]
        assert final.phase == "unknown", final
        assert "was reset before its whole answer came" in final.message
        assert heat.wait("rst", stack) == "SUSPEND_COMPLETE"  # the witness: Heat acted
    finally:
        await portal.close()


@pytest.mark.parametrize("hung", [b"/validate", b"/stacks HTTP"], ids=["validation", "create"])
async def test_a_launch_lost_before_its_create_was_sent_is_failed_not_maybe_created(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], hung: bytes
) -> None:
    """A launch validates its template with Heat first: when that hung, the launch was
    never sent, yet `wm app launch` said 'the cloud may have created it; the next poll will
    tell' and left an unknown intent. Failed now, saying nothing was created; a create
    that got no answer is still unknown (Heat may have it)."""
    proxy = fault_proxy(heat.server.port)
    account = heat_account("lost", f"http://127.0.0.1:{proxy.port}/v1", heat.project("lost"))
    portal, store = make_portal(heat.tmp_path, account.model_copy(update={"timeout": 2}))
    heat.stores.append(store)
    template = heat.tmp_path / "none.yaml"
    template.write_text(
        "heat_template_version: 2018-08-31\nresources:\n  v:\n    type: OS::Heat::None\n"
    )
    try:
        proxy.fault = Fault("hang", match=hung)
        with pytest.raises(WMError) as raised:
            async for _ in portal.launch_app("lost", str(template), "lost-app", {}):
                pass
        outcome, intent = store.events(account="lost", kinds=["launch"])  # newest first
        assert (intent.outcome, outcome.cause) == ("requested", intent.key)
        if hung == b"/validate":
            assert "the launch was not sent: nothing was created" in raised.value.message
            assert outcome.outcome == "failed", outcome
        else:
            assert "the cloud may have created it" in raised.value.message
            assert outcome.outcome == "unknown", outcome
    finally:
        await portal.close()


async def test_a_lost_check_is_settled_by_the_listing_that_shows_heat_completed_it(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """A check of an app in error (a failed resume) whose answer a gateway lost is
    unknown; the next listing shows Heat completed it, the app in error as before. It
    stayed open, to be failed once `action_timeout` passed ('observed error ...: it did
    not take effect'); now that listing settles it ok, in Heat's words."""
    stack, _, _ = _resume_failed_below(heat, "lost")
    proxy = fault_proxy(heat.server.port)
    account = heat_account("lost", f"http://127.0.0.1:{proxy.port}/v1", heat.project("lost"))
    portal, store = make_portal(heat.tmp_path, account)
    heat.stores.append(store)
    try:
        await refresh(portal)
        row = portal.instance(f"lost/{stack}")
        assert row is not None
        proxy.fault = Fault("gateway", status=502, match=b'{"check"')
        final = [u async for u in portal.run_action(Action.CHECK, row)][-1]
        assert final.phase == "unknown", final
        proxy.fault = PASS
        deadline = time.monotonic() + 60
        while (status := heat.status("lost", stack)) != "CHECK_COMPLETE":
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.1)
        await refresh(portal)
        settled = [
            e for e in store.events(account="lost", target=stack) if e.key.endswith(":settled")
        ]
    finally:
        await portal.close()
    assert [e.outcome for e in settled] == ["ok"], settled
    detail = settled[0].detail or ""
    assert detail.startswith("quiet checked (Stack CHECK completed successfully"), detail
    assert "it is error, as before the check: Resource RESUME failed: " in detail
