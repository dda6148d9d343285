"""What `wm accounts` says of a key an account mistypes or takes from another tool: the key
wm means, where it goes, or nothing when nothing near is right (difflib alone sent
`username` to `name` and `user` to `ssh_user`: renaming the account, or setting the guest's
login). The other accounts still list; exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main

GOOD = '[[accounts]]\nname = "good"\nprovider = "libvirt"\ndriver = { uri = "test:///default" }\n'
VSPHERE = 'backend = "vsphere"\nendpoint = { host = "127.0.0.1", port = 1 }'
AGGREGATOR = 'backend = "aggregator"\nurl = "https://127.0.0.1:1"'
KEYSTONE = 'backend = "heat"\nauth_url = "http://k:5000/v3"\nproject_name = "p"'
KEY = 'credentials = { key = "..." }'


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def refusal_of(tmp_path: Path, table: str, *, at_load: bool = True) -> str:
    """What `wm accounts` says of account 'x' (its table's lines `table`), after checking
    that the good account still lists, wm exits 3 and names the file (after the refusal
    when the config's load refuses the account, `at_load`; below it when its backend
    does, building it)."""
    path = tmp_path / "wm.toml"
    path.write_text(f'{GOOD}\n[[accounts]]\nname = "x"\n{table}\n')
    result = wm(path, "accounts")
    assert result.exit_code == ExitCode.CONFIG, result.output
    rows = {row.split()[0]: row for row in result.stdout.splitlines()[1:]}
    assert rows.keys() == {"good", "x"}
    assert rows["x"].endswith("config refused (below)")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("wm: x: "), lines
    assert lines[1] == f"wm: an account's config or credentials are wrong (config: {path})"
    if at_load:
        assert lines[0].endswith(f" (in {path})"), lines
    return lines[0].removeprefix("wm: x: ").removesuffix(f" (in {path})")


@pytest.mark.parametrize(
    ("table", "said"),
    [
        (  # not 'name' (renaming the account)
            'provider = "openstack"\nusername = "me"',
            "unknown key 'username' for a libcloud account (did you mean 'credentials.key'? "
            f"the user name goes there: {KEY})",
        ),
        (  # not 'ssh_user' (the guest's login)
            'provider = "ec2"\nuser = "me"',
            "unknown key 'user' for a libcloud account (did you mean 'credentials.key'? "
            f"the key id goes there: {KEY})",
        ),
        (
            f'{VSPHERE}\nuser = "me"',
            "unknown key 'user' for a vsphere account (did you mean 'credentials.key'? "
            f"the user name goes there: {KEY})",
        ),
        (  # Heat names its Keystone user itself
            f'{KEYSTONE}\nuser = "me"',
            "unknown key 'user' for a heat account (did you mean 'username'?)",
        ),
        (  # said nothing
            f'{VSPHERE}\ncredentials = {{ username = "me" }}',
            "unknown key 'credentials.username' (did you mean 'credentials.key'?)",
        ),
        (
            'backend = "vsphere"\nhost = "vc.lab"',
            "unknown key 'host' for a vsphere account (did you mean 'endpoint.host'? "
            'endpoint = { host = "..." })',
        ),
        (
            'backend = "aggregator"\nhost = "bastion"',
            "unknown key 'host' for an aggregator account (did you mean 'url'?)",
        ),
        (
            f'{VSPHERE}\ncacert = "/x.pem"',
            "unknown key 'cacert' for a vsphere account (did you mean 'ca_bundle'?)",
        ),
        (
            f'{AGGREGATOR}\nca_cert = "/x.pem"',
            "unknown key 'ca_cert' for an aggregator account (did you mean 'ca_bundle'?)",
        ),
        (
            'provider = "openstack"\ncafile = "/x.pem"',
            "unknown key 'cafile' for a libcloud account (did you mean 'ca_bundle'?)",
        ),
        (  # not 'provider': ~/.aws/config's word for it
            'provider = "ec2"\nprofile = "dev"',
            "unknown key 'profile' for a libcloud account (did you mean "
            "'credentials.aws_profile'? the profile's name goes there: credentials = "
            '{ aws_profile = "..." })',
        ),
        (  # said nothing: boto3's name, written in the account's table
            'provider = "ec2"\naws_access_key_id = "AKIA"',
            "unknown key 'aws_access_key_id' for a libcloud account (did you mean "
            f"'credentials.key'? the key id goes there: {KEY})",
        ),
        (  # not 'ssh_user'
            'provider = "ec2"\nssh_key = "~/.ssh/id_ed25519"',
            "unknown key 'ssh_key' for a libcloud account (did you mean 'ssh_identity'?)",
        ),
        (  # not 'name' (renaming the account)
            'provider = "ec2"\nkey_name = "ops"',
            "unknown key 'key_name' for a libcloud account (wm asks for it at each launch: "
            "wm launch --key-pair, or the TUI's launch form)",
        ),
        (  # said nothing
            'provider = "openstack"\nflavor = "m1.small"',
            "unknown key 'flavor' for a libcloud account (wm asks for it at each launch: "
            "wm launch --size, or the TUI's launch form)",
        ),
        (  # keys are matched in any case
            'backend = "aggregator"\nURL = "https://127.0.0.1:1"',
            "unknown key 'URL' for an aggregator account (did you mean 'url'?)",
        ),
        (
            f"{VSPHERE}\nverify = false",
            "unknown key 'verify' for a vsphere account (did you mean 'insecure'? a vsphere "
            "account turns verification off with insecure = true)",
        ),
        (  # the credentials' own keys, written in the account's table
            f'{AGGREGATOR}\ntoken_env = "TEAM_TOKEN"',
            "unknown key 'token_env' for an aggregator account (it goes in the account's "
            "credentials: credentials = { token_env = ... })",
        ),
        (
            f'{KEYSTONE}\nsecret_command = "pass show heat"',
            "unknown key 'secret_command' for a heat account (it goes in the account's "
            "credentials: credentials = { secret_command = ... })",
        ),
        (
            f"{AGGREGATOR}\ninsecure = true",
            "unknown key 'insecure' for an aggregator account (did you mean 'verify'? an "
            "aggregator account turns verification off with verify = false)",
        ),
    ],
)
def test_a_key_of_another_tool_is_told_the_key_wm_means(
    tmp_path: Path, table: str, said: str
) -> None:
    assert refusal_of(tmp_path, table) == said


@pytest.mark.parametrize(
    ("table", "said"),
    [
        # The aggregator sends a token alone, libvirt nothing: no key to name, and the
        # nearest spelling ('ssh_user', 'name') would be wrong.
        (f'{AGGREGATOR}\nuser = "alice"', "unknown key 'user' for an aggregator account"),
        (
            f'{AGGREGATOR}\ncredentials = {{ username = "alice" }}',
            "unknown key 'credentials.username'",
        ),
        ('provider = "libvirt"\nusername = "me"', "unknown key 'username' for a libcloud account"),
        ('provider = "libvirt"\ninsecure = true', "unknown key 'insecure' for a libcloud account"),
        # An AWS profile is EC2's alone; 'provider' would be wrong too.
        (
            'provider = "openstack"\nprofile = "citycloud"',
            "unknown key 'profile' for a libcloud account",
        ),
    ],
)
def test_a_synonym_is_not_offered_where_the_account_has_no_such_key(
    tmp_path: Path, table: str, said: str
) -> None:
    assert refusal_of(tmp_path, table) == said


def test_a_top_level_typo_keeps_its_nearest_spelling(tmp_path: Path) -> None:
    """Synonyms are an account's: `key = ...` above the accounts is still `keys`."""
    path = tmp_path / "wm.toml"
    path.write_text('key = { stop = "x" }\n' + GOOD)
    result = wm(path, "accounts")
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr.startswith(f"wm: {path}: unknown key 'key' (did you mean 'keys'?)")
