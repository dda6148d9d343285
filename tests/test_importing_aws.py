"""`wm accounts import --aws`: AWS profiles become accounts that name the profile only,
and list from moto as the profile says (its role, region and endpoint_url)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cloud
from winged_monkey.cli.main import main
from winged_monkey.demo.seed import DEV_KEY, DEV_SECRET

ROLE = "arn:aws:iam::111111111111:role/portal"


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def test_aws_profiles_are_imported_and_listed(cloud: Cloud, tmp_path: Path) -> None:
    creds = cloud.assume_role(ROLE)
    ec2 = cloud.ec2(key=creds["key"], secret=creds["secret"], token=creds["token"])
    cloud.launch(ec2, "in-the-role-account")
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws / "config").write_text(
        f"[profile ops]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    cloud.monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    cloud.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    cloud.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = tmp_path / "config.toml"

    missing = wm(config, "accounts", "import", "--aws", "--profile", "opps")
    assert missing.exit_code == 3
    assert "no AWS profile 'opps'" in missing.output
    assert "(did you mean 'ops'?); they have: base, ops; nothing imported" in missing.output
    assert not config.exists()

    done = wm(config, "accounts", "import", "--aws", "--profile", "ops", "--name", "team-ops")
    assert done.exit_code == 0, done.output
    assert "team-ops: added to" in done.output
    (table,) = tomllib.loads(config.read_text())["accounts"]
    assert table == {"name": "team-ops", "provider": "ec2", "credentials": {"aws_profile": "ops"}}
    assert DEV_SECRET not in config.read_text()

    listing = wm(config, "ls", "--json")
    assert listing.exit_code == 0, listing.output
    assert '"name": "in-the-role-account"' in listing.output

    everything = wm(tmp_path / "all.toml", "accounts", "import", "--aws")
    assert everything.exit_code == 0, everything.output
    assert "base: note: the profile names no region" in everything.output


def test_two_profiles_that_make_one_account_name_say_both_and_how_to_import_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        '[profile "qa team"]\nregion = eu-west-1\n[profile qa-team]\nregion = eu-west-1\n'
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    config = tmp_path / "config.toml"

    both = wm(config, "accounts", "import", "--aws")
    assert both.exit_code == 3
    said = " ".join(both.output.split())
    assert "would both be the account qa-team; nothing imported" in said, said
    assert "'qa team'" in said
    assert "'qa-team'" in said
    assert "--cloud or --profile with --name" in said
    assert not config.exists()

    one = wm(config, "accounts", "import", "--aws", "--profile", "qa team", "--name", "qa-2")
    assert one.exit_code == 0, one.output


def test_a_profile_without_keys_says_the_environments_keys_go_unread(
    cloud: Cloud, tmp_path: Path
) -> None:
    """`[default]` with a region only, the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY:
    the account names the profile, and botocore reads no environment keys for a named
    profile. The import said nothing, and `wm accounts test` only 'the profile 'default'
    has no credentials', of keys the aws CLI uses."""
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        f"[default]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    cloud.monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    cloud.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    cloud.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    cloud.monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEV_KEY)
    cloud.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEV_SECRET)
    config = tmp_path / "config.toml"
    unread = (
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set, but botocore does not read "
        "them for an account that names a profile: to use them, remove aws_profile from "
        "the account (botocore's default chain reads them first), or put keys in the profile"
    )

    done = wm(config, "accounts", "import", "--aws")
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"default: note: the profile holds no credentials; {unread}" in said, said

    tested = wm(config, "accounts", "test")
    assert tested.exit_code == 3, tested.output
    said = " ".join(tested.output.split())
    assert f"the profile 'default' has no credentials; {unread}" in said, said
    assert DEV_SECRET not in tested.output + done.output


def test_a_profile_that_makes_no_account_name_is_refused_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[profile 開発]` beside `[profile dev]`: the one name that makes no account name
    stopped the whole import (exit 3, dev not imported either); a clouds.yaml import
    refuses such a cloud and imports the others."""
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[profile 開発]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    config = tmp_path / "config.toml"
    alone = "wm accounts import --aws --profile '開発' --name NAME"

    done = wm(config, "accounts", "import", "--aws")
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert (
        "wm: 開発: not imported: AWS profile '開発': cannot make an account name from it "
        f"(letters, digits, _.-): import it alone, named: {alone}" in said
    ), said
    assert "dev: added to" in said
    assert "1 profile(s) not imported (see above)" in said
    assert [a["name"] for a in tomllib.loads(config.read_text())["accounts"]] == ["dev"]

    asked = wm(tmp_path / "one.toml", "accounts", "import", "--aws", "--profile", "開発")
    assert asked.exit_code == 3, asked.output  # what was asked for cannot be done
    assert "nothing imported" in asked.output
    assert not (tmp_path / "one.toml").exists()

    named = wm(
        tmp_path / "one.toml", "accounts", "import", "--aws", "--profile", "開発", "--name", "kai"
    )
    assert named.exit_code == 0, named.output
    assert "kai: added to" in named.output


def test_a_profile_name_with_a_space_left_unquoted_is_told_how_to_quote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore skips `[profile qa team]`; asked for "qa team", the import said only that
    there was no such profile."""
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text("[profile qa team]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    config = tmp_path / "config.toml"
    done = wm(config, "accounts", "import", "--aws", "--profile", "qa team")
    assert done.exit_code == 3, done.output
    assert (
        f"{aws / 'config'} has [profile qa team], which botocore skips (it splits the name as "
        'a shell would): write [profile "qa team"]; nothing imported'
    ) in " ".join(done.output.split())
    assert not config.exists()
