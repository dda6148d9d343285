"""Faults a real aggregator will not produce on demand, injected with httpx.MockTransport:
5xx answers (its own error shape and a proxy's HTML page), garbage bodies, a server that
accepts the request and never answers, and a 5xx on an action. Faults a real peer produces
(a closed port, a socket that accepts and stays silent, bad settings, no token) use one.
Token refusals and rate limits are tested against the real `wm serve` process.

Each fault shows on the aggregator account with its name and what to do, while a direct
account on the real moto server beside it keeps listing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.conftest import Cloud
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.engine.operations import ActionUpdate
from winged_monkey.errors import BackendError, UnreachableError
from winged_monkey.user.credentials import Secrets
from winged_monkey_aggregator import AggregatorBackend
from winged_monkey_aggregator.client import AggregatorClient

TOKEN = "wm_test_token_never_shown_4f9c2a"
URL = "http://aggregator.test:8780"
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], list[httpx.Request]]:
    """Route every aggregator client to `handler`; returns the requests it saw."""

    def install(handler: Handler) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        async def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await handler(request)

        monkeypatch.setattr(AggregatorClient, "transport", httpx.MockTransport(record))
        return seen

    return install


def answer(status: int, body: Any = None, text: str | None = None, **headers: str) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


WHOAMI = {"user": "alice", "role": "operator", "pools": ["dev"]}
ROW = {
    "id": "i-0123",
    "account": "ec2-dev",
    "pool": "dev",
    "kind": "instance",
    "name": "web-1",
    "state": "running",
    "raw_state": "running",
    "provider": "ec2",
    "region": "us-east-1",
    "href": "/api/v1/instances/ec2-dev/i-0123",
    "links": {"stop": {"method": "POST", "href": "/api/v1/instances/ec2-dev/i-0123/stop"}},
}


def api(**overrides: Handler) -> Handler:
    """A tiny well-behaved aggregator (one running row) with some paths answering otherwise."""

    async def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.removeprefix("/api/v1/").split("/")[0]
        if name in overrides and (name != "instances" or request.method == "GET"):
            return await overrides[name](request)
        if request.method != "GET":
            return await overrides.get("action", answer(500))(request)
        body = {
            "whoami": WHOAMI,
            "instances": [ROW],
            "deployments": [],
            "provider-accounts": [],
            "events": {"events": [], "next": 0},
        }[name]
        return httpx.Response(200, json=body)

    return handler


async def listing(
    cloud: Cloud, portals: Portals, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> tuple[Any, Any]:
    """Refresh a direct moto account and an aggregator account; their last updates."""
    ec2 = cloud.ec2()
    cloud.launch(ec2, "direct-web")
    portal = portals(
        cloud.account("direct"), aggregator_account("team", URL, TOKEN, monkeypatch, **extra)
    )
    updates = await refresh(portal)
    direct = updates["direct"]
    assert direct.status.phase == "ok", direct.status.error
    assert [i.name for i in direct.instances or ()] == ["direct-web"]
    return updates["team"].status, portal


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            answer(503, {"error": {"code": "unavailable", "message": "still starting up"}}),
            "the aggregator at aggregator.test:8780 answered HTTP 503 (Service Unavailable): "
            "still starting up",
        ),
        (
            answer(502, text="<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"),
            "the aggregator at aggregator.test:8780 answered HTTP 502 (Bad Gateway)",
        ),
        (
            answer(500, text="Internal Server Error"),
            "the aggregator at aggregator.test:8780 answered HTTP 500 (Internal Server Error)",
        ),
    ],
)
async def test_a_5xx_fails_that_account_only_with_the_reason(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
    reply: Handler,
    expected: str,
) -> None:
    serve(api(instances=reply))
    status, _ = await listing(cloud, portals, monkeypatch)
    assert status.phase == "failed"
    assert status.error == expected


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (
            answer(
                200, text="<!doctype html><title>Login</title>", **{"Content-Type": "text/html"}
            ),
            "text/html",
        ),
        (answer(200, {"instances": []}), "application/json"),
        (answer(200, [{"id": "i-1", "name": "no state, no account"}]), "application/json"),
        (
            answer(200, text='[{"id": "i-1", "acc', **{"Content-Type": "application/json"}),
            "application/json",
        ),
        (answer(200, text="\x1b[31m\x00\x07garbage"), "text/plain"),
    ],
    ids=["html", "wrong-shape", "missing-fields", "truncated", "control-characters"],
)
async def test_garbage_is_not_the_api(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
    reply: Handler,
    kind: str,
) -> None:
    serve(api(instances=reply))
    status, _ = await listing(cloud, portals, monkeypatch)
    assert status.phase == "failed"
    assert status.error == (
        "aggregator.test:8780 answered /api/v1/instances with something that is not the "
        f"aggregator's API (HTTP 200, {kind}); check the account's url"
    )


async def test_a_silent_aggregator_times_out_and_the_others_list(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
) -> None:
    never = asyncio.Event()

    async def silent(request: httpx.Request) -> httpx.Response:
        await never.wait()  # the request is taken and never answered
        raise AssertionError("unreachable")

    serve(api(instances=silent))
    status, _ = await listing(cloud, portals, monkeypatch, timeout=0.5)
    assert status.phase == "failed"
    # The portal's deadline or the client's, whichever fires first: both say what happened.
    assert status.error in (
        "no answer within 0.5 s (timeout): raise the account's `timeout` if the cloud is only slow",
        "no answer from the aggregator at aggregator.test:8780 within 0.5 s: raise the "
        "account's `timeout` if the cloud is only slow",
    )


async def test_a_5xx_on_an_action_fails_it_with_the_reason(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
) -> None:
    refusal = {"error": {"code": "backend_failed", "message": "ec2-dev: throttled by EC2"}}
    seen = serve(api(action=answer(502, refusal)))
    _, portal = await listing(cloud, portals, monkeypatch)
    row = portal.instance("team/ec2-dev/i-0123")
    assert row is not None
    updates = [u async for u in portal.run_action(Action.STOP, row)]
    assert updates[-1].phase == "failed"
    assert updates[-1].message == (
        "the aggregator at aggregator.test:8780 answered HTTP 502 (Bad Gateway): "
        "ec2-dev: throttled by EC2"
    )
    posted = [r for r in seen if r.method == "POST"]
    assert [str(r.url) for r in posted] == [f"{URL}/api/v1/instances/ec2-dev/i-0123/stop"]


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateways_502_or_504_on_an_action_is_unknown_not_failed(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
    status: int,
) -> None:
    """A proxy before the aggregator answers with its own page (not the aggregator's error
    body): the request went on and may have been carried out, so the action is unknown;
    the aggregator's own 502 backend_failed stays a refusal (above)."""
    page = f"<html><body><h1>{status} Gateway Time-out</h1>nginx</body></html>"
    serve(api(action=answer(status, text=page)))
    _, portal = await listing(cloud, portals, monkeypatch)
    row = portal.instance("team/ec2-dev/i-0123")
    assert row is not None
    updates = [u async for u in portal.run_action(Action.STOP, row)]
    assert updates[-1].phase == "unknown", updates[-1]
    assert f"answered HTTP {status}" in updates[-1].message


async def test_garbage_events_leave_the_listing_alone(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
) -> None:
    serve(api(events=answer(200, {"events": "nope"})))
    status, portal = await listing(cloud, portals, monkeypatch)
    assert status.phase == "ok"
    assert [i.name for i in portal.instances() if i.account == "team"] == ["web-1"]
    assert portal.native_events_error("team") == (
        "events: aggregator.test:8780 answered /api/v1/events with something that is not "
        "the aggregator's API (HTTP 200, application/json); check the account's url"
    )


async def test_the_token_is_sent_as_a_bearer_and_never_shown_or_logged(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = serve(api(instances=answer(500, text=f"echo: Bearer {TOKEN}")))
    status, portal = await listing(cloud, portals, monkeypatch)
    assert {r.headers["Authorization"] for r in seen} == {f"Bearer {TOKEN}"}
    assert status.error is not None
    assert TOKEN not in status.error
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(portal.instances())
    assert TOKEN not in json.dumps([e.model_dump(mode="json") for e in portal.store.events()])


async def test_an_aggregator_that_is_down_says_so(
    cloud: Cloud, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    portal = portals(
        cloud.account("direct"),
        aggregator_account("team", f"http://127.0.0.1:{port}", TOKEN, monkeypatch),
    )
    updates = await refresh(portal)
    assert updates["direct"].status.phase == "ok"
    assert updates["team"].status.error == (
        f"cannot connect to the aggregator at 127.0.0.1:{port} (connection refused); "
        "is `wm serve` running there?"
    )


async def test_a_peer_that_accepts_and_stays_silent_times_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as listener:  # a real peer: the kernel accepts, nobody answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        account = aggregator_account(
            "team", f"http://127.0.0.1:{port}", TOKEN, monkeypatch, timeout=0.3
        )
        backend = AggregatorBackend(account, Secrets(account="team", secret=TOKEN))
        try:
            with pytest.raises(UnreachableError) as caught:
                await backend.list_instances()
        finally:
            await backend.close()
    assert str(caught.value) == (
        f"team: no answer from the aggregator at 127.0.0.1:{port} within 0.3 s: raise the "
        "account's `timeout` if the cloud is only slow"
    )
    assert isinstance(caught.value, BackendError)


def fails_once(error: httpx.TransportError, then: Handler) -> Handler:
    """The first request meets `error` (as httpx raises it from a dead connection), the
    next ones `then`."""
    failed: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if not failed:
            failed.append(request)
            raise error
        return await then(request)

    return handler


async def stop_web_1(
    cloud: Cloud, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> ActionUpdate:
    """Stop the aggregator's web-1 through a portal; the action's last update."""
    _, portal = await listing(cloud, portals, monkeypatch)
    row = portal.instance("team/ec2-dev/i-0123")
    assert row is not None
    updates: list[ActionUpdate] = [u async for u in portal.run_action(Action.STOP, row)]
    return updates[-1]


BROKEN_PIPE = httpx.WriteError("[Errno 32] Broken pipe")
CLOSED = httpx.RemoteProtocolError("Server disconnected without sending a response.")
RESET = httpx.ReadError("[Errno 104] Connection reset by peer")
RESET.__cause__ = ConnectionResetError(104, "Connection reset by peer")  # as httpcore chains it


@pytest.mark.parametrize(
    "error", [BROKEN_PIPE, CLOSED, RESET], ids=["broken-pipe", "closed", "reset"]
)
async def test_a_listing_on_a_connection_the_server_just_closed_is_asked_again(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
    error: httpx.TransportError,
) -> None:
    """The server's idle timeout closing a kept-alive connection as a request goes out
    (a race no server loses on demand): the account still lists, it does not flash failed."""
    rows = answer(200, [ROW])
    seen = serve(api(instances=fails_once(error, rows)))
    status, _ = await listing(cloud, portals, monkeypatch)
    assert status.phase == "ok", status.error
    assert [r.url.path for r in seen].count("/api/v1/instances") == 2


async def test_an_action_whose_request_met_a_broken_pipe_is_sent_again(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
) -> None:
    """Writing the request failed, so the server read none of it: sending it again cannot
    do the action twice, and the user gets the server's own answer (here a refusal), not
    "broken pipe"."""
    refusal = {"error": {"code": "backend_failed", "message": "ec2-dev: throttled by EC2"}}
    seen = serve(api(action=fails_once(BROKEN_PIPE, answer(502, refusal))))
    last = await stop_web_1(cloud, portals, monkeypatch)
    assert last.phase == "failed"
    assert last.message.endswith("answered HTTP 502 (Bad Gateway): ec2-dev: throttled by EC2")
    assert [r.method for r in seen].count("POST") == 2


async def test_an_action_whose_connection_closed_unanswered_is_unknown_and_not_sent_again(
    cloud: Cloud,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Handler], list[httpx.Request]],
) -> None:
    """The request went out and no answer came: the server may have done it, so it is not
    sent twice (a second stop, a second launch) and the outcome is unknown."""
    refusal = {"error": {"code": "backend_failed", "message": "not reached"}}
    seen = serve(api(action=fails_once(CLOSED, answer(502, refusal))))
    last = await stop_web_1(cloud, portals, monkeypatch)
    assert last.phase == "unknown", last
    assert "closed the connection without answering" in last.message
    assert [r.method for r in seen].count("POST") == 1
