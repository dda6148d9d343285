"""An aggregator url whose path is not the server's (`…:8780/api/v1`, a reverse proxy's
prefix left out): a real `wm serve` answers 404 to every request, and that is said as the
url's mistake (a config error, exit 3), not as a thing the aggregator lacks."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from tests.aggregator.server import RunningAggregator
from winged_monkey.cli.main import ExitCode, main


def wm(tmp_path: Path, url: str, token: str, *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "team"\nbackend = "aggregator"\nurl = "{url}"\n'
        'credentials = { keyring = false, secret_env = "WM_TEAM_TOKEN" }\n',
        encoding="utf-8",
    )
    return CliRunner().invoke(main, ["--config", str(config), *args], env={"WM_TEAM_TOKEN": token})


def test_a_url_with_the_apis_path_is_said_to_point_at_no_wm_serve(
    team: RunningAggregator, tmp_path: Path
) -> None:
    token = team.mint("vera", "viewer")
    url = f"{team.url}/api/v1"
    for args in (("ls",), ("accounts", "test")):
        done = wm(tmp_path, url, token, *args)
        assert done.exit_code == ExitCode.CONFIG, done.output
        assert f"no wm serve at {url} (404 on /api/v1/api/v1/" in done.output
        assert "check the account's url (the server's address, without /api/v1)" in done.output
        assert "has no such thing" not in done.output
        assert token not in done.output
    # The server's own address still lists.
    assert wm(tmp_path, team.url, token, "ls").exit_code == 0
