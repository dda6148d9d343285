"""An action two `wm serve`s away: wm -> relay (its account "upstream") -> team (over
moto). The relay's row of team's instance has the id team-a/ID there, quoted as one path
segment (`%2F`) in its href and in wm's requests."""

from __future__ import annotations

from pathlib import Path

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.test_cli import wm
from tests.aggregator_client.test_stale_rows import relaying
from tests.conftest import wait_until
from winged_monkey.cli.main import ExitCode

V1 = "/api/v1"


def test_a_stop_two_servers_away_reaches_the_cloud(team: RunningAggregator, tmp_path: Path) -> None:
    """The relay's routes matched the path decoded, where the id's `/` split it: a GET of
    the row answered 405 ('GET is not allowed on .../upstream/team-a/i-...; it takes POST')
    and `wm stop` said so and exited 1, nothing done. Now the row is read and stopped."""
    web = team.ids["team-a", "web"]
    with relaying(team, tmp_path / "relay", role="operator") as relay:
        token = relay.mint("opal", "operator")
        with relay.client(token) as client:
            relayed = f"team-a/{web}"
            wait_until(
                lambda: relayed in {r["id"] for r in client.get(f"{V1}/instances").json()},
                timeout=30,
            )
            one = client.get(f"{V1}/instances/upstream/team-a%2F{web}")
            assert one.status_code == 200, one.text
            assert one.json()["id"] == relayed
            assert one.json()["links"]["stop"]["href"].endswith(f"/team-a%2F{web}/stop")
        stopped = wm(tmp_path, relay.url, token, "stop", f"team/upstream/{relayed}", "--yes")
    assert stopped.exit_code == ExitCode.OK, stopped.output
    assert stopped.stdout.splitlines()[-1].endswith("ok: web stopped"), stopped.output
    assert team.cloud_state("team-a", "web") == "stopped"
