"""clouds.yaml shapes from openstacksdk's documentation (and openrc variables), each read by
wm and by openstacksdk's loader with keystoneauth: wm logs in as the same user, to the same
project in the same domains, at the same region, with the same TLS settings, or refuses by
name. Domains are compared as a Keystone holding DOMAINS would see them (an id and a name
of one domain are the same login). No network: the loader and keystoneauth are only asked
what they would send."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("openstack")

from keystoneauth1 import session
from keystoneauth1.identity import generic
from openstack.config.loader import OpenStackConfig

from tests.clouds_files import no_network, only_these_files
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.importing import ImportedAccount, from_environment
from winged_monkey_libcloud import cloudsyaml

#: The Keystone the logins are compared against: its domains, id to name.
DOMAINS = {"default": "Default", "7c2e": "Users", "3f1c": "Corp"}
KS = "https://keystone.example:5000/v3"
ALICE = {"auth_url": KS, "username": "alice", "project_name": "web"}

#: Clouds wm takes, each logging in as openstacksdk would.
TAKEN: dict[str, dict[str, Any]] = {
    "devstack": {  # as devstack writes it
        "auth": {**ALICE, "user_domain_id": "default", "project_domain_id": "default"},
        "identity_api_version": "3",
        "region_name": "RegionOne",
    },
    "by-name": {
        "auth": {**ALICE, "user_domain_name": "Users", "project_domain_id": "3f1c"},
        "identity_api_version": 3,
        "interface": "public",
    },
    "v3password": {
        "auth_type": "v3password",
        "auth": {**ALICE, "user_domain_name": "Users", "project_domain_name": "Default"},
    },
    "hyphens": {  # openstacksdk reads - as _
        "identity-api-version": 3,
        "region-name": "RegionTwo",
        "auth": {
            "auth-url": KS,
            "username": "alice",
            "project-name": "web",
            "user-domain-name": "Users",
            "project-domain-id": "7c2e",
        },
    },
    "tenant": {"auth": {**ALICE, "tenant_name": "old", "domain_id": "default"}},
    "domain-shorthand": {"auth": {**ALICE, "domain_id": "default"}},  # both domains
    "domain-shorthand-outside": {
        "domain_id": "3f1c",
        "auth": {**ALICE, "user_domain_name": "Corp"},
    },
    # keystoneauth's own default for both domains (the `password` plugin's option)
    "default-domain-name": {
        "auth": {**ALICE, "default_domain_name": "Users", "project_domain_id": "3f1c"}
    },
    "default-domain-id": {
        "auth": {**ALICE, "default_domain_id": "7c2e", "user_domain_name": "Users"}
    },
    "default-domain-under": {
        "auth": {**ALICE, "default_domain_id": "default", "project_domain_id": "3f1c"}
    },
    "regions": {
        "regions": ["RegionOne", "RegionTwo"],
        "auth": {**ALICE, "user_domain_id": "default", "project_domain_id": "default"},
    },
    "one-region": {"regions": ["Solo"], "auth": {**ALICE, "domain_id": "default"}},
    "region-values": {
        "regions": [
            {"name": "east", "values": {"auth": {"project_name": "east-web"}}},
            {"name": "west", "values": {"interface": "internal"}},
        ],
        "auth": {**ALICE, "domain_id": "default"},
    },
    "top-level-auth-keys": {  # the loader moves a plugin's options into auth
        "auth_url": KS,
        "username": "alice",
        "project_name": "web",
        "user_domain_name": "Users",
        "project_domain_id": "7c2e",
    },
    "endpoint-type": {"endpoint_type": "internalURL", "auth": {**ALICE, "domain_id": "default"}},
    "profile": {  # a bundled vendor profile, the cloud's own values over it
        "profile": "citycloud",
        "region_name": "Kna1",
        "auth": {"username": "alice", "project_name": "web", "domain_id": "default"},
    },
    "old-cloud-key": {  # `cloud:`, the profile's old name
        "cloud": "citycloud",
        "auth": {"username": "alice", "project_name": "web", "domain_id": "default"},
    },
    "insecure-string": {"insecure": "True", "auth": {**ALICE, "domain_id": "default"}},
    "verify-false": {"verify": False, "auth": {**ALICE, "domain_id": "default"}},
    "tls-files": {
        "cacert": "~/ca.pem",
        "cert": "~/alice.pem",
        "key": "~/alice.key",
        "auth": {**ALICE, "domain_id": "default"},
    },
    "compute-endpoint-override": {  # Nova's URL instead of the catalog's
        "compute_endpoint_override": "https://nova.example:8774/v2.1/",
        "auth": {**ALICE, "domain_id": "default"},
    },
    "compute-endpoint": {  # its older name
        "compute_endpoint": "https://nova.example:8774/v2.1",
        "auth": {**ALICE, "domain_id": "default"},
    },
    "appcred": {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": KS, "application_credential_id": "0a1b"},
    },
}

#: secure.yaml, merged into the clouds' auth
SECURE = {
    "clouds": {
        name: {"auth": {"application_credential_secret" if name == "appcred" else "password": "s3"}}
        for name in TAKEN
    }
}

#: Clouds wm cannot use, with what it says.
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "token": (
        {"auth_type": "token", "auth": {"auth_url": KS, "token": "t", "project_name": "web"}},
        "auth_type 'token' is not supported: libcloud logs in with a password or an "
        "application credential (`openstack application credential create wm` makes one; "
        "then auth_type: v3applicationcredential)",
    ),
    "oidc": (
        {
            "auth_type": "v3oidcpassword",
            "auth": {
                **ALICE,
                "password": "p",
                "identity_provider": "idp",
                "protocol": "openid",
                "client_id": "wm",
                "client_secret": "c",
                "discovery_endpoint": "https://idp.example/.well-known/openid-configuration",
                "project_domain_id": "default",
            },
        },
        "auth_type 'v3oidcpassword' is not supported: libcloud logs in with a password",
    ),
    "v2password": (  # a password, but Keystone v2's
        {"auth_type": "v2password", "auth": {**ALICE, "password": "p", "tenant_name": "web"}},
        "auth_type v2password logs in to Keystone v2, which is not supported, only v3 "
        "(auth_type password, or v3applicationcredential)",
    ),
    "appcred-by-name": (
        {
            "auth_type": "v3applicationcredential",
            "auth": {
                "auth_url": KS,
                "application_credential_name": "ci",
                "application_credential_secret": "s",
                "username": "alice",
                "user_domain_name": "Users",
            },
        },
        "has no id (libcloud needs application_credential_id, not its name) "
        "(`openstack application credential show ci` says it)",
    ),
    "no-scheme": (  # libcloud said 'Invalid scheme: keystone.example in url ...'
        {"auth": {**ALICE, "auth_url": "keystone.example:5000/v3", "domain_id": "default"}},
        "auth.auth_url keystone.example:5000/v3 is not an http:// or https:// URL",
    ),
    "keystone-v2": (
        {"identity_api_version": "2.0", "auth": {**ALICE, "password": "p"}},
        "Keystone v2 is not supported, only v3",
    ),
    "rackspace": (  # its profile is Keystone v2
        {"profile": "rackspace", "auth": {"username": "a", "password": "p", "project_name": "w"}},
        "Keystone v2 is not supported, only v3",
    ),
    "project-domain-by-name": (
        {"auth": {**ALICE, "password": "p", "domain_name": "Corp"}},
        "libcloud gives the project's domain by id: add auth.project_domain_id (for 'Corp')",
    ),
    "default-domain-id-only": (
        {"auth": {**ALICE, "password": "p", "default_domain_id": "7c2e"}},
        "libcloud names the user's domain: add auth.user_domain_name",
    ),
    "compute-endpoint-template": (  # keystoneauth fills it in; libcloud would not
        {
            "compute_endpoint_override": "https://nova.example:8774/v2.1/%(project_id)s",
            "auth": {**ALICE, "password": "p", "domain_id": "default"},
        },
        "is a template keystoneauth fills in (%(project_id)s); libcloud takes it as written",
    ),
    "compute-endpoint-unversioned": (  # openstacksdk asks Nova for its versions
        {
            "compute_endpoint_override": "https://nova.example:8774",
            "auth": {**ALICE, "password": "p", "domain_id": "default"},
        },
        "names no API version, which openstacksdk finds by asking Nova and libcloud does "
        "not: add it (e.g. /v2.1)",
    ),
    "v3password-default-domain": (  # only the `password` plugin has default_domain_*
        {
            "auth_type": "v3password",
            "auth": {**ALICE, "password": "p", "domain_id": "default", "default_domain_id": "x"},
        },
        "auth_type v3password takes no auth.default_domain_id",
    ),
}


@pytest.fixture
def clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clouds.yaml"
    shapes = {**TAKEN, **{name: cloud for name, (cloud, _) in REFUSED.items()}}
    path.write_text(yaml.safe_dump({"clouds": shapes}))
    (tmp_path / "secure.yaml").write_text(yaml.safe_dump(SECURE))
    only_these_files(monkeypatch, path, tmp_path / "secure.yaml")
    no_network(monkeypatch, "reading a cloud")
    return path


def domain(kind: str, value: str | None) -> str | None:
    """A domain as Keystone takes it: by id or by name, the same one."""
    if value is None:
        return None
    return DOMAINS.get(value, f"unknown id {value}") if kind == "id" else value


def keystoneauth_login(config: dict[str, Any], region: Any) -> dict[str, Any]:
    """What openstacksdk's keystoneauth plugin sends for this cloud, and where."""
    plugin = region.get_auth()
    if isinstance(plugin, generic.Password):  # auth_type password: v3 once discovered
        plugin = plugin.create_plugin(session.Session(), (3, 0), config["auth"]["auth_url"])
    method = plugin.auth_methods[0]
    verify, cert = region.get_requests_verify_args()
    login: dict[str, Any] = {
        "keystone": plugin.auth_url.rstrip("/").removesuffix("/v3"),
        "region": config["region_name"] or None,
        "public": config["interface"] in ("public", "publicURL"),
        "verify": verify is not False,
        "cacert": verify if isinstance(verify, str) else None,
        "cert": cert,
        "compute": (region.get_endpoint("compute") or "").rstrip("/") or None,  # an override
    }
    if hasattr(method, "application_credential_id"):
        return login | {"appcred": method.application_credential_id}
    user_domain = ("id", method.user_domain_id) if method.user_domain_id else None
    project_domain = ("id", plugin.project_domain_id) if plugin.project_domain_id else None
    return login | {
        "user": method.username,
        "user_domain": domain(*(user_domain or ("name", method.user_domain_name))),
        "project": plugin.project_name,
        "project_domain": domain(*(project_domain or ("name", plugin.project_domain_name))),
    }


def wm_login(
    driver: dict[str, Any],
    key: str,
    *,
    notes: tuple[str, ...],
    verify: bool = True,
    cacert: str | None = None,
    cert: Any = None,
) -> dict[str, Any]:
    """What wm hands libcloud for the same cloud, in the same terms."""
    login: dict[str, Any] = {
        "keystone": driver["ex_force_auth_url"],
        "region": driver.get("ex_force_service_region"),
        "public": not any(note.startswith("interface ") for note in notes),
        "verify": verify,
        "cacert": cacert,
        "cert": cert,
        "compute": driver.get("ex_force_base_url"),
    }
    if driver["ex_force_auth_version"] == "3.x_appcred":
        return login | {"appcred": key}
    return login | {
        "user": key,
        "user_domain": domain("name", driver["ex_domain_name"]),
        "project": driver["ex_tenant_name"],
        "project_domain": domain("id", driver.get("ex_tenant_domain_id", "default")),
    }


def openstacksdk(name: str, region: str | None = None) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecations (`cloud:`)
        cloud = OpenStackConfig().get_one(cloud=name, region_name=region)
    return keystoneauth_login(dict(cloud.config), cloud)


def wm(name: str, region: str | None = None) -> dict[str, Any]:
    account = AccountConfig.model_validate(
        {"name": "os", "provider": "openstack", "cloud": name, "region": region}
    )
    cloud = cloudsyaml.resolve(account)
    assert cloud.secret == "s3"  # from secure.yaml
    cert = (cloud.client_cert, cloud.client_key) if cloud.client_key else cloud.client_cert
    return wm_login(
        cloud.driver,
        cloud.key,
        notes=cloud.notes,
        verify=cloud.verify,
        cacert=cloud.ca_bundle,
        cert=cert,
    )


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_each_cloud_logs_in_as_openstacksdk_would(clouds: Path, name: str) -> None:
    assert wm(name) == openstacksdk(name)


@pytest.mark.parametrize(("name", "region"), [("regions", "RegionTwo"), ("region-values", "west")])
def test_the_accounts_region_picks_one_of_the_list_as_openstacksdk_does(
    clouds: Path, name: str, region: str
) -> None:
    assert wm(name, region) == openstacksdk(name, region)


def test_keystoneauths_default_domain_is_the_users_and_the_projects(clouds: Path) -> None:
    """auth.default_domain_name: Users used to log in to the Default domain instead."""
    assert wm("default-domain-name")["user_domain"] == "Users"
    assert wm("default-domain-id")["project_domain"] == "Users"  # id 7c2e, not "default"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_libcloud_cannot_use_is_refused_by_name(clouds: Path, name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        wm(name)
    assert str(refused.value).startswith(f"os: clouds.yaml: cloud '{name}': ")
    assert REFUSED[name][1] in str(refused.value)


# -- the OS_* variables of an openrc file ----------------------------------------------

OPENRC = {
    "OS_AUTH_URL": KS,
    "OS_USERNAME": "alice",
    "OS_PASSWORD": "s3",
    "OS_IDENTITY_API_VERSION": "3",
}
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "v3": {
        "OS_PROJECT_NAME": "web",
        "OS_USER_DOMAIN_NAME": "Users",
        "OS_PROJECT_DOMAIN_ID": "3f1c",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
    },
    "tenant-name": {"OS_TENANT_NAME": "web", "OS_DOMAIN_ID": "default"},  # a v2-era openrc
    "domain-id": {"OS_PROJECT_NAME": "web", "OS_DOMAIN_ID": "3f1c", "OS_USER_DOMAIN_NAME": "Corp"},
    "default-domain": {
        "OS_PROJECT_NAME": "web",
        "OS_DEFAULT_DOMAIN_NAME": "Users",
        "OS_PROJECT_DOMAIN_ID": "3f1c",
    },
    "endpoint-type": {
        "OS_PROJECT_NAME": "web",
        "OS_ENDPOINT_TYPE": "internalURL",
        "OS_DOMAIN_ID": "default",
    },
}


def imported_login(imported: ImportedAccount) -> dict[str, Any]:
    return wm_login(
        imported.table["driver"], imported.table["credentials"]["key"], notes=imported.notes
    )


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_an_openrc_imports_as_openstacksdk_reads_it(
    clouds: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    for key, value in {**OPENRC, **ENVIRONMENTS[name]}.items():
        monkeypatch.setenv(key, value)
    imported = from_environment(os.environ)
    assert imported.secret == "s3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cloud = OpenStackConfig(load_yaml_config=False).get_one()  # openstacksdk's `envvars`
    assert imported_login(imported) == keystoneauth_login(dict(cloud.config), cloud)


def test_an_openrc_that_libcloud_cannot_use_names_the_variable_to_set(
    clouds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {**OPENRC, "OS_PROJECT_NAME": "web", "OS_DOMAIN_NAME": "Corp"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as refused:
        from_environment(os.environ)
    assert str(refused.value) == (
        "os-web: the OS_* environment: libcloud gives the project's domain by id: "
        "add OS_PROJECT_DOMAIN_ID (for 'Corp'); nothing imported"
    )
