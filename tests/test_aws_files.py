"""AWS shared files and helpers as users bring them, told in `wm accounts test` as botocore
reads them: a credential_process that fails or prints something else than its JSON."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
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


def unreadable(path: Path) -> list[str]:
    """`path` made unreadable, and how to run a command that then cannot read it: root
    reads a mode-000 file, so as root the command runs without that power (setpriv)."""
    path.chmod(0)
    if os.geteuid() != 0:
        return []
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]


@pytest.mark.parametrize("which", ["credentials", "config"])
def test_an_unreadable_shared_file_is_named(cloud: Cloud, aws_files: Path, which: str) -> None:
    """botocore reads a file it cannot open as empty, in silence: wm said 'the profile has
    no credentials' or 'set region in the profile' of files that have them."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    config = cloud.tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "lab"\nprovider = "ec2"\ncredentials = { aws_profile = "lab" }\n'
    )
    path = aws_files / which
    wm = "import sys; from winged_monkey.cli.entry import main; sys.exit(main())"
    command = [*unreadable(path), sys.executable, "-c", wm]
    done = subprocess.run(
        [*command, "--config", str(config), "accounts", "test"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert (
        f"; {path} cannot be read (Permission denied), so botocore reads it as empty: let "
        f"this user read it (chmod 600 {path})\n"
    ) in done.stdout


def test_a_config_file_that_is_a_directory_is_named(cloud: Cloud, aws_files: Path) -> None:
    """AWS_CONFIG_FILE naming a folder (~/.aws): botocore reads nothing from it, and wm
    said only to set a region in that 'profile'."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    cloud.monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_files))
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(
        f"; {aws_files} is a directory, which botocore reads as empty: name the file\n"
    )


@pytest.mark.parametrize("where", ["profile", "AWS_CA_BUNDLE"])
def test_a_missing_ca_bundle_says_where_it_was_named(
    cloud: Cloud, aws_files: Path, where: str
) -> None:
    """wm said 'ca_bundle /etc/corp.pem: no such file' of a bundle the account does not
    name (its table has no ca_bundle): botocore read it from the profile or AWS_CA_BUNDLE."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    bundle = aws_files / "corp-ca.pem"
    line = f"ca_bundle = {bundle}\n" if where == "profile" else ""
    if where == "AWS_CA_BUNDLE":
        cloud.monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n{line}"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    told = {
        "profile": f"it is the ca_bundle of the AWS profile 'lab' in {aws_files / 'config'}: "
        "fix or remove it there",
        "AWS_CA_BUNDLE": "it is AWS_CA_BUNDLE's: fix or unset that variable",
    }[where]
    assert done.stdout == f"lab: FAILED: ca_bundle {bundle}: no such file; {told}\n"


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


def test_an_empty_aws_default_region_is_named_before_the_profiles_region(
    cloud: Cloud, aws_files: Path
) -> None:
    """`export AWS_DEFAULT_REGION=` (a script's empty default): botocore takes the empty
    value before the profile's region, and refuses as having none; wm said to set region
    in the profile, which has it."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    cloud.monkeypatch.setenv("AWS_DEFAULT_REGION", "")
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(
        "; AWS_DEFAULT_REGION is set but empty, and botocore reads it before the profile's "
        "region: unset it (unset AWS_DEFAULT_REGION) or give it the region\n"
    )
    cloud.monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert accounts_test(cloud, "lab").exit_code == 0


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


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_a_shared_file_variable_naming_no_file_is_named(
    cloud: Cloud, aws_files: Path, variable: str
) -> None:
    """AWS_CONFIG_FILE=~/.aws/confg: botocore reads a file that is not there as empty, and
    wm said to set region in the profile of ~/.aws/confg, or that the profile has no
    credentials, of a profile whose files have both."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    typo = aws_files / "confg"
    cloud.monkeypatch.setenv(variable, str(typo))
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(f"; {variable} names {typo}, which does not exist\n")


MOVE_IT = (
    "holds a space: botocore keeps a comment written after a value as part of it (# and ; "
    "start a comment only at the start of a line): move the comment to a line of its own\n"
)


@pytest.mark.parametrize("where", ["key", "endpoint_url", "region"])
def test_a_comment_after_a_value_is_named(cloud: Cloud, aws_files: Path, where: str) -> None:
    """`aws_access_key_id = AKIA... # work`: botocore keeps the comment in the value, as
    the aws CLI does. wm sent the key to EC2 (moto answered 500, wm blamed 'a proxy in
    the way'; AWS would refuse the signature), failed an endpoint_url as 'ec2: ValueError:
    Port could not be cast to integer value', and a region with botocore's words alone."""
    comment = {w: " # work" if w == where else "" for w in ("key", "endpoint_url", "region")}
    (aws_files / "credentials").write_text(
        f"[lab]\naws_access_key_id = AKIAX{comment['key']}\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1{comment['region']}\n"
        f"endpoint_url = {cloud.server.url}{comment['endpoint_url']}\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    said = {
        "key": "lab: FAILED: AWS profile lab (the shared credentials file): the access key id "
        "botocore read ",
        "endpoint_url": "lab: FAILED: AWS profile 'lab': EC2's endpoint botocore read ",
        "region": "lab: FAILED: AWS profile 'lab': the region botocore read ",
    }[where]
    assert said + MOVE_IT in done.stdout
    assert cloud.server.calls == []


@pytest.mark.parametrize(
    ("written", "told"),
    [
        (
            f"[lab]\naws_access_key_id = AKIAX\naws_secret_access_key {SECRET}\nregion\n",
            "lines 3, 4 are neither [section], key = value nor a # comment (not shown here: a "
            "line can hold a secret)",
        ),
        (
            "aws_access_key_id = AKIAX\n",
            "line 1 comes before any [section]: put it under its profile's [section]",
        ),
        (
            "\ufeff[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n",
            "it starts with a byte order mark (saved as 'UTF-8 with BOM'): save it as UTF-8 "
            "without one",
        ),
        (
            "[lab]\naws_access_key_id = AKIAX\n[lab]\naws_secret_access_key = s\n",
            "[lab] is there twice (line 3): merge the two",
        ),
        (
            "[lab]\naws_access_key_id = AKIAX\naws_access_key_id = AKIAY\n",
            "[lab] has aws_access_key_id twice (line 3): keep the one you mean",
        ),
    ],
    ids=["no-equals", "no-section", "bom", "section-twice", "key-twice"],
)
def test_a_shared_file_botocore_cannot_parse_says_where(
    cloud: Cloud, aws_files: Path, written: str, told: str
) -> None:
    """botocore says only 'Unable to parse config file: PATH' (the credentials file too),
    whatever is wrong: a line without '=', a key before any section, Windows Notepad's
    byte order mark, a section or key written twice. Which line, and what to do; never the
    line's text, which can be a secret."""
    (aws_files / "credentials").write_text(written, encoding="utf-8")
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout == (
        f"lab: FAILED: AWS profile 'lab': Unable to parse config file: "
        f"{aws_files / 'credentials'}; {told}\n"
    )


def test_a_shared_file_named_through_a_variable_is_found_as_botocore_finds_it(
    cloud: Cloud, aws_files: Path
) -> None:
    """AWS_CONFIG_FILE='$AWS_DIR/config' (quoted, so the shell left it): botocore expands
    the variable and reads the file; wm's note on the files said it named a file that does
    not exist."""
    (aws_files / "credentials").write_text("[other]\naws_access_key_id = AKIAX\n")
    (aws_files / "config").write_text("[profile lab]\nregion = us-east-1\n")
    cloud.monkeypatch.setenv("AWS_DIR", str(aws_files))
    cloud.monkeypatch.setenv("AWS_CONFIG_FILE", "$AWS_DIR/config")
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout == "lab: FAILED: AWS profile 'lab': the profile 'lab' has no credentials\n"


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
    ],
    ids=["tilde", "variable", "not-on-path"],
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


def test_the_import_says_where_a_shared_file_cannot_be_parsed(
    cloud: Cloud, aws_files: Path
) -> None:
    """`wm accounts import --aws` said botocore's 'Unable to parse config file: PATH' and
    'fix its syntax' of a file saved by Notepad, whose syntax is right."""
    (aws_files / "config").write_text("\ufeff[profile lab]\nregion = us-east-1\n")
    config = cloud.tmp_path / "imported.toml"
    done = CliRunner().invoke(main, ["--config", str(config), "accounts", "import", "--aws"])
    assert done.exit_code == 3, done.output
    assert (
        f"wm: Unable to parse config file: {aws_files / 'config'}; it starts with a byte order "
        "mark (saved as 'UTF-8 with BOM'): save it as UTF-8 without one; nothing imported"
    ) in done.stderr


@pytest.mark.parametrize("under", ["region", "aws_access_key_id"])
def test_an_indented_line_that_continues_a_value_is_named_never_shown(
    cloud: Cloud, aws_files: Path, under: str
) -> None:
    """An indented line continues the value above it (configparser, as botocore reads the
    files): the secret indented under the region became part of the region, which
    botocore's refusal printed ('Provided region_name 'us-east-1\\naws_secret_access_key =
    ...''); under the key id, wm said the secret was missing, of a file that has it."""
    (aws_files / "credentials").write_text(
        f"[lab]\naws_access_key_id = AKIAX\n  aws_secret_access_key = {SECRET}\n"
        if under == "aws_access_key_id"
        else "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile lab]\nregion = us-east-1\n  aws_secret_access_key = {SECRET}\n"
        if under == "region"
        else "[profile lab]\nregion = us-east-1\n"
    )
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    told = (
        " runs on to the line after it, which is indented (an indented line continues the "
        "value above it): unindent that line\n"
    )
    assert done.stdout.endswith(
        f"the region botocore read{told}" if under == "region" else f"its {under}{told}"
    )
    assert SECRET not in done.output


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


def test_a_region_only_under_default_is_named_for_another_profile(
    cloud: Cloud, aws_files: Path
) -> None:
    """region under [default] only, the account naming another profile: botocore reads no
    region for it, and wm said to set region in the profile of a file that has one."""
    (aws_files / "credentials").write_text(
        "[lab]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text("[default]\nregion = eu-west-1\n[profile lab]\n")
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(
        "; [default] has region = eu-west-1, which botocore does not read for another "
        "profile: copy it into the profile 'lab'\n"
    )
