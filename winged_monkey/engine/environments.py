"""The environment files beside a template, for the launch wizard to offer.

An environment (Heat's) is a YAML mapping of only its own sections; the one named after
the template (NAME_env.yaml and the like) goes with it, as `wm app launch` takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

#: The sections an environment file may hold; a file with any other key is not one.
SECTIONS = frozenset(
    {
        "parameters",
        "parameter_defaults",
        "resource_registry",
        "event_sinks",
        "encrypted_param_names",
        "parameter_merge_strategies",
    }
)
SUFFIXES = (".yaml", ".yml")
#: The names of the environment that goes with NAME.yaml (the Heat template collections').
COMPANIONS = ("{}_env", "{}.env", "{}-env")
#: A folder with more files than this is not read whole for a wizard's list.
MAX_FILES = 200


@dataclass(frozen=True)
class EnvironmentFile:
    """An environment file found beside a template; `companion` when named after it."""

    path: str
    companion: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).name


def environments_beside(template: str) -> list[EnvironmentFile]:
    """The environment files in `template`'s folder, its companion first, then by name
    (blocking: run it in a thread). None when `template` is not a file here."""
    path = Path(template).expanduser()
    if not path.is_file():
        return []
    companions = {pattern.format(path.stem) for pattern in COMPANIONS}
    found = []
    files = sorted(p for p in path.parent.iterdir() if p.suffix.lower() in SUFFIXES)
    for candidate in files[:MAX_FILES]:
        if candidate != path and _is_environment(candidate):
            found.append(EnvironmentFile(str(candidate), candidate.stem in companions))
    return sorted(found, key=lambda e: (not e.companion, e.name))


def _is_environment(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and bool(data) and set(data) <= SECTIONS
