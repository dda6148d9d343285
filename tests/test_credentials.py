"""The credential chain: keyring, env, command, AWS profile, prompt; and the headless message."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends.fail import Keyring as FailKeyring

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud, MemoryKeyring
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import CredentialError
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import KEYRING_SERVICE, CredentialResolver, store_in_keyring

CANARY = "canary-Secret-7f3a9"


class BrokenKeyring(MemoryKeyring):
    """What a SecretService keyring does with no D-Bus session: raise on every call."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


def account(**creds: object) -> AccountConfig:
    # aws_profile is for EC2 accounts only.
    provider = "ec2" if "aws_profile" in creds else None
    return AccountConfig(
        name="prod", provider=provider, credentials=Credentials.model_validate(creds)
    )


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """The in-memory keyring every test runs with (installed by conftest)."""
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    return backend


def test_keyring_comes_first(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_keyring.set_password(KEYRING_SERVICE, "prod", CANARY)
    monkeypatch.setenv("PROD_SECRET", "from-env")
    secrets = CredentialResolver().resolve(account(key="AKIA1", secret_env="PROD_SECRET"))
    assert secrets.secret == CANARY
    assert secrets.source == "keyring"
    assert secrets.key == "AKIA1"
    assert CANARY not in repr(secrets)


def test_env_when_the_keyring_has_nothing(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROD_SECRET", CANARY)
    monkeypatch.setenv("PROD_TOKEN", "tok")
    secrets = CredentialResolver().resolve(
        account(secret_env="PROD_SECRET", token_env="PROD_TOKEN")
    )
    assert (secrets.secret, secrets.token, secrets.source) == (CANARY, "tok", "env PROD_SECRET")


def test_command_when_env_is_unset(memory_keyring: MemoryKeyring) -> None:
    command = f"{sys.executable} -c \"print('{CANARY}')\""
    secrets = CredentialResolver().resolve(account(secret_env="UNSET_VAR", secret_command=command))
    assert secrets.secret == CANARY
    assert secrets.source == "secret_command"


def test_a_command_printing_a_pass_entry_gives_its_first_line(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    """`pass show` prints the password, then the entry's other lines."""
    entry = tmp_path / "entry"
    entry.write_text(f"{CANARY}\nlogin: alice\nurl: https://cloud.example\n")
    command = f"{sys.executable} -c \"print(open('{entry}').read(), end='')\""
    assert CredentialResolver().resolve(account(secret_command=command)).secret == CANARY


def test_failing_command_is_a_clear_error(memory_keyring: MemoryKeyring) -> None:
    command = f"{sys.executable} -c \"import sys; sys.exit('vault is sealed')\""
    with pytest.raises(CredentialError) as info:
        CredentialResolver().resolve(account(secret_command=command))
    assert str(info.value) == "prod: secret_command exited with 1: vault is sealed"


def test_aws_profile(
    memory_keyring: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(f"[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = {CANARY}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    (tmp_path / "config").write_text("[profile dev]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    secrets = CredentialResolver().resolve(account(aws_profile="dev"))
    assert secrets.aws is not None  # botocore's resolution, read before each call
    assert secrets.aws.frozen() == ("AKIADEV", CANARY, None)
    assert secrets.source == "AWS profile dev (the shared credentials file)"
    assert CANARY not in repr(secrets)
    with pytest.raises(CredentialError, match=r"AWS profile 'nope': .*could not be found"):
        CredentialResolver().resolve(account(aws_profile="nope"))


def test_prompt_is_last_and_kept_for_the_session(memory_keyring: MemoryKeyring) -> None:
    asked: list[str] = []

    def prompt(name: str, what: str) -> str:
        asked.append(name)
        return CANARY

    resolver = CredentialResolver(prompt)
    assert resolver.resolve(account()).secret == CANARY
    assert resolver.resolve(account()).secret == CANARY
    assert asked == ["prod"]


def test_prompts_come_one_at_a_time_each_naming_its_account(
    memory_keyring: MemoryKeyring,
) -> None:
    """Accounts resolve in parallel threads; their questions must not interleave."""
    inside, most, asked = 0, 0, []
    guard = threading.Lock()
    overlap = threading.Event()  # never set: only gives another thread time to come in

    def prompt(name: str, what: str) -> str:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
            asked.append(name)
        overlap.wait(0.2)
        with guard:
            inside -= 1
        return CANARY

    resolver = CredentialResolver(prompt)
    names = [f"acct-{n}" for n in range(4)]
    threads = [
        threading.Thread(
            target=resolver.resolve,
            args=(AccountConfig(name=n, credentials=Credentials.model_validate({})),),
        )
        for n in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(asked) == names
    assert most == 1


def test_headless_host_says_which_source_to_use() -> None:
    keyring.set_keyring(FailKeyring())  # type: ignore[no-untyped-call]
    secrets = CredentialResolver().resolve(account(secret_env="UNSET_VAR"))
    with pytest.raises(CredentialError) as info:
        secrets.require_secret()
    message = str(info.value)
    assert "no keyring backend on this host" in message
    assert "UNSET_VAR (not set)" in message
    # The keyring cannot hold it, so not `wm accounts set-secret`: the variable named.
    assert message.endswith(": export UNSET_VAR, the variable secret_env names, before running wm")
    # With no variable named, the lines that can hold it.
    with pytest.raises(CredentialError) as info:
        CredentialResolver().resolve(account()).require_secret()
    message = str(info.value)
    assert 'secret_env = "WM_SECRET_PROD"' in message
    assert 'secret_command = "pass show cloud/prod"' in message
    assert "set-secret" not in message
    with pytest.raises(CredentialError, match=r"no keyring backend.*secret_env"):
        store_in_keyring("prod", CANARY)


def test_a_dbus_failure_is_a_note_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(BrokenKeyring())
    monkeypatch.setenv("PROD_SECRET", CANARY)
    secrets = CredentialResolver().resolve(account(secret_env="PROD_SECRET"))
    assert secrets.secret == CANARY
    assert "keyring (unavailable: RuntimeError)" in secrets.tried


def test_set_secret_stores_in_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store_in_keyring("prod", CANARY)
    assert memory_keyring.items[(KEYRING_SERVICE, "prod")] == CANARY


def accounts_test(tmp_path: Path, credentials: str) -> Result:
    """`wm accounts test` of one EC2 account with these credentials (nothing listens on
    its endpoint: what is said here is said before any call)."""
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "e4"\nprovider = "ec2"\nregion = "us-east-1"\n'
        'endpoint = { host = "127.0.0.1", port = 9, secure = false }\n'
        f"credentials = {{ {credentials} }}\n"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "Traceback" not in result.output
    return result


def test_a_key_env_that_is_not_set_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE_KEY_VAR", raising=False)
    monkeypatch.setenv("GOOD_SECRET", CANARY)
    result = accounts_test(tmp_path, 'key_env = "NOPE_KEY_VAR", secret_env = "GOOD_SECRET"')
    assert (
        "e4: FAILED: key_env NOPE_KEY_VAR is not set (export it, or set credentials.key)\n"
    ) in result.stdout
    assert CANARY not in result.output


@pytest.mark.parametrize(
    ("credentials", "said"),
    [
        (
            'key = "AKIAX", keyring = false, secret_env = "NOPE_SECRET"',
            "e4: FAILED: no secret found (tried env NOPE_SECRET (not set)): export NOPE_SECRET, "
            "the variable secret_env names, before running wm\n",
        ),
        (
            'key = "AKIAX", keyring = false',
            "e4: FAILED: no secret found; this account reads no keyring (keyring = false): name "
            "an environment variable (secret_env) or a command (secret_command) in the "
            "account's [accounts.credentials], or drop keyring = false and store one with "
            "`wm accounts set-secret e4`\n",
        ),
    ],
    ids=["secret_env-unset", "no-source"],
)
def test_without_the_keyring_a_missing_secret_is_told_the_accounts_own_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: str, said: str
) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    result = accounts_test(tmp_path, credentials)
    assert said in result.stdout
    assert "Store one with" not in result.output


@pytest.mark.parametrize(
    "pasted",
    [
        "e3b0c44298fc1c149afbf4c8996fb924",  # a hex API key
        "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",  # an AWS secret key without / or +
        "JBSWY3DPEHPK3PXP",  # a base32 one
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",  # a GitHub token
    ],
)
def test_a_secret_pasted_into_secret_env_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pasted: str
) -> None:
    """Each is a valid variable name, so the config takes it; the message said it back."""
    monkeypatch.delenv(pasted, raising=False)
    result = accounts_test(tmp_path, f'key = "AKIAX", keyring = false, secret_env = "{pasted}"')
    assert pasted not in result.output
    assert (
        "e4: FAILED: no secret found (tried env <not shown> (not set)): secret_env names a "
        "variable that is not set, by a name that looks like a secret, not a variable's (so "
        "not shown): write there the name of the variable that holds the secret, and export "
        "it before running wm\n"
    ) in result.stdout


def test_with_the_keyring_a_missing_secret_is_told_to_store_it_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOPE_SECRET", raising=False)
    result = accounts_test(tmp_path, 'key = "AKIAX", secret_env = "NOPE_SECRET"')
    assert (
        "e4: FAILED: no secret found (tried keyring (no entry); env NOPE_SECRET (not set)). "
        "Store one with `wm accounts set-secret e4`"
    ) in result.stdout


def test_an_aws_profile_beside_keyring_true_fails_that_account(
    cloud: Cloud, aws_files: Path, memory_keyring: MemoryKeyring
) -> None:
    """botocore reads an aws_profile account's credentials from the profile: a secret the
    user keeps in the keyring for it would be ignored, so `keyring = true` is refused as a
    key or secret_env beside a profile is, when the config loads; `keyring = false` beside
    one is taken."""
    memory_keyring.set_password(KEYRING_SERVICE, "dev", CANARY)
    endpoint = f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}'
    (aws_files / "credentials").write_text(
        f"[dev]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    cloud.launch(cloud.ec2(), "web-1")
    config = cloud.tmp_path / "wm.toml"

    def accounts(keyring: str) -> str:
        return "".join(
            f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\n'
            f'{endpoint}\ncredentials = {{ aws_profile = "dev"{extra} }}\n\n'
            for name, extra in (("good", ""), ("dev", keyring))
        )

    said = (
        "wm: dev: field credentials: aws_profile reads the key, secret and token "
        "from the AWS profile 'dev', so keyring = true would be ignored: drop it, or drop "
        f"aws_profile (in {config})\n"
    )
    config.write_text(accounts(", keyring = true"))
    listed = CliRunner().invoke(main, ["--config", str(config), "ls"])
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "web-1" in listed.stdout  # the other account still lists
    assert said in listed.stderr
    tested = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert tested.exit_code == ExitCode.CONFIG, tested.output
    assert "good: ok" in tested.stdout
    assert f"dev: FAILED: {said.removeprefix('wm: dev: ')}" in tested.stdout
    for result in (listed, tested):
        assert "Traceback" not in result.output
        assert CANARY not in result.output
        assert DEV_SECRET not in result.output

    config.write_text(accounts(", keyring = false"))
    tested = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert tested.exit_code == ExitCode.OK, tested.output
    assert "dev: ok" in tested.stdout
