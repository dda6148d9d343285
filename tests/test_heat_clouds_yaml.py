"""Heat accounts that name a cloud of clouds.yaml (`cloud = "..."`): each cloud is read by
openstacksdk's loader, and the Heat backend asks Keystone for the token keystoneauth would
ask for (the same identity, the same scope), at the same region and interface; what the
backend cannot do is refused by name. No network: Keystone's request is built, not sent.
The live login is tests/openstack/test_heat_clouds_yaml_live.py."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import yaml

pytest.importorskip("openstack")

from keystoneauth1 import session
from keystoneauth1.identity import generic, v3
from openstack.config.loader import OpenStackConfig

from tests.certs import make_ca
from tests.clouds_files import no_network, only_these_files
from winged_monkey.account import Secrets
from winged_monkey.errors import ConfigError, CredentialError
from winged_monkey.user.config import AccountConfig, load_config
from winged_monkey.user.credentials import CredentialResolver, store_in_keyring
from winged_monkey_heat.client import HeatClient

KS = "https://keystone.example:5000/v3"
ALICE = {"auth_url": KS, "username": "alice", "password": "s3", "project_name": "web"}

TAKEN: dict[str, dict[str, Any]] = {
    "devstack": {
        "auth": {**ALICE, "user_domain_id": "default", "project_domain_id": "default"},
        "identity_api_version": "3",
        "region_name": "RegionOne",
    },
    "domain-shorthand": {"auth": {**ALICE, "domain_name": "Users"}, "interface": "internal"},
    "default-domain": {"auth": {**ALICE, "default_domain_id": "7c2e"}},
    "project-id": {
        "auth": {"auth_url": KS, "username": "alice", "password": "s3", "project_id": "p1"},
        "auth_type": "v3password",
        "domain_id": "default",
    },
    "hyphens-regions": {
        "regions": ["RegionOne", "RegionTwo"],
        "endpoint-type": "adminURL",
        "auth": {
            "auth-url": KS,
            "username": "alice",
            "password": "s3",
            "tenant-name": "web",
            "user-domain-name": "Default",
            "project-domain-name": "Default",
        },
    },
    "token": {
        "auth_type": "v3token",
        "auth": {"auth_url": KS, "token": "t0k", "project_name": "web", "project_domain_id": "d1"},
    },
    "appcred-id": {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": KS,
            "application_credential_id": "0a1b",
            "application_credential_secret": "s",
        },
    },
    "appcred-name": {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": KS,
            "application_credential_name": "ci",
            "application_credential_secret": "s",
            "username": "alice",
            "user_domain_name": "Users",
        },
    },
    # an id and a name for one domain: keystoneauth sends the id
    "domain-ids-and-names": {
        "auth": {
            **ALICE,
            "user_domain_id": "7c2e",
            "user_domain_name": "Users",
            "project_domain_id": "3f1c",
            "project_domain_name": "Corp",
        }
    },
    # keystoneauth names the user by id when there is one, with no domain, even beside
    # a username (wm sent alice in domain default, and refused an id alone)
    "user-id": {"auth": {"auth_url": KS, "user_id": "u1", "password": "p", "project_id": "p1"}},
    "user-id-and-name": {"auth": {**ALICE, "user_id": "u1", "domain_id": "default"}},
    "appcred-name-user-id": {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": KS,
            "application_credential_name": "ci",
            "application_credential_secret": "s",
            "user_id": "u1",
        },
    },
}

REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "oidc": (
        {
            "auth_type": "v3oidcpassword",
            "auth": {
                **ALICE,
                "identity_provider": "idp",
                "protocol": "openid",
                "client_id": "wm",
                "client_secret": "c",
                "discovery_endpoint": "https://idp.example/.well-known/openid-configuration",
                "project_domain_id": "default",
            },
        },
        "auth_type 'v3oidcpassword' is not supported: the Heat backend logs in with a "
        "password, a token or an application credential (auth_type v3applicationcredential)",
    ),
    "v2": (
        {"auth_type": "v2password", "auth": {**ALICE, "tenant_name": "web"}},
        "Keystone v2 is not supported, only v3",
    ),
    "system": (
        {
            "auth": {
                **{k: v for k, v in ALICE.items() if k != "project_name"},
                "system_scope": "all",
            }
        },
        "system-scoped (system_scope: all); Heat is a project's",
    ),
    # keystoneauth asks for an unscoped token, which reaches no Heat (wm asked for project
    # None, which Keystone refused with a bare 400)
    "token-unscoped": (
        {"auth_type": "v3token", "auth": {"auth_url": KS, "token": "t0k"}},
        "Keystone token auth needs auth.project_name or auth.project_id: Heat serves a "
        "project, and without one Keystone's token is unscoped",
    ),
    "password-unscoped": (
        {"auth": {"auth_url": KS, "username": "alice", "password": "s3", "domain_id": "d"}},
        "Keystone password auth needs auth.project_name or auth.project_id: Heat serves a "
        "project, and without one Keystone's token is unscoped",
    ),
    "templated-override": (
        {
            "orchestration_endpoint_override": "https://heat.example:8004/%(project_id)s",
            "auth": {**ALICE, "domain_id": "default"},
        },
        "orchestration_endpoint_override https://heat.example:8004/%(project_id)s is not "
        "Heat's v1 URL with the project as %(project_id)s",
    ),
}


@pytest.fixture
def clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clouds.yaml"
    shapes = {**TAKEN, **{name: cloud for name, (cloud, _) in REFUSED.items()}}
    path.write_text(yaml.safe_dump({"clouds": shapes}))
    only_these_files(monkeypatch, path, tmp_path / "secure.yaml")
    no_network(monkeypatch, "reading a cloud")
    return path


def keystoneauth(name: str, region: str | None = None) -> dict[str, Any]:
    """The token request keystoneauth would make for this cloud, and where it would go."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cloud = OpenStackConfig().get_one(cloud=name, region_name=region)
    plugin: Any = cloud.get_auth()
    if isinstance(plugin, generic.BaseGenericPlugin):  # discovery would pick v3
        plugin = plugin.create_plugin(session.Session(), (3, 0), cloud.config["auth"]["auth_url"])
    interface = cloud.get_interface("orchestration")
    return {
        "auth": token_request(plugin),
        "url": plugin.auth_url.rstrip("/"),
        "region": cloud.config["region_name"] or None,
        "interface": str(interface).lower().removesuffix("url"),
    }


class _Posted(Exception):
    """The token request, caught where keystoneauth would send it."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


class _Catching(session.Session):
    def post(self, url: str, **kwargs: Any) -> requests.Response:
        raise _Posted(kwargs["json"])


def token_request(plugin: Any) -> dict[str, Any]:
    """The `auth` of the token request a keystoneauth v3 plugin posts (its own body, caught
    unsent: a project named without a domain goes without one)."""
    with pytest.raises(_Posted) as posted:
        plugin.get_auth_ref(_Catching())
    auth: dict[str, Any] = posted.value.body["auth"]
    return auth


def heat(name: str, region: str | None = None) -> dict[str, Any]:
    account = AccountConfig.model_validate(
        {"name": "h", "backend": "heat", "cloud": name, "region": region}
    )
    secrets = CredentialResolver(lambda account, what: "never asked").resolve(account)
    assert secrets.secret is None  # a clouds.yaml account is never prompted
    client = HeatClient(account, secrets)
    keystone = client.keystone
    assert keystone is not None
    return {
        "auth": keystone._body()["auth"],
        "url": keystone.url.removesuffix("/auth/tokens"),
        "region": keystone.region,
        "interface": keystone.settings.interface,
    }


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_each_cloud_asks_keystone_for_the_token_keystoneauth_would(clouds: Path, name: str) -> None:
    assert heat(name) == keystoneauth(name)


def test_the_accounts_region_picks_one_of_the_list(clouds: Path) -> None:
    assert heat("hyphens-regions", "RegionTwo") == keystoneauth("hyphens-regions", "RegionTwo")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_the_heat_backend_cannot_do_is_refused_by_name(clouds: Path, name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        heat(name)
    assert str(refused.value).startswith(f"h: clouds.yaml: cloud '{name}': ")
    assert REFUSED[name][1] in str(refused.value)
    assert "s3" not in str(refused.value)


def test_an_orchestration_endpoint_override_is_heats_url(clouds: Path, tmp_path: Path) -> None:
    ca, _, _ = make_ca(tmp_path, "wm-test-ca")
    clouds.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "o": {
                        "orchestration_endpoint_override": "https://heat.example:8004/v1/%(project_id)s",
                        "cacert": str(ca),
                        "auth": {**ALICE, "domain_id": "default"},
                    }
                }
            }
        )
    )
    account = AccountConfig.model_validate({"name": "h", "backend": "heat", "cloud": "o"})
    client = HeatClient(account, Secrets(account="h"))
    assert client.settings.endpoint_url == "https://heat.example:8004/v1"
    assert client.settings.tls_verify == (True, str(ca))


def test_the_accounts_own_keys_and_secret_win(
    clouds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEAT_PW", "from-env")
    account = AccountConfig.model_validate(
        {
            "name": "h",
            "backend": "heat",
            "cloud": "devstack",
            "service_type": "orchestration-v1",
            "credentials": {"keyring": False, "secret_env": "HEAT_PW"},
        }
    )
    client = HeatClient(account, CredentialResolver().resolve(account))
    assert client.settings.service_type == "orchestration-v1"
    assert client.keystone is not None
    assert client.keystone._body()["auth"]["identity"]["password"]["user"]["password"] == (
        "from-env"
    )


def test_the_clouds_cert_that_is_not_there_is_named_as_clouds_yaml_names_it(
    clouds: Path, tmp_path: Path
) -> None:
    clouds.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "m": {"cert": str(tmp_path / "me.pem"), "auth": {**ALICE, "domain_id": "d"}}
                }
            }
        )
    )
    account = AccountConfig.model_validate({"name": "h", "backend": "heat", "cloud": "m"})
    with pytest.raises(ConfigError) as gone:
        HeatClient(account, Secrets(account="h"))
    assert str(gone.value) == f"h: clouds.yaml cert {tmp_path / 'me.pem'}: no such file"


def test_a_cloud_without_its_password_says_where_it_was_looked_for(
    clouds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wm said 'no secret found (tried keyring ...)', not a word of clouds.yaml."""
    auth = {k: v for k, v in ALICE.items() if k != "password"}
    clouds.write_text(yaml.safe_dump({"clouds": {"bare": {"auth": {**auth, "domain_id": "d"}}}}))
    account = AccountConfig.model_validate({"name": "h", "backend": "heat", "cloud": "bare"})
    with pytest.raises(CredentialError) as none:
        HeatClient(account, CredentialResolver().resolve(account))
    assert str(none.value) == (
        "h: clouds.yaml: cloud 'bare' has no auth.password (clouds.yaml, secure.yaml); store "
        "one with `wm accounts set-secret h` or name secret_env or secret_command in the "
        "account's [accounts.credentials]"
    )
    store_in_keyring("h", "from-keyring")
    client = HeatClient(account, CredentialResolver().resolve(account))
    assert client.keystone is not None
    assert client.keystone._body()["auth"]["identity"]["password"]["user"]["password"] == (
        "from-keyring"
    )


def test_a_heat_account_may_name_its_user_by_id(tmp_path: Path) -> None:
    """`user_id` in a Heat account's own table (refused as an unknown key before): the user
    by id, with no domain, as keystoneauth's v3 Password sends it, the username aside."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[accounts]]\nname = "h"\nbackend = "heat"\nauth_url = "{KS}"\nuser_id = "u1"\n'
        'username = "alice"\nuser_domain_name = "Users"\nproject_name = "web"\n'
        'project_domain_id = "default"\ncredentials = { keyring = false }\n'
    )
    account = load_config(path).account("h")
    client = HeatClient(account, Secrets(account="h", secret="s3"))
    assert client.keystone is not None
    plugin = v3.Password(
        KS,
        password="s3",
        user_id="u1",
        username="alice",
        user_domain_name="Users",
        project_name="web",
        project_domain_id="default",
    )
    assert client.keystone._body()["auth"] == token_request(plugin)


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("user-id-and-name", "user id u1 (project web)"),
        ("appcred-name-user-id", "application credential ci of user id u1"),
        ("appcred-name", "application credential ci of user alice"),
        ("appcred-id", "application credential 0a1b"),
    ],
)
def test_keystone_refusing_the_login_names_the_user_it_was_asked_for(
    clouds: Path, name: str, who: str
) -> None:
    """A user named by id was told as its username, which Keystone was never sent."""
    account = AccountConfig.model_validate({"name": "h", "backend": "heat", "cloud": name})
    client = HeatClient(account, Secrets(account="h"))
    assert client.keystone is not None
    said = {"error": {"message": "The request you have made requires authentication."}}
    refused = client.keystone._refused(httpx.Response(401, json=said))
    assert str(refused).startswith(
        f"h: Keystone (keystone.example:5000) refused {who}: The request you have made "
        "requires authentication; check "
    )


@pytest.mark.parametrize(
    "keys",
    [{"auth_type": "token"}, {"username": "alice"}],
    ids=["token", "password"],
)
def test_a_keystone_account_without_a_project_is_refused_with_what_to_add(
    keys: dict[str, str],
) -> None:
    """A token account without a project asked Keystone for project None (a bare 400)."""
    account = AccountConfig.model_validate(
        {"name": "h", "backend": "heat", "auth_url": KS, **keys, "credentials": {"keyring": False}}
    )
    with pytest.raises(ConfigError) as refused:
        HeatClient(account, Secrets(account="h", secret="s3", token="t0k"))
    method = keys.get("auth_type", "password")
    assert str(refused.value) == (
        f"h: Heat account: Keystone {method} auth needs project_name or project_id: Heat "
        "serves a project, and without one Keystone's token is unscoped"
    )


@pytest.mark.parametrize(
    ("own", "domain"),
    [({}, {"id": "default"}), ({"project_domain_name": "Corp"}, {"name": "Corp"})],
    ids=["the-clis", "the-accounts-own"],
)
def test_a_clouds_project_named_without_its_domain_is_the_openstack_clis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: dict[str, str], domain: dict[str, str]
) -> None:
    """keystoneauth sends the name bare (Keystone: 400); the openstack CLI takes the domain
    of id `default`, as wm's import does for libcloud. The Heat backend took the user's
    domain (Users here): another project, where Users has one named web too."""
    path = tmp_path / "clouds.yaml"
    cloud = {"auth": {**ALICE, "user_domain_name": "Users"}}
    path.write_text(yaml.safe_dump({"clouds": {"bare": cloud}}))
    only_these_files(monkeypatch, path, tmp_path / "secure.yaml")
    no_network(monkeypatch, "reading a cloud")
    account = AccountConfig.model_validate({"name": "h", "backend": "heat", "cloud": "bare"} | own)
    client = HeatClient(account, Secrets(account="h"))
    assert client.keystone is not None
    assert client.keystone._body()["auth"]["scope"] == {
        "project": {"name": "web", "domain": domain}
    }
