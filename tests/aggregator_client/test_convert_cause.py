"""A server's outcome keeps its link to the server's intent once in the local log."""

from __future__ import annotations

from datetime import UTC, datetime

from winged_monkey.models import Event, EventSource
from winged_monkey.wire import CLIENT_CAUSE
from winged_monkey_aggregator import convert

AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_an_outcome_points_at_its_intent_by_local_key() -> None:
    common = {"at": AT, "source": EventSource.ACTION, "kind": "stop", "account": "team-a"}
    intent = Event(key="action:team-a:i-1:stop:1", target="i-1", outcome="requested", **common)
    outcome = Event(
        key="action:team-a:i-1:stop:1:outcome",
        target="i-1",
        outcome="ok",
        cause=intent.key,
        **common,
    )
    local_intent, local_outcome = (convert.event("team", e) for e in (intent, outcome))
    assert local_outcome.cause == local_intent.key
    assert local_intent.cause is None


def test_a_request_this_token_sent_points_at_the_local_intent_and_no_one_elses_does() -> None:
    local = "action:team:team-a/i-1:stop:1.000000"
    request = Event(
        key="request:team-a:i-1:stop:1:tok",
        at=AT,
        source=EventSource.ACTION,
        kind="stop",
        account="team-a",
        target="i-1",
        outcome="requested",
        user="olga",
        cause=CLIENT_CAUSE + local,
    )
    assert convert.event("team", request, user="olga").cause == local
    # Another user's request (a key not of this log, or one borrowed) is not ours.
    elsewhere = convert.event("team", request, user="otto").cause
    assert elsewhere == f"aggregator:team:{CLIENT_CAUSE}{local}"
