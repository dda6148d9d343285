"""A few past events for the demo's log, so a newcomer's events view shows what it is for.

Every demo is a new cloud, so its log would always start empty. These events tell a
short, consistent story over the demo's instances (their states match the cloud's):
an action with its outcome (linked by `cause`, as the engine records them), a
refused start, a change made outside wm (observed), an instance destroyed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from winged_monkey.models import Event, EventSource

ACT, OBS = EventSource.ACTION, EventSource.OBSERVED


def demo_history(ids: Mapping[tuple[str, str], str], now: datetime) -> list[Event]:
    """The story, over `ids` ((account, name) -> instance id), ending before `now` and
    starting after the fleet's launch (seed.py's `LAUNCHED_AGO` before `now`)."""
    events: list[Event] = []

    def action(
        account: str,
        name: str,
        kind: str,
        ago: timedelta,
        before: str,
        after: str,
        *,
        user: str,
        outcome: str = "ok",
        detail: str = "",
        took: float = 30.0,
    ) -> None:
        target, at = ids[(account, name)], now - ago
        intent = f"demo:action:{account}:{target}:{kind}:{at.timestamp():.0f}"
        common = {"account": account, "target": target, "target_name": name, "user": user}
        events.append(
            Event(
                key=intent,
                at=at,
                source=ACT,
                kind=kind,
                old_state=before,
                outcome="requested",
                **common,
            )
        )
        events.append(
            Event(
                key=f"{intent}:outcome",
                at=at + timedelta(seconds=took),
                source=ACT,
                kind=kind,
                new_state=after,
                outcome=outcome,
                detail=detail or f"{name} {after}",
                duration=took,
                cause=intent,
                **common,
            )
        )

    def observed(account: str, name: str, ago: timedelta, before: str, after: str) -> None:
        target, at = ids[(account, name)], now - ago
        events.append(
            Event(
                key=f"demo:observed:{account}:{target}:{before}>{after}:{at.timestamp():.0f}",
                at=at,
                source=OBS,
                kind="state",
                account=account,
                target=target,
                target_name=name,
                old_state=before,
                new_state=after,
            )
        )

    action(
        "dev", "batch", "stop", timedelta(minutes=50), "running", "stopped", user="alice", took=41
    )
    action("dev", "old-ci", "destroy", timedelta(minutes=40), "running", "terminated", user="bob")
    observed(
        "dev-eu", "eu-worker", timedelta(minutes=30), "running", "stopped"
    )  # stopped elsewhere
    action(
        "prod",
        "prod-db",
        "reboot",
        timedelta(minutes=20),
        "running",
        "running",
        user="carol",
        took=62,
    )
    action(
        "prod",
        "prod-report",
        "start",
        timedelta(minutes=10),
        "stopped",
        "stopped",
        user="alice",
        outcome="failed",
        detail="InsufficientInstanceCapacity: no c5.xlarge in us-east-1a just now",
        took=2,
    )
    return events
