"""An AWS profile's role with mfa_serial asks for the code in the TUI's own dialog."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.aws_profiles import ROLE, profile_account, role_instance
from tests.conftest import Cloud
from tests.ui.conftest import wait_for
from tests.ui.on_screen import shows
from winged_monkey.demo.seed import DEV_KEY, DEV_SECRET
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.secret import SecretScreen
from winged_monkey.user.config import Config
from winged_monkey.user.credentials import CredentialResolver


async def test_the_mfa_dialog_says_mfa_and_its_code_assumes_the_role(
    cloud: Cloud, aws_files: Path
) -> None:
    """The dialog's title read 'Mfa code (mfa_serial) for ops' (str.capitalize lowers the
    rest of the words)."""
    role_instance(cloud, "behind-mfa")
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[profile ops]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        f"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nendpoint_url = {cloud.server.url}\n"
    )
    config = Config(accounts=(profile_account("ops", "ops"),), refresh_interval=3600)
    resolver = CredentialResolver()
    portal = cloud.portal(*config.accounts, resolver=resolver)
    app = WMApp(portal, config)
    resolver.prompt = app.ask_secret  # as `wm` wires it
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the MFA dialog")
        title = str(app.screen.query_one(Static).render())
        assert title == "MFA code (mfa_serial) for ops"
        await pilot.press(*"123456", "enter")
        await wait_for(pilot, lambda: portal.status("ops").phase == "ok", "ops listed")
        assert {i.name for i in portal.instances()} == {"behind-mfa"}
