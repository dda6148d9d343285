"""How catalog values look: sizes, prices (unknown is "?", never free), quota, choices.

Pure functions of their arguments, shared by the catalog view and the launch wizard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, Quota, Size
from winged_monkey.engine.ranking import HOURS_PER_MONTH
from winged_monkey.terminal.render import hourly_text, monthly_text

UNKNOWN = "?"
QUOTA_UNITS = {"instances": "instances", "vcpus": "vCPUs", "ram_mb": "RAM MB", "stacks": "stacks"}


def hourly(price: float | None, count: int = 1) -> str:
    """`$0.0208/h`; `?` when the provider publishes no price (never `$0`). As `wm catalog`."""
    return hourly_text(None if price is None else price * count)


def monthly(price: float | None, count: int = 1) -> str:
    return monthly_text(None if price is None else price * count * HOURS_PER_MONTH)


def ram(ram_mb: int | None) -> str:
    if ram_mb is None:
        return UNKNOWN
    return f"{ram_mb / 1024:g} GB" if ram_mb >= 1024 else f"{ram_mb} MB"


def number(value: int | None, unit: str = "") -> str:
    return UNKNOWN if value is None else f"{value}{unit}"


def size_cells(size: Size) -> tuple[str, str, str, str, str]:
    """name, vCPU, RAM, disk, $/h."""
    return (
        size.name,
        number(size.vcpus),
        ram(size.ram_mb),
        number(size.disk_gb, " GB"),
        hourly(size.price_hourly),
    )


def by_price(sizes: Iterable[Size]) -> list[Size]:
    """Known prices first, cheapest first, then the smallest."""

    def key(size: Size) -> tuple[int, float, int, int, str]:
        return (
            size.price_hourly is None,
            size.price_hourly or 0.0,
            size.vcpus if size.vcpus is not None else 1 << 30,
            size.ram_mb if size.ram_mb is not None else 1 << 30,
            size.name,
        )

    return sorted(sizes, key=key)


def quota_cell(quota: Quota) -> str:
    limit = "unlimited" if quota.limit is not None and quota.limit < 0 else number(quota.limit)
    return f"{number(quota.used)} of {limit}"


def quota_text(quotas: Sequence[Quota]) -> Text:
    if not quotas:
        return Text("not exposed by the provider", style="dim")
    parts = []
    for quota in quotas:
        unit = QUOTA_UNITS.get(str(quota.resource), str(quota.resource))
        parts.append(f"{unit} {quota_cell(quota)} used")
    return Text(" · ".join(parts))


def quota_after(quotas: Sequence[Quota], needed: Mapping[str, int]) -> Text:
    """`instances 3 → 4 of 20 · vCPUs 6 → 8 of ?`: use now and after the launch; red
    where the launch would go over the limit."""
    if not quotas:
        return Text("not exposed by the provider", style="dim")
    text = Text()
    for quota in quotas:
        if text:
            text.append(" · ")
        resource = str(quota.resource)
        unit = QUOTA_UNITS.get(resource, resource)
        need = needed.get(resource)
        used = quota.used
        limit = "unlimited" if quota.limit is not None and quota.limit < 0 else number(quota.limit)
        if need is None or used is None:
            text.append(f"{unit} {number(used)} of {limit}")
            continue
        over = quota.remaining is not None and need > quota.remaining
        text.append(f"{unit} {used} → {used + need} of {limit}", style="bold red" if over else "")
    return text


def choices_text(choices: Sequence[Choice], none: str = "none") -> Text:
    if not choices:
        return Text(none, style="dim")
    names = [c.name if c.name == c.id else f"{c.name} ({c.id})" for c in choices]
    return Text(", ".join(names))


def sizes_table(sizes: Sequence[Size], limit: int | None = None) -> RenderableType:
    if not sizes:
        return Text("no sizes listed", style="dim")
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False)
    for header, justify in (
        ("size", "left"),
        ("cpu", "left"),
        ("vCPU", "right"),
        ("RAM", "right"),
        ("disk", "right"),
        ("price", "right"),
    ):
        table.add_column(header, header_style="bold", justify=justify)  # type: ignore[arg-type]
    ordered = by_price(sizes)
    shown = ordered if limit is None else ordered[:limit]
    for size in shown:
        cells = size_cells(size)
        price = Text(cells[4], style="dim" if size.price_hourly is None else "")
        table.add_row(cells[0], size.arch or UNKNOWN, *cells[1:4], price)
    if limit is not None and len(ordered) > limit:
        table.add_row(Text(f"… {len(ordered) - limit} more", style="dim"))
    return table


def _field(label: str, value: Text | str) -> Text:
    text = Text.assemble((f"{label}: ", "bold"))
    text.append_text(value if isinstance(value, Text) else Text(value))
    return text


def item_text(item: CatalogItem) -> Text:
    """What the item is, who provides it, what a launch of it needs."""
    text = Text.assemble((item.name, "bold"), ("  ", ""), (item.kind, "cyan"))
    if item.public:
        text.append("  public", style="yellow")
    text.append(
        f"\n{item.description or 'no description'}", style="" if item.description else "dim"
    )
    text.append("\n")
    text.append_text(_field("provider", item.provider))
    text.append("  ")
    text.append_text(_field("id", item.id))
    text.append("\n")
    text.append_text(_field("needs", ", ".join(item.needs) or "nothing more"))
    return text


def account_details(catalog: AccountCatalog, size_limit: int | None = None) -> RenderableType:
    """One account's sizes, locations, key pairs, networks and quota."""
    head = Text.assemble((catalog.account, "bold cyan"), f"  {catalog.provider}")
    if catalog.region:
        head.append(f" · {catalog.region}")
    parts: list[RenderableType] = [
        head,
        sizes_table(catalog.sizes, size_limit),
        _field("locations", choices_text(catalog.locations)),
        _field("key pairs", choices_text(catalog.key_pairs)),
        _field("networks", choices_text(catalog.networks)),
        _field("quota", quota_text(catalog.quotas)),
    ]
    # What the provider would not give (key pairs refused, a configured image gone).
    parts.extend(Text(f"⚠ {note}", style="yellow") for note in catalog.notes)
    return Group(*parts)
