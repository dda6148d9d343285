"""Accounts that name an AWS profile, and what they list (the files: the `aws_files`
fixture in conftest.py)."""

from __future__ import annotations

from tests.conftest import Cloud
from winged_monkey.engine.portal import Portal
from winged_monkey.user.config import AccountConfig, Credentials

ROLE = "arn:aws:iam::111111111111:role/portal"


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
