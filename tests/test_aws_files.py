"""AWS shared files and helpers as users bring them, told in `wm accounts test` as botocore
reads them: a credential_process that fails or prints something else than its JSON."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cloud
from winged_monkey.cli.main import main

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"


def accounts_test(cloud: Cloud, profile: str) -> Result:
    """`wm accounts test` of one account naming `profile`, as a user runs it."""
    config = cloud.tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "lab"\nprovider = "ec2"\n'
        f'credentials = {{ aws_profile = "{profile}" }}\n'
    )
    done = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert "Traceback" not in done.output
    return done


def helper(aws_files: Path, body: str) -> str:
    script = aws_files / "helper.py"
    script.write_text(body)
    return f"{sys.executable} {script}"


def test_a_failing_credential_process_never_shows_its_stderr(
    cloud: Cloud, aws_files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """botocore puts a failing command's stderr in its error; a helper's debug output there
    can be the secret itself, and wm showed it (and logged it, and wm serve sent it)."""
    caplog.set_level(logging.DEBUG)
    command = helper(
        aws_files,
        f"import sys\nprint('vault: token expired, secret={SECRET}', file=sys.stderr)\n"
        "sys.exit(2)\n",
    )
    (aws_files / "config").write_text(
        f"[profile vault]\ncredential_process = {command}\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    done = accounts_test(cloud, "vault")
    assert done.exit_code == 3, done.output
    assert (
        f"lab: FAILED: AWS profile 'vault': Error when retrieving credentials from "
        f"custom-process: {sys.executable} exited with status 2 (what it wrote on stderr is "
        "not shown: it can hold a secret); run it in a shell to see why\n"
    ) in done.stdout
    assert SECRET not in done.output + caplog.text


@pytest.mark.parametrize(
    "printed",
    [f"Welcome to the vault! {SECRET}", "[1, 2]", f'{{"Version": 1, "SecretAccessKey": "{SECRET}"'],
    ids=["banner", "a-list", "cut-short"],
)
def test_a_credential_process_printing_no_json_object_says_what_it_must_print(
    cloud: Cloud, aws_files: Path, printed: str
) -> None:
    """wm said json's bare 'Expecting value: line 1 column 1 (char 0)', or "'list' object
    has no attribute 'get'", naming neither the command nor what it should print."""
    command = helper(aws_files, f"print({printed!r})\n")
    (aws_files / "config").write_text(
        f"[profile junk]\ncredential_process = {command}\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    done = accounts_test(cloud, "junk")
    assert done.exit_code == 3, done.output
    said = done.stdout
    assert said.startswith(
        "lab: FAILED: AWS profile 'junk': Error when retrieving credentials from "
        f"custom-process: {sys.executable} printed no JSON credentials ("
    )
    assert (
        'it must print only {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...} on '
        "stdout; run it in a shell to see what it prints\n"
    ) in said
    assert SECRET not in done.output
