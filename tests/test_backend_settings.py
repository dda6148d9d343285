"""Each backend declares its account keys; a key nobody reads is refused when the config
loads, with the file, the account, the key and the nearest valid one (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_config_hints import refusal_of
from winged_monkey import plugins
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig, Credentials, load_config
from winged_monkey.user.credentials import CredentialResolver


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("account", "key", "nearest"),
    [
        ('provider = "ec2"\nreadonly = true', "readonly", "read_only"),
        ('provider = "ec2"\nregoin = "eu-west-1"', "regoin", "region"),
        ('provider = "ec2"\nca_bundel = "/etc/ca.pem"', "ca_bundel", "ca_bundle"),
        ('provider = "ec2"\nimage = ["ami-1"]', "image", "images"),
        (
            'backend = "heat"\nendpoint_url = "http://h:8004/v1"\nprojetc = "p"',
            "projetc",
            "project",
        ),
        (
            'backend = "heat"\nauth_url = "http://k:5000/v3"\nuser_name = "u"',
            "user_name",
            "username",
        ),
        ('backend = "aggregator"\nulr = "http://bastion:8780"', "ulr", "url"),
        ('backend = "vsphere"\ninsecur = true', "insecur", "insecure"),
    ],
)
def test_a_typo_names_file_account_key_and_the_nearest_key(
    tmp_path: Path, account: str, key: str, nearest: str
) -> None:
    path = write(tmp_path, f'[[accounts]]\nname = "prod"\n{account}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: account 'prod': unknown key {key!r}")
    assert message.endswith(f"(did you mean {nearest!r}?)")


def test_a_key_like_nothing_known_has_no_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '[[accounts]]\nname = "lab"\nprovider = "ec2"\nzzzz = 1\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: account 'lab': unknown key 'zzzz' for a libcloud account"


WHY = "(TOML puts keys after a table's header into that table)"


@pytest.mark.parametrize(
    ("below", "said"),
    [
        (
            "refresh_interval = 30",
            f"refresh_interval is a top-level setting: move it above the first [[accounts]] {WHY}",
        ),
        (
            "events.max_count = 5",
            "events is a top-level table: write it under its own [events] header, or above "
            f"the first [[accounts]] {WHY}",
        ),
        (
            'keys = { stop = "x" }',
            "keys is a top-level table: write it under its own [keys] header, or above the "
            f"first [[accounts]] {WHY}",
        ),
        (
            "serve.rate = 2",
            "serve is a top-level table: write it under its own [serve] header, or above the "
            f"first [[accounts]] {WHY}",
        ),
    ],
    ids=["setting", "events", "keys", "serve"],
)
def test_a_top_level_key_written_below_the_accounts_is_told_to_move_up(
    tmp_path: Path, below: str, said: str
) -> None:
    path = write(
        tmp_path,
        '[[accounts]]\nname = "good"\nprovider = "ec2"\nregion = "us-east-1"\n'
        'credentials = { key = "AKIAX", keyring = false }\n' + below + "\n",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "ls"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"wm: good: {said} (in {path})\n" in result.stderr
    assert "unknown key" not in result.output
    assert "Traceback" not in result.output


def test_every_declared_key_and_the_server_pool_load(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[[accounts]]
name = "ec2"
provider = "ec2"
pool = "production"
ca_bundle = "/etc/ssl/ca.pem"
images = ["ami-1"]
limits = { vcpus = 8 }

[[accounts]]
name = "heat"
backend = "heat"
auth_url = "http://keystone:5000/v3"
username = "alice"
project_name = "demo"
user_domain_name = "Default"
templates = "~/heat"
""",
        )
    )
    assert config.account("ec2").settings["pool"] == "production"


def test_a_backend_that_is_not_installed_is_reported_when_used(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[[accounts]]\nname = "x"\nbackend = "nope"\nk = 1\n'))
    assert config.account("x").backend == "nope"


def test_each_backend_registers_its_settings_beside_itself() -> None:
    backends = {ep.name for ep in entry_points(group=plugins.GROUP)}
    settings = {ep.name for ep in entry_points(group=plugins.SETTINGS_GROUP)}
    assert backends <= settings
    for name in backends:
        assert plugins.load(name).SETTINGS is plugins.settings(name)


def test_checking_the_keys_imports_no_backend(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[accounts]]\nname = "a"\nprovider = "ec2"\nimages = ["ami-1"]\n'
        '[[accounts]]\nname = "h"\nbackend = "heat"\nendpoint_url = "http://h:1/v1"\n'
        'project = "p"\n',
    )
    code = (
        "import json, sys\nfrom pathlib import Path\n"
        "from winged_monkey.user.config import load_config\n"
        f"load_config(Path({str(path)!r}))\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert {"winged_monkey_libcloud.settings", "winged_monkey_heat.settings"} <= loaded
    heavy = {"libcloud", "httpx", "winged_monkey_libcloud.backend", "winged_monkey_heat.backend"}
    assert not loaded & heavy
    assert "difflib" not in loaded  # only when a key is wrong


def test_a_backend_without_a_secret_is_never_prompted_for_one() -> None:
    asked: list[str] = []

    def prompt(account: str, what: str) -> str | None:
        asked.append(account)
        return "typed"

    resolver = CredentialResolver(prompt)
    libvirt = AccountConfig(name="kvm", provider="libvirt")
    direct_heat = AccountConfig.model_validate(
        {"name": "heat", "backend": "heat", "endpoint_url": "http://h:1/v1", "project": "p"}
    )
    assert resolver.resolve(libvirt).secret is None
    assert resolver.resolve(direct_heat).secret is None
    assert asked == []
    ec2 = AccountConfig(name="ec2", provider="ec2", credentials=Credentials(key="AKIAEXAMPLE"))
    assert resolver.resolve(ec2).secret == "typed"
    assert asked == ["ec2"]


PASSWORD = "hunter2-Canary-9d1"
SECRET_HINT = (
    "(a secret never goes in the config: name secret_env or secret_command in the account's "
    "[accounts.credentials], or store it with `wm accounts set-secret prod`)"
)


@pytest.mark.parametrize(
    ("account", "key", "backend"),
    [
        ('provider = "ec2"', "password", "a libcloud"),
        ('provider = "openstack"', "secret", "a libcloud"),
        ('backend = "heat"\nendpoint_url = "http://h:8004/v1"', "password", "a heat"),
        ('backend = "aggregator"\nurl = "http://bastion:8780"', "token", "an aggregator"),
    ],
)
def test_a_secret_written_in_an_accounts_table_is_told_where_secrets_go(
    tmp_path: Path, account: str, key: str, backend: str
) -> None:
    path = write(tmp_path, f'[[accounts]]\nname = "prod"\n{account}\n{key} = "{PASSWORD}"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "ls"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert (
        f"wm: prod: unknown key {key!r} for {backend} account {SECRET_HINT} (in {path})\n"
    ) in result.stderr
    assert PASSWORD not in result.output
    assert PASSWORD[:7] not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("table", "said"),
    [
        (
            'backend = "aggregator"\nurl = "https://127.0.0.1:1"\nca_bundle = ["a.pem"]\n'
            'verify = "off please"',
            "aggregator settings: ca_bundle: must be a file's path, in quotes; verify: must be "
            "true or false (no quotes) (known keys: url, ca_bundle, verify, client_cert, "
            'client_key; e.g. url = "https://bastion.example:8780")',
        ),
        (
            'backend = "vsphere"\nendpoint = { host = "127.0.0.1", port = 1 }\ninsecure = 2\n'
            "ca_bundle = 5",
            "vSphere settings: ca_bundle: must be a file's path, in quotes; insecure: must be "
            "true or false (no quotes) (known keys: ca_bundle, insecure)",
        ),
        (
            'provider = "ec2"\nregion = "us-east-1"\nca_bundle = 5',
            "libcloud settings: ca_bundle: must be a string, in quotes",
        ),
        (
            'backend = "heat"\nendpoint_url = "http://127.0.0.1:9/v1"\nproject = "p"\n'
            'interface = "privat"',
            "Heat account: interface: must be 'public', 'internal' or 'admin' (in quotes, as "
            "written here)",
        ),
    ],
)
def test_a_backend_settings_wrong_type_is_said_in_the_configs_words(
    tmp_path: Path, table: str, said: str
) -> None:
    """pydantic's words were said: 'Input is not a valid path for <class 'pathlib.Path'>',
    'Input should be a valid boolean, unable to interpret input'."""
    assert refusal_of(tmp_path, table, at_load=False) == said


BLANK = "must not be blank: leave the key out"


@pytest.mark.parametrize(
    ("table", "said"),
    [
        (  # was accepted: the folder wm ran from, as a folder of CA certificates
            'backend = "aggregator"\nurl = "https://127.0.0.1:1"\nca_bundle = ""\n'
            'client_cert = " "\nclient_key = ""',
            f"aggregator settings: ca_bundle: {BLANK}; client_cert: {BLANK}; client_key: "
            f"{BLANK} (known keys: url, ca_bundle, verify, client_cert, client_key; e.g. "
            'url = "https://bastion.example:8780")',
        ),
        (  # was 'ca_bundle .: not a readable PEM CA bundle (Is a directory)', when listing
            'backend = "vsphere"\nendpoint = { host = "127.0.0.1", port = 1 }\nca_bundle = ""',
            f"vSphere settings: ca_bundle: {BLANK} (known keys: ca_bundle, insecure)",
        ),
        (
            'provider = "ec2"\nregion = "us-east-1"\nca_bundle = ""\nclient_cert = ""\n'
            'client_key = ""',
            f"libcloud settings: ca_bundle: {BLANK}; client_cert: {BLANK}; client_key: {BLANK}",
        ),
        (
            'backend = "heat"\nendpoint_url = "http://127.0.0.1:9/v1"\nproject = "p"\n'
            'verify = ""\nca_bundle = ""\nclient_cert = ""\nclient_key = ""\ntemplates = ""',
            f"Heat account: verify: {BLANK}; ca_bundle: {BLANK}; client_cert: {BLANK}; "
            f"client_key: {BLANK}; templates: {BLANK}",
        ),
    ],
)
def test_a_blank_path_setting_is_refused(tmp_path: Path, table: str, said: str) -> None:
    assert refusal_of(tmp_path, table, at_load=False) == said
