"""AWS credential helpers as users bring them, told as botocore runs them: a
credential_process that fails, prints no JSON or is not found, an MFA role with no
terminal, SSO with no token, instance metadata off EC2; keys rewritten while wm runs; a
profile's secret echoed by a provider."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aws_profiles import SECRET, accounts_test
from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.cli.main import main


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


def test_an_mfa_role_with_no_terminal_to_ask_on_says_so(cloud: Cloud, aws_files: Path) -> None:
    """`wm ls` in a pipe or from cron: nothing was asked, and wm said the role needs an MFA
    code 'and none was given', as if the user had left the question unanswered."""
    (aws_files / "credentials").write_text(
        "[base]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        "[profile lab]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = base\n"
        f"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(
        "the profile's role needs an MFA code (mfa_serial), and wm has no terminal to ask "
        "for it on (its input is not one, or it is wm serve): run it on a terminal, or name "
        "a profile without mfa_serial\n"
    )
    assert cloud.server.calls == []


SSO = (
    "sso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n"
    "region = us-east-1\n[sso-session corp]\nsso_start_url = https://corp.example/start\n"
    "sso_region = us-east-1\n"
)


@pytest.mark.parametrize(
    ("section", "account", "login"),
    [
        ('[profile "qa team"]', "qa team", "aws sso login --profile 'qa team'"),
        ("[profile corp]", None, "aws sso login --profile corp"),
        (
            "[profile ops]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = corp\n"
            "region = us-east-1\n[profile corp]",
            "ops",
            "aws sso login --profile corp",
        ),
    ],
    ids=["a-name-with-a-space", "AWS_PROFILE", "a-role-on-sso"],
)
def test_sso_with_no_token_gives_a_login_command_that_works(
    cloud: Cloud, aws_files: Path, section: str, account: str | None, login: str
) -> None:
    """wm said `aws sso login --profile qa team` (the shell reads two words and a profile
    'qa'), and to an account on the default chain with AWS_PROFILE=corp `aws sso login`,
    which logs in the default profile from a shell without that variable (another tmux
    pane); of a role whose source_profile signs in with SSO, `aws sso login --profile ops`,
    which the aws CLI refuses (it does not follow source_profile to the SSO settings)."""
    (aws_files / "config").write_text(f"{section}\n{SSO}")
    config = cloud.tmp_path / "wm.toml"
    credentials = f'credentials = {{ aws_profile = "{account}" }}\n' if account else ""
    config.write_text(f'[[accounts]]\nname = "lab"\nprovider = "ec2"\n{credentials}')
    if account is None:
        cloud.monkeypatch.setenv("AWS_PROFILE", "corp")
    done = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(f"; log in to SSO first: {login}\n")


@pytest.mark.parametrize("metadata", ["disabled", "none-on-this-host"])
def test_a_role_sourced_from_instance_metadata_off_ec2_says_what_to_name(
    cloud: Cloud, aws_files: Path, metadata: str
) -> None:
    """credential_source = Ec2InstanceMetadata, copied from a bastion's config to a laptop:
    botocore's 'No credentials found in credential_source referenced in profile lab' was
    all wm said. (No request leaves loopback: the metadata endpoint is a closed port.)"""
    if metadata == "none-on-this-host":
        cloud.monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
        cloud.monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/")
    (aws_files / "config").write_text(
        "[profile lab]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
        "credential_source = Ec2InstanceMetadata\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    why = {
        "disabled": "AWS_EC2_METADATA_DISABLED is set",
        "none-on-this-host": "it answers only on an EC2 instance with an instance profile",
    }[metadata]
    assert done.stdout.endswith(
        f"; this host's instance metadata gave no role credentials ({why}): on another host, "
        "name source_profile or credential_source = Environment instead\n"
    )


async def test_new_keys_written_to_the_credentials_file_are_used_while_wm_runs(
    cloud: Cloud, aws_files: Path
) -> None:
    """saml2aws, gimme-aws-creds or `aws configure` write new keys into ~/.aws/credentials
    (temporary ones, every hour): each aws CLI command reads them. The TUI and wm serve
    kept signing with the keys read at start, refused once they expired, until restarted."""
    from tests.aws_profiles import listed, profile_account

    def keys(key: str) -> None:
        (aws_files / "credentials").write_text(
            f"[lab]\naws_access_key_id = {key}\naws_secret_access_key = s\naws_session_token = t\n"
        )

    keys("ASIAFIRST00000000001")
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("lab", "lab"))
    try:
        await listed(portal, "lab")
        keys("ASIASECOND0000000002")
        cloud.server.clear_calls()
        await listed(portal, "lab")
        assert {c.access_key for c in cloud.server.calls} == {"ASIASECOND0000000002"}
    finally:
        await portal.close()


async def test_a_roles_source_keys_rewritten_in_the_credentials_file_sign_its_renewals(
    cloud: Cloud, aws_files: Path
) -> None:
    """saml2aws or gimme-aws-creds write new keys under a role's source_profile: each aws
    CLI command assumes the role with them. wm's renewals of the role kept signing with the
    source keys read at start (botocore's role provider holds them), refused once those
    expired, until wm was restarted."""
    from tests.aws_profiles import ROLE, listed, profile_account, role_instance

    def keys(key: str, token: str) -> None:
        (aws_files / "credentials").write_text(
            f"[saml]\naws_access_key_id = {key}\naws_secret_access_key = s\n"
            f"aws_session_token = {token}\n"
        )

    role_instance(cloud, "in-the-role-account")
    keys("ASIAFIRST00000000001", "first")
    # 900 s is inside botocore's 15-minute advisory window: each use assumes the role anew.
    (aws_files / "config").write_text(
        f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = saml\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\nduration_seconds = 900\n"
    )
    portal = cloud.portal(profile_account("admin", "admin"))
    try:
        assert await listed(portal, "admin") == {"in-the-role-account"}
        keys("ASIASECOND0000000002", "the-second-token")
        cloud.server.clear_calls()
        assert await listed(portal, "admin") == {"in-the-role-account"}
        signed = {c.access_key for c in cloud.server.calls if c.action == "AssumeRole"}
        assert signed == {"ASIASECOND0000000002"}
    finally:
        await portal.close()


@pytest.mark.parametrize(
    ("command", "told"),
    [
        (
            "~/bin/aws-creds --account prod",
            "~/bin/aws-creds is not there (botocore runs the command without a shell, so ~ "
            "and $VARIABLES stay as written): write the full path",
        ),
        (
            "$HOME/bin/aws-creds",
            "$HOME/bin/aws-creds is not there (botocore runs the command without a shell, so "
            "~ and $VARIABLES stay as written): write the full path",
        ),
        (
            "aws-creds-nowhere",
            "aws-creds-nowhere is not there: check the path, or put the program on PATH",
        ),
        (
            '"/opt/my tools/aws-creds" --account prod',
            "/opt/my tools/aws-creds is not there: check the path, or put the program on PATH",
        ),
        (
            '"/opt/my tools/aws-creds --account prod',
            "the command cannot be split as a shell would (No closing quotation): close its quote",
        ),
    ],
    ids=["tilde", "variable", "not-on-path", "quoted-with-a-space", "unclosed-quote"],
)
def test_a_credential_process_not_found_says_why(
    cloud: Cloud, aws_files: Path, command: str, told: str
) -> None:
    """`credential_process = ~/bin/aws-creds` runs in a shell the user tries it in, and
    not under botocore, which starts it without one: wm said '[Errno 2] No such file or
    directory: '~/bin/aws-creds'' of a file that is there."""
    home = Path(os.environ["HOME"])
    (home / "bin").mkdir()
    (home / "bin" / "aws-creds").write_text("#!/bin/sh\necho '{}'\n")
    (home / "bin" / "aws-creds").chmod(0o755)
    (aws_files / "config").write_text(
        f"[profile lab]\ncredential_process = {command}\nregion = us-east-1\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout == (
        "lab: FAILED: AWS profile 'lab': Error when retrieving credentials from "
        f"custom-process: {told}\n"
    )


async def test_a_provider_echoing_a_profiles_secret_is_masked(
    cloud: Cloud,
    aws_files: Path,
    fault_proxy: Callable[[int], FaultProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The engine masks an account's secret out of what a provider echoes (test_masking):
    an AWS profile's secret and session token, which botocore holds, were not among the
    values masked, so an endpoint quoting them in an error showed them."""
    from tests.aws_profiles import profile_account

    caplog.set_level(logging.DEBUG)
    proxy = fault_proxy(cloud.server.port)
    token = "FwoGZXIvYXdzEXAMPLEtokenCANARY"
    proxy.fault = Fault(
        "status",
        status=500,
        body=(
            "<Response><Errors><Error><Code>InternalError</Code><Message>signature for "
            f"{SECRET} with {token} failed</Message></Error></Errors></Response>"
        ).encode(),
    )
    (aws_files / "credentials").write_text(
        f"[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = {SECRET}\n"
        f"aws_session_token = {token}\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {proxy.url}\n"
    )
    portal = cloud.portal(profile_account("lab", "lab"))
    try:
        statuses = [u.status async for u in portal.refresh(["lab"])]
    finally:
        await portal.close()
    (status,) = [s for s in statuses if s.phase == "failed"]
    assert "HTTP 500" in (status.error or ""), status.error
    shown = " ".join(s.error or "" for s in statuses) + caplog.text
    assert SECRET not in shown
    assert token not in shown
