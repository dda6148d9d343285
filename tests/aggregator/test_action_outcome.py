"""A script learns an action's outcome from the 202 alone: its Location (and outcome_href)
lead to the events the action causes, read by the log's index, so a long log before it
does not hide the outcome. The README's shell loop is run as written, with curl and jq,
against a real `wm serve` over moto."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.aggregator.server import RunningAggregator
from tests.conftest import wait_until
from winged_monkey.models import Event, EventSource
from winged_monkey.serve.service import EVENT_SCAN
from winged_monkey.store.sqlite import Store

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_loop(route: str) -> str:
    """The README's shell loop that follows the outcome of a request to `route`."""
    (block,) = [
        b
        for b in re.findall(r"```bash\n(.*?)```", README.read_text("utf-8"), re.S)
        if "outcome_href" in b and route in b
    ]
    return str(block)


def _fill_log(agg: RunningAggregator, count: int) -> None:
    """Events of another machine, more than one events request scans."""
    now = datetime.now(UTC)
    store = Store.open(agg.store_path)
    try:
        store.append_events(
            Event(
                key=f"filler:{n}",
                at=now,
                source=EventSource.NATIVE,
                kind="note",
                account="team-a",
                target="i-elsewhere",
            )
            for n in range(count)
        )
    finally:
        store.close()


def test_the_202_of_an_action_leads_to_its_outcome_past_a_long_log(
    fresh_aggregator: RunningAggregator,
) -> None:
    """The 202 had no Location; the outcome was two `cause` links from the request, in
    `/events?target=ID`, whose scan from after=0 stops after EVENT_SCAN events."""
    agg = fresh_aggregator
    web = agg.ids["team-a", "web"]
    _fill_log(agg, EVENT_SCAN + 500)
    with agg.client(agg.mint("cron", "operator")) as client:
        accepted = client.post(f"/api/v1/instances/team-a/{web}/stop")
        assert accepted.status_code == 202, accepted.text
        follow = accepted.headers["Location"]
        assert accepted.json()["outcome_href"] == follow
        assert follow.startswith("/api/v1/events?cause=action%3Ateam-a%3A")
        outcomes: list[dict[str, object]] = []

        def outcome_known() -> bool:
            events = client.get(follow).json()["events"]
            outcomes[:] = [e for e in events if e["source"] == "action"]
            return bool(outcomes)

        wait_until(outcome_known, timeout=20)
    assert [(e["kind"], e["outcome"], e["target"], e["user"]) for e in outcomes] == [
        ("stop", "ok", web, "cron")
    ]
    assert agg.cloud_state("team-a", "web") == "stopped"


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq")
def test_the_readmes_shell_loop_prints_the_outcome_of_a_stop(
    fresh_aggregator: RunningAggregator, tmp_path: Path
) -> None:
    agg = fresh_aggregator
    web = agg.ids["team-a", "web"]
    script = tmp_path / "stop.sh"
    script.write_text(readme_loop("/stop"), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "WM": agg.url, "WM_TOKEN": agg.mint("cron", "operator")}
    run = subprocess.run(
        ["bash", str(script)], env={**env, "ID": web}, capture_output=True, text=True, timeout=150
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok: "), run.stdout
    assert agg.cloud_state("team-a", "web") == "stopped"
    again = subprocess.run(  # already stopped: refused, and the script says it failed
        ["bash", str(script)], env={**env, "ID": web}, capture_output=True, text=True, timeout=150
    )
    assert again.returncode == 1
    assert "is already stopped" in again.stderr, again.stderr
