"""An account that needs a key and names none is told what the key is for its backend (a
vSphere user name), and `aws_profile` only where the config accepts one (EC2): every
backend was told 'no key id configured: set credentials.key or key_env, or aws_profile',
and an aws_profile anywhere else is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.main import ExitCode, main

SECRET = "Canary-secret-8c1f"
NO_KEY = 'credentials = { keyring = false, secret_env = "WM_TEST_MISSING_KEY_SECRET" }'
CONFIG = f"""\
[[accounts]]
name = "good"
provider = "libvirt"
driver = {{ uri = "test:///default" }}

[[accounts]]
name = "vc"
backend = "vsphere"
endpoint = {{ host = "127.0.0.1", port = 1 }}
{NO_KEY}

[[accounts]]
name = "do"
provider = "digitalocean"
{NO_KEY}

[[accounts]]
name = "aws"
provider = "ec2"
region = "us-east-1"
{NO_KEY}
"""


def test_a_missing_key_is_named_as_the_backend_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_TEST_MISSING_KEY_SECRET", SECRET)
    path = tmp_path / "wm.toml"
    path.write_text(CONFIG)
    result = CliRunner().invoke(main, ["--config", str(path), "ls"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    said = sorted(line for line in result.stderr.splitlines() if line.startswith("wm: "))
    assert said == [
        f"wm: an account's config or credentials are wrong (config: {path})",
        "wm: aws: no key id configured: set credentials.key or key_env, or aws_profile",
        "wm: do: no key id configured: set credentials.key or key_env",
        "wm: vc: no user name configured: set credentials.key or key_env",
    ]
    assert "good" in result.stdout  # the libvirt account still listed
    assert SECRET not in result.output
