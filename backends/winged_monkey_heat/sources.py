"""Where a launch's template and environments come from: a file, a URL, a name in the
account's templates folder, or template text; gathered with every file they reach
(files.py) into what Heat is sent besides a name and parameters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winged_monkey.errors import ConfigError, InvalidRequest

if TYPE_CHECKING:  # files loads yaml: only when a template is read
    from winged_monkey.catalog import EnvironmentFile
    from winged_monkey_heat.files import Bundle
    from winged_monkey_heat.settings import HeatSettings


def is_text(template: str) -> bool:
    """Template text rather than a reference to one: no file name holds a line break."""
    return "\n" in template or template.lstrip().startswith("{")


class Sources:
    """Templates and environments of one account, read off the event loop."""

    def __init__(self, account: str, settings: HeatSettings, timeout: float = 20.0) -> None:
        self.account = account
        self.settings = settings
        #: A template's file at a URL answers within the account's timeout.
        self.timeout = timeout

    def templates_folder(self) -> Path:
        folder = self.settings.templates
        if not folder:
            raise ConfigError(
                'no templates folder: set templates = "~/heat-templates" in the account',
                account=self.account,
            )
        return Path(folder).expanduser()

    async def bundle(self, template: str, environments: Sequence[str] | None = None) -> Bundle:
        """What Heat needs besides name and parameters, gathered as python-heatclient does:
        a template file (a path, a URL, or a name of the templates folder's catalog) with
        every file it reaches, and its environments merged in order. With no environments
        given (None), a template file's own environment beside it (NAME_env.yaml, see
        templates.companion) is used. Template text (a line break in it) goes as it is."""
        from winged_monkey_heat import files, templates

        def build() -> Bundle:
            if is_text(template):
                env_files, env, urls = files.environments_and_files(
                    environments or (), self.timeout
                )
                return files.Bundle(template, env_files, env, urls)
            where = self.template_ref(template)
            envs = environments
            if envs is None:
                own = templates.companion(where) if isinstance(where, Path) else None
                envs = [str(own)] if own else []
            return files.gather(where, envs, self.timeout)

        try:
            return await asyncio.to_thread(build)
        except files.FileError as exc:
            raise InvalidRequest(str(exc), account=self.account) from None

    async def environments(self, environments: Sequence[str]) -> dict[str, Any]:
        """The request body's part for environments alone (an update that keeps its
        template): the merged environment, its files and their URLs."""
        from winged_monkey_heat import files

        try:
            env_files, env, urls = await asyncio.to_thread(
                files.environments_and_files, environments, self.timeout
            )
        except files.FileError as exc:
            raise InvalidRequest(str(exc), account=self.account) from None
        body = files.Bundle("", env_files, env, urls).body()
        del body["template"]
        return body

    async def environments_beside(self, template: str) -> list[EnvironmentFile]:
        """The environment files beside a template (a file or a catalog name), the one a
        launch uses when given none first (`default`); none for a URL or template text."""
        from winged_monkey.catalog import EnvironmentFile
        from winged_monkey_heat import templates

        def find() -> list[EnvironmentFile]:
            where = self.template_ref(template)
            if not isinstance(where, Path):
                return []
            own = templates.companion(where)
            return [
                EnvironmentFile(path=str(path), default=path == own)
                for path in templates.environments_beside(where)
            ]

        return [] if is_text(template) else await asyncio.to_thread(find)

    def template_ref(self, ref: str) -> Path | str:
        """A file, a URL, or a catalog name (the path in the templates folder, no suffix)."""
        from urllib.parse import urlparse

        from winged_monkey_heat import templates

        path = Path(ref).expanduser()
        if path.is_file() or len(urlparse(ref).scheme) > 1:  # not a Windows drive letter
            return path if path.is_file() else ref
        folder = self.settings.templates
        if folder:
            for suffix in templates.SUFFIXES:
                named = Path(folder).expanduser() / f"{ref}{suffix}"
                if named.is_file():
                    return named
        where = f"nor a template of {folder}" if folder else "and no templates folder is set"
        raise InvalidRequest(f"no template {ref}: not a file, {where}", account=self.account)
