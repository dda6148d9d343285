"""Accounts that name an AWS profile, and what they list (the files: the `aws_files`
fixture in conftest.py)."""

from __future__ import annotations

from click.testing import CliRunner, Result

from tests.conftest import Cloud
from winged_monkey.cli.main import main
from winged_monkey.engine.portal import Portal
from winged_monkey.user.config import AccountConfig, Credentials

ROLE = "arn:aws:iam::111111111111:role/portal"
#: A secret that must never be shown (shaped as AWS's own).
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"


def role_instance(cloud: Cloud, name: str) -> dict[str, str]:
    """An instance in the role's account (111111111111), and that account's credentials."""
    creds = cloud.assume_role(ROLE)
    cloud.launch(cloud.ec2(key=creds["key"], secret=creds["secret"], token=creds["token"]), name)
    return creds


def profile_account(name: str, profile: str, region: str | None = None) -> AccountConfig:
    credentials = Credentials(aws_profile=profile, keyring=False)
    return AccountConfig(name=name, provider="ec2", region=region, credentials=credentials)


async def listed(portal: Portal, name: str) -> set[str]:
    async for update in portal.refresh([name]):
        if update.status.phase == "failed":
            raise AssertionError(update.status.error)
    return {i.name for i in portal.instances() if i.account == name}


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
