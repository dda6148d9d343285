"""What the launch wizard knows and decides, apart from how it looks: the accounts that
offer the item and how they rank, the choices made so far, the steps they lead through,
the quota check and the summary, and the request that goes to the portal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rich.table import Table
from rich.text import Text

from winged_monkey.catalog import (
    AccountCatalog,
    CatalogItem,
    Choice,
    EnvironmentFile,
    LaunchRequest,
    Previewed,
    Size,
    TemplateForm,
)
from winged_monkey.engine.ranking import SizeSpec, demand, parse_spec, rank, shortfall
from winged_monkey.errors import WMError
from winged_monkey.ui.widgets.catalog_text import (
    hourly,
    monthly,
    quota_after,
    quota_cell,
    ram,
    size_cells,
)

Step = Literal["account", "size", "location", "access", "environments", "params", "name", "summary"]
STEP_TITLES: dict[Step, str] = {
    "account": "account",
    "environments": "environments",
    "size": "size",
    "location": "location",
    "access": "key pair and network",
    "params": "parameters",
    "name": "name and count",
    "summary": "summary",
}
#: The id the wizard gives the item in each account's copy of its catalog, for `rank`.
_ITEM = {"id": "(the item in the wizard)"}
MAX_COUNT = 100


def offers_of(
    item: CatalogItem, items_by_account: Mapping[str, Sequence[CatalogItem]]
) -> dict[str, CatalogItem]:
    """The accounts offering `item` (same kind, and the same name or id) with their copy:
    the item itself where its id is there (two vSphere templates in two folders share a
    name: the one picked is the one launched), else the first of that name."""
    found: dict[str, CatalogItem] = {}
    for account, items in items_by_account.items():
        alike = [
            c for c in items if c.kind == item.kind and (c.name == item.name or c.id == item.id)
        ]
        if alike:
            found[account] = next((c for c in alike if c.id == item.id), alike[0])
    return found


def slug(text: str, width: int = 24) -> str:
    """A name for the new instance from the item's: lower case, dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(cleaned) > width:  # at a word's end, not in its middle
        cut = cleaned[: width + 1]
        cleaned = cut.rsplit("-", 1)[0] if "-" in cut else cleaned[:width]
    return cleaned or "instance"


@dataclass(frozen=True)
class AccountOption:
    """One account on the account step: where it ranks and why."""

    account: str
    size: Size | None
    blocked: str | None
    reason: str
    launchable: bool


@dataclass
class Choices:
    """What the wizard has been told so far."""

    spec: str = ""
    account: str | None = None
    size: Size | None = None
    location: Choice | None = None
    key_pair: Choice | None = None
    network: Choice | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    #: The environment files to launch a template with, in the order picked; None: the
    #: backend's default (none were found beside the template).
    environments: list[str] | None = None
    #: Every parameter value as typed (the form again after `escape`), hidden ones too.
    typed: dict[str, str] = field(default_factory=dict)
    name: str = ""
    count: int = 1


def _spec(text: str) -> SizeSpec:
    return parse_spec(text) if text.strip() else SizeSpec()


@dataclass
class LaunchPlan:
    """The item, the accounts that offer it (each with its own copy and catalog), the
    accounts refused up front (read-only), and the choices made."""

    item: CatalogItem
    offers: dict[str, CatalogItem]
    catalogs: dict[str, AccountCatalog]
    refused: dict[str, str]
    choices: Choices
    #: Template forms read so far, per account.
    forms: dict[str, TemplateForm] = field(default_factory=dict)
    #: The environment files found beside the template, per account (its own copy's).
    environments: dict[str, list[EnvironmentFile]] = field(default_factory=dict)
    #: What the cloud's preview says the launch would create, or why it could not say.
    preview: list[Previewed] | str | None = None

    @property
    def template(self) -> bool:
        return self.item.kind == "template"

    @property
    def pooled(self) -> bool:
        """An aggregator's pool deployable: its server picks the cloud account and size."""
        return self.item.kind == "deployable" and self.item.provider == "pool"

    @property
    def catalog(self) -> AccountCatalog | None:
        account = self.choices.account
        return self.catalogs.get(account) if account is not None else None

    @property
    def steps(self) -> list[Step]:
        if self.pooled:
            return ["name", "summary"]
        if self.template:
            steps: list[Step] = ["account", "params", "name", "summary"]
            if self.environments.get(self.choices.account or ""):  # files found beside it
                steps.insert(1, "environments")
            return steps
        found: list[Step] = ["account", "size"]
        catalog = self.catalog
        if catalog is None or catalog.locations:
            found.append("location")
        if catalog is None or catalog.key_pairs or catalog.networks:
            found.append("access")
        return [*found, "name", "summary"]

    def account_options(self) -> list[AccountOption]:
        """The accounts offering the item, best first, each with the reason it ranks there."""
        catalogs = [self.catalogs[a] for a in self.offers if a in self.catalogs]
        if self.template:
            found = []
            for catalog in catalogs:
                blocked = self.refused.get(catalog.account) or shortfall(catalog.quotas, None, 1)
                stacks = [q for q in catalog.quotas if str(q.resource) == "stacks"]
                room = f"stacks {quota_cell(stacks[0])} used" if stacks else "quota unknown"
                reason = f"cannot launch: {blocked}" if blocked else f"{catalog.provider}; {room}"
                found.append(AccountOption(catalog.account, None, blocked, reason, blocked is None))
            return sorted(found, key=lambda o: (not o.launchable, o.account))
        # Each account under its own copy of the item (its id differs by region), so
        # `rank` fits sizes to that image (its CPU architecture) as everywhere else.
        offered = [
            c.model_copy(update={"items": (self.offers[c.account].model_copy(update=_ITEM),)})
            for c in catalogs
        ]
        ranked = rank(
            offered,
            self.size_spec(),
            item=_ITEM["id"],
            count=self.choices.count,
            refused=self.refused,
        )
        return [AccountOption(r.account, r.size, r.blocked, r.reason, r.launchable) for r in ranked]

    def size_spec(self, account: str | None = None) -> SizeSpec:
        """The size class typed (any size when empty or unreadable); for an account, with
        the CPU architecture of its image unless one was typed."""
        try:
            spec = _spec(self.choices.spec)
        except WMError:
            spec = SizeSpec()
        offer = self.offers.get(account) if account is not None else None
        if offer is not None and offer.arch and spec.arch is None:
            spec = replace(spec, arch=offer.arch)
        return spec

    @property
    def blocked(self) -> str | None:
        """The quota problem with this launch, from the catalog on hand (before any call)."""
        catalog = self.catalog
        if catalog is None:
            return None
        size = None if self.template else self.choices.size
        return shortfall(catalog.quotas, size, self.choices.count)

    def summary(self) -> Table:
        c, catalog = self.choices, self.catalog
        assert catalog is not None
        table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=False, expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)

        def add(label: str, value: str | Text) -> None:
            # Names, parameters and quotas come from the user and the cloud: text, not markup.
            table.add_row(label, Text(value) if isinstance(value, str) else value)

        add("item", f"{self.offers[catalog.account].name}  ({self.offers[catalog.account].id})")
        where = catalog.region or catalog.provider
        add("account", f"{catalog.account}  {catalog.provider} · {where}")
        if self.pooled:  # the server's ranking and why, as its catalog said
            add("placement", self.offers[catalog.account].description)
        elif not self.template:
            size = c.size
            if size is not None:
                _, vcpus, _, disk, _ = size_cells(size)
                shape = f"{size.name}  {vcpus} vCPU · {ram(size.ram_mb)} RAM · disk {disk}"
            else:
                shape = "(the provider's default)"
            add("size", shape)
            add("location", c.location.name if c.location else "(default)")
            add("key pair", c.key_pair.name if c.key_pair else "(none)")
            add("network", c.network.name if c.network else "(default)")
        else:
            form = self.forms.get(catalog.account)
            hidden = {p.name for p in form.parameters if p.hidden} if form else set()
            shown = ", ".join(
                f"{k}={'••••••' if k in hidden else v}" for k, v in sorted(c.parameters.items())
            )
            add("parameters", shown or "(defaults)")
            if c.environments is not None:
                names = [Path(e).name for e in c.environments]
                add("environments", ", ".join(names) or "(none)")
        # Several are named name-1 … name-N (LaunchRequest.instance_names), as Nova does.
        add("name", f"{c.name}-1 … {c.name}-{c.count}  x {c.count}" if c.count > 1 else c.name)
        price = c.size.price_hourly if c.size is not None and not self.template else None
        cost = Text(f"{hourly(price, c.count)}  ≈ {monthly(price, c.count)}", style="bold")
        if price is None:
            cost = Text("unknown: the provider publishes no price for it", style="yellow")
        if self.pooled:
            cost = Text("the chosen account's (see placement)")
        add("cost", cost)
        size = None if self.template else c.size
        add("quota", quota_after(catalog.quotas, demand(size, c.count)))
        return table

    def request(self) -> LaunchRequest:
        c = self.choices
        assert c.account is not None
        return LaunchRequest(
            item=self.offers[c.account].id,
            kind=self.item.kind,
            name=c.name,
            size=c.size.id if c.size is not None and not self.template else None,
            location=c.location.id if c.location else None,
            key_pair=c.key_pair.id if c.key_pair else None,
            network=c.network.id if c.network else None,
            count=c.count,
            parameters=c.parameters,
        )
