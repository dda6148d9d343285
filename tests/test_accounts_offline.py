"""`wm accounts` asks each account's backend what it can tell is wrong without a network call
(`BackendSettings.check_offline`): a libcloud provider libcloud does not know is said in the
words `wm ls` has for it, the other accounts still list, and `wm accounts` exits 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main
from winged_monkey_libcloud.settings import LibcloudSettings

ACCOUNTS = """\
[[accounts]]
name = "good"
provider = "EC2"
region = "us-east-1"
credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_UNSET" }

[[accounts]]
name = "typo"
provider = "openstak"

[[accounts]]
name = "made-up"
provider = "nosuchcloud"

[[accounts]]
name = "stacks"
backend = "heat"
endpoint_url = "http://127.0.0.1:9/v1"
project = "p"
"""


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "wm.toml"
    path.write_text(ACCOUNTS)
    return path


def test_a_provider_libcloud_does_not_know_is_said_as_wm_ls_says_it(config: Path) -> None:
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    rows = {row[0]: " ".join(row[1:]) for row in map(str.split, listed.stdout.splitlines()[1:])}
    assert rows == {  # every account still listed; "EC2" is ec2; heat checks nothing
        "good": "libcloud EC2 us-east-1",
        "typo": "libcloud openstak config refused (below)",
        "made-up": "libcloud nosuchcloud config refused (below)",
        "stacks": "heat",
    }
    said = listed.stderr.splitlines()
    assert len(said) == 3, said
    assert said[0] == "wm: typo: unknown libcloud provider 'openstak'; did you mean openstack?"
    # the close names for it depend on libcloud's version
    assert said[1].startswith("wm: made-up: unknown libcloud provider 'nosuchcloud'; did you ")
    assert said[2] == f"wm: an account's config or credentials are wrong (config: {config})"
    # The very lines `wm ls` prints for them when it builds their backends.
    ls = wm(config, "ls")
    assert ls.exit_code == ExitCode.CONFIG, ls.output
    assert said[0] in ls.stderr.splitlines()
    assert said[1] in ls.stderr.splitlines()


def test_a_check_that_breaks_is_said_for_its_account_not_as_a_traceback(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin whose check fails on its own (its library half installed) fails the
    accounts it checks, in words; the listing is still printed."""

    def broken(account: object) -> None:
        raise ModuleNotFoundError("No module named 'libcloud.compute.providers'")

    monkeypatch.setattr(LibcloudSettings, "check_offline", broken)
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert len(listed.stdout.splitlines()) == 5
    assert (
        "wm: good: backend 'libcloud''s offline check failed (unexpected ModuleNotFoundError: "
        "No module named 'libcloud.compute.providers')"
    ) in listed.stderr.splitlines()
    assert "Traceback" not in listed.output
