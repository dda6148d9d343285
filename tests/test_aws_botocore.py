"""AWS accounts through botocore's own resolution, against the real moto server.

moto keeps accounts apart by access key: credentials from an assumed role belong to the
role's account, so the rows an account lists show which identity signed the calls.
Instance metadata and SSO have no server here: botocore's chain is the same code, and
`test_the_default_chain_says_where_it_looked` shows what a host with neither gets.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.aws_profiles import ROLE, listed, profile_account, role_instance
from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.demo.seed import DEV_KEY, DEV_SECRET
from winged_monkey.errors import CredentialError
from winged_monkey.user.config import AccountConfig, Endpoint
from winged_monkey.user.credentials import CredentialResolver


async def test_a_role_through_source_profile_lists_the_roles_account(
    cloud: Cloud, aws_files: Path
) -> None:
    role_instance(cloud, "in-the-role-account")
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[profile ops]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\nduration_seconds = 900\n"
    )
    portal = cloud.portal(profile_account("ops", "ops"))
    try:
        names = await listed(portal, "ops")
        assert names == {"in-the-role-account"}  # not the source profile's seeded ones
        line = await portal.check("ops")
        assert "credentials from AWS profile ops (an assumed role)" in line
    finally:
        await portal.close()


async def test_credential_process_a_quoted_section_and_the_profiles_region(
    cloud: Cloud, aws_files: Path
) -> None:
    creds = role_instance(cloud, "from-a-process")
    script = aws_files / "creds.py"
    script.write_text(
        "import json\nprint(json.dumps("
        + repr(
            {
                "Version": 1,
                "AccessKeyId": creds["key"],
                "SecretAccessKey": creds["secret"],
                "SessionToken": creds["token"],
            }
        )
        + "))\n"
    )
    (aws_files / "config").write_text(
        f'[profile "personal"]\ncredential_process = {sys.executable} {script}\n'
        f"region = eu-west-1\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("personal", "personal"))
    try:
        assert await listed(portal, "personal") == set()  # eu-west-1: nothing launched there
        (row,) = [s for s in portal.statuses() if s.name == "personal"]
        assert row.phase == "ok"
    finally:
        await portal.close()
    portal = cloud.portal(profile_account("personal-us", "personal", region="us-east-1"))
    try:  # the account's own region wins over the profile's
        assert await listed(portal, "personal-us") == {"from-a-process"}
    finally:
        await portal.close()


async def test_services_endpoints_and_the_environment_chain(cloud: Cloud, aws_files: Path) -> None:
    creds = role_instance(cloud, "by-env")
    (aws_files / "config").write_text(
        "[profile svc]\nregion = us-east-1\nservices = local\n"
        f"[services local]\nec2 =\n  endpoint_url = {cloud.server.url}\n"
    )
    cloud.monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["key"])
    cloud.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["secret"])
    cloud.monkeypatch.setenv("AWS_SESSION_TOKEN", creds["token"])
    cloud.monkeypatch.setenv("AWS_PROFILE", "svc")
    # Names no credentials at all: botocore's default chain (environment, AWS_PROFILE).
    account = AccountConfig(name="plain", provider="ec2")
    portal = cloud.portal(account)
    try:
        assert await listed(portal, "plain") == {"by-env"}
        assert "AWS default chain (the AWS_* environment variables)" in await portal.check("plain")
    finally:
        await portal.close()


async def test_short_lived_role_credentials_are_renewed_between_calls(
    cloud: Cloud, aws_files: Path
) -> None:
    role_instance(cloud, "renewed")
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    # 900 s is inside botocore's 15-minute advisory window: each use renews them.
    (aws_files / "config").write_text(
        f"[profile short]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        f"endpoint_url = {cloud.server.url}\nduration_seconds = 900\n"
    )
    portal = cloud.portal(profile_account("short", "short"))
    try:
        backend = await portal.backend("short")
        identity = backend.secrets.aws
        assert identity is not None
        keys = set()
        for _ in range(3):
            assert await listed(portal, "short") == {"renewed"}
            keys.add(identity.credentials.access_key)
        assert len(keys) == 3  # three polls, three sets of STS credentials, all accepted
    finally:
        await portal.close()


def test_mfa_asks_through_the_portals_prompt(cloud: Cloud, aws_files: Path) -> None:
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[profile mfa]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        "mfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
        f"endpoint_url = {cloud.server.url}\n"
    )
    asked: list[tuple[str, str]] = []

    def prompt(account: str, what: str) -> str | None:
        asked.append((account, what))
        return "123456"

    secrets = CredentialResolver(prompt).resolve(profile_account("mfa", "mfa"))
    assert asked == [("mfa", "MFA code (mfa_serial)")]
    assert secrets.aws is not None
    (aws_files / "credentials").write_text(  # saml2aws's new source keys: no new question
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
        "aws_session_token = new\n"
    )
    secrets.aws.frozen()
    assert len(asked) == 1
    assert secrets.source == "AWS profile mfa (an assumed role)"
    with pytest.raises(CredentialError, match="needs an MFA code"):
        CredentialResolver(lambda account, what: None).resolve(profile_account("mfa", "mfa"))


def test_botocores_refusals_reach_the_user_with_the_account(cloud: Cloud, aws_files: Path) -> None:
    (aws_files / "config").write_text(
        "[profile broken]\ncredential_process = /nonexistent/helper\n"
        "[profile loop]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = loop\n"
    )
    (aws_files / "credentials").write_text("")  # AWS_SHARED_CREDENTIALS_FILE names one
    with pytest.raises(CredentialError) as missing:
        CredentialResolver().resolve(profile_account("prod", "nope"))
    assert (
        str(missing.value)
        == "prod: AWS profile 'nope': The config profile (nope) could not be found; "
        "the files have the profiles: broken, loop"
    )
    with pytest.raises(CredentialError) as broken:
        CredentialResolver().resolve(profile_account("prod", "broken"))
    assert str(broken.value).startswith("prod: AWS profile 'broken': ")
    assert "/nonexistent/helper" in str(broken.value)
    with pytest.raises(CredentialError, match=r"prod: AWS profile 'loop': .*loop"):
        CredentialResolver().resolve(profile_account("prod", "loop"))


def test_the_default_chain_says_where_it_looked(cloud: Cloud, aws_files: Path) -> None:
    account = AccountConfig(
        name="bare", provider="ec2", endpoint=Endpoint(host="127.0.0.1", port=cloud.server.port)
    )
    with pytest.raises(CredentialError) as nothing:
        CredentialResolver().resolve(account)
    assert str(nothing.value).startswith("bare: AWS default chain: none found (environment, ")
    assert "instance metadata" in str(nothing.value)


def test_botocore_is_imported_only_for_accounts_that_need_it(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys, json\n"
        "from winged_monkey.user.config import AccountConfig, Credentials\n"
        "from winged_monkey.user.credentials import CredentialResolver\n"
        "CredentialResolver().resolve(AccountConfig(name='a', provider='ec2', "
        "credentials=Credentials(key='AKIA', keyring=False, secret_env='X')))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not {m for m in json.loads(done.stdout) if m.split(".")[0] == "botocore"}


async def test_a_role_with_credential_source_environment(cloud: Cloud, aws_files: Path) -> None:
    role_instance(cloud, "sourced-from-env")
    cloud.monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEV_KEY)
    cloud.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEV_SECRET)
    (aws_files / "config").write_text(
        f"[profile env-role]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
        f"region = us-east-1\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("env-role", "env-role"))
    try:
        assert await listed(portal, "env-role") == {"sourced-from-env"}
    finally:
        await portal.close()


def test_no_region_is_refused_as_botocore_refuses_it(cloud: Cloud, aws_files: Path) -> None:
    """Neither the account nor the profile names a region: botocore raises NoRegionError.
    wm had called AWS's us-east-1, the profile's endpoint_url dropped with the region."""
    (aws_files / "credentials").write_text(
        f"[x]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[x]\nregion = eu-west-1\n[profile x]\nendpoint_url = {cloud.server.url}\n"
        "regoin = eu-west-1\n"
    )
    cloud.monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(CredentialError) as refused:
        CredentialResolver().resolve(profile_account("lab", "x"))
    told = str(refused.value)
    assert told.startswith("lab: AWS profile 'x': no region (botocore's NoRegionError): ")
    assert "AWS_REGION is set, but botocore reads AWS_DEFAULT_REGION" in told
    assert "its regoin is not a key botocore reads: region?" in told
    assert f"{aws_files / 'config'} has [x], which botocore skips" in told
    assert cloud.server.calls == []  # nothing was sent anywhere

    cloud.monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # as the aws CLI reads it
    assert CredentialResolver().resolve(profile_account("lab", "x")).aws is not None


async def test_a_region_botocore_knows_and_libcloud_does_not(cloud: Cloud, aws_files: Path) -> None:
    """libcloud's region table lags AWS's (mx-central-1, ap-southeast-7): it refused them
    ('Invalid region'); botocore's endpoint for the region is used, signed for it."""
    cloud.launch(cloud.ec2(region="mx-central-1"), "in-mexico")
    (aws_files / "credentials").write_text(
        f"[new]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    (aws_files / "config").write_text(
        f"[profile new]\nregion = mx-central-1\nendpoint_url = {cloud.server.url}\n"
    )
    portal = cloud.portal(profile_account("new", "new"))
    try:
        cloud.server.clear_calls()
        assert await listed(portal, "new") == {"in-mexico"}
        assert {c.region for c in cloud.server.calls if c.service == "ec2"} == {"mx-central-1"}
    finally:
        await portal.close()


def test_refusals_say_what_to_do(cloud: Cloud, aws_files: Path) -> None:
    """SSO with no token, an expired credential_process, a section written the other file's
    way, a mistyped key, AWS_PROFILE naming no profile: each says what to do."""
    helper = aws_files / "expired.py"
    helper.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKIAX', "
        "'SecretAccessKey': 's', 'SessionToken': 't', 'Expiration': '2001-01-01T00:00:00Z'}))\n"
    )
    (aws_files / "config").write_text(
        "[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = Admin\nregion = us-east-1\n"
        "[sso-session corp]\nsso_start_url = https://corp.example/start\nsso_region = us-east-1\n"
        f"[profile old]\ncredential_process = {sys.executable} {helper}\nregion = us-east-1\n"
        "[profile typo]\nrolearn = arn:aws:iam::1:role/x\nsource_profile = sso\n"
        "[profile split]\nregion = us-east-1\n"
    )
    (aws_files / "credentials").write_text(
        f"[profile split]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )

    def told(profile: str | None) -> str:
        account = (
            profile_account("prod", profile)
            if profile
            else AccountConfig(name="prod", provider="ec2")
        )
        with pytest.raises(CredentialError) as refused:
            CredentialResolver().resolve(account)
        return str(refused.value)

    assert told("sso").endswith("; log in to SSO first: aws sso login --profile sso")
    assert "renew them at their source" in told("old")
    assert told("typo").endswith("; its rolearn is not a key botocore reads: role_arn?")
    assert told("split").endswith(
        f"; {aws_files / 'credentials'} has [profile split], which botocore skips: "
        "in the credentials file write [split]"
    )
    (aws_files / "config").write_text(
        (aws_files / "config").read_text() + "[ profile spaced ]\nregion = us-east-1\n"
    )
    assert told("spaced").endswith(
        f"; {aws_files / 'config'} has [ profile spaced ], which botocore skips (the spaces "
        "inside the brackets are part of the name): write [profile spaced]"
    )
    cloud.monkeypatch.setenv("AWS_PROFILE", "spilt")
    assert told(None) == (
        "prod: AWS default chain: The config profile (spilt) could not be found; "
        "AWS_PROFILE=spilt names it; did you mean 'split'?; the files have the profiles: "
        "old, profile split, split, sso, typo"
    )
    # botocore reads AWS_DEFAULT_PROFILE first: that is the name it did not find.
    cloud.monkeypatch.setenv("AWS_DEFAULT_PROFILE", "spit")
    assert told(None) == (
        "prod: AWS default chain: The config profile (spit) could not be found; "
        "AWS_DEFAULT_PROFILE=spit names it (botocore reads it before AWS_PROFILE=spilt); "
        "did you mean 'split'?; the files have the profiles: old, profile split, split, sso, typo"
    )


@pytest.mark.parametrize("where", ["profile", "AWS_CA_BUNDLE"])
async def test_the_profiles_ca_bundle_verifies_ec2_too(
    cloud: Cloud, aws_files: Path, where: str
) -> None:
    """An endpoint behind a private CA (a company's TLS gateway): botocore trusts the
    profile's ca_bundle (or AWS_CA_BUNDLE) for STS; EC2's calls must trust it as well."""
    import ssl

    from tests.certs import make_ca, server_certificate

    ca, ca_key, ca_cert = make_ca(aws_files, "wm-test-aws-ca")
    cert, key = server_certificate(aws_files, ca_key, ca_cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    role_instance(cloud, "behind-tls")
    (aws_files / "credentials").write_text(
        f"[base]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    with FaultProxy(("127.0.0.1", cloud.server.port), server_ssl=context) as proxy:
        bundle = f"ca_bundle = {ca}\n" if where == "profile" else ""
        if where == "AWS_CA_BUNDLE":
            cloud.monkeypatch.setenv("AWS_CA_BUNDLE", str(ca))
        (aws_files / "config").write_text(
            f"[profile tls]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
            f"endpoint_url = {proxy.url}\n{bundle}"
        )
        portal = cloud.portal(profile_account("tls", "tls"))
        try:
            assert await listed(portal, "tls") == {"behind-tls"}
        finally:
            await portal.close()


async def test_expired_credentials_name_where_they_came_from(
    cloud: Cloud, aws_files: Path, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """A session token in the credentials file that has expired: EC2 answers RequestExpired
    (moto never checks expiry, so the proxy gives AWS's answer). The user is told these
    credentials were refused and which profile's file they came from."""
    proxy = fault_proxy(cloud.server.port)
    (aws_files / "credentials").write_text(
        f"[old]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
        "aws_session_token = FwoGZXIvYXdzEXPIRED\n"
    )
    (aws_files / "config").write_text(
        f"[profile old]\nregion = us-east-1\nendpoint_url = {proxy.url}\n"
    )
    proxy.fault = Fault(
        "status",
        status=400,
        body=b"<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has "
        b"expired.</Message></Error></Errors><RequestID>1</RequestID></Response>",
    )
    portal = cloud.portal(profile_account("old", "old"))
    try:
        with pytest.raises(AssertionError) as failed:
            await listed(portal, "old")
    finally:
        await portal.close()
    assert str(failed.value) == (
        "credentials refused by ec2: RequestExpired: Request has expired.; they came from "
        "AWS profile old (the shared credentials file)"
    )
