"""`wm ls` and `wm stop` with an aggregator account in the config, against the real server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.aggregator.server import RunningAggregator
from winged_monkey.cli.main import main


def wm(tmp_path: Path, url: str, token: str, *args: str) -> Result:
    """`wm ARGS` with one account: the aggregator at `url`, the token in an env var."""
    config = tmp_path / "wm.toml"
    config.write_text(
        "[[accounts]]\n"
        'name = "team"\nbackend = "aggregator"\n'
        f'url = "{url}"\n'
        'credentials = { keyring = false, secret_env = "WM_TEAM_TOKEN" }\n',
        encoding="utf-8",
    )
    env = {
        "WM_CONFIG": str(config),
        "WM_DATA_DIR": str(tmp_path / "data"),
        "WM_TEAM_TOKEN": token,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_ls_and_stop_as_viewer_then_operator(team: RunningAggregator, tmp_path: Path) -> None:
    viewer = team.mint("vera", "viewer", pool="alpha")
    listed = wm(tmp_path, team.url, viewer, "ls", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {i["name"]: i for i in json.loads(listed.stdout)["instances"]}
    assert sorted(rows) == ["batch", "web"]
    web = f"team/team-a/{team.ids['team-a', 'web']}"
    assert rows["web"]["id"] == web.removeprefix("team/")
    assert (rows["web"]["account"], rows["web"]["source_account"]) == ("team", "team-a")

    # The table names the team's account a row is on, not only the aggregator's.
    table = wm(tmp_path, team.url, viewer, "ls").stdout.splitlines()
    assert [line.split()[3] for line in table[1:]] == ["team/team-a", "team/team-a"], table

    refused = wm(tmp_path, team.url, viewer, "stop", web, "--yes")
    assert refused.exit_code != 0
    assert "your token on the aggregator is a viewer's (read only)" in refused.output
    assert team.cloud_state("team-a", "web") == "running"

    operator = team.mint("olga", "operator", pool="alpha")
    stopped = wm(tmp_path, team.url, operator, "stop", web, "--yes")
    assert stopped.exit_code == 0, stopped.output
    assert team.cloud_state("team-a", "web") == "stopped"
