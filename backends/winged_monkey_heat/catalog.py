"""A Heat account's catalog (the templates of its templates folder, as Heat validates
them) and a template's launch form. Loaded with the catalog's commands, not a listing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from winged_monkey.errors import ConfigError, InvalidRequest
from winged_monkey_heat.client import HeatClient
from winged_monkey_heat.listing import MEMBER_FETCHES
from winged_monkey_heat.sources import Sources
from winged_monkey_heat.validation import validate

if TYPE_CHECKING:
    from winged_monkey.account import AccountConfig
    from winged_monkey.catalog import AccountCatalog, TemplateForm


async def account_catalog(
    account: AccountConfig, client: HeatClient, sources: Sources
) -> AccountCatalog:
    """One item per template in the templates folder, described by Heat's own validation
    of it (a template Heat rejects is listed with Heat's reason)."""
    from winged_monkey.catalog import AccountCatalog, CatalogItem
    from winged_monkey_heat import templates

    folder = sources.templates_folder()
    if not await asyncio.to_thread(folder.is_dir):
        raise ConfigError(
            f"templates folder {folder} does not exist; create it or fix `templates`",
            account=account.name,
        )
    files = await asyncio.to_thread(templates.template_files, folder)
    limit = asyncio.Semaphore(MEMBER_FETCHES)

    async def item(path: Path) -> CatalogItem:
        async with limit:
            try:
                found = await validate(client, await sources.bundle(str(path)))
            except InvalidRequest as exc:
                description, needs = templates.rejected(exc.message)
            else:
                description, needs = found.description, templates.needs(found)
        return CatalogItem(
            account=account.name,
            kind="template",
            id=str(path),
            name=str(path.relative_to(folder).with_suffix("")),
            description=description.strip(),
            provider="heat",
            needs=needs,
        )

    return AccountCatalog(
        account=account.name,
        provider="heat",
        region=account.region,
        items=tuple(await asyncio.gather(*(item(p) for p in files))),
        empty_hint=f"put HOT templates (.yaml, .yml, .hot) in {folder} or one level below",
    )


async def template_form(
    client: HeatClient, sources: Sources, template: str, environments: Sequence[str] | None
) -> TemplateForm:
    """The launch form of a template file, from Heat's POST /validate answer with the
    environments a launch would send (None: its own, as `Sources.bundle` picks), so the
    defaults are the ones the launch uses (an environment's parameter_defaults)."""
    from winged_monkey_heat import templates

    bundle = await sources.bundle(template, environments)
    validation = await validate(client, bundle)
    return templates.form(client.account, template, validation, bundle.template)
