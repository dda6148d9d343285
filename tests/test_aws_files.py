"""The AWS shared files as users bring them, told in `wm accounts test` as botocore reads
them: unreadable or missing, a directory, unparsable, a comment or an indented line after
a value, a region botocore does not read, a CA bundle named elsewhere. What is wrong and
what to do, naming the account; never a line that can hold a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aws_profiles import SECRET, accounts_test
from tests.conftest import Cloud
from winged_monkey.cli.main import main


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


def test_an_empty_profile_variable_is_named_not_the_one_after_it(
    cloud: Cloud, aws_files: Path
) -> None:
    """`export AWS_DEFAULT_PROFILE=` beside AWS_PROFILE=dev: botocore takes the empty value
    (it reads AWS_DEFAULT_PROFILE first) and finds no profile ''; wm said 'AWS_PROFILE=dev
    names it; did you mean 'dev'?', blaming the variable that was right, and nothing of an
    empty AWS_PROFILE alone."""
    (aws_files / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"
    )
    (aws_files / "config").write_text(
        f"[profile dev]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    config = cloud.tmp_path / "wm.toml"
    config.write_text('[[accounts]]\nname = "lab"\nprovider = "ec2"\n')

    def test() -> str:
        done = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
        assert "Traceback" not in done.output
        return done.stdout

    cloud.monkeypatch.setenv("AWS_DEFAULT_PROFILE", "")
    cloud.monkeypatch.setenv("AWS_PROFILE", "dev")
    assert test().endswith(
        "The config profile () could not be found; AWS_DEFAULT_PROFILE is set but empty, "
        "and botocore reads it before AWS_PROFILE=dev: unset it (unset AWS_DEFAULT_PROFILE)\n"
    )
    cloud.monkeypatch.delenv("AWS_DEFAULT_PROFILE")
    cloud.monkeypatch.setenv("AWS_PROFILE", "")
    assert test().endswith(
        "The config profile () could not be found; AWS_PROFILE is set but empty, and "
        "botocore reads it as the profile's name: unset it (unset AWS_PROFILE)\n"
    )
    cloud.monkeypatch.setenv("AWS_PROFILE", "dev")
    assert test().startswith("lab: ok")


@pytest.mark.parametrize(
    ("profile", "told"),
    [
        (
            "aws_account_id = 111122223333\nregion = us-east-1\n",
            "the profile 'lab' has no credentials",
        ),
        ("sso_region = us-east-1\nregion = us-east-1\n", "the profile 'lab' has no credentials"),
        (
            "aws_access_key_id = AKIAX\naws_secret_access_key = s\nsso_region = us-east-1\n",
            "or AWS_DEFAULT_REGION",
        ),
    ],
    ids=["aws_account_id", "sso_region", "sso_region-and-no-region"],
)
def test_keys_botocore_reads_are_never_called_typos(
    cloud: Cloud, aws_files: Path, profile: str, told: str
) -> None:
    """`aws_account_id` or `sso_region` in a profile with no credentials (or no region):
    wm said 'its aws_account_id is not a key botocore reads: sso_account_id?' (or
    'sso_region ...: region?') of keys botocore and the aws CLI read, sending the user to
    rename a right one. A real near miss is still named."""
    (aws_files / "credentials").write_text("")
    (aws_files / "config").write_text(f"[profile lab]\n{profile}")
    done = accounts_test(cloud, "lab")
    assert done.exit_code == 3, done.output
    assert done.stdout.endswith(f"{told}\n"), done.stdout
    region = "region" in (line.split(" =")[0] for line in profile.splitlines())
    typo, near = ("rolearn", "role_arn") if region else ("regoin", "region")
    (aws_files / "config").write_text(f"[profile lab]\n{profile}{typo} = x\n")
    assert f"its {typo} is not a key botocore reads: {near}?" in accounts_test(cloud, "lab").stdout


def test_every_key_botocores_config_reads_is_known_to_the_typo_hint() -> None:
    """The keys botocore's configprovider reads (its table, named with a typo, kept under
    either spelling) are all in aws_hints' lists: a botocore that reads a new key is seen
    here, not as a user's key called a typo."""
    import botocore.configprovider as provider

    from winged_monkey import aws_hints

    tables = [
        getattr(provider, name)
        for name in (
            "BOTOCORE_DEFAUT_SESSION_VARIABLES",
            "BOTOCORE_DEFAULT_SESSION_VARIABLES",
            "DEFAULT_S3_CONFIG_VARS",
            "DEFAULT_PROXIES_CONFIG_VARS",
        )
        if hasattr(provider, name)
    ]
    assert len(tables) == 3
    keys: set[str] = set()
    for table in tables:
        for where, *_ in table.values():
            keys.update([where] if isinstance(where, str) else where[:1] if where else [])
    assert keys - {*aws_hints.READ_KEYS, *aws_hints.CREDENTIAL_KEYS} == set()


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


def test_set_secret_names_a_profile_with_a_space_as_the_shell_takes_it(
    cloud: Cloud, aws_files: Path
) -> None:
    """`wm accounts set-secret` of an AWS profile account says to use `aws configure
    --profile NAME`; of the profile "qa team" it said `aws configure --profile qa team`,
    which the shell passes as a profile 'qa' and a stray word."""
    config = cloud.tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "qa"\nprovider = "ec2"\ncredentials = { aws_profile = "qa team" }\n'
    )
    done = CliRunner().invoke(main, ["--config", str(config), "accounts", "set-secret", "qa"])
    assert done.exit_code == 3, done.output
    assert "set them with `aws configure --profile 'qa team'`" in done.stderr
