"""The clouds.yaml and secure.yaml openstacksdk's loader reads, found and checked as it does.

The loader looks at $OS_CLIENT_CONFIG_FILE ($OS_CLIENT_SECURE_FILE), then clouds.yaml,
.yml or .json in the current directory, the user's config folders and the system's,
and reads the first that exists. A file it cannot parse it skips with a log line and
reads the next, so a typo in ./clouds.yaml turns into "Cloud x was not found" or, worse,
into the same-named cloud of another file: here the file it would read is parsed first
and a YAML error is told with the file and the line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from winged_monkey.errors import ConfigError

_SUFFIXES = (".yaml", ".yml", ".json")


def _folders() -> list[Path]:
    """The loader's folders, in its order (openstack/config/loader.py CONFIG_SEARCH_PATH),
    worked out now: the loader's own list is fixed when it is imported."""
    home = Path(os.environ.get("SNAP_REAL_HOME") or Path.home())  # a snap's HOME is not home
    user, site = [home / ".config" / "openstack"], [Path("/etc/openstack")]
    try:
        import platformdirs  # openstacksdk's own dependency

        dirs = platformdirs.PlatformDirs("openstack", "OpenStack", multipath=True)
        user.insert(0, Path(dirs.user_config_dir))
        site.insert(0, Path(dirs.site_config_dir))
    except ImportError:
        pass
    return [Path.cwd(), *user, *site]


def search(kind: str, env: Mapping[str, str] | None = None) -> list[Path]:
    """Where the loader looks for `kind` ("clouds", "secure" or "clouds-public", its vendor
    profiles), in its order."""
    env = os.environ if env is None else env
    variable = {"clouds": "OS_CLIENT_CONFIG_FILE", "secure": "OS_CLIENT_SECURE_FILE"}.get(kind)
    override = env.get(variable) if variable else None
    paths = [folder / f"{kind}{suffix}" for folder in _folders() for suffix in _SUFFIXES]
    return ([Path(override)] if override else []) + paths


def first(paths: Sequence[Path]) -> Path | None:
    return next((path for path in paths if path.is_file()), None)


def looked_in(paths: Sequence[Path]) -> str:
    """The folders of a search list, once each: `./clouds.yaml` and `.yml` are one place."""
    return ", ".join(dict.fromkeys(str(p.parent if p.suffix in _SUFFIXES else p) for p in paths))


def parsed(path: Path) -> Any:
    """The file's content; a YAML or JSON error names the file and the line. A name
    ending in `json` is read as JSON, as the loader reads it (YAML refuses a JSON file
    indented with tabs)."""
    import yaml  # only clouds.yaml readers need it

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    if str(path).endswith("json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON at line {exc.lineno} ({exc.msg})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        said = [getattr(exc, "problem", None) or ""]
        context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and opened is not None:  # where the unclosed thing began
            said.append(f"{context} at line {opened.line + 1}")
        why = "; ".join(part for part in said if part)
        raise ConfigError(f"{path}: not valid YAML{where}" + (f" ({why})" if why else "")) from None


def check_read(env: Mapping[str, str] | None = None, cloud: str | None = None) -> Path | None:
    """The clouds.yaml the loader will read (None if there is none), after checking that it,
    the secure.yaml it will merge and the clouds-public.yaml of vendor profiles parse (the
    loader skips a file it cannot parse), and that `cloud` is a mapping in the first two:
    else the error names the file and what is wrong, where the loader would speak Python."""
    clouds = first(search("clouds", env))
    vendors = first(search("clouds-public", env))
    for path in (clouds, first(search("secure", env)), vendors):
        if path is not None:
            data = parsed(path)
            entries = data.get("clouds") if isinstance(data, dict) else None
            if cloud is not None and isinstance(entries, dict):
                key = key_of(cloud, list(entries))
                problem = None if key is None else settings_problem(entries[key])
                if problem:
                    raise ConfigError(f"{path}: cloud {cloud!r} {problem}")
    return clouds


_LOADING = threading.Lock()


def load_cloud(name: str, region: str | None = None) -> dict[str, Any]:
    """Cloud `name` at `region` (else its first) as openstacksdk's loader resolves it, read
    now (the files may have changed since the last time); what keeps it from it is a
    ConfigError in the file's terms, never the loader's Python."""
    try:
        from openstack import config as openstack_config
    except ImportError:
        raise ConfigError(
            f"cloud = {name!r} is read by openstacksdk, which is not installed: "
            "pip install 'winged-monkey[openstack]'"
        ) from None
    clouds = check_read(cloud=name)  # the loader skips a file it cannot parse
    raw: dict[str, Any] = {}  # the cloud as written, for the loader's errors
    warned: list[warnings.WarningMessage] = []  # told only to explain an error
    try:
        with _loading(warned):
            loader = openstack_config.OpenStackConfig(  # the files checked above
                config_files=[str(p) for p in search("clouds")],
                secure_files=[str(p) for p in search("secure")],
            )
            key = key_of(name, loader.get_cloud_names())  # `123:` is a number
            if key is None and name == loader.envvar_key:
                raise ConfigError(
                    f"cloud {name!r} is openstacksdk's name for the OS_* variables, and none "
                    "is set: source the project's openrc file before wm"
                )
            if key is None:
                names = [n for n in loader.get_cloud_names() if clouds or n == loader.envvar_key]
                raise not_found(name, clouds, names)
            raw = dict(loader.cloud_config["clouds"][key])
        _fetch_profile(raw, loader.envvar_key)  # the network, outside the lock
        with _loading(warned):
            resolved = loader.get_one(cloud=key, region_name=region or None)
    except ConfigError:
        raise
    except Exception as exc:  # openstacksdk's ConfigException and keystoneauth's errors
        said = loader_error(exc, raw, warned)
        raise ConfigError(f"clouds.yaml: cloud {name!r}: {said}") from None
    return dict(resolved.config)


@contextlib.contextmanager
def _loading(warned: list[warnings.WarningMessage]) -> Iterator[None]:
    """_LOADING held, and the loader's warnings (its deprecations, a vendor profile it did
    not find) added to `warned`, raise or not. catch_warnings sets the process's warning
    filters: two accounts' threads inside it at once leave them set (one's record, or
    `always`) once both are out."""
    with _LOADING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            warned.extend(caught)


def _fetch_profile(raw: Mapping[str, Any], envvar_key: str | None) -> None:
    """The cloud's vendor profile fetched now, if it is remote, as the loader's
    `_expand_vendor_profile` would fetch it: vexxhost's and ovh's bundled profiles name a
    URL, read with a 10 s timeout a read, which a dripping server outlasts. Inside _LOADING
    that held back every other clouds.yaml account; openstacksdk's vendors module keeps
    what it fetched, so the resolution after this reads it from there."""
    profile = raw.get("profile", raw.get("cloud"))
    if not isinstance(profile, str) or not profile or profile == envvar_key:
        return
    public = first(search("clouds-public"))  # its public-clouds come first, unfetched
    if public is not None:
        data = parsed(public)
        entries = data.get("public-clouds") if isinstance(data, dict) else None
        if isinstance(entries, dict) and profile in entries:
            return
    from openstack.config import vendors

    nested = (vendors.get_profile(profile) or {}).get("profile")
    if nested:
        vendors.get_profile(nested)


def key_of(name: str, names: Sequence[Any]) -> Any:
    """The loader's key for the cloud the user names: YAML reads `123:` as a number, which
    no name given on a command line or in wm's config matches as it is (None: not there)."""
    return next((key for key in names if key == name), None) or next(
        (key for key in names if str(key) == name), None
    )


def settings_problem(cloud: Any) -> str | None:
    """What is wrong with a cloud's shape, in the file's terms: the loader says 'NoneType'
    object has no attribute 'get' of a cloud left empty, and reads `regions: RegionOne`
    letter by letter (region R)."""
    if cloud is None:
        return "is empty: give it auth (auth_url, username, project_name, ...)"
    if not isinstance(cloud, Mapping):
        return f"is {_yaml_kind(cloud)}, not a mapping of settings (auth:, region_name:, ...)"
    if cloud.get("auth") is not None and not isinstance(cloud["auth"], Mapping):
        return f"has an auth that is {_yaml_kind(cloud['auth'])}, not a mapping (auth_url:, ...)"
    if "regions" in cloud and not isinstance(cloud["regions"], list):
        return f"has regions that are {_yaml_kind(cloud['regions'])}, not a list ([RegionOne, ...])"
    return None


def _yaml_kind(value: Any) -> str:
    kinds = (
        (bool, "true or false"),
        ((int, float), "a number"),
        (str, "a string"),
        (list, "a list"),
    )
    return next((said for kind, said in kinds if isinstance(value, kind)), type(value).__name__)


def not_found(name: str, clouds: Path | None, names: Sequence[Any]) -> ConfigError:
    """A cloud the loader does not have: where it looked, or which clouds there are."""
    if clouds is None and not names:
        return ConfigError(
            f"cloud {name!r}: no clouds.yaml found (looked in {looked_in(search('clouds'))}); "
            "set OS_CLIENT_CONFIG_FILE or put one there"
        )
    there = ", ".join(sorted(map(str, names))) or "none"
    return ConfigError(f"{clouds or 'clouds.yaml'} has no cloud {name!r} (its clouds: {there})")


def loader_error(
    exc: Exception, cloud: Mapping[str, Any], warned: Sequence[warnings.WarningMessage] = ()
) -> str:
    """The loader's error in the file's terms: it can speak of Python's keyword arguments
    (keystoneauth's plugin) or of urllib3's pools (a vendor profile fetched from its URL).
    `warned`: what the loader warned of meanwhile (a vendor profile it did not find)."""
    import requests  # openstacksdk's own dependency

    request = getattr(exc, "request", None)
    if isinstance(exc, requests.RequestException) and request is not None:
        return (
            f"its vendor profile {cloud.get('profile')!r} is fetched from {request.url}, "
            f"which did not answer ({type(exc).__name__}; the OpenStack tools need it too); "
            "or write auth.auth_url and region_name in the cloud"
        )
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
    if isinstance(exc, TypeError) and unexpected:
        key = unexpected.group(1)
        hint = (
            "; an application credential needs auth_type: v3applicationcredential"
            if key.startswith("application_credential")
            else ""
        )
        return f"auth_type {cloud.get('auth_type') or 'password'} takes no auth.{key}{hint}"
    options = getattr(exc, "options", None)  # keystoneauth's MissingRequiredOptions
    if isinstance(options, list) and options:
        return _missing([str(getattr(o, "dest", o)) for o in options], cloud, warned)
    region = re.match(
        r"Region (.*) is not a valid region name .* Valid choices are (.*?)\. ", str(exc)
    )
    if region:  # the account's region (or --region), which the user may not link to it
        choices = region.group(2).replace(",", ", ")
        return f"region {region.group(1)!r} is not one of the cloud's ({choices}; case counts)"
    if str(exc).startswith("Invalid region entry"):  # it prints the entry, secrets and all
        return _bad_region(cloud)
    return str(exc)


def _missing(
    names: Sequence[str], cloud: Mapping[str, Any], warned: Sequence[warnings.WarningMessage]
) -> str:
    """What auth lacks, and the likely reason: a vendor profile the loader did not find
    (a typo in `profile:` leaves the cloud without its auth_url), or `os_auth_url`, the
    variable's name, written for `auth_url`."""
    said = "no " + ", ".join(f"auth.{name}" for name in names)
    auth = cloud.get("auth")
    written = {str(k).replace("-", "_") for k in auth} if isinstance(auth, Mapping) else set()
    prefixed = [f"auth.os_{name}" for name in names if f"os_{name}" in written]
    if prefixed:
        return f"{said} ({', '.join(prefixed)} is there: clouds.yaml names it without os_)"
    profile = cloud.get("profile") or cloud.get("cloud")
    if profile and any("find the vendor profile" in str(w.message) for w in warned):
        return (
            f"{said}: its profile {profile!r} is no vendor profile openstacksdk knows "
            "(nor one of clouds-public.yaml): check its name, or write auth.auth_url"
        )
    return said


def _bad_region(cloud: Mapping[str, Any]) -> str:
    """Which entry of a regions list the loader refused (a mapping takes name and values)."""
    for key in ("regions", "region_name", "region-name"):
        entries = cloud.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            extra = sorted(str(k) for k in entry if k not in ("name", "values"))
            if "name" not in entry:
                return f"{key}: an entry has no name (its keys: {', '.join(map(str, entry))})"
            if extra:
                return (
                    f"{key}: region {entry['name']!r} has {', '.join(extra)}: an entry takes "
                    "name and values (the region's own settings go under values)"
                )
    return "regions: an entry is not a region name nor a mapping of name and values"
