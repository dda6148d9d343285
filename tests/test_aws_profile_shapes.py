"""AWS profiles shaped as users write them, read as botocore reads them, against the real
moto server: names with a space or a dot, FIPS pseudo-regions, a silent STS, and the
import's notes on a profile without a region."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aws_profiles import ROLE, listed, profile_account
from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.cli.main import main
from winged_monkey.demo.seed import DEV_KEY, DEV_SECRET
from winged_monkey.errors import CredentialError
from winged_monkey.user.credentials import CredentialResolver


def keys(*profiles: str) -> str:
    return "".join(
        f"[{p}]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
        for p in profiles
    )


async def test_profile_names_with_a_space_or_a_dot(cloud: Cloud, aws_files: Path) -> None:
    """botocore splits a config section's name as a shell would: `[profile qa team]` is
    three words and skipped, with its region and endpoint; `[profile "qa team"]` is read.
    The credentials file takes `[qa team]` as written. wm had said only "set region in the
    profile", which the user had done."""
    cloud.launch(cloud.ec2(), "qa-box")
    cloud.server.clear_calls()
    (aws_files / "credentials").write_text(keys("qa team", "dev.eu"))
    (aws_files / "config").write_text(
        f"[profile qa team]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    with pytest.raises(CredentialError) as refused:
        CredentialResolver().resolve(profile_account("qa", "qa team"))
    assert str(refused.value).startswith("qa: AWS profile 'qa team': no region")
    assert str(refused.value).endswith(
        f"; {aws_files / 'config'} has [profile qa team], which botocore skips (it splits "
        'the name as a shell would): write [profile "qa team"]'
    )
    assert cloud.server.calls == []

    (aws_files / "config").write_text(
        f'[profile "qa team"]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n'
        f"[profile dev.eu]\nregion = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("qa", "qa team"), profile_account("dev", "dev.eu"))
    try:
        assert "qa-box" in await listed(portal, "qa")
        assert "qa-box" in await listed(portal, "dev")
    finally:
        await portal.close()


def test_import_says_why_a_profile_has_no_region(cloud: Cloud, aws_files: Path) -> None:
    """The import's note follows botocore: a section it skips is named with the fix, and a
    region that comes only from AWS_DEFAULT_REGION is said to hold only while it is set."""
    (aws_files / "credentials").write_text(keys("qa team", "plain"))
    (aws_files / "config").write_text("[profile qa team]\nregion = us-east-1\n")
    cloud.monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    config = cloud.tmp_path / "imported.toml"
    done = CliRunner().invoke(
        main, ["--config", str(config), "accounts", "import", "--aws"], catch_exceptions=False
    )
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert (
        "plain: note: the profile names no region; AWS_DEFAULT_REGION (eu-west-1) gives it "
        "while it is set: set region in the account or the profile" in said
    )
    cloud.monkeypatch.delenv("AWS_DEFAULT_REGION")
    again = CliRunner().invoke(
        main,
        ["--config", str(cloud.tmp_path / "again.toml"), "accounts", "import", "--aws"],
        catch_exceptions=False,
    )
    said = " ".join(again.output.split())
    assert (
        f"qa-team: note: the profile names no region: set region in the account or the "
        f"profile; {aws_files / 'config'} has [profile qa team], which botocore skips" in said
    )


def test_a_silent_sts_is_given_up_on_at_the_accounts_timeout(
    cloud: Cloud, aws_files: Path, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """STS takes the request and never answers. botocore waits 60 s per attempt by default
    (3 minutes with its retries), outside any deadline of wm's: the account's row, `wm ls`
    and leaving the program all waited. Each attempt now waits the account's timeout, and
    the profile's max_attempts is still botocore's."""
    import threading

    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("hang")
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[profile slow]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        f"endpoint_url = {proxy.url}\nmax_attempts = 1\n"
    )
    account = profile_account("slow", "slow").model_copy(update={"timeout": 1.0})
    refused: list[BaseException] = []

    def resolve() -> None:
        try:
            CredentialResolver().resolve(account)
        except CredentialError as exc:
            refused.append(exc)

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(timeout=15)
    assert not worker.is_alive(), "still waiting on STS after 15 s"
    (told,) = refused
    assert str(told).startswith("slow: AWS profile slow (an assumed role): botocore could not ")
    assert f'Read timeout on endpoint URL: "{proxy.url}' in str(told)


@pytest.mark.parametrize("region", ["fips-us-east-1", "us-east-1-fips"])
async def test_a_fips_pseudo_region_is_signed_as_botocore_signs_it(
    cloud: Cloud, aws_files: Path, region: str
) -> None:
    """`region = fips-us-east-1` (the older way to ask for FIPS): botocore calls us-east-1's
    FIPS endpoint and signs for us-east-1. wm signed for `fips-us-east-1`, a region AWS
    does not have, so every call was refused."""
    cloud.launch(cloud.ec2(), "federal")
    (aws_files / "credentials").write_text(
        f"[gov]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(f"[profile gov]\nregion = {region}\n")
    identity = CredentialResolver().resolve(profile_account("gov", "gov")).aws
    assert identity is not None
    assert (identity.region, identity.endpoint_url) == (
        "us-east-1",
        "https://ec2-fips.us-east-1.amazonaws.com",
    )

    (aws_files / "config").write_text(
        f"[profile gov]\nregion = {region}\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("gov", "gov"))
    try:
        cloud.server.clear_calls()
        assert "federal" in await listed(portal, "gov")
        assert {c.region for c in cloud.server.calls if c.service == "ec2"} == {"us-east-1"}
    finally:
        await portal.close()
