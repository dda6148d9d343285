"""Accounts from OpenStack's own files: `clouds.yaml` (with `secure.yaml`) and `OS_*` variables.

Each cloud becomes an `[[accounts]]` table for libcloud's OpenStack driver, appended to
the portal's config with its existing content and comments kept. Its password or
application-credential secret goes to the OS keyring only, never into the config.

libcloud's Keystone v3 client has limits the import states rather than hides: it names
the user's domain by name and the project's domain by id, scopes a token by project
name, and uses the catalog's public endpoints only.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from winged_monkey.errors import ConfigError
from winged_monkey.user import cloudfiles

#: Not a cloud's settings: OS_CLOUD and its like pick a cloud of clouds.yaml (which
#: --os-env does not read); the others are test runners' (openstacksdk skips them too).
_NOT_SETTINGS = ("OS_CLOUD", "OS_CLOUD_NAME", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE")
_NOT_SETTINGS_PREFIXES = ("OS_TEST", "OS_STD", "OS_LOG")
PASSWORD_TYPES = {"password", "v3password"}
APPCRED_TYPES = {"v3applicationcredential", "applicationcredential"}
TLS_NOTE = "TLS verification stays on (verify: false is not carried over); use cacert"
_VERSION_SUFFIX = re.compile(r"/v(3|2\.0)/?$")


@dataclass(frozen=True)
class ImportedAccount:
    """One account to add: its config table (no secret in it) and the secret apart."""

    name: str
    table: dict[str, Any]
    source: str
    secret: str | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()


# -- reading ---------------------------------------------------------------------------


def find_clouds_yaml(env: Mapping[str, str] | None = None) -> Path:
    """The clouds.yaml openstacksdk would read: $OS_CLIENT_CONFIG_FILE, then clouds.yaml,
    .yml or .json in the current directory, the user's and the system's config folders."""
    candidates = cloudfiles.search("clouds", env)
    found = cloudfiles.first(candidates)
    if found is None:
        raise ConfigError(
            f"no clouds.yaml found (looked in {cloudfiles.looked_in(candidates)}); "
            "name one: wm accounts import --clouds-yaml PATH"
        )
    return found


def secure_file(path: Path) -> Path | None:
    """The secure.yaml merged over `path`: the loader's own when `path` is the clouds.yaml it
    finds, else $OS_CLIENT_SECURE_FILE or one beside `path`, else the loader's."""
    searched = cloudfiles.search("secure")
    found = cloudfiles.first(cloudfiles.search("clouds"))
    if found is not None and found.resolve() == path.resolve():
        return cloudfiles.first(searched)
    beside = [path.with_name(f"secure{suffix}") for suffix in (".yaml", ".yml", ".json")]
    override = searched[:1] if os.environ.get("OS_CLIENT_SECURE_FILE") else []
    return cloudfiles.first(override + beside + searched)


def read_clouds(path: Path) -> dict[str, Any]:
    """The clouds of a clouds.yaml, each merged with its entry in the secure.yaml."""
    clouds = _clouds_of(path)
    secure = secure_file(path)
    if secure is not None:
        for name, extra in _clouds_of(secure).items():
            if isinstance(clouds.get(name), dict) and isinstance(extra, dict):
                clouds[name] = _merged(clouds[name], extra)
    return clouds


def _clouds_of(path: Path) -> dict[str, Any]:
    data = cloudfiles.parsed(path)
    clouds = data.get("clouds") if isinstance(data, dict) else None
    if not isinstance(clouds, dict):
        raise ConfigError(f"{path}: no `clouds:` mapping (is this a clouds.yaml?)")
    return {str(k): v for k, v in clouds.items()}  # `123:` is a number to YAML


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _wanted(
    path: Path, clouds: Mapping[str, object], names: Sequence[str], rename: str | None
) -> list[str]:
    """The clouds of `path` to import: the named ones (all when none is named), each there;
    one only when it is renamed."""
    wanted = list(names) or sorted(clouds)
    missing = [n for n in wanted if n not in clouds]
    if missing:
        raise ConfigError(
            f"{path}: no cloud {', '.join(map(repr, missing))} (it has: "
            f"{', '.join(sorted(clouds)) or 'none'})"
        )
    if rename is not None and len(wanted) != 1:
        raise ConfigError("--name renames one cloud: name it with --cloud")
    return wanted


def from_clouds_yaml(
    path: Path, names: Sequence[str] = (), rename: str | None = None
) -> list[ImportedAccount]:
    """Accounts for the named clouds of `path` (all of them when none is named); the first
    cloud that cannot be imported is raised."""
    found, refused = each_of_clouds_yaml(path, names, rename)
    if refused:
        raise refused[0]
    return found


def each_of_clouds_yaml(
    path: Path, names: Sequence[str] = (), rename: str | None = None, region: str | None = None
) -> tuple[list[ImportedAccount], list[ConfigError]]:
    """Like `from_clouds_yaml`, but a cloud that cannot be imported is returned with its
    reason beside the ones that can (devstack's clouds.yaml always has a system-scoped
    cloud: the others are imported all the same). `region` picks one of a cloud's regions
    (openstacksdk's choice is the first)."""
    clouds = read_clouds(path)
    wanted = _wanted(path, clouds, names, rename)
    found: list[ImportedAccount] = []
    refused: list[ConfigError] = []
    loader = _loader(path, str(path))
    for name in wanted:
        source = f"{path} (cloud {name!r})"
        problem = cloudfiles.settings_problem(clouds[name])
        if problem:
            refused.append(ConfigError(f"{source}: {problem}; nothing imported", account=name))
            continue
        try:
            account_name(rename or name)
        except ConfigError:
            alone = (
                f"wm accounts import --clouds-yaml {shlex.quote(str(path))} "
                f"--cloud {shlex.quote(name)} --name NAME"
            )
            refused.append(unnamable(source, name, alone))
            continue
        key = cloudfiles.key_of(name, loader.get_cloud_names())
        try:
            cloud = _resolved(loader, key, source, account=name, region=region)
            account = openstack_account(rename or name, cloud, source=source)
        except ConfigError as exc:
            refused.append(exc)
            continue
        regions = _regions(loader, key)
        if len(regions) > 1 and cloud.get("region_name") and not region:
            other = next(r for r in regions if r != cloud["region_name"])
            note = (
                f"regions {', '.join(regions)}: imported with {cloud['region_name']} "
                f"(openstacksdk's choice, the first); another as an account of its own: "
                f"wm accounts import --clouds-yaml {path} --cloud {name} --region {other} "
                f"--name {account_name(f'{rename or name}-{other}')}"
            )
            account = replace(account, notes=(*account.notes, note))
        found.append(account)
    return found, refused


def _regions(loader: Any, name: Any) -> list[str]:
    """A cloud's region names as openstacksdk lists them: `regions`, a `region_name` list
    (or comma-separated), else its vendor profile's. Its loader has no public way to ask,
    so its own method is used (a hint only: none when it is gone)."""
    import warnings

    try:
        with warnings.catch_warnings():  # a comma-separated region_name is deprecated
            warnings.simplefilter("ignore")
            known = loader._get_known_regions(name)
    except Exception:
        return []
    return [str(r.get("name")) for r in known if isinstance(r, dict) and r.get("name")]


def _loader(path: Path | None, what: str) -> Any:
    """openstacksdk's config loader over this file (and the secure.yaml beside it), or over
    no file, so a cloud means what it means to the OpenStack tools (vendor profiles,
    aliases, hyphens, region lists); what it reads is not guessed at without it."""
    try:
        from openstack import config as openstack_config
    except ImportError:
        raise ConfigError(
            f"{what} is read by openstacksdk's loader, as the OpenStack tools read it, and "
            "openstacksdk is not installed: pip install 'winged-monkey[openstack]'"
        ) from None
    secure = secure_file(path) if path is not None else None
    return openstack_config.OpenStackConfig(
        config_files=[str(path)] if path is not None else [],
        secure_files=[str(secure)] if secure is not None else [],
        load_envvars=False,  # the environment is read only when asked (--os-env)
    )


def _resolved(
    loader: Any, name: Any, source: str, *, account: str | None, region: str | None = None
) -> dict[str, Any]:
    import warnings

    warned: list[warnings.WarningMessage] = []  # told only to explain an error
    try:
        with warnings.catch_warnings(record=True) as warned:  # its deprecations
            warnings.simplefilter("always")
            return dict(loader.get_one(cloud=name, region_name=region or None).config)
    except Exception as exc:  # openstacksdk's ConfigException, a vendor profile's errors
        raw = loader.cloud_config["clouds"].get(name) or {}
        said = cloudfiles.loader_error(exc, raw, warned)
        raise ConfigError(f"{source}: {said}; nothing imported", account=account) from None


def from_environment(env: Mapping[str, str], name: str | None = None) -> ImportedAccount:
    """An account from the OS_* variables of an openrc file (`source openrc; wm accounts
    import --os-env`), read as openstacksdk reads them: its `envvars` cloud."""
    if not env.get("OS_AUTH_URL"):
        hint = (
            f"; OS_CLOUD={env['OS_CLOUD']} names a cloud: use --clouds-yaml --cloud "
            f"{env['OS_CLOUD']}"
            if env.get("OS_CLOUD")
            else "; source the project's openrc file first"
        )
        raise ConfigError("OS_AUTH_URL is not set" + hint)
    source = "the OS_* environment"
    # openstacksdk's `envvars` cloud: every OS_X as `x` (OS_TENANT_NAME, OS_DOMAIN_ID,
    # OS_ENDPOINT_TYPE included), sorted into `auth` and the rest by its loader
    flat: dict[str, Any] = {
        key[3:].lower(): value
        for key, value in env.items()
        if key.startswith("OS_")
        and value
        and key not in _NOT_SETTINGS
        and not key.startswith(_NOT_SETTINGS_PREFIXES)
    }
    if "application_credential_id" in flat:  # no OS_AUTH_TYPE: taken as meant
        flat.setdefault("auth_type", "v3applicationcredential")
    loader = _loader(None, "the OS_* environment")
    try:
        loader.cloud_config["clouds"]["envvars"] = flat
        cloud = _resolved(loader, "envvars", source, account=name)
        auth = cloud.get("auth") or {}
        default = auth.get("project_name") or auth.get("username") or "openstack"
        return openstack_account(name or f"os-{default}", cloud, source=source)
    except ConfigError as exc:  # in the variables' names: OS_USER_DOMAIN_NAME, not auth.*
        said = re.sub(r"\bauth\.(\w+)", lambda m: f"OS_{m.group(1).upper()}", exc.message)
        said = said.replace("auth_type: ", "OS_AUTH_TYPE=")
        raise ConfigError(said, account=exc.account) from None


def secret_from_environment(account: ImportedAccount) -> ImportedAccount:
    """The account reading its secret from the openrc's own variable each time (secret_env),
    for an import that stores no secret (--no-secrets, a host without a keyring)."""
    if account.secret is None:
        return account
    appcred = account.table["driver"].get("ex_force_auth_version") == "3.x_appcred"
    var = "OS_APPLICATION_CREDENTIAL_SECRET" if appcred else "OS_PASSWORD"
    credentials = {**account.table["credentials"], "secret_env": var}
    return replace(account, table={**account.table, "credentials": credentials})


# -- one cloud onto one account ----------------------------------------------------------


def unnamable(source: str, name: str, alone: str) -> ConfigError:
    """A cloud's or a profile's refusal when its name makes no account name (`開発`), with
    `alone`, the command that imports it under a name of the user's."""
    return ConfigError(
        f"{source}: cannot make an account name from it (letters, digits, _.-): import it "
        f"alone, named: {alone}",
        account=name,
    )


def account_name(raw: str) -> str:
    """A valid account name from a cloud's name (letters, digits, `_.-`)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", raw).strip("-._")[:64]
    if not name:
        raise ConfigError(f"cannot make an account name from {raw!r}: give one with --name")
    return name


def openstack_account(raw_name: str, cloud: Mapping[str, Any], *, source: str) -> ImportedAccount:
    """The account for one clouds.yaml cloud (or the OS_* variables shaped like one)."""
    name = account_name(raw_name)
    auth: Mapping[str, Any] = cloud.get("auth") or {}

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{source}: {why}; nothing imported", account=name)

    if auth.get("system_scope"):
        raise refuse(
            f"system-scoped (system_scope: {auth['system_scope']}); libcloud scopes a token "
            "to a project only"
        )
    version = str(cloud.get("identity_api_version") or "3").split(".")[0]
    if version != "3":
        raise refuse(f"Keystone v{version} is not supported, only v3")
    auth_url = str(auth.get("auth_url") or "")
    if not auth_url:
        raise refuse("no auth.auth_url")
    if urlsplit(auth_url).scheme.lower() not in ("http", "https"):
        raise refuse(f"auth.auth_url {auth_url} is not an http:// or https:// URL")
    auth_type = str(cloud.get("auth_type") or "").lower()
    if not auth_type:
        auth_type = "v3applicationcredential" if "application_credential_id" in auth else "password"
    if auth_type.startswith("v2"):  # v2password, v2token: not "a password is not supported"
        raise refuse(
            f"auth_type {auth_type} logs in to Keystone v2, which is not supported, only v3 "
            "(auth_type password, or v3applicationcredential)"
        )
    notes: list[str] = []
    driver: dict[str, Any] = {"ex_force_auth_url": _VERSION_SUFFIX.sub("", auth_url.rstrip("/"))}
    if auth_url.rstrip("/").endswith("/v2.0"):  # keystoneauth would discover what is there
        notes.append(
            f"auth_url names Keystone v2.0: wm logs in with v3 at {driver['ex_force_auth_url']} "
            "(Keystone has not served v2.0 since its Queens release)"
        )

    if auth_type in APPCRED_TYPES:
        key = auth.get("application_credential_id")
        if not key:
            named = auth.get("application_credential_name")
            show = f" (`openstack application credential show {named}` says it)" if named else ""
            raise refuse(
                "an application credential is named but has no id (libcloud needs "
                f"application_credential_id, not its name){show}"
            )
        secret = auth.get("application_credential_secret")
        driver["ex_force_auth_version"] = "3.x_appcred"
    elif auth_type in PASSWORD_TYPES:
        key = auth.get("username")
        if not key:
            raise refuse("no auth.username (libcloud logs in by user name, not user_id)")
        secret = auth.get("password")
        driver["ex_force_auth_version"] = "3.x_password"
        project = auth.get("project_name")
        if not project:
            raise refuse("no auth.project_name (libcloud scopes a token by project name)")
        driver["ex_tenant_name"] = str(project)
        if auth.get("project_id"):  # keystoneauth scopes by the id when both are given
            notes.append(
                f"project_id {auth['project_id']} not carried over: libcloud scopes by the "
                f"project's name ({project}), the same project only if the id is {project}'s"
            )
        driver["ex_domain_name"] = _user_domain(auth, refuse, notes)
        project_domain = _project_domain_id(auth, refuse)
        if project_domain != "default":
            driver["ex_tenant_domain_id"] = project_domain
    else:
        raise refuse(  # a token, federation (v3oidc*, saml), TOTP: an app credential instead
            f"auth_type {auth_type!r} is not supported: libcloud logs in with a password or an "
            "application credential (`openstack application credential create wm` makes one; "
            "then auth_type: v3applicationcredential)"
        )

    if cloud.get("region_name"):
        driver["ex_force_service_region"] = str(cloud["region_name"])
    # Nova's URL instead of the catalog's, as openstacksdk's get_endpoint("compute")
    override = cloud.get("compute_endpoint_override") or cloud.get("compute_endpoint")
    if override:
        url = str(override).rstrip("/")
        if "%(" in url:
            raise refuse(
                f"compute_endpoint_override {url} is a template keystoneauth fills in "
                "(%(project_id)s); libcloud takes it as written: write the project's id there"
            )
        if not re.search(r"/v2(\.\d+)?(/|$)", urlsplit(url).path):
            raise refuse(
                f"compute_endpoint_override {url} names no API version, which openstacksdk "
                "finds by asking Nova and libcloud does not: add it (e.g. /v2.1)"
            )
        driver["ex_force_base_url"] = url
    # Nova's own compute_interface first, as openstacksdk's get_interface("compute")
    interface = str(cloud.get("compute_interface") or cloud.get("interface") or "public").lower()
    if interface not in ("public", "publicurl"):
        notes.append(
            f"interface {interface!r} not carried over: libcloud reaches the catalog's "
            "public endpoints only"
        )
    table: dict[str, Any] = {"name": name, "provider": "openstack"}
    if cloud.get("api_timeout") is not None:  # openstacksdk's seconds per request
        seconds = _seconds(cloud["api_timeout"])
        if seconds is None:
            notes.append(
                f"api_timeout {cloud['api_timeout']!r} not carried over: wm's timeout takes "
                "seconds up to 3600"
            )
        else:
            table["timeout"] = seconds
    if cloud.get("cacert"):
        table["ca_bundle"] = str(Path(str(cloud["cacert"])).expanduser())
    if cloud.get("cert"):  # keystoneauth presents it (with `key`) on every request
        table["client_cert"] = str(Path(str(cloud["cert"])).expanduser())
        if cloud.get("key"):
            table["client_key"] = str(Path(str(cloud["key"])).expanduser())
    elif cloud.get("key"):
        notes.append("key without cert not carried over (openstacksdk ignores it too)")
    if cloud.get("verify") is False or str(cloud.get("insecure", "")).lower() in ("1", "true"):
        notes.append(TLS_NOTE)
    table["driver"] = driver
    table["credentials"] = {"key": str(key)}
    if not secret:
        notes.append(f"no secret in the source: run `wm accounts set-secret {name}`")
    return ImportedAccount(
        name=name,
        table=table,
        source=source,
        secret=str(secret) if secret else None,
        notes=tuple(notes),
    )


def _seconds(value: Any) -> int | float | None:
    """api_timeout as wm's timeout: a number of seconds above 0, up to 3600."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 0 < seconds <= 3600:
        return None
    return int(seconds) if seconds.is_integer() else seconds


def _domain(auth: Mapping[str, Any], whose: str, what: str) -> Any:
    """The user's or project's domain id or name as keystoneauth takes it: its own, else
    `domain_*` (openstacksdk's shorthand for both), else `default_domain_*` (keystoneauth's
    default for both)."""
    own, both = auth.get(f"{whose}_domain_{what}"), auth.get(f"domain_{what}")
    return own or both or auth.get(f"default_domain_{what}")


def _user_domain(
    auth: Mapping[str, Any], refuse: Callable[[str], ConfigError], notes: list[str]
) -> str:
    """The user's domain by name: keystoneauth sends the id when there is one (`default`
    is the domain named Default); with another id, the name given beside it, said."""
    ident, named = _domain(auth, "user", "id"), _domain(auth, "user", "name")
    if ident and str(ident).lower() == "default":
        return "Default"
    if ident and not named:
        raise refuse("libcloud names the user's domain: add auth.user_domain_name")
    if ident:  # maybe never written: openstacksdk's loader spreads `domain_id` to both
        notes.append(
            f"user domain id {ident} not carried over: libcloud names the user's domain "
            f"({named}), the same domain only if {ident} is the id of {named}"
        )
    return str(named or "Default")


def _project_domain_id(auth: Mapping[str, Any], refuse: Callable[[str], ConfigError]) -> str:
    ident = _domain(auth, "project", "id")
    if ident:
        return str(ident)
    named = str(_domain(auth, "project", "name") or "default")
    if named.lower() == "default":
        return "default"
    raise refuse(
        f"libcloud gives the project's domain by id: add auth.project_domain_id (for {named!r})"
    )
