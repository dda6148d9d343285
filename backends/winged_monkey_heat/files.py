"""A template and its environments gathered the way python-heatclient gathers them.

`openstack stack create -t T -e E1 -e E2` (heatclient's common/template_utils.py) sends
the template parsed, every file it reaches in `files` keyed by absolute URL (`file:///...`
for local files) with the template's references rewritten to those URLs, the merged
environment, and the environments' own URLs in `environment_files` (their contents in
`files` too). This module does the same without heatclient's dependency tree (osc-lib,
keystoneauth1, oslo.*); tests/heat/test_heat_files.py holds it to heatclient's answer.

One addition: the `resources` list of an OS::Heat::ResourceChain is gathered and
rewritten like a `type:` (heatclient leaves it to an environment). Where heatclient
fails, wm fails too, in its own words: a file it cannot read names why and the file that
named it, a template or environment that is not UTF-8 names its line (an environment in
UTF-16 with a byte order mark is read, as heatclient's YAML reads it), a loop of nested
files is named (heatclient recurses until Python stops it), and a URL must answer within
the account's timeout (heatclient waits forever). An environment with an empty section
(`parameter_defaults:` with every line under it commented out) or one of the wrong kind
(`event_sinks` a mapping) is refused naming it: heatclient sends it, and Heat refuses it
with a 400 that gives no reason.
"""

from __future__ import annotations

import base64
import codecs
import http.client
import json
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib import error, parse, request

import yaml

#: What tells a template from other YAML (heatclient's template_format.parse).
VERSION_KEYS = ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")
#: An environment's sections (heatclient's environment_format.SECTIONS).
ENV_SECTIONS = (
    "parameter_defaults",
    "parameters",
    "resource_registry",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
)
#: A `type:` naming a file ends so (heatclient gathers no other suffix).
TEMPLATE_SUFFIXES = (".yaml", ".template")
CHAIN = "OS::Heat::ResourceChain"
#: Seconds a URL may take to answer (heatclient waits forever; an account's timeout).
FETCH_TIMEOUT = 20.0


class FileError(ValueError):
    """A file a template or environment reaches cannot be read or parsed."""


class _Loader(yaml.SafeLoader):
    """heatclient's loader: dates (heat_template_version: 2018-08-31) stay text, and what
    JSON cannot hold is what heatclient's request body (oslo's jsonutils) makes of it."""


#: heatclient parses with libyaml's parser where PyYAML has it, which takes a tab after a
#: colon (`type:<tab>lib/web.yaml`) that PyYAML's own parser refuses.
_FastLoader: type[yaml.SafeLoader] = _Loader
if yaml.__with_libyaml__:

    class _CLoader(yaml.CSafeLoader):
        """_Loader on libyaml."""

    _FastLoader = _CLoader  # type: ignore[assignment] # CSafeLoader: SafeLoader's API


def _text(loader: _Loader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _binary(loader: _Loader, node: yaml.Node) -> str:
    """`!!binary`: its bytes as UTF-8 text (heatclient crashes on other bytes)."""
    data: bytes = loader.construct_yaml_binary(node)  # type: ignore[arg-type]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise yaml.constructor.ConstructorError(
            None, None, "a !!binary value is not UTF-8 text: Heat takes text only", node.start_mark
        ) from None


def _set(loader: _Loader, node: yaml.Node) -> list[Any]:
    """`!!set`: a list (heatclient's in no set order; the file's order here)."""
    return list(loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


for _loader in (_Loader, _FastLoader):  # the same class twice when without libyaml
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _text)
    _loader.add_constructor("tag:yaml.org,2002:binary", _binary)
    _loader.add_constructor("tag:yaml.org,2002:set", _set)


def _load(text: str) -> Any:
    """heatclient's YAML: libyaml's parser, and PyYAML's when it fails (whose error shows
    the lines around the fault; heatclient takes what it parses, so wm does too)."""
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def yaml_problem(exc: yaml.YAMLError, skipped: int = 0) -> str:
    """A YAML error by its line and column, without the lines PyYAML quotes: in an
    environment that is often a password's (`AdminPassword: @dm1n` is not YAML), which
    a launch's error puts on the terminal and in the event log. `skipped`: lines before
    the text that was parsed."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return str(exc)

    def at(mark: yaml.Mark | None) -> str:
        return f" (line {mark.line + 1 + skipped}, column {mark.column + 1})" if mark else ""

    problem = f"{exc.problem or 'not YAML'}{at(exc.problem_mark)}"
    context, mark = exc.context_mark, exc.problem_mark
    if not exc.context or not context or (mark and context.index == mark.index):
        return problem  # no context, or one at the problem's own place
    return f"{exc.context}{at(context)}: {problem}"


@dataclass
class Bundle:
    """What a create, preview, update or validate sends besides name and parameters."""

    template: dict[str, Any] | str
    files: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    environment_files: list[str] = field(default_factory=list)
    #: Where the template came from (a file: URL), or "" for text.
    url: str = ""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "template": self.template,
            "files": dict(self.files),
            "environment": self.environment,
        }
        if self.environment_files:
            body["environment_files"] = list(self.environment_files)
        return body


def gather(
    template: str | Path, environments: Sequence[str | Path] = (), timeout: float = FETCH_TIMEOUT
) -> Bundle:
    """The template at a path or URL with every file it reaches, and its environments
    merged in order (blocking: files are read here)."""
    files, parsed = template_contents(url_of(template), timeout=timeout)
    env_files, env, env_urls = environments_and_files(environments, timeout)
    return Bundle(
        template=parsed,
        files={**files, **env_files},
        environment=env,
        environment_files=env_urls,
        url=url_of(template),
    )


def url_of(path: str | Path) -> str:
    """A path as a file: URL; a URL as it is (heatclient's normalise_file_path_to_url).
    Symlinks are resolved: a linked template's relative files are beside its target."""
    text = str(path)
    if parse.urlparse(text).scheme:
        return text
    return Path(text).resolve().as_uri()


def base_url(url: str) -> str:
    return parse.urljoin(url, os.path.dirname(parse.urlparse(url).path))


def parse_template(text: str) -> dict[str, Any]:
    """A template's text (JSON or YAML) as a mapping; ValueError when it is not one."""
    stripped = text.strip()  # heatclient's, whose YAML then counts lines from there
    if stripped.startswith("{"):
        found = json.loads(stripped)
    else:
        try:
            found = _load(stripped)
        except yaml.YAMLError as exc:
            lines = text[: len(text) - len(text.lstrip())].count("\n")
            raise ValueError(yaml_problem(exc, lines)) from None
        found = {} if found is None else found
    if not isinstance(found, dict) or not any(k in found for k in VERSION_KEYS):
        raise ValueError("Template format version not found.")
    return found


def decode(data: bytes, utf16: bool = False) -> str:
    """A template's bytes as text: UTF-8 (heatclient's rule), or for an environment also
    UTF-16 with a byte order mark (which heatclient's YAML reads from its bytes)."""
    if utf16 and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}): save the file as UTF-8"
        ) from None


def parse_environment(text: str | bytes) -> dict[str, Any]:
    """An environment's text or bytes (YAML or JSON) as a mapping; ValueError when it is
    not one."""
    if isinstance(text, bytes):
        text = decode(text, utf16=True)
    try:
        found = _load(text)
    except yaml.YAMLError as exc:
        raise ValueError(yaml_problem(exc)) from None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise ValueError("The environment is not a valid YAML mapping data type.")
    for section in found:
        if section not in ENV_SECTIONS:
            raise ValueError(f'environment has wrong section "{section}"')
    return found


def read_url(url: str, timeout: float = FETCH_TIMEOUT) -> str:
    """A file's text; one that is not UTF-8 as base64 lines (as heatclient sends it)."""
    content = read_bytes(url, timeout)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return base64.encodebytes(content).decode("ascii")


def read_bytes(url: str, timeout: float = FETCH_TIMEOUT) -> bytes:
    """A file's bytes (FileError naming the URL and why when it cannot be read)."""
    try:
        with request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (file: and the user's own URLs)
            content: bytes = reply.read()
    except error.HTTPError as exc:
        raise FileError(
            f"Could not fetch contents for {url}: HTTP {exc.code} {exc.reason}"
        ) from None
    except (error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise FileError(f"Could not fetch contents for {url}: {_why(exc, timeout)}") from None
    return content


def _why(exc: BaseException, timeout: float) -> str:
    """Why a read failed, without the path the message already names."""
    reason = exc.reason if isinstance(exc, error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer in {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def template_contents(
    url: str,
    files: dict[str, str] | None = None,
    chain: tuple[str, ...] = (),
    timeout: float = FETCH_TIMEOUT,
) -> tuple[dict[str, str], dict[str, Any]]:
    """heatclient's get_template_contents(template_url=...): the files and the template
    with its references rewritten to absolute URLs. `chain`: the templates that reached
    this one (heatclient recurses without end on a loop; wm names it)."""
    if url in chain:
        loop = " > ".join(shown(u, chain[0]) for u in (*chain[chain.index(url) :], url))
        raise FileError(f"{shown(url, chain[0])} reaches itself: {loop}")
    chain = (*chain, url)
    data = read_bytes(url, timeout)
    if not data:
        raise FileError(f"Could not fetch template from {url}")
    try:
        template = parse_template(decode(data))
    except ValueError as exc:
        raise FileError(f"Error parsing template {url}: {exc}") from None
    files = {} if files is None else files
    _template_files(template, files, base_url(url), chain, timeout)
    return files, template


def shown(url: str, root: str) -> str:
    """A file's URL as a user reads it: its path from the first template's folder."""
    there, here = parse.urlparse(url), parse.urlparse(root)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        return url
    return parse.unquote(posixpath.relpath(there.path, posixpath.dirname(here.path)))


def _is_template(text: str) -> bool:
    try:
        parse_template(text)
    except (ValueError, TypeError):
        return False
    return True


def _fetch(
    value: str,
    files: dict[str, str],
    base: str | None,
    chain: tuple[str, ...] = (),
    timeout: float = FETCH_TIMEOUT,
) -> str:
    """One reference: read (a template with its own files, as JSON) once; its URL."""
    if base and not base.endswith("/"):
        base += "/"
    url = parse.urljoin(base or "", value)
    if url not in files:
        try:
            content = read_url(url, timeout)
        except FileError as exc:  # which file names the one missing
            where = f" (named in {shown(chain[-1], chain[0])})" if chain else ""
            raise FileError(f"{exc}{where}") from None
        if _is_template(content):
            content = json.dumps(template_contents(url, files, chain, timeout)[1])
        files[url] = content
    return url


def _template_files(
    data: Any, files: dict[str, str], base: str, chain: tuple[str, ...], timeout: float
) -> None:
    """heatclient's resolve_template_get_files: `get_file` and `type: *.yaml|*.template`
    at any depth, children first."""
    if isinstance(data, dict | list):
        for value in data.values() if isinstance(data, dict) else data:
            _template_files(value, files, base, chain, timeout)
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if key not in ("get_file", "type") or not isinstance(value, str):
            continue
        if key == "type" and not value.endswith(TEMPLATE_SUFFIXES):
            continue
        data[key] = _fetch(value, files, base, chain, timeout)
    if data.get("type") == CHAIN:
        members = (data.get("properties") or {}).get("resources")
        if isinstance(members, list):
            for i, member in enumerate(members):
                if isinstance(member, str) and member.endswith(TEMPLATE_SUFFIXES):
                    members[i] = _fetch(member, files, base, chain, timeout)


#: The sections that hold a list; the others hold a mapping.
LIST_SECTIONS = ("encrypted_param_names", "event_sinks")
#: A YAML value's kind, in words (any other is text).
_KINDS = {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number"}


def section_problem(env: Mapping[str, Any]) -> str:
    """Why Heat refuses an environment's sections, which it says with a bare 400 ("The
    server could not comply with the request..."); "" when it takes them."""
    for section, value in env.items():
        if value is None:
            return (
                f'environment has empty section "{section}": Heat refuses it; give it '
                "entries or delete the line"
            )
        wanted = "a list" if section in LIST_SECTIONS else "a mapping"
        given = _KINDS.get(type(value), "text")
        if given != wanted:
            return f'environment section "{section}" is {given}: Heat takes {wanted} there'
    return ""


def deep_update(old: dict[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """heatclient's environment merge: mappings merge, anything else replaces; a null
    never empties a mapping."""
    old = {} if old is None else old
    for key, value in new.items():
        if isinstance(value, Mapping):
            old[key] = deep_update(old.get(key, {}), value)
        elif value is None and isinstance(old.get(key), Mapping):
            pass
        else:
            old[key] = value
    return old


def environments_and_files(
    paths: Sequence[str | Path], timeout: float = FETCH_TIMEOUT
) -> tuple[dict[str, str], dict[str, Any], list[str]]:
    """heatclient's process_multiple_environments_and_files with an env_list_tracker
    (as `openstack stack create` calls it): files, merged environment, environment URLs."""
    files: dict[str, str] = {}
    merged: dict[str, Any] = {}
    urls: list[str] = []
    for path in paths:
        url = url_of(path)
        data = read_bytes(url, timeout)
        try:
            env = parse_environment(data)
        except ValueError as exc:
            raise FileError(f"Error parsing environment {url}: {exc}") from None
        problem = section_problem(env)
        if problem:  # Heat refuses the file with a bare 400 (its log says why)
            raise FileError(f"Error parsing environment {url}: {problem}")
        registry = env.get("resource_registry")
        if isinstance(registry, dict):
            _registry_files(registry, files, url, timeout)
        files[url] = json.dumps(env)
        merged = deep_update(merged, env)
        urls.append(url)
    return files, merged, urls


def _registry_files(
    registry: dict[str, Any], files: dict[str, str], env: str, timeout: float
) -> None:
    """heatclient's resolve_environment_urls: template files a resource_registry maps
    types to (globally and per resource), relative to its `base_url` or the environment."""

    def gather_from(mapping: dict[str, Any], base: str) -> None:
        for key, value in mapping.items():
            if key in ("base_url", "hooks", "restricted_actions"):
                continue
            if not isinstance(value, str) or "::" in value:
                continue  # a mapping, or a built-in type ("OS::Heat::None")
            if not parse.urlparse(parse.urljoin(base or "", value)).scheme:
                given = repr(base) if base else "empty"  # heatclient: "unknown url type"
                raise FileError(
                    f"{shown(env, env)}: base_url {given} is not a URL, so {value} cannot be "
                    "read: write base_url as file:///path/to/folder/ or https://host/path/"
                )
            mapping[key] = _fetch(value, files, base, (env,), timeout)

    base = registry.get("base_url", base_url(env))
    gather_from(registry, base)
    for spec in (registry.get("resources") or {}).values():
        if isinstance(spec, dict):
            gather_from(spec, spec.get("base_url", base))
