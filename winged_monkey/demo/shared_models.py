"""One parse of each AWS model file per process, for the demo cloud's child.

botocore caches a parsed model per loader, and every `Session()` has a loader of its own:
moto builds several while it imports EC2 and creates its first backend (its region and
partition lists ask a new session each time), its request parser another. Each parsed
EC2's 2 MB service-2.json anew (0.2 s of CPU a time) and endpoints.json (0.03 s: every
session's endpoint resolver reads it through `load_data_with_path`, which `load_data`
calls too). Loaders of the same class over the same search paths load the same files, so
here they share what they parsed, as the clients of one session already do. Loaders of
another class or paths (moto's, with its extras) keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def share_parsed_models() -> None:
    """Patch botocore's Loader so equal loaders share parsed models (call before moto loads)."""
    from botocore.loaders import Loader

    if getattr(Loader, "_wm_shared", False):
        return
    Loader.load_service_model = _shared(Loader.load_service_model)  # type: ignore[method-assign]
    Loader.load_data_with_path = _shared(Loader.load_data_with_path)  # type: ignore[method-assign]
    Loader._wm_shared = True  # type: ignore[attr-defined]


def _shared(load: Callable[..., Any]) -> Callable[..., Any]:
    parsed: dict[tuple[Any, ...], Any] = {}

    def shared(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (type(self), tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        if key not in parsed:
            parsed[key] = load(self, *args, **kwargs)
        return parsed[key]

    return shared
